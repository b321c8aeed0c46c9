"""Altair chart builders.  Each takes a polars DataFrame made by pomodoro_core."""

from __future__ import annotations

import altair as alt
import polars as pl

READOUT_ORDER = ["atom", "residue", "chain", "complex", "atom_vs_residue", "residue_vs_chain", "chain_vs_complex"]


def effective_sigma_bars(table: pl.DataFrame) -> alt.Chart:
    """Closed form vs Monte Carlo effective sigma / sigma per read-out, with isotropic for reference."""
    sigma = (table["closed_form"] / table["over_sigma"]).max()
    long = pl.concat(
        [
            table.select("readout", "kind", (pl.col("closed_form") / sigma).alias("value")).with_columns(
                source=pl.lit("closed form")
            ),
            table.select("readout", "kind", (pl.col("monte_carlo") / sigma).alias("value")).with_columns(
                source=pl.lit("Monte Carlo")
            ),
            table.select("readout", "kind", pl.col("isotropic_over_sigma").alias("value")).with_columns(
                source=pl.lit("isotropic noise")
            ),
        ]
    )
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("readout:N", sort=READOUT_ORDER, title=None, axis=alt.Axis(labelExpr="replace(datum.label, /_/g, ' ')")),
            xOffset=alt.XOffset("source:N"),
            y=alt.Y("value:Q", title="effective σ ÷ σ (noise that moves this read-out)"),
            color=alt.Color("source:N", title=None),
            tooltip=["readout", "source", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(width=520, height=260, title="Effective noise per read-out")
    )


def share_sweep_chart(sweep: pl.DataFrame, current_share: float) -> alt.Chart:
    lines = (
        alt.Chart(sweep)
        .mark_line()
        .encode(
            x=alt.X("residue_share:Q", title="residue share of the noise variance, w_r / W"),
            y=alt.Y("over_sigma:Q", title="effective σ ÷ σ, relative to the parent"),
            color=alt.Color(
                "readout:N", title="relative to parent", legend=alt.Legend(labelExpr="replace(datum.label, /_/g, ' ')")
            ),
            tooltip=["readout", alt.Tooltip("residue_share:Q", format=".2f"), alt.Tooltip("over_sigma:Q", format=".3f")],
        )
    )
    rule = alt.Chart(pl.DataFrame({"residue_share": [current_share]})).mark_rule(strokeDash=[4, 4]).encode(x="residue_share:Q")
    return (lines + rule).properties(width=520, height=260, title="How much of σ moves each level relative to its parent")


def structure_scatter(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_circle(size=14, opacity=0.8)
        .encode(
            x=alt.X("x:Q", title="PC1 (Å)"),
            y=alt.Y("y:Q", title="PC2 (Å)"),
            color=alt.Color("residue:Q", scale=alt.Scale(scheme="turbo"), title="residue"),
            tooltip=["state", "chain", "residue", "atom"],
        )
        .properties(width=300, height=300)
        .facet(column=alt.Column("state:N", title=None))
        .resolve_scale(x="independent", y="independent")
    )


def _z_axis_with_sigma(sigma_data: float) -> alt.Axis:
    """z axis whose labels also show sigma in Å (a second axis in words)."""
    return alt.Axis(
        title=f"z = ln(σ/σ_data)   [label: z | σ in Å, σ_data = {sigma_data:g}]",
        labelExpr=f"datum.value + ' | ' + format({sigma_data} * exp(datum.value), '.3~g')",
        labelAngle=-30,
    )


def signal_curves_chart(curves: pl.DataFrame, sigma_data: float, log_y: bool = True) -> alt.Chart:
    """Curves against z (one colour per preset/quantity), log y by default."""
    return (
        alt.Chart(curves)
        .mark_line()
        .encode(
            x=alt.X("z:Q", axis=_z_axis_with_sigma(sigma_data)),
            y=alt.Y("value:Q", scale=alt.Scale(type="log" if log_y else "linear"), title="value"),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=300)),
            # your distribution dashed and wider, so it shows where it lies on a preset's line
            strokeDash=alt.condition(alt.datum.series == "yours", alt.value([7, 4]), alt.value([1, 0])),
            strokeWidth=alt.condition(alt.datum.series == "yours", alt.value(3), alt.value(1.5)),
            tooltip=[
                "series",
                alt.Tooltip("z:Q", format=".2f"),
                alt.Tooltip("sigma:Q", format=".3g"),
                alt.Tooltip("value:Q", format=".3g"),
            ],
        )
        .properties(width=560, height=280)
    )


