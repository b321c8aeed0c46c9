"""Notebook 05 in the browser against the same run as a script, quiet and loaded (issue 13).

    python benchmarks/bench_notebook.py [--steps 600] [--repeats 3]

The same training run (05's defaults, `--no-cache --no-gate --samples 2`, `--steps N`), each alone
("quiet") and beside one process spinning on a core ("loaded": what any other job does to a 2-core
machine):
- script: `python notebooks/05_sampling_trajectories.py`;
- live: `marimo run`, the form submitted from headless Chromium (Playwright) on this same machine;
- live, browser niced: the same with Chromium at nice 19, as a browser on the user's own computer
  would be: the kernel then competes only with the load.
Printed per run: the training seconds the run reports itself (the same `result.seconds` in both), the
CPU seconds of the kernel's process and of the browser's during the run, and the wall time from the start
of the script, or from the click, to the last output: medians over interleaved rounds; ratios from this one run.
Needs Debian's chromium and playwright (the dev extra).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.notebooks.browser import CHROMIUM, served, submit  # noqa: E402

NOTEBOOK = "05_sampling_trajectories.py"
RUN_ARGS = ("--no-cache", "--no-gate", "--samples", "2")
TRAINED = re.compile(r"(\d+) steps (?:on .*? )?in ([\d.]+) s on")


@contextlib.contextmanager
def load(kind: str):
    """`loaded`: one other process spinning on a core for the duration."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if kind == "loaded" else None
    try:
        yield
    finally:
        if busy:
            busy.kill()
            busy.wait()


def trained_seconds(text: str, steps: int) -> float:
    found = [float(s) for n, s in TRAINED.findall(text) if int(n) == steps]
    if not found:
        raise SystemExit(f"no 'N steps in X s' line for {steps} steps in the notebook's output")
    return found[0]


def cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of the marimo server (its kernel runs inside) and of all Chromium processes."""
    out = {"kernel": 0.0, "browser": 0.0}
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            cmd, t = " ".join(proc.info["cmdline"] or []), proc.cpu_times()
            kind = "kernel" if "marimo run" in cmd else "browser" if "chromium" in cmd else None
            if kind:
                out[kind] += t.user + t.system
    return out


def script_run(steps: int) -> dict:
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    res = subprocess.run(
        [sys.executable, f"notebooks/{NOTEBOOK}", *RUN_ARGS, "--steps", str(steps)], cwd=ROOT, capture_output=True, text=True
    )
    wall, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise SystemExit(f"the script failed: {res.stderr.strip().splitlines()[-1:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"train": trained_seconds(res.stdout, steps), "wall": wall, "kernel": cpu, "browser": 0.0}


def live_run(steps: int, executable: str | None = None) -> dict:
    with served(NOTEBOOK, *RUN_ARGS, executable=executable) as nb:
        before, t0 = cpu_seconds(), time.perf_counter()
        nb.act(submit("Train and sample", **{"training steps": str(steps)}), 1800)
        wall, after = time.perf_counter() - t0 - 1.0, cpu_seconds()  # settle() waits one quiet second at the end
        if nb.errors():
            raise SystemExit(f"a cell failed in the browser: {nb.errors()[0]}")
        run = {k: after[k] - before[k] for k in after}
        return run | {"train": trained_seconds(" ".join(nb.outputs().values()), steps), "wall": wall}


def niced_chromium(folder: str) -> str:
    """A launcher that starts Chromium at nice 19 (Playwright talks to it over inherited pipes, which exec keeps)."""
    path = Path(folder) / "chromium-nice"
    path.write_text(f'#!/bin/sh\nexec nice -n 19 {CHROMIUM} "$@"\n')
    path.chmod(0o755)
    return str(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600, help="training steps per run (05's default budget is larger)")
    ap.add_argument("--repeats", type=int, default=3, help="rounds; each round runs every mode once, the median is shown")
    opts = ap.parse_args()
    steps = opts.steps
    if CHROMIUM is None:
        raise SystemExit("no Chromium: install Debian's chromium (apt-get install chromium)")
    print(f"notebook 05, {steps} training steps, {' '.join(RUN_ARGS)}; {os.cpu_count()} cores; {opts.repeats} rounds")
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        modes = {"script": script_run, "live": live_run, "live, browser niced": lambda n: live_run(n, niced_chromium(tmp))}
        for _ in range(opts.repeats):  # rounds interleave the modes, so a slow spell of the machine hits all of them
            for kind in ("quiet", "loaded"):
                with load(kind):
                    for mode, run in modes.items():
                        runs.setdefault((kind, mode), []).append(run(steps))
    median = {key: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for key, rs in runs.items()}
    print("medians over the rounds (training: the run's own seconds; CPU: kernel process, all browser processes):")
    for (kind, mode), r in median.items():
        spread = [r["train"] for r in runs[(kind, mode)]]
        print(
            f"  {kind:>6} {mode:>20}: training {r['train']:6.1f} s [{min(spread):.1f}, {max(spread):.1f}] "
            f"({steps / r['train']:5.1f} steps/s), CPU kernel {r['kernel']:6.1f} s, browser {r['browser']:5.1f} s; "
            f"to last output {r['wall']:6.1f} s"
        )
    print("median training seconds / the script's under the same load (1.00 = as fast as the script):")
    for kind in ("quiet", "loaded"):
        base = median[(kind, "script")]["train"]
        cells = ", ".join(f"{mode} {median[(kind, mode)]['train'] / base:.2f}x" for mode in modes if mode != "script")
        print(f"  {kind:>6}: {cells}")


if __name__ == "__main__":
    main()
