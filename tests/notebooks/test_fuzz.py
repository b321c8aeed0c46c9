"""Property-based fuzz of every command line (hypothesis): random flags with random values, including inf,
nan, huge, tiny, negative, non-numeric and empty ones.

The claim: a command line is accepted with every number finite and inside its flag's stated range, or refused
with exit code 2 and exactly one line on stderr; a notebook run end to end exits 0 with finite key figures or
2 with one line, never a traceback.  Every notebook's own parser is taken from the notebook itself (its
`notebook_args` call, run in-process up to the parse).  The end-to-end runs cover the analytic notebooks
00-04; the training notebooks 05-06 share the same parser layer and are fuzzed at the parser (a run trains).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pomodoro_core.core.params import Flag, parser_for
from pomodoro_core.experiments import ablation
from pomodoro_core.report import args as args_module

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.py"))
NASTY = ["inf", "-inf", "nan", "1e300", "-1e300", "1e-300", "0", "-1", "-7", "99999999999999999999", "abc", "", "1.5", "3"]


class _Captured(Exception):
    def __init__(self, parser):
        self.parser = parser


def notebook_parser(path: Path) -> argparse.ArgumentParser:
    """The parser `path` builds, caught when its `notebook_args` cell hands it to `parse_args`."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    original = args_module.parse_args
    args_module.parse_args = lambda parser: (_ for _ in ()).throw(_Captured(parser))
    try:
        module.app.run()
    except _Captured as caught:
        return caught.parser
    finally:
        args_module.parse_args = original
    raise AssertionError(f"{path.name} never called notebook_args")


PARSERS = {path.stem: notebook_parser(path) for path in NOTEBOOKS}
PARSERS["ablation"] = parser_for("ablation", ablation.CLI_FLAGS)


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings and a.dest != "help"]


def _value(action: argparse.Action, valid: bool) -> st.SearchStrategy[str]:
    """Text for `action`: inside its range or choices when `valid`, else anything (mostly not)."""
    flag = getattr(action.type, "__self__", None)
    if isinstance(flag, Flag) and flag.low is not None:
        good = st.floats(flag.low, flag.high).map(lambda v: str(int(v)) if flag.type is int else repr(v))
    elif action.choices:
        good = st.sampled_from([str(c) for c in action.choices])
    else:
        good = st.sampled_from([str(action.default)]) if isinstance(action.default, str) else st.nothing()
    if valid:
        return good
    huge = st.integers(-(10**25), 10**25).map(str)
    text = st.text(st.characters(blacklist_characters="\x00"), max_size=4)  # a command line cannot carry a NUL byte
    return st.one_of(good, st.sampled_from(NASTY), st.floats().map(repr), huge, text)


@st.composite
def command_lines(draw, parser: argparse.ArgumentParser, valid: bool = False) -> list[str]:
    """Up to four of the parser's flags; with `valid`, only flags that have a valid value to draw, and such values."""
    options = [a for a in _options(parser) if not valid or not _value(a, True).is_empty]
    argv = []
    for action in draw(st.lists(st.sampled_from(options), max_size=4, unique_by=lambda a: a.dest)):
        argv.append(action.option_strings[0])
        if action.nargs != 0:
            argv += draw(st.lists(_value(action, valid), min_size=1, max_size=2 if action.nargs in ("*", "+") else 1))
    return argv


def _accepted_values_are_in_range(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> None:
    for action in _options(parser):
        flag = getattr(action.type, "__self__", None)
        value = getattr(ns, action.dest)
        if isinstance(flag, Flag) and value is not None:
            for v in value if isinstance(value, list) else [value]:
                flag.check(v, action.dest)  # raises if a value got through out of range or non-finite


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=150, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_command_line_is_accepted_in_range_or_refused_in_one_line(name, data):
    parser = PARSERS[name]
    argv = data.draw(command_lines(parser))
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            ns = parser.parse_args(argv)
    except SystemExit as exc:
        assert exc.code == 2 and err.getvalue().count("\n") == 1 and err.getvalue().startswith("error: "), (argv, err.getvalue())
        return
    _accepted_values_are_in_range(parser, ns)


def _key_values(stdout: str) -> list[str]:
    return [line.rsplit("|", 1)[1].strip() for line in stdout.splitlines() if line.startswith("KEY|")]


ANALYTIC = [p for p in NOTEBOOKS if p.stem[:2] in ("00", "01", "02", "03", "04")]


@pytest.mark.parametrize("path", ANALYTIC, ids=lambda p: p.stem)
@settings(max_examples=6, derandomize=True, deadline=None, database=None)
@given(data=st.data())
def test_a_notebook_run_ends_with_finite_figures_or_one_line(path, data):
    """Half the command lines valid throughout (the run must give finite figures), half anything."""
    argv = data.draw(command_lines(PARSERS[path.stem], valid=data.draw(st.booleans())))
    res = subprocess.run([sys.executable, str(path), *argv], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert "Traceback" not in res.stderr, (argv, res.stderr[-3000:])
    if res.returncode == 2:
        assert res.stderr.count("\n") == 1 and res.stderr.startswith("error: "), (argv, res.stderr)
    else:
        assert res.returncode == 0, (argv, res.stderr[-3000:])
        assert not [v for v in _key_values(res.stdout) if v.lower() in ("nan", "inf", "-inf")], (argv, res.stdout[-3000:])
