"""The ablation as a designed experiment: which pitfall makes residues barely move, which fix helps.

Base: pomodoro v0.9.0 as reviewed, plus residue identity on the atoms (sequence
position, residue type, chain), so that the base can learn (without identity every arm
sits on the same floor: see notebook 00, claim N2).  One model is trained per arm and
seed on several crops together (single- and multi-chain, padded batches).

Training factors, a 2^(8-4) fractional factorial of resolution IV (16 arms; pydoe
generators E=ABC, F=ABD, G=ACD, H=BCD), each at - (as reviewed) or + (the fix):
    weights   pitfall 1  noise weights 8.2/1.6/1.3 -> 1:1:1
    precond   pitfall 2  c_skip/c_out/c_in at raw sigma -> at sigma_l relative to the parent level
    isotropic pitfall 3  multiscale -> isotropic noise, in training *and* sampling (one noise kind)
    augment   pitfall 4  no augmentation -> random rigid motion per sample, training and sampling
    levels    pitfall 5  level weights on the per-unit means (1, 1, 1) -> (1, 5, 5)
    c_noise   pitfall 6  shared c_noise(sigma) -> c_noise(sigma_l) per track
    tracks    pitfall 7  residue/chain tracks F=1 zeros -> residue and chain identity features
    sigma     v0.9.1     P_mean -1.2, P_std 1.5 -> -1.84, 2.8
Extra arms: as reviewed without identity, identity on the residue track only,
leave-one-out from "all fixes" (the all-+ arm), and the architecture study: a full
2^3 factorial of backbone (transformer / geometric, `training/geometric.py`) x
augmentation (pitfall 4) x identity on the atoms, on the reviewed setting.
Sampler factors, a 2^(5-1) design of resolution V (E=-ABCD), crossed on every
factorial model with common random numbers:
    start     pitfall 8  schedule from sigma_max 80 (x sigma_data) -> the training 99.9 % quantile
    heun      Euler -> Heun;  churn  gamma_0 0 -> 0.8;  step  step_scale 1 -> 1.5
    init      initial and churn noise of the training kind -> isotropic

    python -m pomodoro_core.experiments.ablation --budget cpu --seeds 0 1 --workers 2 --out results/ablation

Each (arm, seed) is one run in its own single-thread process; it writes one JSON file,
atomically, when it is complete.  A re-run skips the runs whose file exists, so an
interrupted ablation resumes; `load` merges the files into tables.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import polars as pl
import torch

from ..core.errors import ParameterError
from ..core.files import atomic_write
from ..core.noise import ISOTROPIC, NoiseWeights
from ..core.params import FLAGS, Flag, parser_for
from ..core.presets import get_preset
from ..core.sampling import SamplerConfig
from ..core.structure import Structure, contiguous_crop, find_structure, load_structure, spatial_crop
from ..training.cache import TRAINING_CODE, code_digest
from ..training.denoiser import ModelConfig
from ..training.trainer import TrainConfig, centred_coords, default_device, pin_threads, train
from .design import fractional_factorial
from .evaluation import denoising_gain, sampling_outcomes
from .fanout import EXECUTORS, Executor, fan_out

FIX_WEIGHTS = NoiseWeights(1.0, 1.0, 1.0)  # the review's pitfall-1 recommendation (1:1:1)
FIX_LEVEL_WEIGHTS = (1.0, 5.0, 5.0)  # pitfall 5 on per-unit means: residue and chain 5x the atom level


@dataclass(frozen=True)
class Factor:
    key: str
    pitfall: str
    low: str  # as reviewed
    high: str  # the fix
    apply: Callable  # (TrainConfig | SamplerConfig) -> the same with the fix


def _model(**changes):
    return lambda t: t.with_(model=replace(t.model, **changes))


def _v091(t: TrainConfig) -> TrainConfig:
    p = get_preset("pomodoro-v0.9.1")
    return t.with_(P_mean=p.P_mean, P_std=p.P_std)


TRAINING_FACTORS = (
    Factor("weights", "1", "noise weights 8.2/1.6/1.3", "noise weights 1:1:1", lambda t: t.with_(weights=FIX_WEIGHTS)),
    Factor("precond", "2", "c's at raw σ", "c's at σ_l relative to parent", _model(precond_sigma="relative")),
    Factor("isotropic", "3", "multiscale noise", "isotropic noise (training and sampling)", lambda t: t.with_(weights=ISOTROPIC)),
    Factor("augment", "4", "no augmentation", "random rigid motion (training and sampling)", lambda t: t.with_(augment=True)),
    Factor("levels", "5", "level weights 1/1/1", "level weights 1/5/5", lambda t: t.with_(level_weights=FIX_LEVEL_WEIGHTS)),
    Factor("c_noise", "6", "shared c_noise(σ)", "per-level c_noise(σ_l)", _model(noise_conditioning="per_level")),
    Factor("tracks", "7", "residue/chain tracks F=1 zeros", "residue/chain identity features", _model(identity="both")),
    Factor("sigma", "v0.9.1", "P_mean −1.2, P_std 1.5", "P_mean −1.84, P_std 2.8", _v091),
)
TRAINING_GENERATORS = "a b c d abc abd acd bcd"  # resolution IV


def _fixed_start(s: SamplerConfig) -> SamplerConfig:
    return s.with_(sigma_max=get_preset("review-fixes").sigma_max)


SAMPLER_FACTORS = (
    Factor("start", "8", "σ_max 80 × σ_data", "σ_max at the training 99.9 % quantile", _fixed_start),
    Factor("heun", "", "Euler", "Heun", lambda s: s.with_(solver="heun")),
    Factor("churn", "", "γ0 = 0", "γ0 = 0.8", lambda s: s.with_(gamma_0=0.8)),
    Factor("step", "", "step_scale 1", "step_scale 1.5", lambda s: s.with_(step_scale=1.5)),
    Factor("init", "3", "initial noise of the training kind", "isotropic initial noise", lambda s: s.with_(noise="isotropic")),
)
SAMPLER_GENERATORS = "a b c d -abcd"  # resolution V; row 0 is the reviewed sampler (all -)


def training_design() -> pl.DataFrame:
    return fractional_factorial([f.key for f in TRAINING_FACTORS], TRAINING_GENERATORS)


def sampler_design() -> pl.DataFrame:
    return fractional_factorial([f.key for f in SAMPLER_FACTORS], SAMPLER_GENERATORS)


# --------------------------------------------------------------------------- budgets and crops


@dataclass(frozen=True)
class Budget:
    """Everything about a run's size; a named budget is part of every row and of its command."""

    name: str
    steps: int
    batch_size: int
    width: int = 64
    blocks: int = 2
    crops: tuple[str, ...] = ("5PTI", "1dx5I", "1i8nA", "1lpbA", "1hvr*", "4E43*")  # * : spatial multi-chain crop
    crop_residues: int = 32
    sampler_steps: int = 50
    samples: int = 2
    gain_sigmas: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
    gain_draws: int = 4
    precision: str = "fp32"  # "bf16": the backbone under bfloat16 autocast, CUDA only (preconditioner.py)

    def __post_init__(self):
        for k in ("steps", "batch_size", "width", "blocks", "crop_residues", "sampler_steps", "samples", "gain_draws"):
            v = getattr(self, k)
            if not isinstance(v, int) or v < 1:
                raise ParameterError(f"budget {k} must be an integer >= 1 (got {v!r})")