def band_shares_chart(shares: pl.DataFrame) -> alt.Chart:
    long = shares.unpivot(index=["band", "series"], on=["share_of_weight_on_F", "share_of_loss_weight"], variable_name="measure")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("series:N", title=None),
            x=alt.X("value:Q", stack="normalize", title="share", axis=alt.Axis(format="%")),
            color=alt.Color("band:N", title="σ band", sort=None),
            row=alt.Row("measure:N", title=None),
            tooltip=["series", "band", "measure", alt.Tooltip("value:Q", format=".1%")],
        )
        .properties(width=520, height=90)
    )


def logsnr_chart(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("logsnr:Q", title="log-SNR = 2 ln(σ_data/σ)"),
            y=alt.Y("value:Q", scale=alt.Scale(type="log"), title="weight per unit log-SNR"),
            color=alt.Color("distribution:N"),
            strokeDash=alt.StrokeDash("quantity:N"),
            tooltip=["distribution", "quantity", alt.Tooltip("logsnr:Q", format=".2f"), alt.Tooltip("value:Q", format=".3g")],
        )
        .properties(width=560, height=280)
    )


def schedule_chart(density: pl.DataFrame, levels: pl.DataFrame, q_sigma: float) -> alt.Chart:
    dens = (
        alt.Chart(density)
        .mark_area(opacity=0.3)
        .encode(
            x=alt.X("sigma:Q", scale=alt.Scale(type="log"), title="σ (Å)"),
            y=alt.Y("density_ln_sigma:Q", title="training density per unit ln σ"),
        )
    )
    words = {"sigma": "schedule level σᵢ", "t_hat": "churned level t̂ᵢ (network input)"}
    long = (
        levels.unpivot(index=["step"], on=["sigma", "t_hat"], variable_name="level")
        .rename({"value": "sigma"})
        .with_columns(pl.col("level").replace_strict(words))
    )
    ticks = (
        alt.Chart(long)
        .mark_tick(thickness=1, size=18)
        .encode(
            x=alt.X("sigma:Q", scale=alt.Scale(type="log")),
            y=alt.value(270),
            color=alt.Color("level:N", title=None, scale=alt.Scale(domain=list(words.values()), range=["black", "orange"])),
            tooltip=["level", "step", alt.Tooltip("sigma:Q", format=".4g")],
        )
    )
    rule = alt.Chart(pl.DataFrame({"sigma": [q_sigma]})).mark_rule(color="red", strokeDash=[4, 4]).encode(x="sigma:Q")
    return (dens + ticks + rule).properties(width=560, height=290)


def noise_left_chart(levels: pl.DataFrame) -> alt.Chart:
    words = {"next_sigma": "scheduled σ after the step", "noise_left": "noise a perfect denoiser leaves"}
    long = (
        levels.filter(pl.col("next_sigma") > 0)
        .unpivot(index=["step"], on=list(words), variable_name="what")
        .with_columns(pl.col("what").replace_strict(words))
    )
    return (
        alt.Chart(long)
        .mark_line(point=alt.OverlayMarkDef(filled=False, size=40))
        .encode(
            x=alt.X("step:Q", title="sampling step"),
            y=alt.Y("value:Q", scale=alt.Scale(type="log"), title="σ after the step (Å)"),
            color=alt.Color("what:N", title=None, legend=alt.Legend(orient="bottom")),
            strokeDash=alt.StrokeDash("what:N", legend=None, scale=alt.Scale(range=[[1, 0], [6, 4]])),
            tooltip=["step", "what", alt.Tooltip("value:Q", format=".4g")],
        )
        .properties(width=560, height=240)
    )


CRITERION_WORDS = {
    "var_c_in_x": "variance of the network input, Var[c_in·x] (1 = target)",
    "var_F_target": "variance of the training target of F (1 = target)",
}


