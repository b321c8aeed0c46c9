import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="06 · Loss balance between levels (pitfalls 5, 6, 7)",
)


@app.cell
def _():
    import marimo as mo
    import polars as pl

    from pomodoro_core.experiments import ablation, loss_balance as lb, training_log
    from pomodoro_core.analysis.gradient import bond_length
    from pomodoro_core.core import presets
    from pomodoro_core.core.structure import data_dir
    from pomodoro_core.report import charts, ui
    from pomodoro_core.audit import claims
    from pomodoro_core.training import trainer
    from pomodoro_core.report.args import Flag, notebook_args

    return (
        Flag,
        ablation,
        bond_length,
        charts,
        claims,
        data_dir,
        lb,
        mo,
        notebook_args,
        pl,
        presets,
        trainer,
        training_log,
        ui,
    )


@app.cell
def _(mo):
    mo.md(r"""
    # 06 · Which level does the loss listen to? (pitfalls 5, 6, 7)

    The reviewed loss sums an atom, a residue and a chain term (plus a bond term), each a per-unit mean, times λ(σ).
    Pitfall 5 says the atom term dominates the residue term by the ratio of atoms to residues and the chain term by the ratio
    of atoms to chains, so residues and chains get almost no gradient. That is a claim about *magnitudes*, and magnitudes
    can be measured: this notebook trains the reviewed design and one alternative on a real crop, records every term per
    sample and σ, and probes each term's loss and gradient norm at fixed σ across the training distribution, before and
    after training.
    """)
    return


@app.cell
def _(Flag, ablation, data_dir, notebook_args):
    _names = list(ablation.one_factor_configs(1, 1))
    args = notebook_args(
        "Loss balance between levels (pitfalls 5, 6, 7)",
        *("structure", "steps", "seed", "no-cache", "preset"),
        training_log=Flag(
            str,
            str(data_dir() / "examples" / "training_log.csv"),
            "your model's training log (CSV or Parquet: step, sigma, loss_atom, loss_residue, loss_chain[, loss_bond])",
        ),
        structure=Flag(str, ablation.NOTEBOOK_CROPS[1], "a crop of the ablation's training set", ablation.NOTEBOOK_CROPS),
        compare=Flag(str, _names[6], "configuration to set next to the reviewed one", tuple(_names)),
        probe_every=Flag(int, 25, "per-level gradient norms every k training steps", low=1, high=10_000),
        probe_batch=Flag(int, 8, "noise draws per σ in the probe", low=1, high=256),
    )
    return (args,)


@app.cell
def _(ablation, args, mo, trainer):
    budget = trainer.default_budget()
    form = (
        mo.md("{compare} {structure} {steps} {seed}")
        .batch(
            compare=mo.ui.dropdown(list(ablation.one_factor_configs(1, 1)), value=args.compare, label="compare with"),
            structure=mo.ui.dropdown(ablation.NOTEBOOK_CROPS, value=args.structure, label="crop"),
            steps=mo.ui.number(value=budget["steps"] if args.steps is None else args.steps, step=100, label="training steps"),
            seed=mo.ui.number(value=args.seed, step=1, label="seed"),
        )
        .form(submit_button_label="Train both", bordered=True)
    )
    form
    return budget, form


@app.cell
def _(ablation, args, budget, form, ui):
    ui.wait_for_submit(form, "Train both")
    _v = form.value or {
        "compare": args.compare,
        "structure": args.structure,
        "steps": budget["steps"] if args.steps is None else args.steps,
        "seed": args.seed,
    }
    _v = ui.checked(_v, "steps", "seed")
    _all = ablation.one_factor_configs(int(_v["steps"]), budget["batch_size"])
    configs = {
        name: ui.guarded(_all[name][0].with_, seed=int(_v["seed"]), probe_every=args.probe_every)
        for name in dict.fromkeys([ablation.REVIEWED_NAME, _v["compare"]])
    }
    structure = ui.guarded(ablation.crop, _v["structure"])
    ui.say(structure.describe())
    return configs, structure


