"""Every user-facing parameter in one table: its type, default, range and help.

The table is the one validation layer.  A notebook flag, a form field and the
ablation's command line all check a value with the same `Flag`:

    FLAGS["sigma"].check(x, "sigma")   # x, or ParameterError "sigma must be a number in [0.001, 10000] Å (got inf)"
    FLAGS["sigma"].parse("inf")        # the argparse type: the same check on the command-line text

Values are never clamped or replaced: a value outside the range is refused with the
range in the message.  `OneLineParser` turns any command-line error into one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import math
import numbers
import sys
from dataclasses import dataclass, replace

from .errors import ParameterError
from .presets import PRESET_NAMES
from .sampling import SOLVERS
from .structure import ATOM_SETS

SEED_MAX = 2**31 - 1


@dataclass(frozen=True)
class Flag:
    """One parameter: `type` (float, int or str), default, help; numbers lie in [low, high]."""

    type: type | None = float
    default: object = None
    help: str = ""
    choices: tuple | None = None
    nargs: str | None = None  # '*' or '+' for a list
    switch: bool = False  # a flag without a value (store_true)
    low: float | None = None
    high: float | None = None
    unit: str = ""

    def range_text(self) -> str:
        kind = "a whole number" if self.type is int else "a number"
        if self.low is None and self.high is None:
            return f"{kind}"
        show = (lambda v: str(int(v))) if self.type is int else (lambda v: f"{v:g}")
        return f"{kind} in [{show(self.low)}, {show(self.high)}]{' ' + self.unit if self.unit else ''}"

    def check(self, value, name: str = "value"):
        """`value` if it is a valid setting, else ParameterError naming `name` and the range."""
        if self.choices is not None and value not in self.choices:
            raise ParameterError(f"{name} must be {self._expected()} (got {value!r})")
        if self.choices is not None or self.type is str or self.switch:
            return value
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
        if ok and self.type is int:
            ok = float(value).is_integer()
            value = int(value) if ok else value
        elif ok:
            value = float(value)  # a widget's whole number (2, 0) is the float 2.0, 0.0 downstream
        if ok and self.low is not None:
            ok = self.low <= value <= self.high
        if not ok:
            raise ParameterError(f"{name} must be {self.range_text()} (got {value!r})")
        return value

    def parse(self, text: str):
        """The argparse type: text -> a checked value, or argparse's error with the range."""
        try:
            value = self.type(text) if self.type is not int else _whole(text)
            return self.check(value, "it")
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"must be {self._expected()} (got {text!r})") from None

    def _expected(self) -> str:
        if self.choices is not None:
            return f"one of {', '.join(map(str, self.choices))}"
        return self.range_text()

    def add_to(self, parser: argparse.ArgumentParser, name: str) -> None:
        if self.switch:
            parser.add_argument(f"--{name}", action="store_true", help=self.help)
            return
        typ = self.parse if self.type in (int, float) else self.type
        help_ = f"{self.help} [{self.range_text()}]" if self.low is not None else self.help
        kw = {"type": typ, "default": self.default, "help": help_, "nargs": self.nargs}
        if self.type is str:
            kw["choices"] = self.choices
        parser.add_argument(f"--{name}", **{k: v for k, v in kw.items() if v is not None})

    def but(self, **changes) -> Flag:
        return replace(self, **changes)


def _whole(text: str) -> int:
    """int('12'); also '1e3' or '12.0' when they are whole; never a rounded value."""
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not (math.isfinite(value) and value.is_integer()):
            raise
        return int(value)


def number(default, help: str, low: float, high: float, unit: str = "") -> Flag:
    return Flag(float, default, help, low=low, high=high, unit=unit)


def whole(default, help: str, low: int, high: int) -> Flag:
    return Flag(int, default, help, low=low, high=high)


FLAGS: dict[str, Flag] = {
    # structures
    "structure": Flag(str, "4E43", "a structure in data/ (name) or a path to a PDB / mmCIF file"),
    "atom-set": Flag(str, "backbone_cb", "atoms kept from each residue", ATOM_SETS),
    "crop": whole(32, "residues in pitfall 5's crop", 8, 128),
    # settings of a model (a preset, and the values that override it)
    "preset": Flag(str, "pomodoro-v0.9.0", "named settings (pomodoro_core.core.presets)", PRESET_NAMES),
    "preset-file": Flag(str, None, "a TOML file of your model's settings, used as a preset beside the built-in ones"),
    "presets": Flag(str, ["pomodoro-v0.9.0", "pomodoro-v0.9.1", "boltz-2"], "presets to compare", PRESET_NAMES, nargs="*"),
    "w-c": number(None, "chain noise weight (default: the preset's)", 0, 1000),
    "w-r": number(None, "residue noise weight (default: the preset's)", 0, 1000),
    "w-a": number(None, "atom noise weight (default: the preset's)", 0, 1000),
    "sigma": number(16.0, "noise level", 1e-3, 1e4, "Å"),
    "sigma-data": number(16.0, "σ_data", 0.1, 1000, "Å"),
    "p-mean": number(None, "training P_mean (default: the preset's)", -6, 3),
    "p-std": number(None, "training P_std (default: the preset's)", 0.05, 4),
    "sigma-min": number(None, "σ_min in units of σ_data (default: the preset's)", 1e-5, 10),
    "sigma-max": number(None, "σ_max in units of σ_data (default: the preset's)", 0.01, 1000),
    "rho": number(None, "Karras schedule ρ (default: the preset's)", 1, 12),
    "times-sigma-data": Flag(str, None, "schedule levels multiplied by σ_data (default: the preset's)", ("yes", "no")),
    "gamma-0": number(None, "churn γ0 (default: the preset's)", 0, 2),
    "gamma-min": number(None, "churn applies above this σ (default: the preset's)", 0, 1e4, "Å"),
    "step-scale": number(None, "sampler step scale (default: the preset's)", 0.1, 3),
    "noise-scale": number(None, "churn noise multiplier (default: the preset's)", 0, 3),
    "q": number(0.999, "training quantile the schedule is compared with", 0.9, 0.99999),
    # sampling and training runs
    "steps": whole(None, "training steps (default: the default budget)", 1, 100_000),
    "batch-size": whole(None, "training batch size (default: the default budget)", 1, 1024),
    "sampler-steps": whole(None, "sampling steps (default: the preset's)", 1, 1000),
    "solver": Flag(str, "euler", "sampler", SOLVERS),
    "samples": whole(None, "samples (Monte Carlo draws, or structures sampled)", 1, 100_000),
    "seed": whole(0, "random seed", 0, SEED_MAX),
    "no-cache": Flag(switch=True, help="train even if this configuration is cached"),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (`error: argument --x: ...`) and exit code 2."""

    def error(self, message: str):
        print(f"error: {' '.join(message.split())}", file=sys.stderr)
        sys.exit(2)


def parser_for(description: str, flags: dict[str, Flag], prog: str | None = None) -> OneLineParser:
    parser = OneLineParser(prog=prog, description=description)
    for name, flag in flags.items():
        flag.add_to(parser, name)
    return parser
