"""The one parser the notebooks share, built from the parameter table (`core.params.FLAGS`).

A notebook names the flags it takes and the defaults (or ranges) that are its own:

    args = notebook_args("Noise decomposition (pitfall 1)", "preset", "sigma", samples=dict(default=4000, low=200, high=20000))

A value outside a flag's range, a non-number or an unknown flag stops with one line and
exit code 2 in script mode; inside marimo (or under the suite, POMODORO_LENIENT_ARGS=1)
unknown flags are ignored with a note, so one set of parameters can pass through to
every notebook.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys

import marimo as mo

from ..core.errors import ParameterError
from ..core.params import FLAGS, Flag, parser_for
from ..core.preset_file import flag_defaults, load_preset_file
from ..core.presets import Preset, preset_names
from ..training.trainer import pin_threads
from .ui import fail, say

__all__ = ["FLAGS", "Flag", "notebook_args", "parse_args"]


def notebook_args(description: str, *names: str, **own: object) -> argparse.Namespace:
    """Parse sys.argv[1:] for the flags `names` (keys of FLAGS) plus notebook-specific ones.

    A keyword argument changes a listed flag: a plain value is its default (`samples=4000`),
    a dict changes its fields (`samples=dict(default=4000, low=200, high=20000)`), and a
    `Flag` replaces it or adds one of the notebook's own (`no_gate=Flag(switch=True, ...)`).
    The notebook's process (script or kernel) runs torch with one intra-op thread (`pin_threads`).
    """
    pin_threads()
    flags = {name: FLAGS[name] for name in names}
    for key, value in own.items():
        name = key.replace("_", "-")
        if isinstance(value, Flag):
            flags[name] = value
        elif isinstance(value, dict):
            flags[name] = flags[name].but(**value)
        else:
            flags[name] = flags[name].but(default=value)
    preset = preset_from_argv()
    if preset is not None:
        flags = with_preset_defaults(flags, preset)
    flags["preset-file"] = FLAGS["preset-file"]
    return parse_args(parser_for(description, flags))


def preset_from_argv() -> Preset | None:
    """The preset of `--preset-file` on the command line, registered beside the built-in ones (None if not given)."""
    early = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    early.add_argument("--preset-file")
    try:
        path = early.parse_known_args(sys.argv[1:])[0].preset_file
    except argparse.ArgumentError:
        return None  # `--preset-file` without a value: the notebook's own parser says so in one line
    if path is None:
        return None
    try:
        preset = load_preset_file(path)
    except ParameterError as exc:
        fail(str(exc))
    say(f"preset file: {preset.name} from {path} ({preset.source})")
    return preset


def with_preset_defaults(flags: dict[str, Flag], preset: Preset) -> dict[str, Flag]:
    """The file's preset becomes the default preset (and joins the compared ones); a flag the notebook gave a
    default of its own (05's weights, 02's P_mean, ...) starts from the file's value instead."""
    values = flag_defaults(preset)
    out = {}
    for name, flag in flags.items():
        if name == "preset":
            flag = flag.but(choices=preset_names(), default=preset.name)
        elif name == "presets":
            flag = flag.but(choices=preset_names(), default=[*flag.default, preset.name])
        elif name in values and flag.default is not None:
            flag = flag.but(default=values[name])
        out[name] = flag
    if out == flags:
        print(f"note: --preset-file: this notebook takes no setting a preset gives; {preset.name} is not used", file=sys.stderr)
    return out


def parse_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Strictly in script mode, leniently inside marimo or under the suite (POMODORO_LENIENT_ARGS=1)."""
    argv = sys.argv[1:]
    if mo.running_in_notebook():  # a bad value given to `marimo edit nb.py -- --flag v`: a red message, not an exit
        said = io.StringIO()
        try:
            with contextlib.redirect_stderr(said):
                args, unknown = parser.parse_known_args(argv)
        except SystemExit:
            fail(said.getvalue().strip().removeprefix("error: "))
        if unknown:
            print(f"ignoring unknown arguments: {' '.join(unknown)}", file=sys.stderr)
        return args
    if os.environ.get("POMODORO_LENIENT_ARGS") == "1":
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            print(f"ignoring unknown arguments: {' '.join(unknown)}", file=sys.stderr)
        return args
    return parser.parse_args(argv)