@app.cell
def _(args, configs, mo, structure, ui):
    results = ui.train_runs_with_progress(structure, configs, not args.no_cache)
    _notes = [f"- **{n}**: {r.status}, {r.metrics.height} steps, {r.seconds:.0f} s on {r.device}" for n, r in results.items()]
    ui.say("\n".join(n.replace("**", "") for n in _notes))
    _bad = [n for n, r in results.items() if not r.completed]
    mo.vstack(
        [mo.md(f"Trained on **{structure.summary()}**:\n" + "\n".join(_notes))]
        + [mo.callout(mo.md(f"**{n}** stopped early: {results[n].status}"), kind="warn") for n in _bad]
    )
    return (results,)


@app.cell
def _(claims, lb, mo, pl, probes, results, structure, ui):
    _claimed = {c.id: c.claimed for c in claims.CLAIMS}
    _rows = []
    for (_name, _model), _p in probes.group_by(["config", "model"], maintain_order=True):
        _r = lb.level_ratios(_p)
        _rows.append({"config": _name, "model": _model, **_r})
    ratios = pl.DataFrame(_rows)
    ui.print_table("atom term over residue / chain term (geometric mean over the probed σ)", ratios)
    _rev = ratios.filter(pl.col("config") == ratios["config"][0])
    _tr = _rev.filter(pl.col("model") == "trained").row(0, named=True)
    _un = _rev.filter(pl.col("model") == "untrained").row(0, named=True)
    _first = next(iter(results))
    _counts = f"{structure.n_atoms} atoms, {structure.n_residues} residues, {structure.n_chains} chain(s)"

    def _factor(value, claimed):
        return f"×{claimed / value:.3g} smaller than" if value < claimed else f"×{value / claimed:.3g} larger than"

    _title = f"Verdict on pitfall 5 ({_first}, {structure.name}: {_counts})"
    _text = f"""- Measured after training, the atom term is ×{_tr["loss atom/residue"]:.3g} the residue term and
      ×{_tr["loss atom/chain"]:.3g} the chain term in loss, against the seed's ×{_claimed["5b"]:g} and ×{_claimed["5c"]:g}.
      In gradient norm: ×{_tr["grad_norm atom/residue"]:.3g} and ×{_tr["grad_norm atom/chain"]:.3g}
      (untrained: ×{_un["loss atom/residue"]:.3g} / ×{_un["loss atom/chain"]:.3g} in loss).
    - Each term is a per-unit *mean*, so the count of units does not scale it: the ratios above are
      {_factor(_tr["loss atom/residue"], _claimed["5b"])} and {_factor(_tr["loss atom/chain"], _claimed["5c"])} the claimed ones.
      What sets the sizes is how much of each level is left to explain. The ground truth is superposed onto the *atom*
      prediction, which puts the two centroids together: with one chain the chain term only asks the chain head to agree
      with the atom head's centroid; with several, only the chains' placement relative to each other is left."""
    ui.key_figure("pitfall 5: loss atom/residue (trained, reviewed)", _tr["loss atom/residue"])
    ui.key_figure("pitfall 5: loss atom/chain (trained, reviewed)", _tr["loss atom/chain"])
    ui.key_figure("pitfall 5: grad-norm atom/residue (trained, reviewed)", _tr["grad_norm atom/residue"])
    mo.vstack([ui.verdict(_title, _text), mo.md("## The ratios, per configuration"), ui.table_view(ratios)])
    return


@app.cell
def _(args, configs, lb, pl, results, structure):
    _grid = lb.training_sigma_grid(next(iter(configs.values())))
    probes = pl.concat(
        [
            pl.concat(
                [
                    lb.probe_untrained(structure, configs[name], _grid, args.probe_batch, args.seed).with_columns(
                        model=pl.lit("untrained")
                    ),
                    lb.probe_levels(r.model, r.ctx, r.config, structure, _grid, args.probe_batch, args.seed).with_columns(
                        model=pl.lit("trained")
                    ),
                ]
            ).with_columns(config=pl.lit(name))
            for name, r in results.items()
        ]
    )
    return (probes,)