BUDGETS = {
    # About an hour for the whole design on 2 cores (2 single-thread workers); one run near 60 s.
    "cpu": Budget("cpu", steps=1200, batch_size=12),
    # Seconds: CI's check that the whole design runs end to end (numbers meaningless).
    "quick": Budget(
        "quick",
        steps=4,
        batch_size=4,
        width=16,
        blocks=1,
        crops=("5PTI", "1hvr*"),
        crop_residues=6,
        sampler_steps=3,
        samples=1,
        gain_sigmas=(1.0, 16.0),
        gain_draws=1,
    ),  # fmt: skip
    # One GPU, under an hour: more structures, longer training, more samples.
    "gpu": Budget(
        "gpu",
        steps=6000,
        batch_size=48,
        width=128,
        blocks=3,
        crops=("5PTI", "1dx5I", "1i8nA", "1lpbA", "1mr1D", "1ahsA", "1hvr*", "4E43*", "1grm_single"),
        samples=4,
        gain_draws=8,
    ),  # fmt: skip
}
# The gpu budget with the backbone in bf16 (not the default: bf16 has not yet been measured on a GPU here).
BUDGETS["gpu-bf16"] = replace(BUDGETS["gpu"], name="gpu-bf16", precision="bf16")


def default_budget_name() -> str:
    return "gpu" if torch.cuda.is_available() else "cpu"


