import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="00 · Claims audit of the review")


@app.cell
def _():
    import marimo as mo
    import polars as pl

    from pomodoro_core.report import charts, ui
    from pomodoro_core.audit import claims
    from pomodoro_core.report.args import Flag, notebook_args

    return Flag, charts, claims, mo, notebook_args, pl, ui


@app.cell
def _(mo):
    mo.md(r"""
    # 00 · What in the review is right? An audit of every checkable claim

    The two seed documents (the review of eight pitfalls, `000`, and the σ-distribution fix, `003`) make numeric and
    checkable claims. Each row below quotes one, recomputes it with `pomodoro_core` under the assumptions you set, and
    gives a verdict: **holds** (within 5 %), **roughly** (within 35 %), **does not hold** (with the factor). The last
    column names the notebook that shows the quantity in full.
    """)
    return


@app.cell
def _(Flag, notebook_args):
    args = notebook_args(
        "Claims audit of the seed documents",
        "structure",
        "crop",
        sampling_sigma=Flag(str, "schedule", "which σ pitfall 1's sampling offsets refer to", ("schedule", "raw")),
    )
    return (args,)


@app.cell
def _(args, mo, ui):
    structure_ui = ui.structure_dropdown(args.structure, label="structure")
    sampling_ui = mo.ui.radio(
        {"the schedule's first level σ_max·σ_data (what the code does)": "schedule", "σ_max = 80 as written in pitfall 1": "raw"},
        value="the schedule's first level σ_max·σ_data (what the code does)"
        if args.sampling_sigma == "schedule"
        else "σ_max = 80 as written in pitfall 1",
        label="σ at the start of sampling",
    )
    crop_ui = ui.slider("crop", args.crop, step=1, label="residues in the crop (pitfall 5)")
    mo.vstack([mo.md("**Assumptions**"), mo.hstack([structure_ui, crop_ui], justify="start"), sampling_ui])
    return crop_ui, sampling_ui, structure_ui


@app.cell
def _(claims, crop_ui, sampling_ui, structure_ui, ui):
    structure = ui.load_structure(structure_ui.value)
    assumptions = claims.Assumptions(structure=structure, sampling_sigma=sampling_ui.value, crop_residues=crop_ui.value)
    table = claims.audit(assumptions)
    counts = claims.verdict_counts(table)
    return counts, structure, table


@app.cell
def _(charts, counts, mo, structure, table, ui):
    ui.print_table("verdict counts", table.group_by("seed").len().sort("seed"))
    ui.say(f"verdicts: {counts}")
    ui.key_figure("claims checked", len(table))
    for _k, _v in counts.items():
        ui.key_figure(f"verdict: {_k}", _v)
    mo.vstack(
        [
            mo.md(
                f"""## In one minute
        **{len(table)} claims** checked on {structure.summary()}: **{counts["holds"]} hold**, **{counts["roughly"]} roughly**,
        **{counts["does not hold"]} do not hold**, {counts["new finding"]} are new findings."""
            ),
            mo.ui.altair_chart(charts.verdict_chart(table)),
        ]
    )
    return


@app.cell
def _(mo, pl, table):
    _bad = table.filter(pl.col("kind") == "does not hold")
    _lines = "\n".join(
        f"- **{r['id']}** ({r['where']}): “{r['claim']}” → computed **{r['computed']:.4g}**: {r['verdict']}. See notebook {r['notebook']}."
        for r in _bad.iter_rows(named=True)
    )
    mo.md("## What does not hold\n" + _lines)
    return


@app.cell
def _(mo, table, ui):
    ui.print_table("all claims", table.select("id", "seed", "claimed", "computed", "verdict"))
    mo.vstack(
        [mo.md("## Every claim"), ui.table_view(table, first=("id", "kind", "claimed", "computed", "verdict"), page_size=50)]
    )
    return


@app.cell
def _(mo):
    mo.md(r"""
    ## Notebooks
    | notebook | shows |
    |---|---|
    | 01 | noise decomposition by level (pitfall 1) |
    | 02 | effective gradient vs σ, bands, log-SNR, preset table (seed 003) |
    | 03 | schedule coverage, churn, step_scale (pitfall 8) |
    | 04 | per-level preconditioning and c_noise (pitfalls 2 and 6) |

    Claims about training dynamics (pitfall 5's loss magnitudes, pitfalls 3, 4, 7) need training runs; the audit lists
    only what the numbers above can decide.
    """)
    return


if __name__ == "__main__":
    app.run()
