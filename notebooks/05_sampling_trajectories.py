import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="05 · Training and sampling trajectories",
)


@app.cell
def _():
    import marimo as mo

    from pomodoro_core.experiments import ablation, evaluation, sanity
    from pomodoro_core.report import charts, ui, viewer
    from pomodoro_core.training import denoiser, inputs, metrics, sampler, trainer
    from pomodoro_core.core import noise, presets, sampling
    from pomodoro_core.report.args import Flag, notebook_args

    return (
        Flag,
        ablation,
        charts,
        denoiser,
        evaluation,
        inputs,
        metrics,
        mo,
        noise,
        notebook_args,
        presets,
        sampler,
        sampling,
        sanity,
        trainer,
        ui,
        viewer,
    )


@app.cell
def _(mo):
    mo.md(r"""
    # 05 · Do residues move? A short training run and its sampling trajectory

    The seeds' symptom is about a *trained* model: "residues barely move during sampling". This notebook trains the small
    multiscale denoiser of `pomodoro_core` on one real crop (a single-structure overfit run, about a minute on a 2-core CPU),
    samples from it with the reviewed EDM sampler, and follows every step: how far each residue moves relative to its chain,
    how far atoms move inside their residue, and how close the sample gets to the structure it was trained on.

    Start from the design as reviewed (pomodoro v0.9.0) and switch the review's fixes on one at a time. Fix 1 is the noise
    weights and fix 8 is σ_max: set them in the numbers. Training runs are cached by configuration, so changing a control
    and coming back never retrains. Nothing trains until you press the button.
    """)
    return


@app.cell
def _(Flag, ablation, denoiser, inputs, notebook_args, presets):
    _v090 = presets.get_preset("pomodoro-v0.9.0")
    args = notebook_args(
        "Training run and sampling trajectories",
        *("w-c", "w-r", "w-a", "p-mean", "p-std", "sigma-max", "sampler-steps", "solver", "structure"),
        *("steps", "batch-size", "samples", "seed", "no-cache"),
        w_c=_v090.weights.w_c,
        w_r=_v090.weights.w_r,
        w_a=_v090.weights.w_a,
        p_mean=_v090.P_mean,
        p_std=_v090.P_std,
        sigma_max=_v090.sigma_max,
        sampler_steps=_v090.steps,
        structure=Flag(str, ablation.NOTEBOOK_CROPS[0], "a crop of the ablation's training set", ablation.NOTEBOOK_CROPS),
        samples=dict(default=4, high=64),
        fix=Flag(int, [], "switch-type fixes to turn on", (2, 3, 4, 5, 6), nargs="*"),
        identity=Flag(str, "none", "residue identity: none as reviewed; residue = fix 7", inputs.IDENTITIES),
        arch=Flag(
            str,
            "transformer",
            "backbone: transformer, or geometric (equivariant, like the reviewed trunk)",
            denoiser.ARCHITECTURES,
        ),
        no_gate=Flag(switch=True, help="skip the sanity gate (the design's base on the same crop)"),
    )
    return (args,)


@app.cell
def _(ablation, args, denoiser, inputs, mo, sampling, trainer):
    budget = trainer.default_budget()
    _fix = {int(f.pitfall): f.high for f in ablation.TRAINING_FACTORS if f.pitfall in "23456"}
    _switch = lambda k: mo.ui.switch(value=k in args.fix, label=f"fix {k}: {_fix[k]}")  # noqa: E731
    form = (
        mo.md(
            """
            **Noise and schedule** {w_c} {w_r} {w_a} {p_mean} {p_std} {sigma_max}

            **Sampler** {sampler_steps} {solver} **Run** {structure} {steps} {seed}

            **Fixes** {f2} {f3} {f4} {f5} {f6} **Identity** {identity} **Backbone** {arch}
            """
        )
        .batch(
            w_c=mo.ui.number(value=args.w_c, step=0.1, label="w_c"),
            w_r=mo.ui.number(value=args.w_r, step=0.1, label="w_r"),
            w_a=mo.ui.number(value=args.w_a, step=0.1, label="w_a"),
            p_mean=mo.ui.number(value=args.p_mean, step=0.05, label="P_mean"),
            p_std=mo.ui.number(value=args.p_std, step=0.05, label="P_std"),
            sigma_max=mo.ui.number(value=args.sigma_max, step=1.0, label="σ_max (× σ_data)"),
            sampler_steps=mo.ui.number(value=args.sampler_steps, step=1, label="sampling steps"),
            solver=mo.ui.dropdown(sampling.SOLVERS, value=args.solver, label="solver"),
            structure=mo.ui.dropdown(ablation.NOTEBOOK_CROPS, value=args.structure, label="crop"),
            steps=mo.ui.number(value=budget["steps"] if args.steps is None else args.steps, step=100, label="training steps"),
            seed=mo.ui.number(value=args.seed, step=1, label="seed"),
            f2=_switch(2),
            f3=_switch(3),
            f4=_switch(4),
            f5=_switch(5),
            f6=_switch(6),
            identity=mo.ui.dropdown(inputs.IDENTITIES, value=args.identity, label="residue identity (fix 7: residue)"),
            arch=mo.ui.dropdown(denoiser.ARCHITECTURES, value=args.arch, label="backbone"),
        )
        .form(submit_button_label="Train and sample", bordered=True)
    )
    form
    return budget, form


