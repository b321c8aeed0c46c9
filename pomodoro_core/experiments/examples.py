"""The shipped example of another model's files, exported from this suite's own run (`data/examples/`).

    python -m pomodoro_core.experiments.examples --out data/examples

trains the design as reviewed (pomodoro v0.9.0, no residue identity, notebook 05's default
budget) on a two-chain crop of 1hvr, samples one trajectory and writes what a user of
notebook 08 and of 06's training-log section brings:

    1hvr_crop.pdb              the structure file (atom -> residue -> chain, in the trajectory's atom order)
    trajectory.npz             x, sigma, sigma_hat, denoised, atom_name
    trajectory.cif             the same states as a multi-model mmCIF (levels: the preset's schedule)
    training_log.csv           per-sample sigma and per-level losses of the training run
    pomodoro-v0.9.0-copy.toml  the run's settings as a preset file

One thread, a fixed seed: the files are reproduced bit for bit on CPU by the same command.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ..core.noise import NoiseWeights
from ..core.params import OneLineParser
from ..core.preset_file import to_toml
from ..core.presets import get_preset
from ..training.sampler import sample_trajectory
from ..training.trainer import TrainResult, default_budget, pin_threads, train
from ..training.trajectory_file import write_models, write_npz
from .ablation import crop, custom_configs

CROP = "1hvr*"
SEED = 0
LOG_COLUMNS = {"atom": "loss_atom", "residue": "loss_residue", "chain": "loss_chain", "bond": "loss_bond"}


def training_log(result: TrainResult) -> pl.DataFrame:
    """The run's per-sample losses in the training-log format (`experiments.training_log`)."""
    return result.samples.select("step", "sigma", *LOG_COLUMNS).rename(LOG_COLUMNS)


def preset_toml(name: str, base: str) -> str:
    """A full preset file copying the built-in preset `base` under `name`."""
    return to_toml(get_preset(base).with_(name=name), f"a copy of {base}, written by pomodoro_core.experiments.examples")


def export(out: Path, steps: int | None = None) -> dict[str, Path]:
    pin_threads()
    p = get_preset("pomodoro-v0.9.0")
    budget = default_budget("cpu") | ({"steps": steps} if steps else {})
    train_config, sampler_config = custom_configs(
        NoiseWeights(p.weights.w_c, p.weights.w_r, p.weights.w_a),
        p.P_mean,
        p.P_std,
        p.sigma_max,
        p.steps,
        (),
        "euler",
        "none",
        **budget,
    )
    structure = crop(CROP)
    result = train(structure, train_config.with_(seed=SEED), "cpu")
    traj = sample_trajectory(result.denoiser(), result.ctx.hierarchy, p.weights, sampler_config, 1, SEED)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        k: out / v
        for k, v in {
            "structure": "1hvr_crop.pdb",
            "npz": "trajectory.npz",
            "models": "trajectory.cif",
            "log": "training_log.csv",
            "preset": "pomodoro-v0.9.0-copy.toml",
        }.items()
    }
    write_models(files["structure"], structure.coords[None], structure)  # the crop as a one-model PDB file
    write_npz(files["npz"], traj, structure)
    write_models(files["models"], traj.x[:, 0].double().numpy(), structure)
    training_log(result).write_csv(files["log"])
    files["preset"].write_text(preset_toml("v0.9.0-copy", "pomodoro-v0.9.0"))
    return files


def main(argv: list[str] | None = None) -> None:
    parser = OneLineParser(prog="python -m pomodoro_core.experiments.examples", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="data/examples", help="folder to write the example files to")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: notebook 05's budget)")
    args = parser.parse_args(argv)
    for kind, path in export(Path(args.out), args.steps).items():
        print(f"{kind}: {path}")


if __name__ == "__main__":
    main()