@cache
def load_crop(name: str, residues: int) -> Structure:
    """A crop of `residues` residues: contiguous in one chain, or (name ending in *) spatial across chains."""
    if name.endswith("*"):
        return spatial_crop(load_structure(find_structure(name[:-1])), residues, seed=0)
    return contiguous_crop(load_structure(find_structure(name)), residues, seed=0)


def crops(budget: Budget) -> list[Structure]:
    return [load_crop(c, budget.crop_residues) for c in budget.crops]


# --------------------------------------------------------------------------- arms


@dataclass(frozen=True)
class Arm:
    """One trained configuration: its name, the factor levels (+1 fix / -1 reviewed) and the identity."""

    name: str
    levels: dict[str, int]
    identity: str = "atom"
    design_arm: int = -1  # row of the training design (-1: an extra arm)
    sampler_settings: tuple[int, ...] = field(default=(0,))  # rows of the sampler design evaluated
    arch: str = "transformer"

    def train_config(self, budget: Budget, seed: int) -> TrainConfig:
        t = TrainConfig.from_preset(
            get_preset("pomodoro-v0.9.0"),
            steps=budget.steps,
            batch_size=budget.batch_size,
            seed=seed,
            model=ModelConfig(
                width=budget.width, blocks=budget.blocks, identity=self.identity, arch=self.arch, precision=budget.precision
            ),
        )
        for f in TRAINING_FACTORS:
            if self.levels[f.key] > 0:
                t = f.apply(t)
        return t

    def sampler_config(self, setting: int, budget: Budget) -> SamplerConfig:
        s = SamplerConfig.from_preset(get_preset("pomodoro-v0.9.0"), steps=budget.sampler_steps)
        s = s.with_(augment=self.levels["augment"] > 0)
        row = sampler_design().row(setting, named=True)
        for f in SAMPLER_FACTORS:
            if row[f.key] > 0:
                s = f.apply(s)
        return s


def arms() -> list[Arm]:
    design = training_design()
    keys = [f.key for f in TRAINING_FACTORS]
    n_settings = sampler_design().height
    out = []
    for row in design.iter_rows(named=True):
        levels = {k: row[k] for k in keys}
        on = [k for k in keys if levels[k] > 0]
        name = (
            "design: reviewed + identity"
            if not on
            else ("design: all fixes" if len(on) == len(keys) else "design: " + "+".join(on))
        )
        out.append(Arm(name, levels, "atom", row["arm"], tuple(range(n_settings))))
    low = dict.fromkeys(keys, -1)
    out.append(Arm("as reviewed (no identity)", low, "none"))
    out.append(Arm("reviewed + identity on the residue track only", low, "residue"))
    for k in keys:
        out.append(Arm(f"all fixes but {k}", dict.fromkeys(keys, 1) | {k: -1}, "atom"))
    named = {a.name for a in out}
    out += [a for a in architecture_arms().values() if a.name not in named]
    return out


ARCHITECTURE_FACTORS = ("arch", "augment", "identity")  # - / +: transformer / geometric, off / on, none / atom


def architecture_arms() -> dict[tuple[int, int, int], Arm]:
    """The architecture study, a full 2^3 factorial on the reviewed setting: backbone (transformer -, geometric +)
    x augmentation (pitfall 4) x residue identity on the atoms (none -, atom +); the two transformer arms
    without augmentation are the design's reviewed arms (the same runs)."""
    low = {f.key: -1 for f in TRAINING_FACTORS}
    out = {}
    for arch, aug, ident in itertools.product((-1, 1), repeat=3):
        levels = low | {"augment": aug}
        name = f"architecture: {'geometric' if arch > 0 else 'transformer'}, augment {'on' if aug > 0 else 'off'}, "
        name += f"identity {'atom' if ident > 0 else 'none'}"
        if arch < 0 and aug < 0:
            name = "design: reviewed + identity" if ident > 0 else "as reviewed (no identity)"
        design_arm = 0 if name == "design: reviewed + identity" else -1
        sampler = tuple(range(sampler_design().height)) if design_arm == 0 else (0,)
        out[arch, aug, ident] = Arm(
            name, levels, "atom" if ident > 0 else "none", design_arm, sampler, "geometric" if arch > 0 else "transformer"
        )
    return out


def arm_by_name(name: str) -> Arm:
    for a in arms():
        if a.name == name:
            return a
    raise ParameterError(f"no arm named {name!r}; list them with --list")