@app.cell
def _(ablation, args, budget, form, noise, ui):
    ui.wait_for_submit(form, "Train and sample")
    _v = form.value or {
        "w_c": args.w_c,
        "w_r": args.w_r,
        "w_a": args.w_a,
        "p_mean": args.p_mean,
        "p_std": args.p_std,
        "sigma_max": args.sigma_max,
        "sampler_steps": args.sampler_steps,
        "solver": args.solver,
        "structure": args.structure,
        "steps": budget["steps"] if args.steps is None else args.steps,
        "seed": args.seed,
        "identity": args.identity,
        "arch": args.arch,
        **{f"f{k}": k in args.fix for k in range(2, 7)},
    }
    _v = ui.checked(_v, "w_c", "w_r", "w_a", "p_mean", "p_std", "sigma_max", "sampler_steps", "steps", "seed")
    weights = ui.guarded(noise.NoiseWeights, _v["w_c"], _v["w_r"], _v["w_a"])
    fixes = tuple(k for k in range(2, 7) if _v[f"f{k}"])
    run_budget = {"steps": int(_v["steps"]), "batch_size": budget["batch_size"] if args.batch_size is None else args.batch_size}
    _t, sampler_config = ui.guarded(
        ablation.custom_configs,
        weights,
        _v["p_mean"],
        _v["p_std"],
        _v["sigma_max"],
        int(_v["sampler_steps"]),
        fixes,
        _v["solver"],
        _v["identity"],
        **run_budget,
        arch=_v["arch"],
    )
    train_config = ui.guarded(_t.with_, seed=int(_v["seed"]))
    structure = ui.guarded(ablation.crop, _v["structure"])
    ui.say(structure.describe())
    return fixes, run_budget, sampler_config, structure, train_config


@app.cell
def _(
    args,
    evaluation,
    fixes,
    gate,
    report,
    result,
    sampler_config,
    structure,
    train_config,
    ui,
):
    _o = evaluation.run_outcome(result, structure, sampler_config, args.samples, args.seed)
    _rmsd, _sd = float(report["rmsd"].mean()), float(report["rmsd"].std() or 0.0)
    _w = train_config.weights
    _vs = (
        f" The design's base reaches {gate['rmsd']:.2f} Å on the same crop, budget, seed and sampler "
        f"(differences: {'; '.join(gate['differences']) or 'none'})."
        if gate
        else ""
    )
    _id = (
        "This run has **no residue identity** (as reviewed): every residue looks alike to the network, which therefore "
        "cannot tell where a given residue belongs and leaves residues where the noise put them. Read the order-free RMSD "
        "and the own-slot share: if the samples are compact but residues sit in random slots, that is the cause. "
        if train_config.model.identity == "none"
        else ""
    )
    _text = f"""- Setting: weights {_w.w_c:g}/{_w.w_r:g}/{_w.w_a:g}, P_mean {train_config.P_mean:g}, P_std {train_config.P_std:g},
      σ_max {sampler_config.sigma_max:g} × σ_data, fixes on: {", ".join(map(str, fixes)) or "none"}, identity
      {train_config.model.identity}, backbone {train_config.model.arch}; status: {result.status}.
    - Final RMSD to the training structure **{_rmsd:.2f} ± {_sd:.2f} Å** (mean ± sd over {report.height} samples);
      order-free CA RMSD **{_o["order_free_rmsd"]:.2f} Å**; **{_o["own_slot"]:.0%}** of residues end in their own
      sequence slot.{_vs}
    - Late phase (steps at σ̂ ≤ σ_data = {sampler_config.sigma_data:g} Å): residues travel **{_o["late_travel"]:.2f} Å**
      relative to their chain, **{_o["late_travel_ratio"]:.2f}×** what a perfect denoiser travels from the same noise with the
      same sampler ({_o["late_travel_perfect"]:.2f} Å). Below 1: residues move less than they must to reach the structure.
    - {_id}Mean Rg {_o["rg_ratio"]:.2f}× the target's; {_o["bond_violations"]:.0%} of bonds off by > 0.2 Å,
      {_o["ca_ca_violations"]:.0%} of CA–CA distances outside 3.8 ± 0.25 Å."""
    ui.key_figure(f"final RMSD (Å), {structure.name}", _rmsd)
    ui.key_figure("late residue travel / perfect denoiser's", _o["late_travel_ratio"])
    ui.key_figure("own-slot share of residues", _o["own_slot"])
    if gate:
        ui.key_figure("sanity gate: the design's base RMSD (Å)", gate["rmsd"])
    ui.verdict("What this run says", _text)
    return


