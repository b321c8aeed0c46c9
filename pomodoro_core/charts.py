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
