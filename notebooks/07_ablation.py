import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="07 · The ablation: which pitfall makes residues barely move?",
)


@app.cell
def _():
    import marimo as mo
    import polars as pl

    from pomodoro_core.experiments import ablation, ablation_report as report
    from pomodoro_core.core import errors
    from pomodoro_core.report import ui
    from pomodoro_core.report.args import Flag, notebook_args

    return Flag, ablation, errors, mo, notebook_args, pl, report, ui


@app.cell
def _(mo):
    mo.md(r"""
    # 07 · The ablation as a designed experiment

    The question: which of the review's pitfalls makes residues barely move, and which fix helps? One small multiscale
    denoiser is trained per arm and seed on six crops together (four single-chain, two multi-chain, padded batches), then
    measured the same way in every arm: the same σ grid and noise draws for the **denoising gain**
    E|D − x0|² / E|x_noisy − x0|² (0 = perfect, 1 = leaves the noise in place; residues are read relative to their chain),
    and the same sampler seed for the sampled structures. Late residue travel is divided by what a **perfect denoiser**
    travels under the same sampler and noise. This page reads the runs written by `python -m pomodoro_core.experiments.ablation`.
    """)
    return


@app.cell
def _(Flag, notebook_args):
    args = notebook_args(
        "Ablation: designed experiment, effects and verdicts",
        results=Flag(str, "results/ablation", "folder written by python -m pomodoro_core.experiments.ablation --out"),
        response=Flag(str, "log_gain_residue", "response for the training effects chart"),
    )
    return (args,)


@app.cell
def _(ablation, args, errors, report, ui):
    try:
        results = ablation.load(args.results)
    except errors.ParameterError as _exc:
        ui.fail(str(_exc))
    if args.response not in report.RESPONSES:
        ui.fail(f"--response must be one of {', '.join(report.RESPONSES)} (got {args.response!r})")
    resp = report.responses(results)
    return resp, results


@app.cell
def _(errors, report, resp, results, ui):
    try:
        main = report.training_effects(resp)
        loo = report.leave_one_out(resp)
        ident = report.identity_effects(resp)
        samp = report.sampler_effects(results, "rmsd")
    except errors.ParameterError as _exc:
        ui.fail(f"the runs do not make a complete design yet: {_exc}")
    verdict = report.verdicts(main, loo, ident, samp)
    return ident, loo, main, samp, verdict


@app.cell
def _(ablation, main, results, ui, verdict):
    _meta = results.runs
    _text = "\n".join(f"- {line}" for line in verdict)
    _code, _here = _meta["code"][0], ablation.current_code()
    _code_line = f"code {_code}, " + ("this checkout's" if _code == _here else f"not this checkout's {_here}: rerun to reproduce")
    for _r in main.head(8).iter_rows(named=True):
        ui.key_figure(f"training effect on ln residue gain, {_r['term']}", _r["effect"])
    ui.verdict(
        "Verdict (paired 95 % intervals, primary response ln residue gain)",
        f"""{_text}

    {_meta.height} runs (budget **{_meta["budget"][0]}**, seeds {sorted(_meta["seed"].unique().to_list())},
    {_meta["threads"][0]} thread per process, {_meta["device"][0]}, torch {_meta["torch"][0]}, {_code_line}).
    An effect is *clear* when its 95 % interval excludes 0; gain ratios below 1 mean the fix denoises better.""",
    )
    return


@app.cell
def _(ablation, mo, pl, ui):
    _factors = pl.DataFrame(
        [
            {"factor": f.key, "pitfall": f.pitfall, "− (as reviewed)": f.low, "+ (the fix)": f.high}
            for f in ablation.TRAINING_FACTORS
        ]
    )
    _sampler = pl.DataFrame(
        [{"factor": f.key, "pitfall": f.pitfall or "—", "−": f.low, "+": f.high} for f in ablation.SAMPLER_FACTORS]
    )
    mo.vstack(
        [
            mo.md(
                """## The design
    **Base:** pomodoro v0.9.0 as reviewed, plus residue identity on the atoms (see the next section). **Training factors**
    in a 2^(8−4) fractional factorial of resolution IV (16 arms; generators E = ABC, F = ABD, G = ACD, H = BCD): main
    effects are free of two-factor interactions, and each two-factor interaction is estimated together with three
    others (its alias chain). Fix 3 means one noise kind in training *and* sampling; with isotropic noise the weights of
    fix 1 have nothing to act on, so `weights × isotropic` is a real interaction (in its chain). Fix 6 shifts each
    track's c_noise input by ln(σ_l/σ)/4: for one structure a reparametrisation of that track's own noise embedding (shown
    exactly in `tests/test_evaluation.py`), so it can only matter here because six structures with different σ_l/σ are
    trained together, and because a single chain has no noise relative to the complex (its chain track then sees a
    constant c_noise)."""
            ),
            ui.table_view(_factors),
            mo.md(
                "**Sampler factors** in a 2^(5−1) design of resolution V (E = −ABCD; setting 0 is the reviewed sampler), "
                "crossed on every trained model with common random numbers:"
            ),
            ui.table_view(_sampler),
        ]
    )
    return


