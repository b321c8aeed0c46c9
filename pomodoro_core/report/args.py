"""Every notebook parameter in one table, and the one parser the notebooks share.

A notebook names the flags it takes and the defaults that are its own:

    args = notebook_args("Noise decomposition (pitfall 1)", "preset", "w-c", "w-r", "w-a", "sigma", samples=4000)

In script mode unknown or malformed flags stop with argparse's message and exit code 2;
inside marimo (or under the suite, POMODORO_LENIENT_ARGS=1) unknown flags are ignored
with a note, so one set of parameters can pass through to every notebook.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, replace

import marimo as mo

from ..core.presets import PRESET_NAMES
from ..core.sampling import SOLVERS
from ..core.structure import ATOM_SETS


@dataclass(frozen=True)
class Flag:
    type: type | None = float
    default: object = None
    help: str = ""
    choices: tuple | None = None
    nargs: str | None = None  # '*' for a list
    switch: bool = False  # a flag without a value (store_true)

    def add_to(self, parser: argparse.ArgumentParser, name: str) -> None:
        if self.switch:
            parser.add_argument(f"--{name}", action="store_true", help=self.help)
            return
        kw = {"type": self.type, "default": self.default, "help": self.help, "choices": self.choices, "nargs": self.nargs}
        parser.add_argument(f"--{name}", **{k: v for k, v in kw.items() if v is not None})


FLAGS: dict[str, Flag] = {
    # structures
    "structure": Flag(str, "4E43", "a structure in data/ (name) or a path to a PDB / mmCIF file"),
    "atom-set": Flag(str, "backbone_cb", "atoms kept from each residue", ATOM_SETS),
    "crop": Flag(int, 32, "residues in pitfall 5's crop"),
    # settings of a model (a preset, and the values that override it)
    "preset": Flag(str, "pomodoro-v0.9.0", "named settings (pomodoro_core.core.presets)", PRESET_NAMES),
    "presets": Flag(str, ["pomodoro-v0.9.0", "pomodoro-v0.9.1", "boltz-2"], "presets to compare", PRESET_NAMES, nargs="*"),
    "w-c": Flag(float, None, "chain noise weight (default: the preset's)"),
    "w-r": Flag(float, None, "residue noise weight (default: the preset's)"),
    "w-a": Flag(float, None, "atom noise weight (default: the preset's)"),
    "sigma": Flag(float, 16.0, "noise level in Å"),
    "sigma-data": Flag(float, 16.0, "σ_data in Å"),
    "p-mean": Flag(float, None, "training P_mean (default: the preset's)"),
    "p-std": Flag(float, None, "training P_std (default: the preset's)"),
    "sigma-min": Flag(float, None, "σ_min in units of σ_data (default: the preset's)"),
    "sigma-max": Flag(float, None, "σ_max in units of σ_data (default: the preset's)"),
    "rho": Flag(float, None, "Karras schedule ρ (default: the preset's)"),
    "times-sigma-data": Flag(str, None, "schedule levels multiplied by σ_data (default: the preset's)", ("yes", "no")),
    "gamma-0": Flag(float, None, "churn γ0 (default: the preset's)"),
    "gamma-min": Flag(float, None, "churn applies above this σ (default: the preset's)"),
    "step-scale": Flag(float, None, "sampler step scale (default: the preset's)"),
    "q": Flag(float, 0.999, "training quantile the schedule is compared with"),
    # sampling and training runs
    "steps": Flag(int, None, "training steps (default: the default budget)"),
    "batch-size": Flag(int, None, "training batch size (default: the default budget)"),
    "sampler-steps": Flag(int, None, "sampling steps (default: the preset's)"),
    "solver": Flag(str, "euler", "sampler", SOLVERS),
    "samples": Flag(int, None, "samples (Monte Carlo draws, or structures sampled)"),
    "seed": Flag(int, 0, "random seed"),
    "no-cache": Flag(switch=True, help="train even if this configuration is cached"),
}


def notebook_args(description: str, *names: str, **own: object) -> argparse.Namespace:
    """Parse sys.argv[1:] for the flags `names` (keys of FLAGS) plus notebook-specific ones.

    A keyword argument changes a listed flag's default (`samples=4000`) or, given as a
    `Flag`, replaces the flag or adds one of the notebook's own (`no_gate=Flag(switch=True, ...)`).
    """
    parser = argparse.ArgumentParser(description=description)
    flags = {name: FLAGS[name] for name in names}
    for key, value in own.items():
        name = key.replace("_", "-")
        flags[name] = value if isinstance(value, Flag) else replace(flags[name], default=value)
    for name, flag in flags.items():
        flag.add_to(parser, name)
    return parse_args(parser)


def parse_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Strictly in script mode, leniently inside marimo or under the suite (POMODORO_LENIENT_ARGS=1)."""
    argv = sys.argv[1:]
    if mo.running_in_notebook() or os.environ.get("POMODORO_LENIENT_ARGS") == "1":
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            print(f"ignoring unknown arguments: {' '.join(unknown)}", file=sys.stderr)
        return args
    return parser.parse_args(argv)
