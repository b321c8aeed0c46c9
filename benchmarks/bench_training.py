"""Training and sampling speed at the default sizes, and the time of one default training run.

    python benchmarks/bench_training.py [--quick]

Prints training steps/s and sampler steps/s on the CPU (and on CUDA when present),
then the wall time of a default run (the default budget of `trainer.default_budget`).
Figures from one run on a shared machine are noisy: compare the ratios printed
next to the absolute times, not absolute times across machines.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from pomodoro_core import ablation
from pomodoro_core.sampler import edm_sample
from pomodoro_core.trainer import default_budget, train


def training_rate(structure, setup, device, steps: int) -> float:
    cfg = setup.train.with_(steps=steps)
    train(structure, cfg.with_(steps=3), device)  # warm-up
    r = train(structure, cfg, device)
    return r.metrics.height / r.seconds


def sampler_rate(structure, setup, device, n_samples: int = 4) -> tuple[float, float]:
    r = train(structure, setup.train.with_(steps=3), device)
    D = r.denoiser()
    edm_sample(D, r.ctx.hierarchy, r.config.weights, setup.sampler.with_(steps=3), n_samples)
    t0 = time.perf_counter()
    edm_sample(D, r.ctx.hierarchy, r.config.weights, setup.sampler, n_samples)
    dt = time.perf_counter() - t0
    return setup.sampler.steps / dt, dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the full default run")
    ap.add_argument("--rate-steps", type=int, default=100)
    args = ap.parse_args()
    structure = ablation.crop(ablation.STRUCTURE_NAMES[0])
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"structure {structure.summary()}")
    for dev in devices:
        budget = default_budget(dev)
        reviewed = ablation.reviewed_setup(budget)
        baseline = ablation.baseline_setup(budget)
        tr = training_rate(structure, reviewed, dev, args.rate_steps)
        s_rev, t_rev = sampler_rate(structure, reviewed, dev)
        s_base, t_base = sampler_rate(structure, baseline, dev)
        print(f"\n[{dev}] default budget: {budget}")
        print(
            f"  training: {tr:.1f} steps/s (batch {budget['batch_size']}); {budget['steps']} steps ≈ {budget['steps'] / tr:.0f} s"
        )
        print(f"  sampler, reviewed ({reviewed.sampler.steps} Euler steps, 4 samples): {s_rev:.1f} steps/s, {t_rev:.2f} s")
        print(f"  sampler, baseline ({baseline.sampler.steps} steps with churn, 4 samples): {s_base:.1f} steps/s, {t_base:.2f} s")
        print(f"  ratio: one default training run = {budget['steps'] / tr / t_rev:.0f}× one reviewed sampling run")
        if not args.quick:
            r = train(structure, reviewed.train, dev)
            print(f"  default run (reviewed, {r.metrics.height} steps): {r.seconds:.1f} s wall, {r.status}")


if __name__ == "__main__":
    main()
