"""Helpers shared by the notebooks: error reporting, key figures, controls and views.

Parameters are parsed by `args.notebook_args`; the parsed values become the UI
elements' initial values, so `python notebooks/NAME.py --sigma 10` and the
interactive notebook compute the same thing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

import marimo as mo

from ..training.metrics import BOND_TOL, CA_CA_TOL, CA_CA_TRANS


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
    """A slider spanning the parameter's range in the table, so every accepted flag value fits on it; it shows its
    value and sends it when released (debounced), so dragging does not recompute at every position."""
    from ..core.params import FLAGS

    flag = FLAGS[name]
    kwargs = {"show_value": True, "debounce": True} | kwargs
    return mo.ui.slider(flag.low, flag.high, step=step, value=value, label=label, **kwargs)


def live() -> bool:
    """True in an interactive notebook (`marimo edit` / `marimo run`); False in a script and while the suite
    renders a static report (it sets POMODORO_REPORT=1), where the controls are frozen at their first values."""
    return mo.running_in_notebook() and not os.environ.get("POMODORO_REPORT")


def wait_for_submit(form, button: str) -> None:
    """Nothing heavy runs before it is asked for: in a live notebook stop here until `form` is submitted.
    Scripts and static reports go on with the command line's values."""
    mo.stop(
        live() and form.value is None,
        mo.callout(mo.md(f"Nothing has run yet. Set the values above and press **{button}**."), kind="neutral"),
    )


def verdict(title: str, text: str, kind: str = "info"):
    """The notebook's verdict as a callout (placed right under the controls); a script prints it, with its first
    sentence on a `VERDICT| title | sentence` line that the suite's index page shows."""
    if not mo.running_in_notebook():
        plain = text.replace("**", "").strip()
        print(f"\n== {title} ==\n{plain}")
        print(f"VERDICT| {title} | {first_sentence(plain)}")
    return mo.callout(mo.md(f"## {title}\n{text}"), kind=kind)


def first_sentence(text: str) -> str:
    """The text up to its first full stop followed by a space or line end (markdown bullets and newlines flattened)."""
    import re

    flat = " ".join(re.sub(r"^[-*] ", "", line.strip()) for line in text.splitlines() if line.strip())
    match = re.search(r"^(.+?[.!?])(\s|$)", flat)
    return match.group(1) if match else flat


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


# column names in words, with units: every table a notebook shows (table_view) is labelled with these
COLUMN_WORDS = {
    "readout": "read-out",
    "closed_form": "closed form (Å)",
    "monte_carlo": "Monte Carlo (Å)",
    "mc_rel_error": "Monte Carlo relative error",
    "over_sigma": "÷ σ",
    "isotropic_over_sigma": "isotropic noise ÷ σ",
    "variance_share": "share of the noise variance",
    "amplitude_over_sigma": "amplitude s_l ÷ σ",
    "final_loss": "final training loss",
    "train_seconds": "training time (s)",
    "rmsd": "RMSD to target (Å)",
    "rg_ratio": "Rg ÷ target's Rg",
    "bond_error": "mean bond length error (Å)",
    "bond_violations": f"share of bonds off by > {BOND_TOL:g} Å",
    "ca_ca_violations": f"share of CA–CA outside {CA_CA_TRANS:g} ± {CA_CA_TOL:g} Å",
    "order_free_rmsd": "order-free CA RMSD (Å)",
    "own_slot": "share of residues in their own slot",
}


def rounded(df):
    """Floats to 4 significant figures, float32 widened first (so no float32 noise such as 9.508000373840332)."""
    import polars as pl

    return df.with_columns(pl.col(pl.Float32).cast(pl.Float64)).with_columns(pl.col(pl.Float64).round_sig_figs(4))


