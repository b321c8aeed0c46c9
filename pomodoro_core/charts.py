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
            x=alt.X("readout:N", sort=READOUT_ORDER, title=None),
            xOffset=alt.XOffset("source:N"),
            y=alt.Y("value:Q", title="effective sigma / sigma"),
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
            y=alt.Y("over_sigma:Q", title="relative effective sigma / sigma"),
            color=alt.Color("readout:N", title="relative to parent"),
            tooltip=["readout", alt.Tooltip("residue_share:Q", format=".2f"), alt.Tooltip("over_sigma:Q", format=".3f")],
        )
    )
    rule = alt.Chart(pl.DataFrame({"residue_share": [current_share]})).mark_rule(strokeDash=[4, 4]).encode(x="residue_share:Q")
    return (lines + rule).properties(width=520, height=260, title="How much of sigma moves each level relative to its parent")


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
            color=alt.Color("series:N", title=None),
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
    long = levels.unpivot(index=["step"], on=["sigma", "t_hat"], variable_name="level").rename({"value": "sigma"})
    ticks = (
        alt.Chart(long)
        .mark_tick(thickness=1, size=18)
        .encode(
            x=alt.X("sigma:Q", scale=alt.Scale(type="log")),
            y=alt.value(270),
            color=alt.Color("level:N", title="schedule", scale=alt.Scale(domain=["sigma", "t_hat"], range=["black", "orange"])),
            tooltip=["level", "step", alt.Tooltip("sigma:Q", format=".4g")],
        )
    )
    rule = alt.Chart(pl.DataFrame({"sigma": [q_sigma]})).mark_rule(color="red", strokeDash=[4, 4]).encode(x="sigma:Q")
    return (dens + ticks + rule).properties(width=560, height=290)


def noise_left_chart(levels: pl.DataFrame) -> alt.Chart:
    long = levels.filter(pl.col("next_sigma") > 0).unpivot(index=["step"], on=["next_sigma", "noise_left"], variable_name="what")
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("step:Q"),
            y=alt.Y("value:Q", scale=alt.Scale(type="log"), title="σ after the step (Å)"),
            color=alt.Color("what:N", title=None),
            tooltip=["step", "what", alt.Tooltip("value:Q", format=".4g")],
        )
        .properties(width=560, height=240)
    )


def criterion_chart(curves: pl.DataFrame, mc: pl.DataFrame, column: str) -> alt.Chart:
    base = (
        alt.Chart(curves)
        .mark_line()
        .encode(
            x=alt.X("sigma:Q", scale=alt.Scale(type="log"), title="σ (Å)"),
            y=alt.Y(f"{column}:Q", scale=alt.Scale(type="log"), title=column.replace("_", " ")),
            color=alt.Color("choice:N", title=None, legend=alt.Legend(orient="bottom", direction="vertical")),
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
    t = table.with_columns(
        kind=pl.col("verdict").str.extract(r"^(holds|roughly|does not hold|new finding)", 1).fill_null("other")
    )
    return (
        alt.Chart(t)
        .mark_bar()
        .encode(
            y=alt.Y("kind:N", title=None, sort=["holds", "roughly", "does not hold", "new finding", "other"]),
            x=alt.X("count():Q", title="claims"),
            color=alt.Color("seed:N"),
            tooltip=["kind", "seed", "count()"],
        )
        .properties(width=420, height=140)
    )
