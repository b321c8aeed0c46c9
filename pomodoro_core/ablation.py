"""The ablation: pomodoro as reviewed, each fix alone, v0.9.1's sigma, all fixes, an isotropic baseline.

Every configuration trains the multiscale denoiser on one structure crop (a
single-structure overfit run at the default budget) and samples from it; the
outcome is measured with `metrics`.  Run it with

    python -m pomodoro_core.ablation --seeds 0 1 2 --out results/ablation.csv

Each finished run is appended to the CSV at once, and a re-run skips the runs the
file already has, so an interrupted ablation resumes where it stopped.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
import torch

from .denoiser import ModelConfig
from .metrics import sample_report, trajectory_frames, travel_summary
from .noise import NoiseWeights
from .presets import get_preset
from .sampler import SamplerConfig, sample_trajectory
from .structure import Structure, contiguous_crop, find_structure, load_structure, spatial_crop
from .trainer import ProgressLine, TrainConfig, TrainResult, default_budget, default_cache_dir, train, train_cached

FIX_WEIGHTS = NoiseWeights(1.0, 1.0, 1.0)  # the review's pitfall-1 recommendation (1:1:1)

PITFALLS = {
    1: "noise weights 1:1:1",
    2: "effective σ per level",
    3: "isotropic initial noise",
    4: "random augmentation",
    5: "loss levels ÷ level size",
    6: "per-level c_noise",
    7: "residue/chain features",
    8: "schedule inside training σ",
}


@dataclass(frozen=True)
class Setup:
    """One ablation configuration: how to train and how to sample."""

    name: str
    train: TrainConfig
    sampler: SamplerConfig
    pitfalls_fixed: tuple[int, ...] = ()


def reviewed_setup(budget: dict | None = None) -> Setup:
    p = get_preset("pomodoro-v0.9.0")
    return Setup("as reviewed (v0.9.0)", TrainConfig.from_preset(p, **(budget or {})), SamplerConfig.from_preset(p))


def apply_fix(setup: Setup, k: int) -> Setup:
    """The review's fix for pitfall k applied to a setup."""
    t, s = setup.train, setup.sampler
    m = t.model
    if k == 1:
        t, s = t.with_(weights=FIX_WEIGHTS), s
    elif k == 2:
        t = t.with_(model=replace(m, precond_sigma="effective"))
    elif k == 3:
        s = s.with_(noise="isotropic")
    elif k == 4:
        t, s = t.with_(augment=True), s.with_(augment=True)
    elif k == 5:
        t = t.with_(level_weighting="size")
    elif k == 6:
        t = t.with_(model=replace(m, noise_conditioning="per_level"))
    elif k == 7:
        t = t.with_(model=replace(m, residue_features="types"))
    elif k == 8:
        s = s.with_(sigma_max=get_preset("review-fixes").sigma_max)
    else:
        raise ValueError(f"no pitfall {k}; pitfalls are 1-8")
    return Setup(setup.name, t, s, tuple(sorted({*setup.pitfalls_fixed, k})))


def setups(budget: dict | None = None) -> list[Setup]:
    base = reviewed_setup(budget)
    out = [base]
    for k in PITFALLS:
        out.append(replace(apply_fix(base, k), name=f"fix {k}: {PITFALLS[k]}"))
    p91 = get_preset("pomodoro-v0.9.1")
    out.append(replace(base, name="v0.9.1 σ (P_mean, P_std)", train=base.train.with_(P_mean=p91.P_mean, P_std=p91.P_std)))
    all_fixed = base
    for k in PITFALLS:
        all_fixed = apply_fix(all_fixed, k)
    out.append(replace(all_fixed, name="all fixes 1-8"))
    b = get_preset("boltz-2")
    out.append(
        Setup(
            "isotropic baseline (boltz-2)",
            TrainConfig.from_preset(b, model=ModelConfig(residue_features="types"), **(budget or {})),
            SamplerConfig.from_preset(b, noise="isotropic"),
        )
    )
    return out


def baseline_setup(budget: dict | None = None) -> Setup:
    return setups(budget)[-1]


STRUCTURE_NAMES = ("5PTI 32-residue crop", "1hvr two-chain crop")


def crop(name: str) -> Structure:
    """One of the ablation's crops: 32 residues of one chain, or a two-chain spatial crop of 1hvr."""
    if name == STRUCTURE_NAMES[0]:
        return contiguous_crop(load_structure(find_structure("5PTI")), 32, seed=0)
    if name == STRUCTURE_NAMES[1]:
        return spatial_crop(load_structure(find_structure("1hvr")), 32, seed=0)
    raise ValueError(f"unknown crop {name!r}; choose one of {', '.join(STRUCTURE_NAMES)}")


def evaluate(result: TrainResult, setup: Setup, structure: Structure, n_samples: int = 4, seed: int = 0) -> dict:
    """Sample from a trained run and summarise: RMSD, Rg ratio, violations, residue and atom motion.

    Motion is summed over the whole trajectory and over its late phase (steps evaluated at
    t_hat <= sigma_data), where the fold has to be settled and "residues barely move" is seen.
    """
    traj = sample_trajectory(result.denoiser(), result.ctx.hierarchy, result.config.weights, setup.sampler, n_samples, seed)
    report = sample_report(traj.final.cpu(), structure)
    out = {k: float(report[k].mean()) for k in report.columns if k != "sample"}
    out["rmsd_best"] = float(report["rmsd"].min())
    return out | travel_summary(trajectory_frames(traj, structure), setup.sampler.sigma_data)


