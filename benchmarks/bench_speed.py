"""Speed against the targets of issue 11 and the physical floor, every ratio from this one run.

    python benchmarks/bench_speed.py [--quick]

1. sgemm peak on one core (a 1024^3 float32 matmul): the floor every figure is set against.
2. The training step at the default size (5PTI crop, 157 atoms, batch 8, 1 thread): ms per step, the
   FLOPs of one step (torch's FlopCounterMode), the floor FLOPs / peak, target 25 ms.
3. Cost against structure size, batch 8: 157, 994 (4E43), 4093 (3PWP), 8186 atoms (3PWP doubled,
   the size of 3KPR) and 49,116 atoms (3PWP x 12, a 50k-atom complex), the exponents from 157 to 8186
   and from 8186 to 49,116 atoms, target < 1 s at 8186 atoms, that step's floor FLOPs / peak (attention
   counted: torch's counter misses the CPU flash kernel), and the process's peak memory.
4. The Monte Carlo moments, 1000 draws: 994 atoms (target 0.3 s), 8186 atoms (target 3 s).
5. Threads, loaded and quiet: training steps/s with 1 and 2 intra-op threads, alone and beside one
   busy process (what any other job does to a 2-core machine), each in its own process, in interleaved rounds.
6. The machine's drift: the default step again at the end, as a ratio to the start.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode, register_flop_formula, sdpa_backward_flop_count, sdpa_flop_count

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_large import doubled_3pwp, moments, tiled_3pwp  # noqa: E402

from pomodoro_core.core.structure import find_structure, load_structure  # noqa: E402
from pomodoro_core.experiments import ablation  # noqa: E402
from pomodoro_core.training.losses import total  # noqa: E402
from pomodoro_core.training.trainer import (  # noqa: E402
    TrainConfig,
    build_model,
    centred_coords,
    default_budget,
    pin_threads,
    train,
)

ROOT = Path(__file__).resolve().parents[1]


# torch counts the FLOPs of the CUDA attention kernels but not of the CPU flash kernel that every attention here
# runs on a CPU: without these two formulas the step's attention would count as free (issue 11's floor).
@register_flop_formula(torch.ops.aten._scaled_dot_product_flash_attention_for_cpu)
def _cpu_flash_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query_shape, key_shape, value_shape)


@register_flop_formula(torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward)
def _cpu_flash_backward_flops(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


def sgemm_peak(n: int = 1024, repeats: int = 10) -> float:
    """GFLOP/s of the best of `repeats` n x n x n float32 matmuls."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def step_time(structure, config: TrainConfig, steps: int, repeats: int = 3) -> float:
    """Seconds per training step: the best of `repeats` runs of `steps` steps (model building excluded)."""
    train(structure, config.with_(steps=2, warmup=1), "cpu")
    best = float("inf")
    for _ in range(repeats):
        short = train(structure, config.with_(steps=1, warmup=1), "cpu").seconds  # the fixed cost of a run
        run = train(structure, config.with_(steps=steps + 1, warmup=1), "cpu").seconds
        best = min(best, (run - short) / steps)
    return best


def step_flops(structure, config: TrainConfig) -> int:
    """FLOPs of one training step (forward and backward), counted by torch."""
    model, ctx = build_model(structure, config, "cpu")
    g = torch.Generator().manual_seed(0)
    B = config.batch_size
    x0 = centred_coords(structure, "cpu").expand(B, -1, -1)
    with FlopCounterMode(display=False) as counter:
        terms = config.loss(model, x0, config.training_sigma.sample(B, generator=g), ctx.for_batch(B), g)
        total(terms).backward()
    return counter.get_total_flops()


def scaling(structures: list, config: TrainConfig, quick: bool) -> list[tuple[int, float]]:
    rows = []
    for s in structures:
        steps = 10 if s.n_atoms < 1000 else (1 if quick or s.n_atoms > 10_000 else 2)
        rows.append((s.n_atoms, step_time(s, config, steps, repeats=1 if s.n_atoms > 1000 else 2)))
    return rows