def criterion_chart(curves: pl.DataFrame, mc: pl.DataFrame, column: str) -> alt.Chart:
    base = (
        alt.Chart(curves)
        .mark_line()
        .encode(
            x=alt.X("sigma:Q", scale=alt.Scale(type="log"), title="σ (Å)"),
            y=alt.Y(f"{column}:Q", scale=alt.Scale(type="log"), title=CRITERION_WORDS.get(column, column)),
            color=alt.Color("choice:N", title=None, legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=400)),
            # each choice its own dashes: a line that coincides with another (raw σ at the atom level) stays visible
            strokeDash=alt.StrokeDash("choice:N", legend=None, scale=alt.Scale(range=[[1, 0], [8, 4], [2, 3]])),
            strokeWidth=alt.value(2),
        )
    )
    pts = (
        alt.Chart(mc)
        .mark_point(filled=True, size=30)
        .encode(
            x="sigma:Q",
            y=f"{column}_mc:Q",
            color="choice:N",
            tooltip=["level", "choice", alt.Tooltip("sigma:Q", format=".3g"), alt.Tooltip(f"{column}_mc:Q", format=".4f")],
        )
    )
    one = alt.Chart(pl.DataFrame({"y": [1.0]})).mark_rule(strokeDash=[3, 3], color="gray").encode(y="y:Q")
    panels = [
        alt.layer(base.transform_filter(alt.datum.level == lvl), pts.transform_filter(alt.datum.level == lvl), one).properties(
            width=220, height=200, title=lvl
        )
        for lvl in ("atom", "residue", "chain")
    ]
    return alt.hconcat(*panels)


def verdict_chart(table: pl.DataFrame) -> alt.Chart:
    """Claims per verdict kind (the audit table's `kind` column), coloured by seed."""
    return (
        alt.Chart(table.select("kind", "seed"))
        .mark_bar()
        .encode(
            y=alt.Y("kind:N", title=None, sort=["holds", "roughly", "does not hold", "new finding"]),
            x=alt.X("count():Q", title="claims"),
            color=alt.Color("seed:N"),
            tooltip=["kind", "seed", "count()"],
        )
        .properties(width=420, height=140)
    )


# --------------------------------------------------------------------------- training and sampling (notebooks 05-07)

TERM_ORDER = ["atom", "residue", "chain", "bond"]


def loss_curves_chart(long: pl.DataFrame, value: str = "loss", window: int = 25) -> alt.Chart:
    """Per-term training curves (rows step, term, value), smoothed by a centred rolling mean."""
    smooth = long.sort("term", "step").with_columns(
        pl.col(value).rolling_mean(window, min_samples=1, center=True).over("term").alias("smoothed")
    )
    return (
        alt.Chart(smooth)
        .mark_line()
        .encode(
            x=alt.X("step:Q", title="training step"),
            y=alt.Y("smoothed:Q", scale=alt.Scale(type="symlog", constant=1e-3), title=f"{value} (rolling mean of {window})"),
            color=alt.Color("term:N", sort=TERM_ORDER, title="loss term", legend=alt.Legend(orient="bottom")),
            tooltip=["step", "term", alt.Tooltip("smoothed:Q", format=".4g")],
        )
        .properties(width=560, height=240)
    )


def projection_chart(frame: pl.DataFrame, title: str) -> alt.Chart:
    """CA traces in 2D (columns u, v, residue, chain, kind: 'sample' or 'target')."""
    base = alt.Chart(frame).encode(
        x=alt.X("u:Q", title="principal axis 1 of the target (Å)"),
        y=alt.Y("v:Q", title="principal axis 2 (Å)"),
        detail="trace:N",
        order="residue:Q",
    )
    target = base.transform_filter(alt.datum.kind == "target").mark_line(color="lightgray", strokeWidth=4)
    sample = base.transform_filter(alt.datum.kind == "sample")
    return (
        target
        + sample.mark_line(color="gray", strokeWidth=1)
        + sample.mark_circle(size=45).encode(
            color=alt.Color("residue:Q", scale=alt.Scale(scheme="turbo"), title="residue"), tooltip=["residue", "chain"]
        )
    ).properties(width=380, height=380, title=title)


def mobility_heatmap(frame: pl.DataFrame) -> alt.Chart:
    """Residue x step displacement in the chain frame (columns step, residue, displacement), on a log colour scale
    (viridis, perceptually uniform) so that the late phase's small motions, the symptom, stay distinguishable."""
    floor = 1e-3  # Å: displacements below are drawn at the floor (the log scale needs positive values)
    return (
        alt.Chart(frame.with_columns(pl.col("displacement").clip(lower_bound=floor)))
        .mark_rect()
        .encode(
            x=alt.X("step:O", title="sampling step", axis=alt.Axis(labelOverlap=True)),
            y=alt.Y("residue:O", title="residue"),
            color=alt.Color("displacement:Q", scale=alt.Scale(type="log", scheme="viridis"), title="displacement (Å)"),
            tooltip=["step", "residue", alt.Tooltip("displacement:Q", format=".3f")],
        )
        .properties(width=560, height=300)
    )


TRAJECTORY_WORDS = {
    "rmsd_x": "sample to target",
    "rmsd_denoised": "denoised prediction to target",
    "inter": "residues relative to their chain",
    "intra": "atoms within their residue",
}


