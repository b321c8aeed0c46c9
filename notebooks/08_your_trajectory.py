import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="08 · Your model's sampling trajectory",
)


@app.cell
def _():
    import marimo as mo
    import polars as pl

    from pomodoro_core.core import presets, sampling
    from pomodoro_core.core.structure import data_dir
    from pomodoro_core.experiments import trajectory_diagnostics as td
    from pomodoro_core.report import charts, ui, viewer
    from pomodoro_core.report.args import FLAGS, Flag, notebook_args
    from pomodoro_core.training import metrics, trajectory_file

    return (
        FLAGS,
        Flag,
        charts,
        data_dir,
        metrics,
        mo,
        notebook_args,
        pl,
        presets,
        sampling,
        td,
        trajectory_file,
        ui,
        viewer,
    )


@app.cell
def _(mo):
    mo.md(r"""
    # 08 · Do residues move in *your* model's sampling?

    Notebook 05 asks the question of this suite's own small model. This one asks it of yours: load a sampling trajectory
    your code exported (`.npz` arrays, or a multi-model PDB / mmCIF with one model per step, see the README for the format
    and a ten-line export snippet) and the structure file that gives its atoms' residues and chains. Every measure of
    notebook 05 is computed on it, next to what a **perfect denoiser** (one that returns the reference structure, rigidly
    placed on its input) does through the same sampler from the same first state and the same noise levels. The shipped
    example is this suite's own reviewed design (pomodoro v0.9.0, no residue identity) on a two-chain crop of 1hvr.
    """)
    return


@app.cell
def _(FLAGS, Flag, data_dir, notebook_args):
    _ex = data_dir() / "examples"
    args = notebook_args(
        "Your model's sampling trajectory against a perfect denoiser",
        *("preset", "w-c", "w-r", "w-a", "solver", "structure", "atom-set", "seed"),
        structure=str(_ex / "1hvr_crop.pdb"),
        trajectory=Flag(str, str(_ex / "trajectory.npz"), "the trajectory: .npz, or a multi-model PDB / mmCIF"),
        reference=Flag(str, None, "the reference structure for RMSD and the perfect denoiser (default: the structure file)"),
        sigmas=Flag(
            str, None, "levels of a multi-model trajectory: a text file, one σ per model (default: the preset's schedule)"
        ),
        late_sigma=FLAGS["sigma"].but(
            default=None, help="the late phase: steps evaluated at σ̂ at or below this (default: σ_data)"
        ),
    )
    return (args,)


@app.cell
def _(args, mo, presets, sampling):
    form = (
        mo.md(
            """
            **Files** {trajectory} {structure} {reference} {sigmas}

            **Your sampler** {preset} {solver} {late_sigma}
            """
        )
        .batch(
            trajectory=mo.ui.text(value=args.trajectory, label="trajectory", full_width=True),
            structure=mo.ui.text(value=args.structure, label="structure file", full_width=True),
            reference=mo.ui.text(value=args.reference or "", label="reference (empty: the structure file)", full_width=True),
            sigmas=mo.ui.text(value=args.sigmas or "", label="levels file (multi-model only; empty: the preset's schedule)"),
            preset=mo.ui.dropdown(presets.preset_names(), value=args.preset, label="preset (noise weights, σ_data, sampler)"),
            solver=mo.ui.dropdown(sampling.SOLVERS, value=args.solver, label="solver"),
            late_sigma=mo.ui.text(
                value="" if args.late_sigma is None else f"{args.late_sigma:g}", label="late phase: σ̂ ≤ (Å; empty: σ_data)"
            ),
        )
        .form(submit_button_label="Load and measure", bordered=True)
    )
    form
    return (form,)


@app.cell
def _(args, form, presets, sampling, ui):
    _v = form.value or {
        "trajectory": args.trajectory,
        "structure": args.structure,
        "reference": args.reference or "",
        "sigmas": args.sigmas or "",
        "preset": args.preset,
        "solver": args.solver,
        "late_sigma": "" if args.late_sigma is None else str(args.late_sigma),
    }
    preset = presets.get_preset(_v["preset"])
    _first = _v["preset"] == args.preset
    _w = [
        getattr(preset.weights, k) if (v is None or not _first) else v
        for k, v in (("w_c", args.w_c), ("w_r", args.w_r), ("w_a", args.w_a))
    ]
    weights = ui.guarded(presets.NoiseWeights, *_w)
    sampler_config = ui.guarded(sampling.SamplerConfig.from_preset, preset, solver=_v["solver"])
    _late = _v["late_sigma"].strip()
    late_sigma = preset.sigma_data if not _late else ui.check("sigma", ui.guarded(float, _late))
    files = _v
    return files, late_sigma, preset, sampler_config, weights


