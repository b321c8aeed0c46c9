"""Designed experiments: two-level fractional factorials (pydoe) and paired effect estimates (scipy).

A design is a frame with one row per arm and one column of -1/+1 per factor.  The
effect of a factor is mean(y | +) - mean(y | -); the two-factor interaction AB is the
effect of the product column.  Each block (one seed and structure, say) gives its own
contrast from the arms it has, with the same noise draws in every arm (common random
numbers), so the blocks are paired replicates: the estimate is their mean and its
confidence interval is the one-sample t interval over blocks (scipy.stats.ttest_1samp).

In a resolution IV design main effects are free of two-factor interactions, but each
two-factor interaction is aliased with others (same column); `alias_chains` names them
and the interaction table reports each chain once.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
from pydoe import fracfact
from scipy import stats

from ..core.errors import ParameterError


def fractional_factorial(factors: list[str], generators: str) -> pl.DataFrame:
    """Rows = arms, columns = factors (-1/+1), from a pydoe generator string ('a b c d abc ...').

    The letters name the factors in order; the arm index is the row number."""
    columns = fracfact(generators).astype(int)
    if columns.shape[1] != len(factors):
        raise ParameterError(f"the generator {generators!r} makes {columns.shape[1]} columns for {len(factors)} factors")
    frame = pl.DataFrame({f: columns[:, i] for i, f in enumerate(factors)})
    return frame.with_row_index("arm")


def resolution(design: pl.DataFrame, factors: list[str]) -> int:
    """Length of the shortest word of the defining relation, found from the columns themselves:
    the smallest set of factor columns whose product is constant (+1 or -1 on every arm)."""
    X = design.select(factors).to_numpy()
    for k in range(1, len(factors) + 1):
        for combo in itertools.combinations(range(len(factors)), k):
            if np.all(np.abs(X[:, combo].prod(axis=1).sum()) == X.shape[0]):
                return k
    return len(factors) + 1  # full factorial: nothing is confounded


def interaction_columns(design: pl.DataFrame, factors: list[str]) -> dict[str, np.ndarray]:
    """Every two-factor interaction column 'A×B'."""
    return {f"{a}×{b}": design[a].to_numpy() * design[b].to_numpy() for a, b in itertools.combinations(factors, 2)}


def alias_chains(design: pl.DataFrame, factors: list[str]) -> list[list[str]]:
    """Two-factor interactions grouped by identical (or opposite) columns: each group is estimated as one."""
    groups: dict[bytes, list[str]] = {}
    for name, col in interaction_columns(design, factors).items():
        key = (col * col[0]).tobytes()  # sign-normalised
        groups.setdefault(key, []).append(name)
    return list(groups.values())


def paired_effects(
    runs: pl.DataFrame, design: pl.DataFrame, factors: list[str], response: str, blocks: list[str], level: float = 0.95
) -> pl.DataFrame:
    """Main effects and two-factor interactions (one row per alias chain) of `response`.

    `runs` has one row per (arm, block) with the response; each block's contrast is computed from
    the arms it has (a block missing arms is dropped).  Columns: term, aliases, effect, ci_low,
    ci_high, blocks, p (two-sided, paired t test of effect = 0)."""
    n_arms = design.height
    cols = {f: design[f].to_numpy() for f in factors}
    chains = alias_chains(design, factors)
    inter = interaction_columns(design, factors)
    for chain in chains:
        cols[chain[0]] = inter[chain[0]]
    wide = runs.pivot(on="arm", index=blocks, values=response, aggregate_function="first")
    arm_cols = [str(a) for a in range(n_arms)]
    if any(c not in wide.columns for c in arm_cols):
        raise ParameterError(f"the runs do not cover all {n_arms} arms of the design")
    Y = wide.select(arm_cols).to_numpy().astype(float)
    Y = Y[np.isfinite(Y).all(axis=1)]
    rows = []
    for term, col in cols.items():
        contrast = Y[:, col > 0].mean(1) - Y[:, col < 0].mean(1)
        rows.append(_t_row(term, contrast, level) | {"aliases": _aliases(term, chains)})
    return pl.DataFrame(rows).select("term", "aliases", "effect", "ci_low", "ci_high", "blocks", "p")


def paired_difference(a: np.ndarray, b: np.ndarray, term: str, level: float = 0.95) -> dict:
    """Mean of a - b over paired blocks with its t interval (rows with a non-finite value dropped)."""
    d = np.asarray(a, float) - np.asarray(b, float)
    return _t_row(term, d[np.isfinite(d)], level)


def _aliases(term: str, chains: list[list[str]]) -> str:
    for chain in chains:
        if chain[0] == term:
            return " = ".join(chain[1:])
    return ""


def _t_row(term: str, d: np.ndarray, level: float) -> dict:
    n = int(d.size)
    if n < 2 or np.allclose(d, d[0] if n else 0.0):
        m = float(d.mean()) if n else float("nan")
        p = float("nan") if n < 2 else float(m == 0.0)  # no spread: the effect is exact
        return {"term": term, "effect": m, "ci_low": m, "ci_high": m, "blocks": n, "p": p}
    test = stats.ttest_1samp(d, 0.0)
    ci = test.confidence_interval(level)
    return {
        "term": term,
        "effect": float(d.mean()),
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "blocks": n,
        "p": float(test.pvalue),
    }
