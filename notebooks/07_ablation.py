import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="07 · The ablation: which fix makes residues move?",
)


@app.cell
def _():
    import argparse
    import sys
    from pathlib import Path

    import marimo as mo
    import polars as pl

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from pomodoro_core import ablation, charts
    from pomodoro_core.ui import fail, key_figure, parse_args, print_table, say, table_view

    ROOT = Path(__file__).resolve().parent.parent
    return (
        ablation,
        argparse,
        charts,
        fail,
        key_figure,
        mo,
        parse_args,
        Path,
        pl,
        print_table,
        ROOT,
        say,
        table_view,
    )


@app.cell
def _(mo):
    mo.md(r"""
    # 07 · The ablation: the design as reviewed, each fix alone, v0.9.1's σ, all fixes, an isotropic baseline

    Every configuration trains the same small multiscale denoiser on the same crop (a single-structure overfit run at the
    default budget), for several seeds, and samples 4 structures from each run. The numbers come from the results file
    written by `python -m pomodoro_core.ablation` (command below); this page only reads and summarises it, so it renders
    at once. *Late residue travel* is how far residues move relative to their chain, summed over the sampling steps taken at
    σ̂ ≤ σ_data: the phase where "residues barely move" would show.
    """)
    return


@app.cell
def _(ROOT, argparse, parse_args):
    _p = argparse.ArgumentParser(description="Ablation summary")
    _p.add_argument("--results", default=str(ROOT / "results" / "ablation.csv"), help="CSV written by pomodoro_core.ablation")
    args = parse_args(_p)
    return (args,)


@app.cell
def _(Path, args, fail, pl):
    _path = Path(args.results)
    if not _path.exists():
        fail(f"no ablation results at {_path}; produce them with: python -m pomodoro_core.ablation --seeds 0 1 2 --out {_path}")
    try:
        runs = pl.read_csv(_path)
    except Exception as exc:  # a broken file gets a message, not a traceback
        fail(f"cannot read ablation results {_path}: {exc}")
    _missing = {"config", "structure", "seed", "rmsd", "status"} - set(runs.columns)
    if _missing:
        fail(f"{_path} is not an ablation results file (missing columns: {', '.join(sorted(_missing))})")
    return (runs,)


@app.cell
def _(ablation, mo, print_table, runs, table_view):
    summary = ablation.summarise(runs)
    _failed = runs.filter(runs["status"] != "completed")
    _budget = runs["train_steps_budget"].unique().to_list() if "train_steps_budget" in runs.columns else ["?"]
    _device = runs["device"].unique().to_list() if "device" in runs.columns else ["?"]
    _seeds = sorted(runs["seed"].unique().to_list())
    command = (
        "OMP_NUM_THREADS=1 python -m pomodoro_core.ablation --seeds "
        + " ".join(str(s) for s in _seeds)
        + (f" --steps {_budget[0]}" if len(_budget) == 1 else "")
        + " --out results/ablation.csv"
    )
    print_table("ablation: mean and sd over seeds", summary)
    mo.vstack(
        [
            mo.md(
                f"""## Mean ± sd over seeds
    {runs.height} runs: {summary.height} configuration × crop cells, seeds {_seeds}, training budget {_budget} steps,
    device {_device}. {_failed.height} run(s) stopped early. Reproduce (resumes a partial file) with

    ```
    {command}
    ```"""
            ),
            table_view(summary, page_size=30),
        ]
    )
    return command, summary


@app.cell
def _(charts, mo, summary):
    mo.vstack(
        [
            mo.md("## Final RMSD to the training structure"),
            mo.ui.altair_chart(charts.ablation_chart(summary, "rmsd", "final RMSD (Å), mean ± sd over seeds")),
            mo.md("## Late residue travel relative to the chain"),
            mo.ui.altair_chart(charts.ablation_chart(summary, "residue_travel_late", "late residue travel (Å)")),
            mo.md("## Fraction of bonds more than 0.2 Å off"),
            mo.ui.altair_chart(charts.ablation_chart(summary, "bond_violations", "bond violations (fraction)")),
        ]
    )
    return


@app.cell
def _(ablation, command, key_figure, mo, pl, print_table, say, summary, table_view):
    effects = ablation.fix_effects(summary)
    print_table("change in mean RMSD against the reviewed design", effects)
    _lines = []
    for (_s,), _e in effects.group_by(["structure"], maintain_order=True):
        _ref = float(_e["ref"][0])
        _help = _e.filter(pl.col("clear") & (pl.col("change") < 0)).sort("change")
        _hurt = _e.filter(pl.col("clear") & (pl.col("change") > 0)).sort("change", descending=True)
        _fmt = lambda f: ", ".join(f"{r['config']} ({r['change']:+.2f} Å)" for r in f.iter_rows(named=True)) or "none"  # noqa: E731
        _lines.append(
            f"- **{_s}** (reviewed: {_ref:.2f} Å). Clearly better (change beyond 2 standard errors): {_fmt(_help)}. "
            f"Clearly worse: {_fmt(_hurt)}."
        )
        key_figure(f"ablation {_s} | as reviewed | RMSD (Å)", _ref)
        for _r in _e.filter(pl.col("config").str.starts_with("all") | pl.col("config").str.starts_with("isotropic")).iter_rows(
            named=True
        ):
            key_figure(f"ablation {_s} | {_r['config']} | RMSD (Å)", _r["rmsd mean"])
    _text = "## What the numbers implicate\n" + "\n".join(_lines) + f"\n\nReproduce: `{command}`"
    say("\n" + _text)
    mo.vstack([table_view(effects, page_size=30), mo.callout(mo.md(_text), kind="info")])
    return


if __name__ == "__main__":
    app.run()