def table_view(df, first: tuple[str, ...] = (), page_size: int = 20):
    """An interactive table that fits the page: the `first` columns lead and stay in view when the table scrolls
    sideways, floats read as 4 significant figures, long text wraps instead of widening the table, and the columns
    named in `COLUMN_WORDS` are labelled in words."""
    import polars as pl

    words = {c: COLUMN_WORDS[c] for c in df.columns if c in COLUMN_WORDS}
    shown = rounded(df).select(*first, *(c for c in df.columns if c not in first)).rename(words)
    first = tuple(words.get(c, c) for c in first)
    floats = [c for c, kind in shown.schema.items() if kind == pl.Float64]
    long_text = [c for c, kind in shown.schema.items() if kind == pl.String and (shown[c].str.len_chars().max() or 0) > 30]
    return mo.ui.table(
        shown,
        selection=None,
        page_size=page_size,
        show_data_types=False,
        freeze_columns_left=list(first) or None,
        wrapped_columns=long_text,
        column_widths=dict.fromkeys(long_text, 260),
        format_mapping=dict.fromkeys(floats, "{:.4g}"),  # missing values stay None
    )


def key_figure(label: str, value) -> None:
    """A headline number for the suite's index page (script mode only): `KEY| label | value`."""
    if not mo.running_in_notebook():
        v = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"KEY| {label} | {v}")


def print_table(title: str, df) -> None:
    """A table of key figures on stdout in script mode, compact (markdown, 4 significant figures, every column whole);
    silent inside a notebook or report."""
    import polars as pl

    if mo.running_in_notebook():
        return
    shown = rounded(df)
    with pl.Config(
        tbl_rows=50,
        tbl_cols=-1,  # every column, never a truncated sliver: the table is as wide as it needs to be
        tbl_width_chars=10_000,
        fmt_str_lengths=60,
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_formatting="ASCII_MARKDOWN",
    ):
        print(f"\n== {title} ==\n{shown}")


def _train(structure, config, progress, use_cache: bool):
    """(result, from_cache): the cached run if there is one and `use_cache`, else a fresh one."""
    from ..training.cache import train_cached
    from ..training.trainer import train

    if use_cache:
        return train_cached(structure, config, progress=progress)
    return train(structure, config, progress=progress), False


def train_with_progress(structure, config, label: str, use_cache: bool = True):
    """(result, from_cache): train or load the cached run, with a marimo progress bar in a notebook
    and a plain progress line in a script."""
    from ..training.trainer import ProgressLine

    if mo.running_in_notebook():
        with mo.status.progress_bar(total=config.steps, title=label, remove_on_exit=True, show_eta=True) as bar:
            return _train(structure, config, _BarAdvance(bar, config.steps), use_cache)
    return _train(structure, config, ProgressLine(label), use_cache)


class _BarAdvance:
    """A training callback that moves `bar` at most every 1 % of `total` steps and every `every_s` seconds: each update
    is a message the browser renders, and on a shared machine that rendering competes with the training."""

    def __init__(self, bar, total: int, subtitle: str | None = None, every_s: float = 0.5):
        self.bar, self.subtitle, self.every_s = bar, subtitle, every_s
        self.chunk, self.shown, self.done, self.last = max(1, total // 100), 0, 0, time.monotonic()

    def __call__(self, step, steps, loss) -> None:
        self.done += 1
        if self.done - self.shown >= self.chunk and time.monotonic() - self.last >= self.every_s:
            self.bar.update(increment=self.done - self.shown, subtitle=self.subtitle)
            self.shown, self.last = self.done, time.monotonic()


def train_runs_with_progress(structure, configs: dict, use_cache: bool = True) -> dict:
    """{name: result} for several runs under one progress bar over all their steps, advanced in chunks so its
    first time estimate comes after real training steps (a progress line per run in a script)."""
    if not mo.running_in_notebook():
        return {name: train_with_progress(structure, c, f"training: {name}", use_cache)[0] for name, c in configs.items()}
    total, out = sum(c.steps for c in configs.values()), {}
    with mo.status.progress_bar(total=total, title="training", remove_on_exit=True, show_eta=True) as bar:
        for i, (name, config) in enumerate(configs.items()):
            label = f"run {i + 1} of {len(configs)}: {name}"
            advance = _BarAdvance(bar, total, label)
            out[name] = _train(structure, config, advance, use_cache)[0]
            bar.update(increment=config.steps - advance.shown, subtitle=label)  # the rest, or all of a cached run
    return out


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
