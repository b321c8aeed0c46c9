"""The claims registry: one small named function per claim, each returning a `Verdict`.

    @claim("1b", "000", "pitfall 1", "sc = sqrt(8.2/11.1) * sigma # ≈ 0.86 * sigma", claimed=0.86, notebook="01")
    def chain_share(a: Assumptions, claimed: float) -> Verdict:
        return by_ratio(s_c, claimed, a, "sqrt(w_c/W)")

Each claim quotes its seed and the value it asserts (the claim under test); the
function recomputes it under stated assumptions (`Assumptions`) and judges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.structure import Structure

HOLDS, ROUGHLY, FAILS, NEW = "holds", "roughly", "does not hold", "new finding"
KINDS = (HOLDS, ROUGHLY, FAILS, NEW)


@dataclass(frozen=True)
class Assumptions:
    structure: Structure  # gives atoms per residue and residues per chain
    sampling_sigma: str = "schedule"  # 'schedule': the sampler's first sigma (sigma_max x sigma_data); 'raw': sigma_max
    crop_residues: int = 32  # pitfall 5's crop
    tol_holds: float = 0.05
    tol_roughly: float = 0.35


@dataclass(frozen=True)
class Verdict:
    kind: str  # one of KINDS
    value: float | None  # the recomputed value (None: not measurable on these inputs)
    detail: str  # how it was computed
    note: str = ""  # what qualifies the verdict, with its own leading punctuation: " (off by x2.1)", ": ..."

    @property
    def text(self) -> str:
        return self.kind + self.note


def by_ratio(value: float, claimed: float, a: Assumptions, detail: str, note: str = "") -> Verdict:
    """Holds within tol_holds of the claimed value, roughly within tol_roughly; otherwise off by the factor."""
    extra = f"; {note}" if note else ""
    if claimed == 0 or value == 0:
        return Verdict(HOLDS if value == claimed else FAILS, value, detail, extra)
    r = value / claimed
    err, factor = abs(r - 1), (r if r >= 1 else 1 / r)
    if err <= a.tol_holds:
        return Verdict(HOLDS, value, detail, extra)
    if err <= a.tol_roughly:
        return Verdict(ROUGHLY, value, detail, f" (off by x{factor:.2f}){extra}")
    return Verdict(FAILS, value, detail, f" (off by x{factor:.2g}){extra}")


@dataclass(frozen=True)
class Claim:
    id: str
    seed: str  # the seed document: '000' (the review) or '003' (the training sigma change)
    where: str
    quote: str
    claimed: float | None  # the number the seed asserts, None for a claim with no single number
    notebook: str  # where the question is taken apart
    check: Callable[[Assumptions, float | None], Verdict]


CLAIMS: list[Claim] = []


def claim(cid: str, seed: str, where: str, quote: str, claimed: float | None, notebook: str):
    """Register the decorated function as the check of one claim."""

    def register(check):
        if any(c.id == cid for c in CLAIMS):
            raise ValueError(f"claim {cid} registered twice")
        CLAIMS.append(Claim(cid, seed, where, quote, claimed, notebook, check))
        return check

    return register