def run_one(
    setup: Setup, structure: Structure, seed: int, n_samples: int = 4, device=None, progress=None, cache_dir=None
) -> dict:
    """Train (or load the cached run, when cache_dir is given) and evaluate one configuration."""
    t0 = time.perf_counter()
    cfg = setup.train.with_(seed=seed)
    if cache_dir is None:
        result = train(structure, cfg, device, progress)
    else:
        result, _ = train_cached(structure, cfg, device, cache_dir, progress)
    m = result.metrics
    row = {
        "config": setup.name,
        "structure": structure.name,
        "seed": seed,
        "status": result.status,
        "train_steps": m.height,
        "train_seconds": result.seconds,
        "final_loss": float(m["loss"][-min(100, m.height) :].mean()) if m.height else float("nan"),
    }
    if m.height:
        row |= evaluate(result, setup, structure, n_samples, seed)
    row["seconds"] = time.perf_counter() - t0
    return row


def summarise(runs: pl.DataFrame) -> pl.DataFrame:
    """Mean ± sd over seeds per configuration and structure."""
    cols = [
        "rmsd",
        "rmsd_best",
        "residue_travel_late",
        "atom_travel_late",
        "late_residue_share",
        "residue_travel",
        "bond_violations",
        "ca_ca_violations",
        "rg_ratio",
    ]
    cols = [c for c in cols if c in runs.columns]
    return runs.group_by("config", "structure", maintain_order=True).agg(
        pl.len().alias("seeds"),
        *[pl.col(c).mean().alias(f"{c} mean") for c in cols],
        *[pl.col(c).std().alias(f"{c} sd") for c in cols],
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pomodoro_core.ablation", description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: the default budget)")
    ap.add_argument("--samples", type=int, default=4, help="samples drawn per run")
    ap.add_argument("--only", nargs="*", default=None, help="configuration names starting with these")
    ap.add_argument("--crops", nargs="*", default=list(STRUCTURE_NAMES), choices=STRUCTURE_NAMES, help="which crops")
    ap.add_argument("--out", type=Path, default=Path("results/ablation.csv"))
    ap.add_argument("--cache", type=Path, default=default_cache_dir(), help="trained runs are kept here and reused")
    args = ap.parse_args(argv)
    budget = default_budget()
    if args.steps:
        budget["steps"] = args.steps
    done = pl.read_csv(args.out) if args.out.exists() else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    todo = [s for s in setups(budget) if not args.only or any(s.name.startswith(o) for o in args.only)]
    for sname in args.crops:
        structure = crop(sname)
        for setup in todo:
            for seed in args.seeds:
                if (
                    done is not None
                    and done.filter(
                        (pl.col("config") == setup.name) & (pl.col("structure") == structure.name) & (pl.col("seed") == seed)
                    ).height
                ):
                    continue
                print(f"[ablation] {setup.name} | {sname} | seed {seed}", file=sys.stderr, flush=True)
                row = run_one(setup, structure, seed, args.samples, progress=ProgressLine("  train"), cache_dir=args.cache)
                row["train_steps_budget"] = budget["steps"]
                row["device"] = str(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
                frame = pl.DataFrame([row])
                done = frame if done is None else pl.concat([done, frame], how="diagonal_relaxed")
                done.write_csv(args.out)
                print(
                    f"  rmsd {row.get('rmsd', float('nan')):.2f} Å"
                    f"  late residue travel {row.get('residue_travel_late', float('nan')):.2f} Å"
                    f"  {row['seconds']:.0f}s  {row['status']}",
                    file=sys.stderr,
                    flush=True,
                )
    with pl.Config(tbl_rows=60, tbl_cols=12, tbl_width_chars=200, float_precision=3):
        print(summarise(done))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def custom_setup(
    weights: NoiseWeights,
    P_mean: float,
    P_std: float,
    sigma_max: float,
    sampler_steps: int,
    fixes: tuple[int, ...] = (),
    solver: str = "euler",
    budget: dict | None = None,
) -> Setup:
    """The reviewed setup with the given numbers and the switch-type fixes (2-7) turned on.

    Fixes 1 and 8 are numbers (the weights, sigma_max) and are set directly.
    """
    switches = tuple(k for k in fixes if k in (2, 3, 4, 5, 6, 7))
    base = reviewed_setup(budget)
    base = Setup(
        "custom",
        base.train.with_(weights=weights, P_mean=P_mean, P_std=P_std),
        base.sampler.with_(sigma_max=sigma_max, steps=sampler_steps, solver=solver),
    )
    for k in switches:
        base = apply_fix(base, k)
    return replace(base, name="custom")


def fix_effects(summary: pl.DataFrame, z: float = 2.0) -> pl.DataFrame:
    """Per structure, each configuration's mean RMSD against the reviewed one: the change, its
    standard error (sd / sqrt(seeds), combined) and whether |change| exceeds z standard errors."""
    ref_name = summary["config"][0]
    ref = summary.filter(pl.col("config") == ref_name).select(
        "structure", pl.col("rmsd mean").alias("ref"), pl.col("rmsd sd").alias("ref_sd"), pl.col("seeds").alias("ref_n")
    )
    se = lambda sd, n: sd.fill_null(0) ** 2 / n  # noqa: E731
    return (
        summary.filter(pl.col("config") != ref_name)
        .join(ref, on="structure")
        .with_columns(
            change=pl.col("rmsd mean") - pl.col("ref"),
            se=(se(pl.col("rmsd sd"), pl.col("seeds")) + se(pl.col("ref_sd"), pl.col("ref_n"))).sqrt(),
        )
        .with_columns(clear=(pl.col("change").abs() > z * pl.col("se")) & (pl.col("seeds") > 1) & (pl.col("ref_n") > 1))
        .select("config", "structure", "seeds", "ref", "rmsd mean", "change", "se", "clear")
    )
