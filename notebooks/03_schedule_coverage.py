import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="03 · Schedule coverage (pitfall 8)",
)


@app.cell
def _():
    import marimo as mo

    from pomodoro_core.report import charts, ui
    from pomodoro_core.analysis import schedule
    from pomodoro_core.core import edm, presets, sampling
    from pomodoro_core.report.args import FLAGS, notebook_args

    return (
        FLAGS,
        charts,
        edm,
        mo,
        notebook_args,
        presets,
        sampling,
        schedule,
        ui,
    )


@app.cell
def _(mo):
    mo.md(r"""
    # 03 · Does sampling start inside the training σ distribution?

    **Pitfall 8**: the reviewed sampler multiplies its Karras schedule by σ_data, so with σ_max = 80 and σ_data = 16 the
    first level is 80·16 Å, while training draws σ = σ_data·exp(P_mean + P_std·n). Here you set the schedule and the
    training distribution and see where the schedule's levels (and the churned levels t̂ = σ(1+γ) the network is actually
    evaluated at) fall on the training density, how many network evaluations lie beyond a training quantile q, the
    preconditioning at the first step, and how much noise a perfect denoiser actually leaves after each step when
    step_scale > 1.
    """)
    return


@app.cell
def _(FLAGS, notebook_args):
    args = notebook_args(
        "Sampling schedule vs training sigma distribution (pitfall 8)",
        *("preset", "sigma-max", "sigma-min", "rho", "times-sigma-data", "p-mean", "p-std"),
        *("gamma-0", "gamma-min", "step-scale", "q"),
        steps=FLAGS["sampler-steps"],
    )
    return (args,)


@app.cell
def _(args, mo, presets):
    preset_ui = mo.ui.dropdown(presets.preset_names(), value=args.preset, label="preset")
    return (preset_ui,)


@app.cell
def _(args, mo, preset_ui, presets, ui):
    _pr = presets.get_preset(preset_ui.value)
    _first = preset_ui.value == args.preset  # command-line values win while the preset is the command line's
    _v = lambda cli, default: default if (cli is None or not _first) else cli  # noqa: E731
    sigma_max_ui = mo.ui.number(value=_v(args.sigma_max, _pr.sigma_max), step=1.0, label="σ_max")
    sigma_min_ui = mo.ui.number(value=_v(args.sigma_min, _pr.sigma_min), step=1e-4, label="σ_min")
    rho_ui = ui.slider("rho", _v(args.rho, _pr.rho), step=0.5, label="ρ")
    steps_ui = mo.ui.number(value=_v(args.steps, _pr.steps), step=1, label="steps")
    times_ui = mo.ui.switch(
        value=_v(args.times_sigma_data, "yes" if _pr.schedule_times_sigma_data else "no") == "yes",
        label="multiply schedule by σ_data",
    )
    p_mean_ui = ui.slider("p-mean", _v(args.p_mean, _pr.P_mean), step=0.02, label="P_mean")
    p_std_ui = ui.slider("p-std", _v(args.p_std, _pr.P_std), step=0.05, label="P_std")
    gamma_0_ui = ui.slider("gamma-0", _v(args.gamma_0, _pr.gamma_0), step=0.05, label="γ0")
    gamma_min_ui = mo.ui.number(value=_v(args.gamma_min, _pr.gamma_min), step=0.1, label="γ_min (Å)")
    step_scale_ui = ui.slider("step-scale", _v(args.step_scale, _pr.step_scale), step=0.05, label="step_scale")
    q_ui = ui.slider("q", args.q, step=0.00001, label="training quantile q")  # not a preset's value: kept
    sigma_data = _pr.sigma_data
    mo.vstack(
        [
            mo.hstack(
                [preset_ui, mo.md(f"σ_data = {sigma_data:g} Å. Changing the preset resets every value below to its own.")],
                justify="start",
            ),
            mo.hstack([sigma_max_ui, sigma_min_ui, steps_ui, times_ui], justify="start"),
            mo.hstack([rho_ui, step_scale_ui], justify="start"),
            mo.hstack([p_mean_ui, p_std_ui, q_ui], justify="start"),
            mo.hstack([gamma_0_ui, gamma_min_ui], justify="start"),
        ]
    )
    return (
        gamma_0_ui,
        gamma_min_ui,
        p_mean_ui,
        p_std_ui,
        q_ui,
        rho_ui,
        sigma_data,
        sigma_max_ui,
        sigma_min_ui,
        step_scale_ui,
        steps_ui,
        times_ui,
    )


