"""An audit of every checkable claim in the two seed documents.

The claims live in `seed000.py` (the review) and `seed003.py` (the training sigma
change), one function each, registered in `registry.CLAIMS`; `audit` runs them all
under the caller's assumptions and tabulates quote, claimed value, recomputed value,
how it was computed and the verdict.
"""

from __future__ import annotations

import polars as pl

from . import seed000, seed003  # noqa: F401  (importing registers the claims)
from .registry import CLAIMS, FAILS, HOLDS, KINDS, NEW, ROUGHLY, Assumptions, Verdict, by_ratio

__all__ = ["CLAIMS", "FAILS", "HOLDS", "KINDS", "NEW", "ROUGHLY", "Assumptions", "Verdict", "audit", "by_ratio", "verdict_counts"]


def audit(a: Assumptions) -> pl.DataFrame:
    rows = []
    for c in CLAIMS:
        v = c.check(a, c.claimed)
        rows.append(
            {
                "id": c.id,
                "seed": c.seed,
                "where": c.where,
                "claim": c.quote,
                "claimed": c.claimed,
                "computed": None if v.value is None else float(v.value),
                "how": v.detail,
                "kind": v.kind,
                "verdict": v.text,
                "notebook": c.notebook,
            }
        )
    return pl.DataFrame(rows)


def verdict_counts(table: pl.DataFrame) -> dict[str, int]:
    """Claims per verdict kind, every kind listed."""
    return {k: int((table["kind"] == k).sum()) for k in KINDS}