@app.cell
def _(args, files, sampler_config, trajectory_file, ui):
    structure = ui.load_structure(files["structure"], args.atom_set)
    traj, _levels = ui.guarded(
        trajectory_file.load_trajectory, files["trajectory"], structure, files["sigmas"] or None, sampler_config.sigmas()
    )
    reference = structure if not files["reference"] else ui.load_structure(files["reference"], args.atom_set)
    if reference.n_atoms != structure.n_atoms or (reference.atom_name != structure.atom_name).any():
        ui.fail(
            f"the reference {reference.name} has {reference.n_atoms} atoms ({args.atom_set}) and the structure "
            f"{structure.n_atoms}, or their atoms differ in order; give a reference of the same atoms"
        )
    ui.say(
        f"trajectory: {files['trajectory']} | {traj.x.shape[0] - 1} steps | σ {traj.sigmas[0]:.4g} -> {traj.sigmas[-1]:.4g} Å | "
        f"{'with' if traj.denoised is not None else 'no'} predictions | {_levels}"
    )
    return reference, structure, traj


@app.cell
def _(
    args,
    late_sigma,
    reference,
    sampler_config,
    structure,
    td,
    traj,
    weights,
):
    diagnosis = td.diagnose(traj, structure, reference.coords, weights, sampler_config, late_sigma, args.seed)
    return (diagnosis,)


@app.cell
def _(diagnosis, preset, structure, td, ui, weights):
    _text = td.verdict(diagnosis, structure.name)
    _setting = (
        f"Perfect denoiser: preset {preset.name}'s sampler (step_scale {preset.step_scale:g}, noise_scale "
        f"{preset.noise_scale:g}), churn noise with weights {weights.w_c:g}/{weights.w_r:g}/{weights.w_a:g}, seeded."
    )
    ui.key_figure("late residue motion / perfect denoiser's", diagnosis.late_ratio)
    ui.key_figure(f"final RMSD to the reference (Å), {structure.name}", diagnosis.outcome["rmsd"])
    ui.key_figure("own-slot share of residues", diagnosis.outcome["own_slot"])
    ui.verdict(f"Verdict on {structure.name}'s trajectory", f"{_text}\n\n_{_setting}_")
    return


@app.cell
def _(charts, diagnosis, mo):
    mo.vstack(
        [
            mo.md(
                "## Residue mobility: each residue's displacement per step relative to its chain (your trajectory)\n"
                "Each chain of step t+1 is superposed on the same chain at step t first, so chain-wide rigid motion "
                "(and any augmentation) does not count."
            ),
            mo.ui.altair_chart(charts.mobility_heatmap(diagnosis.mobility)),
        ]
    )
    return


@app.cell
def _(charts, diagnosis, mo):
    mo.vstack(
        [
            mo.md("## Inter- and intra-residue motion per step (RMS, chain frame): yours against the perfect denoiser's"),
            mo.hstack(
                [
                    mo.ui.altair_chart(charts.runs_chart(diagnosis.frames, "inter", "residue motion per step (Å)", log_y=True)),
                    mo.ui.altair_chart(charts.runs_chart(diagnosis.frames, "intra", "atom motion in residue (Å)", log_y=True)),
                ]
            ),
            mo.md("## RMSD to the reference along the trajectory"),
            mo.ui.altair_chart(charts.runs_chart(diagnosis.frames, "rmsd_x", "RMSD (Å)", log_y=True)),
        ]
    )
    return


@app.cell
def _(mo, traj):
    step_ui = mo.ui.slider(0, len(traj.sigmas) - 1, value=len(traj.sigmas) - 1, label="step", show_value=True, full_width=True)
    return (step_ui,)


@app.cell
def _(charts, metrics, mo, reference, step_ui, traj):
    _t = step_ui.value
    _x = metrics.ca_projection(traj.x[_t, 0], reference)
    mo.vstack(
        [
            mo.md("## The trajectory: CA trace superposed on the reference (grey), projected on its two main axes"),
            step_ui,
            mo.ui.altair_chart(charts.projection_chart(_x, f"state {_t} (σ = {traj.sigmas[_t]:.3g} Å)")),
        ]
    )
    return


@app.cell
def _(reference, traj, viewer):
    viewer.trajectory_section(traj, reference, "reference")
    return


@app.cell
def _(diagnosis, mo, pl, ui):
    _o = pl.DataFrame([diagnosis.outcome]).select(pl.all().round_sig_figs(4))
    ui.print_table("final state against the reference", _o)
    mo.vstack([mo.md("## Final state against the reference"), ui.table_view(_o)])
    return


if __name__ == "__main__":
    app.run()
