"""Independent runs side by side: a local pool of single-thread worker processes, or a Ray cluster.

    for result in fan_out(fn, jobs, Executor("local", workers=8)): ...
    for result in fan_out(fn, jobs, Executor("ray", address="10.0.0.1:6379", gpus_per_run=0.25)): ...

Parallelism comes from running independent runs at once, never from intra-op threads:
every worker runs with one thread (`POMODORO_THREADS=1`, `OMP_NUM_THREADS=1`), so a run's
numbers do not depend on where or beside what it ran.  Results come back to the caller
(the driver), which alone writes them: workers on other machines need no shared disk.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context

from ..core.errors import ParameterError
from ..training.trainer import THREADS_ENV, pin_threads

EXECUTORS = ("local", "ray")


def worker_env() -> dict[str, str]:
    """One intra-op thread per worker (POMODORO_THREADS, when set, overrides it, as in `pin_threads`)."""
    threads = os.environ.get(THREADS_ENV, "1")
    return {THREADS_ENV: threads, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}


@dataclass(frozen=True)
class Executor:
    """Where runs go: `local` (a pool of `workers` processes; 1 runs in this process) or `ray`
    (a local Ray instance started for the call, or the cluster at `address`; each run takes one CPU
    and `gpus_per_run` GPUs)."""

    kind: str = "local"
    workers: int = os.cpu_count() or 1
    address: str | None = None
    gpus_per_run: float = 0.0

    def __post_init__(self):
        if self.kind not in EXECUTORS:
            raise ParameterError(f"executor must be one of {', '.join(EXECUTORS)} (got {self.kind!r})")
        if self.kind != "ray" and (self.address or self.gpus_per_run):
            raise ParameterError("--address and --gpus-per-run go with --executor ray")


def one_thread_worker() -> None:
    """Initialiser of every worker process: one intra-op thread."""
    os.environ.update(worker_env())
    pin_threads()


def pool_worker() -> None:
    """Initialiser of a local pool's worker: one intra-op thread, and an end with the driver.  A driver that is
    killed outright (not interrupted) would otherwise leave its workers computing runs that nobody will write."""
    one_thread_worker()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def fan_out(fn: Callable, jobs: Iterable[tuple], executor: Executor) -> Iterator:
    """fn(*job) for every job, yielding each result as it finishes (in completion order)."""
    jobs = list(jobs)
    if not jobs:
        return
    if executor.kind == "ray":
        yield from _on_ray(fn, jobs, executor)
    elif executor.workers == 1:
        one_thread_worker()
        for job in jobs:
            yield fn(*job)
    else:
        with ProcessPoolExecutor(executor.workers, mp_context=get_context("spawn"), initializer=pool_worker) as pool:
            for fut in as_completed([pool.submit(fn, *job) for job in jobs]):
                yield fut.result()


def _on_ray(fn: Callable, jobs: list[tuple], executor: Executor) -> Iterator:
    try:
        import ray
    except ImportError:
        raise ParameterError("--executor ray needs Ray: pip install 'ray>=2.9'") from None
    runtime_env = {"env_vars": worker_env()}
    if executor.address:
        try:
            ray.init(address=executor.address, runtime_env=runtime_env, log_to_driver=False)
        except ConnectionError as exc:
            raise ParameterError(f"--address {executor.address}: no Ray cluster answered ({exc})") from None
    else:  # a private instance on this machine, loopback only, gone when the call ends
        ray.init(
            num_cpus=executor.workers,
            runtime_env=runtime_env,
            include_dashboard=False,
            log_to_driver=False,
            _node_ip_address="127.0.0.1",
        )
    try:
        remote = ray.remote(num_cpus=1, num_gpus=executor.gpus_per_run, max_retries=0)(fn)
        pending = [remote.remote(*job) for job in jobs]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        ray.shutdown()
