"""Helpers shared by the notebooks: error reporting, key figures, controls and views.

Parameters are parsed by `args.notebook_args`; the parsed values become the UI
elements' initial values, so `python notebooks/NAME.py --sigma 10` and the
interactive notebook compute the same thing.
"""

from __future__ import annotations

import contextlib
import sys

import marimo as mo


def fail(message: str):
    """Stop with a clear message: a red callout in a notebook, exit code 2 in a script."""
    if not mo.running_in_notebook():
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)
    mo.stop(True, mo.callout(mo.md(f"**Cannot compute this:** {message}"), kind="danger"))


def guarded(fn, *args, **kwargs):
    """Call fn; a ValueError (bad parameter, bad structure) becomes `fail(message)`."""
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        fail(str(exc))


def check(name: str, value):
    """`value` checked against the parameter table (`core.params.FLAGS[name]`); out of range: `fail`."""
    from ..core.params import FLAGS

    return guarded(FLAGS[name].check, value, name)


def checked(values: dict, *keys: str) -> dict:
    """A form's values with `keys` (w_c, sampler_steps, ...) checked against the parameter table."""
    return values | {key: check(key.replace("_", "-"), values[key]) for key in keys}


def slider(name: str, value, step: float, label: str, **kwargs):
    """A slider spanning the parameter's range in the table, so every accepted flag value fits on it."""
    from ..core.params import FLAGS

    flag = FLAGS[name]
    return mo.ui.slider(flag.low, flag.high, step=step, value=value, label=label, show_value=True, **kwargs)


def say(text: str) -> None:
    """Key figures on stdout in script mode (and CI logs); silent inside a notebook or report."""
    if not mo.running_in_notebook():
        print(text)


def load_structure(name: str, atom_set: str = "backbone_cb"):
    """The structure `name` (in data/, or a path), or `fail` with the loader's reason; script mode prints
    one line naming what was loaded (file, chains, residues, atoms, models, residues skipped)."""
    from ..core.structure import find_structure, load_structure

    structure = guarded(lambda: load_structure(find_structure(name), atom_set))
    say(structure.describe())
    return structure


@contextlib.contextmanager
def progress(label: str, total: int):
    """A callback `advance(done, total)`: a marimo progress bar in a notebook, a line on stderr every ~10 % in a script."""
    if mo.running_in_notebook():
        with mo.status.progress_bar(total=total, title=label, remove_on_exit=True) as bar:
            shown = [0]

            def advance(done: int, total: int) -> None:
                bar.update(increment=done - shown[0])
                shown[0] = done

            yield advance
        return
    from ..training.trainer import ProgressLine

    line = ProgressLine(label)
    yield lambda done, total: line(done - 1, total)


def component_grams(structure, draws: int | None, seed: int, most: int):
    """The Monte Carlo moments of the structure's noise components: `draws` draws, or (None / 0) as many as
    `core.noise.auto_draws` scales to its size (at most `most`); progress shown for anything over a second or so."""
    from ..core.hierarchy import Hierarchy
    from ..core.noise import AUTO_ATOM_DRAWS, auto_draws, sample_component_grams

    n = draws or auto_draws(structure.n_atoms, most)
    scaled = "" if draws else f" (scaled to {structure.n_atoms} atoms: at most {most}; --samples sets it)"
    say(f"Monte Carlo: {n} draws{scaled}")
    h = Hierarchy.from_structure(structure)
    if n * structure.n_atoms <= AUTO_ATOM_DRAWS:  # about a second or less: no progress output
        return sample_component_grams(h, n, seed)
    with progress("Monte Carlo draws", n) as advance:
        return sample_component_grams(h, n, seed, progress=advance)


def structure_dropdown(name: str, label: str = "structure"):
    """A dropdown of the structures in data/ (plus `name` if it is a path given on the command line)."""
    from ..core.structure import list_structures

    names = [p.name.split(".")[0] for p in list_structures()]
    return mo.ui.dropdown(names if name in names else [*names, name], value=name, label=label)


def weight_controls(preset_name: str, args) -> tuple:
    """(w_c, w_r, w_a) number inputs starting at the preset's weights; command-line weights win
    while the preset is still the one given on the command line.  No bounds: a bad value gets
    NoiseWeights' message rather than a widget error."""
    from ..core.presets import get_preset

    w = get_preset(preset_name).weights
    first = preset_name == args.preset
    pick = lambda cli, default: cli if (first and cli is not None) else default  # noqa: E731
    return (
        mo.ui.number(step=0.1, value=pick(args.w_c, w.w_c), label="w_c (chain)"),
        mo.ui.number(step=0.1, value=pick(args.w_r, w.w_r), label="w_r (residue)"),
        mo.ui.number(step=0.1, value=pick(args.w_a, w.w_a), label="w_a (atom)"),
    )


def table_view(df, page_size: int = 20):
    """An interactive table with floats shown to 4 significant figures (the data keep full precision)."""
    import polars as pl

    shown = df.with_columns(pl.col(pl.Float64, pl.Float32).round_sig_figs(4))
    return mo.ui.table(shown, selection=None, page_size=page_size)


def key_figure(label: str, value) -> None:
    """A headline number for the suite's index page (script mode only): `KEY| label | value`."""
    if not mo.running_in_notebook():
        v = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"KEY| {label} | {v}")


def print_table(title: str, df) -> None:
    """A table of key figures on stdout in script mode; silent inside a notebook or report."""
    import polars as pl

    if mo.running_in_notebook():
        return
    with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=60, tbl_width_chars=160, float_precision=4):
        print(f"\n== {title} ==\n{df}")


def train_with_progress(structure, config, label: str, use_cache: bool = True):
    """(result, from_cache): train or load the cached run, with a marimo progress bar in a notebook
    and a plain progress line in a script."""
    from ..training.cache import train_cached
    from ..training.trainer import ProgressLine, train

    def go(progress):
        if use_cache:
            return train_cached(structure, config, progress=progress)
        return train(structure, config, progress=progress), False

    if mo.running_in_notebook():
        with mo.status.progress_bar(total=config.steps, title=label, remove_on_exit=True) as bar:
            return go(lambda step, steps, loss: bar.update())
    return go(ProgressLine(label))


def effects_section(
    heading: str, effects, axis_title: str, group: str | None = None, page_size: int = 20, printed: str | None = None
):
    """A heading, the effects chart with its intervals and the table (printed in script mode as `printed`)."""
    from . import charts

    print_table(printed or heading, effects)
    chart = effects if group is None else effects.filter(~effects["term"].str.contains("×"))
    return mo.vstack(
        [
            mo.md(f"## {heading}"),
            mo.ui.altair_chart(charts.effects_chart(chart, axis_title, group=group)),
            table_view(effects, page_size=page_size),
        ]
    )