@app.cell
def _(charts, mo, pl, probes):
    _rows = []
    for _name in probes["config"].unique(maintain_order=True):
        _p = probes.filter(pl.col("config") == _name)
        _rows += [
            mo.md(f"### {_name}"),
            mo.hstack(
                [
                    mo.ui.altair_chart(charts.level_probe_chart(_p, "loss", "loss term (λ-weighted)")),
                    mo.ui.altair_chart(charts.level_probe_chart(_p, "grad_share", "share of |∇|²", log_y=False)),
                ]
            ),
        ]
    _view = mo.vstack(
        [
            mo.md(
                "## Each term's size and share of the gradient against σ\n"
                "σ at the 1–99 % quantiles of the training distribution; dashed: the freshly initialised model, solid: trained. "
                "The gradient share of a term is |∇θ term|² over the sum of the four."
            ),
            *_rows,
        ]
    )
    _view
    return


@app.cell
def _(charts, lb, mo, results, trainer):
    _rows = []
    for _name, _r in results.items():
        _rows += [
            mo.md(f"### {_name}"),
            mo.hstack(
                [
                    mo.ui.altair_chart(
                        charts.level_probe_chart(lb.binned_sample_losses(_r.samples), "loss", "training loss per sample")
                    ),
                    mo.ui.altair_chart(
                        charts.loss_curves_chart(trainer.metrics_long(_r.metrics, "grad_norm"), "grad_norm", window=3)
                    ),
                ]
            ),
        ]
    mo.vstack(
        [
            mo.md(
                "## During training: per-sample loss terms against σ (last half of the run, log-σ bins) and each term's "
                "gradient norm over the run"
            ),
            *_rows,
        ]
    )
    return


@app.cell
def _(mo):
    mo.md(r"""
    ## Your model's training log

    The same questions asked of *your* run: each loss term against σ, the σ your run actually drew against the
    distribution its configuration says (a preset, or your own with `--preset-file`), and where in σ the loss sits.
    The shipped example is this suite's own run of the reviewed design (v0.9.0) on a crop of 1hvr.
    """)
    return


@app.cell
def _(args, mo, presets):
    log_form = (
        mo.md("{path} {preset}")
        .batch(
            path=mo.ui.text(value=args.training_log, label="training log (CSV or Parquet)", full_width=True),
            preset=mo.ui.dropdown(presets.preset_names(), value=args.preset, label="configured as"),
        )
        .form(submit_button_label="Read the log", bordered=True)
    )
    log_form
    return (log_form,)


@app.cell
def _(args, bond_length, log_form, presets, structure, training_log, ui):
    _v = log_form.value or {"path": args.training_log, "preset": args.preset}
    log_preset = presets.get_preset(_v["preset"])
    log = ui.guarded(training_log.read_training_log, _v["path"])
    _dist = log_preset.training_sigma
    log_fit = training_log.fitted_sigma(log, _dist)
    _bands = training_log.log_bands(bond_length(structure), log_preset.sigma_data)
    log_bands = training_log.band_table(log, _dist, log_preset.sigma_data, _bands)
    log_hist = training_log.sigma_histogram(log, _dist)
    ui.say(
        f"training log: {_v['path']} | {log.height} samples over {log['step'].n_unique()} steps | configured as {log_preset.name}"
    )
    return log, log_bands, log_fit, log_hist, log_preset


@app.cell
def _(
    charts,
    log,
    log_bands,
    log_fit,
    log_hist,
    log_preset,
    mo,
    pl,
    training_log,
    ui,
):
    _text = training_log.verdict(log_fit, log_bands)
    ui.say("\n" + _text.replace("**", ""))
    ui.key_figure(f"training log: KS p-value of σ against {log_preset.name}", log_fit["KS p-value"])
    _fit = pl.DataFrame([log_fit]).select(pl.all().round_sig_figs(4))
    ui.print_table("training log: σ fitted against the configured law", _fit)
    ui.print_table("training log: share of samples and of each term's loss per σ band", log_bands)
    mo.vstack(
        [
            mo.callout(mo.md(_text), kind="info"),
            mo.hstack(
                [
                    mo.ui.altair_chart(charts.sigma_histogram_chart(log_hist)),
                    mo.ui.altair_chart(
                        charts.level_probe_chart(training_log.losses_by_sigma(log), "loss", "training loss per sample")
                    ),
                ]
            ),
            ui.table_view(_fit),
            ui.table_view(log_bands),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