# --------------------------------------------------------------------------- single-crop configurations (notebooks 05, 06)

NOTEBOOK_CROPS = ("5PTI", "1hvr*", "4E43*", "1dx5I", "1i8nA", "1lpbA")  # * : spatial multi-chain crop
REVIEWED_NAME = "as reviewed (no identity)"
BASE_NAME = "reviewed + identity (the design's base)"


def crop(name: str, residues: int = 32) -> Structure:
    if name not in NOTEBOOK_CROPS:
        raise ParameterError(f"unknown crop {name!r}; choose one of {', '.join(NOTEBOOK_CROPS)}")
    return load_crop(name, residues)


def one_factor_configs(steps: int, batch_size: int) -> dict[str, tuple[TrainConfig, SamplerConfig]]:
    """As reviewed (no identity), the design's base, and each training fix alone on that base."""
    budget = replace(BUDGETS["cpu"], steps=steps, batch_size=batch_size)
    low = {f.key: -1 for f in TRAINING_FACTORS}
    out = {REVIEWED_NAME: Arm(REVIEWED_NAME, low, "none"), BASE_NAME: Arm(BASE_NAME, low, "atom")}
    for f in TRAINING_FACTORS:
        name = f"fix {f.pitfall}: {f.high}" if f.pitfall.isdigit() else f"{f.pitfall} σ: {f.high}"
        out[name] = Arm(name, low | {f.key: 1}, "atom")
    return {n: (a.train_config(budget, 0), a.sampler_config(0, budget)) for n, a in out.items()}


def custom_configs(
    weights: NoiseWeights,
    P_mean: float,
    P_std: float,
    sigma_max: float,
    sampler_steps: int,
    fixes: tuple[int, ...],
    solver: str,
    identity: str,
    steps: int,
    batch_size: int,
    arch: str = "transformer",
) -> tuple[TrainConfig, SamplerConfig]:
    """The reviewed setting with these numbers, an identity choice, a backbone and the switch-type fixes 2-6 on
    (fix 7 is identity 'residue' or 'both'; fixes 1 and 8 are numbers: the weights and sigma_max)."""
    t = TrainConfig.from_preset(
        get_preset("pomodoro-v0.9.0"), weights=weights, P_mean=P_mean, P_std=P_std, steps=steps, batch_size=batch_size
    )
    t = t.with_(model=replace(t.model, identity=identity, arch=arch))
    switches = {str(k) for k in fixes} & {"2", "3", "4", "5", "6"}
    for f in TRAINING_FACTORS:
        if f.pitfall in switches:
            t = f.apply(t)
    s = SamplerConfig.from_preset(get_preset("pomodoro-v0.9.0"), sigma_max=sigma_max, steps=sampler_steps, solver=solver)
    return t, s.with_(augment=t.augment)


def differences(a: tuple[TrainConfig, SamplerConfig], b: tuple[TrainConfig, SamplerConfig]) -> list[str]:
    """Every setting in which two (training, sampler) configurations differ, as 'name: a → b'."""

    def flat(cfg):
        t, s = cfg
        d = {f"train.{k}": v for k, v in t.as_dict().items() if k not in ("model", "seed")}
        d |= {f"model.{k}": v for k, v in t.model.as_dict().items()}
        return d | {f"sampler.{k}": v for k, v in s.__dict__.items()}

    fa, fb = flat(a), flat(b)
    return [f"{k}: {fa[k]} → {fb[k]}" for k in fa if fa[k] != fb[k]]


# --------------------------------------------------------------------------- one run


def run_file(out: Path, arm: Arm, seed: int) -> Path:
    safe = "".join(ch if ch.isalnum() else "_" for ch in arm.name)
    return out / "runs" / f"{safe}__seed{seed}.json"


# the files whose code decides a run's record: training, sampling, measuring (`meta["code"]` is their digest)
RECORD_CODE = (*TRAINING_CODE, "core/sampling.py", "training/sampler.py", "training/metrics.py", "experiments/evaluation.py")


def current_code() -> str:
    """The digest a run made by this checkout records."""
    return code_digest(RECORD_CODE)


def reproduce_command(arm: Arm, seed: int, budget: Budget, out: str) -> str:
    return f"python -m pomodoro_core.experiments.ablation --budget {budget.name} --seeds {seed} --only '{arm.name}' --out {out}"