THREADS_CHILD = """
import sys, time
from pomodoro_core.experiments import ablation
from pomodoro_core.training.trainer import default_budget, train
cfg = ablation.one_factor_configs(**default_budget("cpu"))[ablation.REVIEWED_NAME][0]
s = ablation.crop(ablation.NOTEBOOK_CROPS[0])
train(s, cfg.with_(steps=3), "cpu")
r = train(s, cfg.with_(steps=int(sys.argv[1])), "cpu")
print(r.metrics.height / r.seconds)
"""


def steps_per_second(load: str, threads: int, steps: int) -> float:
    """Training steps/s of a fresh process with `threads` intra-op threads, alone or beside one busy process."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "loaded" else None
    try:  # the busy process spins on a core, as any other job would
        env = dict(os.environ, POMODORO_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        res = subprocess.run([sys.executable, "-c", THREADS_CHILD, str(steps)], capture_output=True, text=True, env=env, cwd=ROOT)
        return float(res.stdout.strip().splitlines()[-1])
    finally:
        if busy:
            busy.kill()


def threads_table(steps: int, rounds: int) -> dict[tuple[str, int], list[float]]:
    """Steps/s for (quiet | loaded) x (1 | 2 threads), one list per condition with one value per round.

    Each round runs the four conditions once, in an order rotated from round to round, so that a slow spell of the
    machine (timings here drift by 20-50 % over minutes) falls on every condition alike; ratios are taken within rounds."""
    conditions = [(load, threads) for load in ("quiet", "loaded") for threads in (1, 2)]
    out = {c: [] for c in conditions}
    for r in range(rounds):
        for load, threads in conditions[r % 4 :] + conditions[: r % 4]:
            out[(load, threads)].append(steps_per_second(load, threads, steps))
    return out


def within_rounds(a: list[float], b: list[float]) -> str:
    """The median and range over rounds of a / b, each ratio from one round."""
    r = sorted(x / y for x, y in zip(a, b, strict=True))
    return f"{statistics.median(r):.2f}x ({r[0]:.2f}-{r[-1]:.2f})"


def ratio_line(label: str, value: float, unit: str, target: float, floor: float | None = None) -> str:
    line = f"  {label}: {value:.3g} {unit} | target {target:g} {unit} ({value / target:.2f}x the target)"
    if floor is not None:
        line += f" | floor {floor:.3g} {unit} ({value / floor:.2f}x the floor)"
    return line + ("  MET" if value <= target else "  NOT MET")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer steps (a smoke run)")
    args = ap.parse_args()
    threads = pin_threads()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, threads {threads}")
    peak = sgemm_peak()
    print(f"sgemm peak, 1 thread: {peak:.1f} GFLOP/s")

    base = ablation.one_factor_configs(**default_budget("cpu"))[ablation.REVIEWED_NAME][0]
    crop = ablation.crop(ablation.NOTEBOOK_CROPS[0])
    t = step_time(crop, base, 20 if args.quick else 100)
    flops = step_flops(crop, base)
    print(f"\ntraining step, default size ({crop.summary()}, batch {base.batch_size}, {base.model.width} wide):")
    print(f"  {flops / 1e9:.2f} GFLOP per step, {flops / t / 1e9:.1f} GFLOP/s achieved ({flops / t / 1e9 / peak:.0%} of peak)")
    print(ratio_line("ms per step", 1000 * t, "ms", 25.0, 1000 * flops / peak / 1e9))

    with tempfile.TemporaryDirectory() as tmp:
        big = load_structure(doubled_3pwp(Path(tmp) / "3pwp_doubled.pdb"))
        huge = load_structure(tiled_3pwp(Path(tmp) / "3pwp_x12.cif", 12))
    sizes = [crop, load_structure(find_structure("4E43")), load_structure(find_structure("3PWP")), big, huge]
    config = TrainConfig(batch_size=base.batch_size)
    rows = scaling(sizes, config, args.quick)
    (n0, t0), (n1, t1), (n2, t2) = rows[0], rows[-2], rows[-1]
    windows = f"atom window {config.model.atom_window}, residue window {config.model.residue_window}"
    print(f"\ntraining step against structure size (batch {config.batch_size}, {windows}):")
    for n, tn in rows:
        print(f"  {n:>6} atoms: {1000 * tn:8.0f} ms per step, {1000 * tn / n:.3f} ms per atom")
    for (na, ta), (nb, tb) in (((n0, t0), (n1, t1)), ((n1, t1), (n2, t2))):
        print(f"  exponent {na} -> {nb} atoms: {math.log(tb / ta) / math.log(nb / na):.2f} (1 = linear; 2 = all-pairs attention)")
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"  peak memory of this process so far (the {n2}-atom step's): {peak_gb:.1f} GB")
    one = config.with_(batch_size=1)  # FLOPs are linear in batch: per atom-sample, counted at batch 1
    per_atom = {s.n_atoms: step_flops(s, one) / s.n_atoms for s in (big, huge)}
    print(f"  FLOPs per atom and sample: {per_atom[n1] / 1e6:.3f} M at {n1} atoms, {per_atom[n2] / 1e6:.3f} M at {n2} "
          f"({per_atom[n2] / per_atom[n1]:.2f}x: linear FLOPs; a slower step per FLOP is the memory system's)")  # fmt: skip
    big_flops = step_flops(big, config)
    print(f"  {big_flops / 1e9:.1f} GFLOP per step at {n1} atoms, {big_flops / t1 / 1e9:.1f} GFLOP/s achieved")
    print(ratio_line(f"step at {n1} atoms", t1, "s", 1.0, big_flops / peak / 1e9))
    narrow = step_time(big, config.with_(model=replace(config.model, atom_window=128)), 1, repeats=1)
    print(f"  with atom_window 128 (AF3's 32 queries / 128 keys; crops above 128 atoms then attend locally too): "
          f"{narrow:.2f} s per step at {n1} atoms")  # fmt: skip

    small = load_structure(find_structure("4E43"))
    m_small, m_big = moments(small), moments(big)  # bench_large: best of 3, 1000 draws
    print("\nMonte Carlo moments, 1000 draws, 1 thread:")
    print(ratio_line(f"{small.n_atoms} atoms", m_small, "s", 0.3))
    print(ratio_line(f"{big.n_atoms} atoms", m_big, "s", 3.0))

    rounds = 2 if args.quick else 3
    table = threads_table(20 if args.quick else 60, rounds)
    print(f"\ntraining steps/s by threads, each a fresh process (loaded: one other process spinning on a core); "
          f"medians of {rounds} interleaved rounds, ratios within a round (median, range):")  # fmt: skip
    med = {c: statistics.median(v) for c, v in table.items()}
    for load in ("quiet", "loaded"):
        one, two = table[(load, 1)], table[(load, 2)]
        print(f"  {load:>6}: 1 thread {med[(load, 1)]:6.1f}/s, 2 threads {med[(load, 2)]:6.1f}/s; "
              f"2 threads give {within_rounds(two, one)} the rate")  # fmt: skip
    print(f"  loaded / quiet: 1 thread {within_rounds(table[('loaded', 1)], table[('quiet', 1)])}, "
          f"2 threads {within_rounds(table[('loaded', 2)], table[('quiet', 2)])}")  # fmt: skip

    again = step_time(crop, base, 20 if args.quick else 100)
    print(f"\nthe machine's drift over this run: the default step took {1000 * again:.1f} ms at the end against "
          f"{1000 * t:.1f} ms at the start ({again / t:.2f}x); ratios above are from stretches minutes apart")  # fmt: skip


if __name__ == "__main__":
    main()