def trajectory_chart(frames: pl.DataFrame, columns: list[str], title: str, log_y: bool = False) -> alt.Chart:
    """Columns of `trajectory_frames` against the sampling step, one line per column and sample (log axis: values
    at or below 0 are left out)."""
    long = frames.unpivot(index=["sample", "step", "sigma"], on=columns, variable_name="quantity", value_name="value")
    long = long.with_columns(pl.col("quantity").replace(TRAJECTORY_WORDS))
    if log_y:
        long = long.filter(pl.col("value") > 0)
    return (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("step:Q", title="sampling step"),
            y=alt.Y("value:Q", scale=alt.Scale(type="log" if log_y else "linear"), title=title),
            color=alt.Color("quantity:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=400)),
            detail="sample:N",
            tooltip=["step", alt.Tooltip("sigma:Q", format=".4g"), "quantity", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(width=560, height=220)
    )


def runs_chart(frames: pl.DataFrame, column: str, title: str, log_y: bool = False) -> alt.Chart:
    """One column of `trajectory_frames` against the sampling step, one colour per run (column `run`)."""
    return (
        alt.Chart(frames)
        .mark_line()
        .encode(
            x=alt.X("step:Q", title="sampling step"),
            y=alt.Y(f"{column}:Q", scale=alt.Scale(type="log" if log_y else "linear"), title=title),
            color=alt.Color("run:N", title=None),
            detail="sample:N",
            tooltip=[
                "run",
                "step",
                alt.Tooltip("t_hat:Q", format=".4g", title="σ̂ (Å)"),
                alt.Tooltip(f"{column}:Q", format=".3f"),
            ],
        )
        .properties(width=560, height=220)
    )


def sigma_histogram_chart(hist: pl.DataFrame) -> alt.Chart:
    """Density of ln σ (rows ln_sigma, sigma, density, source: 'training log' bars, 'configured' line)."""
    base = alt.Chart(hist).encode(x=alt.X("sigma:Q", scale=alt.Scale(type="log"), title="training σ (Å)"))
    bars = base.transform_filter(alt.datum.source == "training log").mark_bar(opacity=0.5, color="steelblue")
    line = base.transform_filter(alt.datum.source == "configured").mark_line(color="black")
    return (bars.encode(y=alt.Y("density:Q", title="density of ln σ")) + line.encode(y="density:Q")).properties(
        width=480, height=220, title="training σ: the log (bars) against the configured law (line)"
    )


def level_probe_chart(probe: pl.DataFrame, value: str, title: str, log_y: bool = True) -> alt.Chart:
    """A per-term quantity of `loss_balance.probe_levels` against sigma (log axis)."""
    return (
        alt.Chart(probe)
        .mark_line(point=True)
        .encode(
            x=alt.X("sigma:Q", scale=alt.Scale(type="log"), title="σ (Å)"),
            y=alt.Y(f"{value}:Q", scale=alt.Scale(type="log" if log_y else "linear"), title=title),
            color=alt.Color("term:N", sort=TERM_ORDER, title="loss term", legend=alt.Legend(orient="bottom")),
            strokeDash=alt.StrokeDash("model:N", title=None, legend=alt.Legend(orient="bottom"))
            if "model" in probe.columns
            else alt.Undefined,
            tooltip=["term", alt.Tooltip("sigma:Q", format=".3g"), alt.Tooltip(f"{value}:Q", format=".3g")],
        )
        .properties(width=480, height=240)
    )


def effects_chart(effects: pl.DataFrame, title: str, group: str | None = None) -> alt.Chart:
    """Paired effect estimates with their 95 % intervals, one row per term; a rule at 0 (no effect)."""
    order = effects["term"].unique(maintain_order=True).to_list()
    base = alt.Chart(effects).encode(y=alt.Y("term:N", sort=order, title=None))
    color = alt.Color(f"{group}:N", title=None, legend=alt.Legend(orient="bottom")) if group else alt.value("#1f77b4")
    tip = ["term", alt.Tooltip("effect:Q", format="+.3f"), alt.Tooltip("ci_low:Q", format="+.3f"),
           alt.Tooltip("ci_high:Q", format="+.3f"), "blocks:Q"]  # fmt: skip
    err = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q", title=title), x2="ci_high:Q", color=color)
    dots = base.mark_circle(size=60).encode(x="effect:Q", color=color, tooltip=tip + ([group] if group else []))
    zero = alt.Chart(pl.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4], color="grey").encode(x="x:Q")
    return (err + dots + zero).properties(width=460, height=24 * len(order))