def run_arm(arm: Arm, seed: int, budget: Budget, out: str = "results/ablation", device=None) -> dict:
    """Train one arm with one seed on every crop, then measure it: the record of one run."""
    threads = pin_threads()
    device = torch.device(device or default_device())
    structures = crops(budget)
    config = arm.train_config(budget, seed)
    result = train(structures, config, device)
    meta = {
        "arm": arm.name,
        "design_arm": arm.design_arm,
        "identity": arm.identity,
        "arch": arm.arch,
        **{f"f_{k}": v for k, v in arm.levels.items()},
        "seed": seed,
        "budget": budget.name,
        "status": result.status,
        "final_loss": float(result.metrics["loss"][-min(100, result.metrics.height) :].mean()) if result.metrics.height else None,
        "train_seconds": result.seconds,
        "threads": threads,
        "device": str(device),
        "torch": torch.__version__,
        "code": current_code(),
        "command": reproduce_command(arm, seed, budget, out),
        "structures": [s.name for s in structures],
    }
    record = {"meta": meta, "gain": [], "sampling": []}
    if not result.completed:
        return record
    x0 = centred_coords(structures, device)
    model, ctx = result.model, result.ctx
    for r in denoising_gain(model, ctx, x0, config.weights, budget.gain_sigmas, budget.gain_draws, seed=0):
        record["gain"].append(r | {"structure": structures[r["structure"]].name})
    denoise = lambda x, s, sub: model(x, s, sub)["atom"]  # noqa: E731
    for setting in arm.sampler_settings:
        with torch.no_grad():
            rows = sampling_outcomes(
                denoise, ctx, x0, structures, config.weights, arm.sampler_config(setting, budget), budget.samples, seed=0
            )
        for r in rows:
            record["sampling"].append(r | {"structure": structures[r["structure"]].name, "setting": setting})
    return record


def write_record(path: Path, record: dict) -> None:
    """Atomically (`core.files.atomic_write`): readers never see a partial file."""
    atomic_write(path, lambda f: f.write(json.dumps(record, sort_keys=True, allow_nan=True).encode()))


def timed_run(arm: Arm, seed: int, budget: Budget, out: str) -> tuple[Arm, int, dict]:
    """One run in a worker: (arm, seed, record); the driver writes the record (`write_record`)."""
    t0 = time.perf_counter()
    record = run_arm(arm, seed, budget, out)
    record["meta"]["seconds"] = time.perf_counter() - t0
    return arm, seed, record


# --------------------------------------------------------------------------- the tables


@dataclass(frozen=True)
class Results:
    runs: pl.DataFrame  # one row per (arm, seed): meta
    gain: pl.DataFrame  # (arm, seed, structure, sigma, level, gain)
    sampling: pl.DataFrame  # (arm, seed, structure, setting, outcomes)


META_FIELDS = {"arm": str, "seed": int, "budget": str, "status": str, "command": str, "arch": str, "code": str}