@app.cell
def _(
    edm,
    gamma_0_ui,
    gamma_min_ui,
    p_mean_ui,
    p_std_ui,
    q_ui,
    rho_ui,
    sampling,
    schedule,
    sigma_data,
    sigma_max_ui,
    sigma_min_ui,
    step_scale_ui,
    steps_ui,
    times_ui,
    ui,
):
    ui.check("sampler-steps", steps_ui.value)
    ui.check("gamma-min", gamma_min_ui.value)
    settings = ui.guarded(
        sampling.SamplerConfig,
        steps=steps_ui.value,
        sigma_min=ui.check("sigma-min", sigma_min_ui.value),
        sigma_max=ui.check("sigma-max", sigma_max_ui.value),
        rho=rho_ui.value,
        sigma_data=sigma_data,
        times_sigma_data=times_ui.value,
        gamma_0=gamma_0_ui.value,
        gamma_min=gamma_min_ui.value,
        step_scale=step_scale_ui.value,
        noise_scale=1.003 if gamma_0_ui.value > 0 else 1.0,
    )
    train = ui.guarded(edm.LogNormalSigma, p_mean_ui.value, p_std_ui.value, sigma_data)
    levels = ui.guarded(schedule.levels_frame, settings, train, q_ui.value)
    cov = schedule.coverage(settings, train, q_ui.value)
    return cov, levels, settings, train


@app.cell
def _(cov, levels, q_ui, schedule, settings, ui):
    ui.verdict("Verdict on pitfall 8", schedule.verdict(cov, levels, settings, q_ui.value))
    return


@app.cell
def _(charts, cov, levels, mo, schedule, settings, train, ui):
    _lo = min(
        float(levels["next_sigma"].filter(levels["next_sigma"] > 0).min()) if settings.steps > 1 else cov["first_sigma"] / 10,
        train.quantile(1e-4),
    )
    _hi = max(cov["first_t_hat"], float(train.quantile(1 - 1e-4))) * 1.5
    _dens = schedule.density_frame(train, _lo / 1.5, _hi)
    ui.print_table("coverage", schedule.pl.DataFrame([cov]))
    ui.key_figure("first network evaluation t̂₀ (Å)", cov["first_t_hat"])
    ui.key_figure("steps above training quantile q", f"{cov['steps_above_q']} of {settings.steps}")
    ui.key_figure("P_train(σ > t̂₀)", cov["training_sf_at_first"])
    mo.vstack(
        [
            mo.md(
                f"""## The schedule over the training density
        Black ticks: schedule levels σ_i; orange: churned levels t̂_i; red dashed: the training quantile q
        ({cov["training_quantile_sigma"]:.4g} Å). **{cov["steps_above_q"]} of {settings.steps} steps**
        ({cov["share_of_evaluations_above_q"]:.1%} of network evaluations) run above it. The first evaluation, at
        t̂ = {cov["first_t_hat"]:.4g} Å, sits at training quantile {cov["training_cdf_at_first"]:.6f}
        (P(σ_train > t̂_0) = {cov["training_sf_at_first"]:.3g})."""
            ),
            mo.ui.altair_chart(charts.schedule_chart(_dens, levels, cov["training_quantile_sigma"])),
        ]
    )
    return


@app.cell
def _(cov, mo):
    mo.md(f"""
    ## Preconditioning at the first step (t̂₀ = {cov["first_t_hat"]:.4g} Å)
    | | value |
    |---|---|
    | c_skip(t̂₀) | {cov["c_skip_first"]:.4g} |
    | c_out(t̂₀) | {cov["c_out_first"]:.4g} Å |
    | c_in(t̂₀) | {cov["c_in_first"]:.4g} Å⁻¹ |

    c_skip near 0 means the first denoised estimate is almost entirely the network's output, at a σ the network has
    (nearly) never seen in training.
    """)
    return


@app.cell
def _(charts, levels, mo, settings, ui):
    _ratio = (levels["noise_left"] / levels["next_sigma"]).filter(levels["next_sigma"] > 0)
    ui.print_table("noise left after each step (perfect denoiser), first rows", levels.head(8))
    mo.vstack(
        [
            mo.md(
                f"""## Noise actually left after each step (perfect denoiser)
        With step_scale = {settings.step_scale:g} and γ0 = {settings.gamma_0:g}, an ideal denoiser leaves noise
        σ_noisy·(1 + step_scale·(σ_next − t̂)/t̂) after a step, which equals σ_next only when step_scale = 1 and there is no churn
        (step_scale > 1 overshoots: sampling runs colder than the schedule). Median ratio (noise left / scheduled σ) over the steps:
        **{float(_ratio.median()) if len(_ratio) else float("nan"):.3f}** (1 = sampling exactly on schedule; < 1 = colder)."""
            ),
            mo.ui.altair_chart(charts.noise_left_chart(levels)),
        ]
    )
    return


@app.cell
def _(mo, presets, q_ui, schedule, ui):
    comparison = schedule.preset_comparison([presets.get_preset(n) for n in presets.preset_names()], q=q_ui.value)
    ui.print_table(f"per-preset comparison (q = {q_ui.value:g})", comparison)
    mo.vstack(
        [
            mo.md("## Per-preset comparison (each preset's own schedule and training distribution)"),
            ui.table_view(comparison, first=("preset",)),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