@app.cell
def _(ident, mo, report, ui):
    ui.print_table("identity: paired differences against the reviewed model without identity", ident)
    mo.vstack(
        [
            mo.md(
                f"""## Identity: the factor the review missed
    The reviewed inputs (atom names on the atoms, zeros on the residue and chain tracks, no sequence position) make
    every residue look alike: the network is equivariant to permuting residues of the same composition, so it cannot
    learn where *this* residue goes and leaves residues where the noise put them. Below: the reviewed model plus identity
    on the atoms, or on the residue track only (fix 7 proper), minus the reviewed model without it, paired by seed and
    structure. If pomodoro should produce a *given sequence's* structure, this is a defect; if it is an unconditional
    generator, RMSD in a fixed residue order is the wrong yardstick, and the order-free RMSD and the own-slot share are
    the ones to read. Responses: {", ".join(f"`{k}` {v}" for k, v in report.RESPONSES.items())}."""
            ),
            ui.table_view(ident),
        ]
    )
    return


@app.cell
def _(ablation, mo, report, resp, ui):
    _arch = [report.architecture_effects(resp, _r) for _r in (report.PRIMARY, "rmsd", "order_free_rmsd")]
    _lines = [_line for _t in _arch for _line in report.architecture_verdicts(_t)]
    _names = ", ".join(f"“{a.name}”" for a in ablation.architecture_arms().values())
    _intro = mo.md(
        f"""## Architecture: does the reviewed trunk behave like our transformer?
    The reviewed trunk is a geometric transformer (scalar and vector states, attention over nearest neighbours), not a
    transformer on raw coordinates. Our `geometric` backbone is built that way (`training/geometric.py`): its output
    rotates with the input and ignores translations, exactly, so random rigid augmentation (pitfall 4) cannot change
    what it learns; its expected effect there is 0 and the interval below says how well this design can see a 0. Both
    backbones see the same inputs, so without identity both are equivariant to permuting residues of the same
    composition. A full 2^3 factorial on the reviewed setting (backbone × augmentation × identity on the atoms), paired by
    seed and structure; its arms: {_names}."""
    )
    if _arch[0].height:
        ui.say("\n## Architecture study\n" + "\n".join(f"- {_line}" for _line in _lines))
        ui.print_table("architecture study: effects on ln residue gain", _arch[0])
        _out = mo.vstack([_intro, mo.md("\n".join(f"- {_line}" for _line in _lines)), ui.table_view(_arch[0], page_size=20)])
    else:
        ui.say("architecture study: its arms are not all in this folder yet")
        _out = mo.vstack(
            [_intro, mo.callout(mo.md("The architecture study's arms are not all in this folder yet."), kind="warn")]
        )
    _out
    return


@app.cell
def _(args, main, report, resp, ui):
    _chosen = main if args.response == report.PRIMARY else report.training_effects(resp, args.response)
    _what = report.RESPONSES[args.response]
    ui.effects_section(
        f"Training effects on {_what} (+ minus −, paired 95 % intervals)",
        _chosen,
        f"effect on {_what}",
        printed=f"training effects on {args.response}",
    )
    return


@app.cell
def _(loo, ui):
    ui.effects_section(
        "Leave one out of “all fixes” (all fixes but k, minus all fixes; ln residue gain)",
        loo,
        "change in ln residue gain when the fix is left out",
        printed="leave one out of all fixes",
    )
    return


@app.cell
def _(mo, samp, ui):
    mo.vstack(
        [
            ui.effects_section(
                "Sampler effects on final RMSD (Å), within each trained model",
                samp,
                "effect on final RMSD (Å)",
                "models",
                32,
                printed="sampler effects on final RMSD (Å)",
            ),
            mo.md("For models trained with isotropic noise, `init` changes nothing (their training kind is isotropic)."),
        ]
    )
    return


@app.cell
def _(mo, report, resp, ui):
    _arms = report.arm_table(resp)
    ui.print_table("every arm: mean over seeds and structures (reviewed sampler)", _arms)
    mo.vstack([mo.md("## Every arm (mean over seeds and structures; reviewed sampler)"), ui.table_view(_arms, page_size=30)])
    return


@app.cell
def _(mo, results, ui):
    _cmd = results.runs.select("arm", "seed", "status", "final_loss", "train_seconds", "command").sort("arm", "seed")
    mo.vstack(
        [
            mo.md(
                "## Reproduce\nEach row's command reproduces its file bit for bit on CPU (one thread per process, "
                "any core count); the whole design: `python -m pomodoro_core.experiments.ablation --budget cpu --seeds 0 1 --out results/ablation`."
            ),
            ui.table_view(_cmd, page_size=10),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