def read_run(path: Path) -> dict:
    """One run file as a checked record: the meta fields typed, every number finite; else ParameterError naming it."""
    try:
        rec = json.loads(path.read_text())
        meta = rec["meta"]
        meta.setdefault("arch", "transformer")  # runs written before the geometric backbone existed
        meta.setdefault("code", "unrecorded")  # runs written before records named their code
        for key, typ in META_FIELDS.items():
            if not isinstance(meta[key], typ) or isinstance(meta[key], bool):
                raise TypeError(f"meta {key} is {meta[key]!r}, not {typ.__name__}")
        rows = [("gain", r) for r in rec["gain"]] + [("sampling", r) for r in rec["sampling"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ParameterError(f"{path} is not a complete ablation run ({type(exc).__name__}: {exc})") from None
    for table, row in rows:
        bad = [k for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            raise ParameterError(f"{path} has non-finite {', '.join(bad)} in a {table} row: re-run it or remove the file")
    if meta["status"] == "completed" and not (rec["gain"] and rec["sampling"]):
        raise ParameterError(f"{path} says completed but holds no measurement: re-run it or remove the file")
    return rec


def load(out: str | Path) -> Results:
    """Merge the run files of an ablation folder; a file that is not a complete, finite record is refused by name."""
    files = sorted((Path(out) / "runs").glob("*.json"))
    if not files:
        raise ParameterError(
            f"no ablation runs in {out} (write them with python -m pomodoro_core.experiments.ablation --out {out})"
        )
    metas, gains, samplings = [], [], []
    for f in files:
        rec = read_run(f)
        meta = rec["meta"]
        key = {"arm": meta["arm"], "seed": meta["seed"]}
        metas.append({k: v for k, v in meta.items() if k != "structures"})
        gains += [r | key for r in rec["gain"]]
        samplings += [r | key for r in rec["sampling"]]
    runs = pl.DataFrame(metas)
    if runs["budget"].n_unique() > 1:
        raise ParameterError(f"{out} mixes budgets {sorted(runs['budget'].unique())}: keep one budget per folder")
    if runs["code"].n_unique() > 1:  # a paired difference across code versions would confound code with the factor
        raise ParameterError(
            f"{out} mixes runs of different code {sorted(runs['code'].unique())}: rerun the older ones "
            f"(this checkout's code is {current_code()}) or keep one code version per folder"
        )
    dup = runs.group_by("arm", "seed").len().filter(pl.col("len") > 1)
    if dup.height:  # file names are unique per (arm, seed); a renamed copy would be counted twice
        raise ParameterError(f"duplicate runs in {out} (one seed each, not extra seeds): {dup.select('arm', 'seed').rows()}")
    return Results(runs, pl.DataFrame(gains), pl.DataFrame(samplings))


def still_to_do(out: Path, arm: Arm, seed: int) -> bool:
    """Resume: a run is done when its file is a complete record; a cut-off or malformed file is run again."""
    path = run_file(out, arm, seed)
    if not path.exists():
        return True
    try:
        read_run(path)
        return False
    except ParameterError as exc:
        print(f"[ablation] running again: {exc}", file=sys.stderr, flush=True)
        return True


# --------------------------------------------------------------------------- command line


CLI_FLAGS = {
    "budget": Flag(str, None, "run size (default: gpu with CUDA, else cpu)", tuple(BUDGETS)),
    "seeds": FLAGS["seed"].but(default=[0, 1], help="seeds", nargs="+"),
    "only": Flag(str, None, "arm names (exact); default: every arm", nargs="*"),
    "study": Flag(str, None, "only the 8 arms of the architecture study", ("architecture",)),
    "executor": Flag(str, "local", "where runs go: local worker processes or a Ray cluster", EXECUTORS),
    "workers": Flag(int, os.cpu_count() or 1, "single-thread workers (local pool, or CPUs of a private Ray)", low=1, high=256),
    "address": Flag(str, None, "an existing Ray cluster (host:port, or 'auto'); with --executor ray"),
    "gpus-per-run": Flag(float, 0.0, "GPUs each run takes on Ray (0.25: four runs share a GPU)", low=0.0, high=8.0),
    "out": Flag(str, "results/ablation", "folder of run files"),
    "list": Flag(switch=True, help="print the arms and exit"),
}


def main(argv=None) -> int:
    ap = parser_for(__doc__.split("\n")[0], CLI_FLAGS, prog="python -m pomodoro_core.experiments.ablation")
    args = ap.parse_args(argv)
    try:
        budget = BUDGETS[args.budget or default_budget_name()]
        if budget.precision == "bf16" and args.address is None and not torch.cuda.is_available():
            raise ParameterError(f"budget {budget.name} trains in bf16, which runs on CUDA only (no CUDA device here)")
        todo = arms() if args.only is None else [arm_by_name(n) for n in args.only]
        if args.study == "architecture":
            todo = [a for a in architecture_arms().values() if args.only is None or a in todo]
        executor = Executor(args.executor, args.workers, args.address, args.gpus_per_run)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for a in arms():
            print(a.name)
        return 0
    jobs = [(a, s, budget, args.out) for a in todo for s in args.seeds if still_to_do(Path(args.out), a, s)]
    where = f"Ray at {args.address}" if args.address else f"{args.workers} {args.executor} workers"
    print(f"[ablation] budget {budget.name}: {len(jobs)} runs to do, {where}", file=sys.stderr, flush=True)
    try:
        for arm, seed, record in fan_out(timed_run, jobs, executor):
            write_record(run_file(Path(args.out), arm, seed), record)  # the driver alone writes, atomically
            _report(arm.name, seed, record["meta"]["seconds"])
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _report(name: str, seed: int, seconds: float) -> None:
    print(f"[ablation] done: {name} | seed {seed} | {seconds:.0f}s", file=sys.stderr, flush=True)


if __name__ == "__main__":  # run the imported module's main: workers (Ray, spawn) find its functions by name
    from pomodoro_core.experiments.ablation import main as module_main

    raise SystemExit(module_main())