@app.cell
def _(args, mo, structure, train_config, ui):
    result, from_cache = ui.train_with_progress(structure, train_config, "training", not args.no_cache)
    if result.metrics.height == 0:
        ui.fail(f"training produced no step: {result.status}")
    ui.say(
        f"training: {result.status}; {result.metrics.height} steps in {result.seconds:.1f} s on {result.device}"
        + (" (loaded from cache)" if from_cache else "")
    )
    run_note = (
        mo.callout(
            mo.md(
                f"**The training run stopped early.** {result.status}. Everything below uses the model as it was at the "
                "last finite step."
            ),
            kind="warn",
        )
        if not result.completed
        else mo.md(
            f"Trained {result.metrics.height} steps on **{structure.summary()}** in {result.seconds:.1f} s on {result.device}"
            + (" (loaded from the cache)." if from_cache else ".")
        )
    )
    run_note
    return (result,)


@app.cell
def _(charts, mo, result, trainer):
    mo.vstack(
        [
            mo.md("## Training loss per level (λ-weighted, as summed into the loss)"),
            mo.ui.altair_chart(charts.loss_curves_chart(trainer.metrics_long(result.metrics, "loss"))),
        ]
    )
    return


@app.cell
def _(args, metrics, result, sampler, sampler_config, structure, ui):
    with ui.progress(f"sampling ({sampler_config.steps} steps)", sampler_config.steps) as _advance:
        traj = sampler.sample_trajectory(
            result.denoiser(), result.ctx.hierarchy, result.config.weights, sampler_config, args.samples, args.seed, _advance
        )
    frames = metrics.trajectory_frames(traj, structure)
    report = metrics.sample_report(traj.final, structure)
    return frames, report, traj


@app.cell
def _(mo, traj):
    step_ui = mo.ui.slider(
        0, len(traj.sigmas) - 1, value=len(traj.sigmas) - 1, label="sampling step", show_value=True, full_width=True
    )
    return (step_ui,)


@app.cell
def _(charts, metrics, mo, step_ui, structure, traj):
    _t = step_ui.value
    _x = metrics.ca_projection(traj.x[_t, 0], structure)
    _left = charts.projection_chart(_x, f"sample 0 after step {_t} (σ = {traj.sigmas[_t]:.3g} Å)")
    if _t >= 1:
        _d = metrics.ca_projection(traj.denoised[_t - 1, 0], structure)
        _right = charts.projection_chart(_d, f"denoised prediction at step {_t} (σ̂ = {traj.t_hat[_t - 1]:.3g} Å)")
    else:
        _right = mo.md("Step 0 is the initial noise; the first prediction comes at step 1.")
    mo.vstack(
        [
            mo.md("## The trajectory: CA trace superposed on the target (grey), projected on the target's two main axes"),
            step_ui,
            mo.hstack([mo.ui.altair_chart(_left), _right if _t == 0 else mo.ui.altair_chart(_right)]),
        ]
    )
    return


@app.cell
def _(structure, traj, viewer):
    viewer.trajectory_section(traj, structure, "target")
    return


@app.cell
def _(charts, metrics, mo, structure, traj):
    mo.vstack(
        [
            mo.md(
                "## Residue mobility: each residue's displacement per step relative to its chain (sample 0)\n"
                "Each chain of step t+1 is superposed on the same chain at step t first, so chain-wide rigid motion "
                "(and any augmentation) does not count."
            ),
            mo.ui.altair_chart(charts.mobility_heatmap(metrics.mobility_frame(traj.x[:, 0], structure))),
        ]
    )
    return


@app.cell
def _(charts, frames, mo):
    mo.vstack(
        [
            mo.md("## RMSD to the target along the trajectory (all samples)"),
            mo.ui.altair_chart(charts.trajectory_chart(frames, ["rmsd_x", "rmsd_denoised"], "RMSD (Å)", log_y=True)),
            mo.md("## Inter-residue vs intra-residue motion per step (RMS, chain frame)"),
            mo.ui.altair_chart(charts.trajectory_chart(frames, ["inter", "intra"], "motion per step (Å)", log_y=True)),
        ]
    )
    return


@app.cell
def _(charts, metrics, mo, report, structure, traj, ui):
    _best = int(report["rmsd"].arg_min())
    ui.print_table("final samples against the target", report)
    mo.vstack(
        [
            mo.md(f"## Final structures against the target (the best sample, {_best}, is drawn)"),
            mo.ui.altair_chart(charts.projection_chart(metrics.ca_projection(traj.final[_best], structure), "final vs target")),
            ui.table_view(report, first=("sample",)),
        ]
    )
    return


@app.cell
def _(
    args,
    mo,
    run_budget,
    sampler_config,
    sanity,
    structure,
    train_config,
    ui,
):
    gate, _view = None, mo.md("*Sanity gate skipped (`--no-gate`).*")
    if not args.no_gate:
        _train = lambda st, cfg: ui.train_with_progress(st, cfg, "gate: the design's base", not args.no_cache)[0]
        gate = sanity.sanity_gate(structure, train_config, sampler_config, run_budget, args.samples, args.seed, _train)
        _text = sanity.gate_text(gate, structure.name)
        ui.say("\n" + _text.replace("**", ""))
        _view = mo.callout(mo.md(_text), kind="success" if gate["met"] else "danger")
    _view
    return (gate,)


if __name__ == "__main__":
    app.run()
