"""Training and sampling speed at the default sizes, and the time of one default training run.

    python benchmarks/bench_training.py [--quick]

Prints training steps/s and sampler steps/s on the CPU (and on CUDA when present),
for both backbones (transformer, geometric) at the default crop (32 residues) and at
256 residues, with the geometric/transformer ratio from the same run; the ablation budget's
steps/s, the hours its whole design takes at that rate and the steps per run that fit in one
hour (how the GPU budget is sized: run this on the GPU); then the wall time of a default run
(the default budget of `trainer.default_budget`).
Figures from one run on a shared machine are noisy: compare the ratios printed
next to the absolute times, not absolute times across machines.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import replace

import torch

from pomodoro_core.core.structure import find_structure, load_structure, spatial_crop
from pomodoro_core.experiments import ablation
from pomodoro_core.training.sampler import edm_sample
from pomodoro_core.training.trainer import default_budget, pin_threads, train


def training_rate(structures, config, device, steps: int) -> float:
    cfg = config.with_(steps=steps)
    train(structures, cfg.with_(steps=3), device)  # warm-up
    r = train(structures, cfg, device)
    return r.metrics.height / r.seconds


def sampler_rate(structure, config, sampler, device, n_samples: int = 4) -> tuple[float, float]:
    r = train(structure, config.with_(steps=3), device)
    D = r.denoiser()
    edm_sample(D, r.ctx.hierarchy, r.config.weights, sampler.with_(steps=3), n_samples)
    t0 = time.perf_counter()
    edm_sample(D, r.ctx.hierarchy, r.config.weights, sampler, n_samples)
    dt = time.perf_counter() - t0
    return sampler.steps / dt, dt


def architecture_rates(structures: dict, device, rate_steps: int, large_steps: int) -> None:
    """Training and sampler steps/s of both backbones on each structure (the reviewed setting plus identity)."""
    base_t, base_s = ablation.one_factor_configs(**default_budget(device))[ablation.BASE_NAME]
    print(f"  backbones (batch {base_t.batch_size}; sampler: Euler, 4 samples, {base_s.steps} steps or 20 when large):")
    for label, structure in structures.items():
        rates = {}
        for arch in ("transformer", "geometric"):
            t = base_t.with_(model=replace(base_t.model, arch=arch))
            small = structure.n_atoms < 500
            sampler = base_s if small else base_s.with_(steps=min(base_s.steps, 20))
            steps = rate_steps if small else large_steps
            rates[arch] = (training_rate(structure, t, device, steps), sampler_rate(structure, t, sampler, device)[0])
            print(
                f"    {label:>22} ({structure.n_atoms} atoms) {arch:>11}: training {rates[arch][0]:6.2f} steps/s, "
                f"sampler {rates[arch][1]:6.2f} steps/s"
            )
        (tt, st), (tg, sg) = rates["transformer"], rates["geometric"]
        print(f"    {label:>22} geometric / transformer: training {tg / tt:.2f}×, sampler {sg / st:.2f}× the rate")


def budget_sizing(design: ablation.Budget, rate: float, device: str) -> None:
    """The ablation's training time at the measured rate, and the steps per run that fit in one hour.
    On CPU runs go side by side, one per core (single-thread workers); on a GPU one at a time (conservative:
    runs sharing a GPU with --gpus-per-run slow each other by an amount this benchmark does not measure)."""
    runs = 2 * len(ablation.arms())  # every arm, seeds 0 1
    at_once = (os.cpu_count() or 1) if device == "cpu" else 1
    hours = runs * design.steps / rate / at_once / 3600
    fit = int(3600 * rate * at_once / runs)
    print(
        f"  the whole design ({runs} runs, {at_once} at a time): {hours:.2f} h of training at this rate "
        f"(sampling and measuring not included); steps per run that fit in one hour: {fit} (budget: {design.steps})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the full default run")
    ap.add_argument("--rate-steps", type=int, default=100)
    ap.add_argument("--large-steps", type=int, default=5, help="training steps timed at 256 residues")
    args = ap.parse_args()
    threads = pin_threads()
    structure = ablation.crop(ablation.NOTEBOOK_CROPS[0])
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, threads {threads}")
    print(f"structure {structure.summary()}")
    large = spatial_crop(load_structure(find_structure("4E43")), 256, seed=0)
    for dev in devices:
        budget = default_budget(dev)
        configs = ablation.one_factor_configs(**budget)
        reviewed_t, reviewed_s = configs[ablation.REVIEWED_NAME]
        tr = training_rate(structure, reviewed_t, dev, args.rate_steps)
        s_rev, t_rev = sampler_rate(structure, reviewed_t, reviewed_s, dev)
        heun = reviewed_s.with_(solver="heun", gamma_0=0.8)
        s_heun, t_heun = sampler_rate(structure, reviewed_t, heun, dev)
        print(f"\n[{dev}] default single-crop budget: {budget}")
        print(
            f"  training: {tr:.1f} steps/s (batch {budget['batch_size']}); {budget['steps']} steps ≈ {budget['steps'] / tr:.0f} s"
        )
        print(f"  sampler, reviewed ({reviewed_s.steps} Euler steps, 4 samples): {s_rev:.1f} steps/s, {t_rev:.2f} s")
        print(f"  sampler, Heun + churn ({heun.steps} steps, 4 samples): {s_heun:.1f} steps/s, {t_heun:.2f} s")
        print(f"  ratio: one default training run = {budget['steps'] / tr / t_rev:.0f}× one reviewed sampling run")
        design = ablation.BUDGETS[ablation.default_budget_name()]
        crops = ablation.crops(design)
        base = ablation.arms()[0].train_config(design, 0)
        tr_design = training_rate(crops, base, dev, args.rate_steps)
        print(
            f"  ablation budget '{design.name}' ({len(crops)} crops together, batch {design.batch_size}): "
            f"{tr_design:.1f} steps/s; {design.steps} steps ≈ {design.steps / tr_design:.0f} s per run"
        )
        budget_sizing(design, tr_design, dev)
        architecture_rates({"default crop (32 res)": structure, "256 residues": large}, dev, args.rate_steps, args.large_steps)
        if not args.quick:
            r = train(structure, reviewed_t, dev)
            print(f"  default run (reviewed, {r.metrics.height} steps): {r.seconds:.1f} s wall, {r.status}")


if __name__ == "__main__":
    main()
