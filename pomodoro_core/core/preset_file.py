"""Your model's settings as a preset, from a TOML file (`--preset-file my.toml`).

    name = "my-model-run-17"          # optional (default: the file's name)
    source = "config.py at commit 1a2b3c"
    base = "pomodoro-v0.9.1"          # optional: every key left out comes from this preset
    w_c = 8.2                         # noise weights (chain, residue, atom)
    w_r = 1.6
    w_a = 1.3
    sigma_data = 16.0                 # Å
    P_mean = -1.84                    # training sigma = sigma_data exp(P_mean + P_std n)
    P_std = 2.8
    sigma_min = 0.001                 # schedule, in units of sigma_data when schedule_times_sigma_data
    sigma_max = 80.0
    rho = 7.0
    steps = 50
    gamma_0 = 0.0                     # churn
    gamma_min = 1.0
    noise_scale = 1.0
    step_scale = 1.0
    train_times_sigma_data = true
    schedule_times_sigma_data = true

Without `base` every setting must be given; with it, the file states only what differs.
Each value is checked against the parameter table (`core.params.FLAGS`); an unknown key,
a missing one or a value out of range is refused with one line naming the file and the key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .edm import LogNormalSigma
from .errors import ParameterError
from .noise import NoiseWeights
from .params import FLAGS
from .presets import Preset, get_preset, register
from .sampling import SamplerConfig

NUMBERS = {  # preset field -> its flag in the parameter table
    "w_c": "w-c",
    "w_r": "w-r",
    "w_a": "w-a",
    "sigma_data": "sigma-data",
    "P_mean": "p-mean",
    "P_std": "p-std",
    "sigma_min": "sigma-min",
    "sigma_max": "sigma-max",
    "rho": "rho",
    "steps": "sampler-steps",
    "gamma_0": "gamma-0",
    "gamma_min": "gamma-min",
    "noise_scale": "noise-scale",
    "step_scale": "step-scale",
}
SWITCHES = ("train_times_sigma_data", "schedule_times_sigma_data")
TEXTS = ("name", "source", "base")
KEYS = (*TEXTS, *NUMBERS, *SWITCHES)


def settings(preset: Preset) -> dict:
    """The preset's value of every key a file may set besides name, source and base, in KEYS order."""
    w = preset.weights
    return {"w_c": w.w_c, "w_r": w.w_r, "w_a": w.w_a} | {
        k: getattr(preset, k) for k in (*NUMBERS, *SWITCHES) if k not in ("w_c", "w_r", "w_a")
    }


def _check(key: str, value):
    if key in TEXTS:
        if not isinstance(value, str) or not value.strip():
            raise ParameterError(f"{key} must be a non-empty text (got {value!r})")
        return value.strip()
    if key in SWITCHES:
        if not isinstance(value, bool):
            raise ParameterError(f"{key} must be true or false (got {value!r})")
        return value
    return FLAGS[NUMBERS[key]].check(value, key)


def preset_from_toml(text: str, default_name: str, where: str) -> Preset:
    """The preset a TOML text describes; ParameterError naming `where` and the key on anything wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"preset file {where}: not valid TOML ({exc})") from None
    unknown = [k for k in raw if k not in KEYS]
    if unknown:
        raise ParameterError(f"preset file {where}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    try:
        given = {k: _check(k, v) for k, v in raw.items()}
        base = settings(get_preset(given["base"])) if "base" in given else {}
    except ParameterError as exc:
        raise ParameterError(f"preset file {where}: {exc}") from None
    missing = [k for k in (*NUMBERS, *SWITCHES) if k not in given and k not in base]
    if missing:
        raise ParameterError(f"preset file {where}: missing {', '.join(missing)} (give them, or a base preset: base = ...)")
    s = base | {k: v for k, v in given.items() if k not in TEXTS}
    source = given.get("source", f"preset file {where}") + (f" (on {given['base']})" if "base" in given else "")
    try:
        preset = Preset(
            name=given.get("name", default_name),
            source=source,
            weights=NoiseWeights(s["w_c"], s["w_r"], s["w_a"]),
            **{k: v for k, v in s.items() if k not in ("w_c", "w_r", "w_a")},
        )
        SamplerConfig.from_preset(preset)  # the schedule and the churn are usable
        LogNormalSigma.for_training(preset.P_mean, preset.P_std, preset.sigma_data, preset.train_times_sigma_data)
    except ParameterError as exc:
        raise ParameterError(f"preset file {where}: {exc}") from None
    return preset


def load_preset_file(path: str | Path) -> Preset:
    """Read a preset file and register its preset beside the built-in ones (loading the same file twice is fine)."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"preset file {str(path)!r}: {'is a directory' if path.is_dir() else 'not found'}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"preset file {str(path)!r}: cannot read it ({exc})") from None
    return register(preset_from_toml(text, path.stem, repr(str(path))))


def to_toml(preset: Preset, source: str) -> str:
    """A full preset file (no base) that `preset_from_toml` reads back as `preset`."""
    show = lambda v: str(v).lower() if isinstance(v, bool) else repr(v)  # noqa: E731
    lines = [f'name = "{preset.name}"', f'source = "{source}"'] + [f"{k} = {show(v)}" for k, v in settings(preset).items()]
    return "\n".join(lines) + "\n"


def flag_defaults(preset: Preset) -> dict[str, object]:
    """The preset's value of every flag of the parameter table it sets (`w-c`, `p-mean`, ..., `times-sigma-data`)."""
    s = settings(preset)
    return {flag: s[key] for key, flag in NUMBERS.items()} | {
        "times-sigma-data": "yes" if preset.schedule_times_sigma_data else "no"
    }
