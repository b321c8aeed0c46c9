"""An audit of every checkable claim in the two seed documents.

Each claim quotes the seed and the value it asserts (the *claim under test*); the
value next to it is recomputed by pomodoro_core under stated assumptions, which the
caller can change (`Assumptions`).  Verdicts compare the two.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special

from ..analysis import gradient
from ..core import edm
from ..core.hierarchy import Hierarchy
from ..core.noise import ISOTROPIC, level_variances
from ..core.presets import get_preset
from ..core.structure import Structure, contiguous_crop

HOLDS, ROUGHLY, FAILS, QUALITATIVE = "holds", "roughly", "does not hold", "needs data"


@dataclass(frozen=True)
class Assumptions:
    structure: Structure  # gives atoms per residue and residues per chain
    sampling_sigma: str = "schedule"  # 'schedule': the sampler's first sigma (sigma_max x sigma_data); 'raw': sigma_max
    crop_residues: int = 32  # pitfall 5's crop
    tol_holds: float = 0.05
    tol_roughly: float = 0.35


@dataclass(frozen=True)
class Claim:
    id: str
    seed: str
    where: str
    quote: str
    claimed: float | None  # the number the seed asserts, None for a claim with no single number
    compute: Callable[[Assumptions], tuple[float, str]]  # -> (value, how it was computed)
    notebook: str
    judge: Callable[[float, float | None, Assumptions], str] | None = None


def verdict(value: float, claimed: float, a: Assumptions) -> str:
    if claimed == 0 or value == 0:
        return HOLDS if value == claimed else f"{FAILS}"
    r = value / claimed
    err = abs(r - 1)
    if err <= a.tol_holds:
        return HOLDS
    factor = r if r >= 1 else 1 / r
    if err <= a.tol_roughly:
        return f"{ROUGHLY} (off by x{factor:.2f})"
    return f"{FAILS} (off by x{factor:.2g})"


# --------------------------------------------------------------------------- helpers

V090, V091, BOLTZ = "pomodoro-v0.9.0", "pomodoro-v0.9.1", "boltz-2"


def _rms(a: Assumptions, weights, key: str) -> float:
    return level_variances(Hierarchy.from_structure(a.structure), weights, 1.0).rms_sigma()[key]


def _sampling_sigma(a: Assumptions) -> tuple[float, str]:
    p = get_preset(V090)
    if a.sampling_sigma == "raw":
        return p.sigma_max, f"σ = σ_max = {p.sigma_max:g} (as pitfall 1 assumes)"
    return p.first_sigma, f"σ = the schedule's first level σ_max·σ_data = {p.first_sigma:g} Å (as pitfall 8 finds)"


def _n_atoms(a: Assumptions) -> float:
    return float(a.structure.atoms_per_residue.mean())


def _n_res(a: Assumptions) -> float:
    return float(a.structure.residues_per_chain.mean())


def _z_of(p, sigma: float) -> float:
    return (math.log(sigma) - p.training_sigma.mu) / p.P_std


# --------------------------------------------------------------------------- the claims


def _claims() -> list[Claim]:
    w = get_preset(V090).weights
    s_c, s_r, s_a = w.scales()
    p0, p1, pb = get_preset(V090), get_preset(V091), get_preset(BOLTZ)
    C: list[Claim] = []
    add = C.append

    add(
        Claim("1a", "000", "pitfall 1", "w_sum = w_c + w_r + w_a # = 11.1", 11.1, lambda a: (w.total, "NoiseWeights.total"), "01")
    )
    add(
        Claim(
            "1b", "000", "pitfall 1", "sc = sqrt(8.2/11.1) * sigma # ≈ 0.86 * sigma", 0.86, lambda a: (s_c, "sqrt(w_c/W)"), "01"
        )
    )
    add(
        Claim(
            "1c", "000", "pitfall 1", "sr = sqrt(1.6/11.1) * sigma # ≈ 0.38 * sigma", 0.38, lambda a: (s_r, "sqrt(w_r/W)"), "01"
        )
    )
    add(
        Claim(
            "1d", "000", "pitfall 1", "sa = sqrt(1.3/11.1) * sigma # ≈ 0.34 * sigma", 0.34, lambda a: (s_a, "sqrt(w_a/W)"), "01"
        )
    )
    add(
        Claim(
            "1e",
            "000",
            "pitfall 1",
            "the total residue noise is roughly sqrt(0.38² + 0.86²) * σ ≈ 0.94σ",
            0.94,
            lambda a: (
                _rms(a, w, "residue"),
                "RMS effective σ of residue centroids / σ, closed form on the structure "
                f"(includes the atom term s_a²/n, n = {_n_atoms(a):.2f})",
            ),
            "01",
        )
    )
    add(
        Claim(
            "1f",
            "000",
            "pitfall 1",
            "the independent residue noise component is only 0.38σ [what moves residues relative to each other]",
            0.38,
            lambda a: (
                _rms(a, w, "residue_vs_chain"),
                "RMS σ of residue centroid relative to its chain centroid / σ; "
                f"isotropic noise gives {_rms(a, ISOTROPIC, 'residue_vs_chain'):.3f}",
            ),
            "01",
        )
    )
    for cid, lvl, s_l, quote, claimed in (
        ("1g", "chain", s_c, "Chain offset ~ 0.86 * 80 * randn ≈ 68.8 * randn", 68.8),
        ("1h", "residue", s_r, "Residue independent offset ~ 0.38 * 80 * randn ≈ 30.4 * randn", 30.4),
        ("1i", "atom", s_a, "Atom independent offset ~ 0.34 * 80 * randn ≈ 27.2 * randn", 27.2),
    ):
        add(
            Claim(
                cid,
                "000",
                "pitfall 1 (sampling)",
                quote,
                claimed,
                lambda a, s_l=s_l, lvl=lvl: (s_l * _sampling_sigma(a)[0], f"s_{lvl[0]} x {_sampling_sigma(a)[1]}"),
                "03",
            )
        )
    add(
        Claim(
            "2a",
            "000",
            "pitfall 2",
            "If a residue has ~5 atoms, the residue-level noise variance is σ² / 5, not σ²",
            1 / 5,
            lambda a: (
                _rms(a, w, "residue") ** 2,
                f"Var(residue centroid)/σ² under the reviewed weights (isotropic noise: "
                f"{_rms(a, ISOTROPIC, 'residue') ** 2:.3f})",
            ),
            "04",
        )
    )
    add(
        Claim(
            "2b",
            "000",
            "pitfall 2",
            "σ_r = σ / sqrt(avg_atoms_per_residue)  [recommended residue σ]",
            None,
            lambda a: (_rms(a, w, "residue"), "effective residue σ / σ under the reviewed weights"),
            "04",
            judge=lambda v, c, a: (
                verdict(v, 1 / math.sqrt(_n_atoms(a)), a) + f"; the formula gives {1 / math.sqrt(_n_atoms(a)):.3f}"
            ),
        )
    )
    add(
        Claim(
            "2c",
            "000",
            "pitfall 2",
            "The current noise decomposition already gives you sr and sc — use those as the σ for each level's preconditioning",
            s_r,
            lambda a: (_rms(a, w, "residue"), "effective residue σ / σ (the seed's sr is the claimed value)"),
            "04",
        )
    )
    add(
        Claim(
            "2d",
            "000",
            "pitfall 2",
            "c_skip(σ) is smaller than it should be ... and c_out(σ) is larger [at the residue level]",
            None,
            lambda a: (
                float(edm.c_skip(_rms(a, w, "residue") * 16.0, 16.0) / edm.c_skip(16.0, 16.0)),
                "c_skip(σ_r)/c_skip(σ) at σ = σ_data = 16 Å with σ_r the effective residue σ",
            ),
            "04",
            judge=lambda v, c, a: (HOLDS if v > 1 else FAILS) + f" in direction; the size is only {100 * (v - 1):.1f} %",
        )
    )
    add(
        Claim(
            "3a",
            "000",
            "pitfall 3",
            "at σ_max the model sees c_in(σ_max) * X_noised ≈ (1/81.6) * ...",
            1 / 81.6,
            lambda a: (float(edm.c_in(_sampling_sigma(a)[0], 16.0)), "c_in at " + _sampling_sigma(a)[1]),
            "03",
        )
    )
    add(
        Claim(
            "5a",
            "000",
            "pitfall 5",
            "32 residues × ~5 atoms/residue = ~160 atoms",
            160,
            lambda a: (
                float(contiguous_crop(a.structure, a.crop_residues, seed=0).n_atoms),
                f"atoms in a {a.crop_residues}-residue crop of {a.structure.name}",
            ),
            "01",
        )
    )
    add(
        Claim(
            "5b",
            "000",
            "pitfall 5",
            "la could dominate lr by 5× [count of terms atoms / residues]",
            5,
            lambda a: (
                _n_atoms(a),
                "atoms per residue; note each level loss is a *mean*, so the count of terms "
                "does not scale its size (measured magnitudes: notebook 06, training issue)",
            ),
            "01",
        )
    )
    add(
        Claim(
            "5c",
            "000",
            "pitfall 5",
            "... and lc by 50× [count of terms atoms / chains]",
            50,
            lambda a: (
                (lambda c: c.n_atoms / c.n_chains)(contiguous_crop(a.structure, a.crop_residues, seed=0)),
                f"atoms / chains in a {a.crop_residues}-residue crop",
            ),
            "01",
        )
    )

    _ratio_cache: dict = {}

    def _measured_ratio(a: Assumptions, level: str) -> tuple[float, str]:
        from ..experiments import loss_balance
        from ..training.trainer import TrainConfig

        key = (a.structure.name, a.structure.n_atoms, a.crop_residues)
        if key not in _ratio_cache:  # one probe per structure and crop serves both claims
            crop = contiguous_crop(a.structure, a.crop_residues, seed=0)
            cfg = TrainConfig.from_preset(p0)
            probe = loss_balance.probe_untrained(crop, cfg, loss_balance.training_sigma_grid(cfg, 7), n=4, with_grad=False)
            _ratio_cache[key] = loss_balance.level_ratios(probe)
        return _ratio_cache[key][f"loss atom/{level}"], (
            f"measured: reviewed loss terms of the untrained model (F = 0) on a {a.crop_residues}-residue crop of "
            f"{a.structure.name}, geometric mean over 7 training-σ quantiles; trained runs: notebook 06"
        )

    add(
        Claim(
            "5d",
            "000",
            "pitfall 5",
            "la could dominate lr by 5× [measured loss magnitudes]",
            5,
            lambda a: _measured_ratio(a, "residue"),
            "06",
        )
    )
    add(
        Claim(
            "5e",
            "000",
            "pitfall 5",
            "... and lc by 50× [measured loss magnitudes]",
            50,
            lambda a: _measured_ratio(a, "chain"),
            "06",
        )
    )

    def _swap_error(a: Assumptions) -> tuple[float, str]:
        from ..experiments.evaluation import residue_swap_error

        crop = contiguous_crop(a.structure, a.crop_residues, seed=0)
        return residue_swap_error(crop, "none"), (
            f"measured: untrained reviewed denoiser (random output heads) on a {a.crop_residues}-residue crop of "
            f"{a.structure.name}, σ = 16 Å; two residues of one chain and composition swapped; "
            "|D(swapped x) − swapped D(x)| / |D − c_skip x|"
        )

    def _swap_judge(v: float, c, a: Assumptions) -> str:
        from ..experiments.evaluation import residue_swap_error

        if not np.isfinite(v):
            return "new finding (not measurable here: no two residues of one chain share their atoms)"
        with_id = residue_swap_error(contiguous_crop(a.structure, a.crop_residues, seed=0), "atom")
        return (
            f"new finding: without sequence identity the network cannot tell residues apart (swap error {v:.1e}, "
            f"against {with_id:.2f} with residue identity on the atoms), so it cannot learn where a given residue goes; "
            "measured on trained models in notebook 07 (identity as a factor)"
        )

    add(
        Claim(
            "7b",
            "000",
            "pitfall 7",
            "qr = zeros(...) # F=1 → ZEROS; qc = zeros(...); atoms: 30 element types + 1 noise level [no residue identity]",
            None,
            _swap_error,
            "07",
            judge=_swap_judge,
        )
    )
    add(
        Claim(
            "6a",
            "000",
            "pitfall 6",
            "The atom level has effective variance σ_a² + σ_r²/n_a + σ_c²/(n_a·n_r)",
            None,
            lambda a: (
                _rms(a, w, "atom") ** 2,
                "Var(atom)/σ², closed form: s_a² + s_r² + s_c² = 1 (broadcast copies, it does not average)",
            ),
            "04",
            judge=lambda v, c, a: (
                verdict(v, s_a**2 + s_r**2 / _n_atoms(a) + s_c**2 / (_n_atoms(a) * _n_res(a)), a)
                + f"; the formula gives {s_a**2 + s_r**2 / _n_atoms(a) + s_c**2 / (_n_atoms(a) * _n_res(a)):.3f}"
            ),
        )
    )
    add(
        Claim(
            "6b",
            "000",
            "pitfall 6",
            "the residue level has σ_r² + σ_c²/n_r",
            None,
            lambda a: (_rms(a, w, "residue") ** 2, "Var(residue centroid)/σ², closed form: s_a²/n_a + s_r² + s_c²"),
            "04",
            judge=lambda v, c, a: (
                verdict(v, s_r**2 + s_c**2 / _n_res(a), a) + f"; the formula gives {s_r**2 + s_c**2 / _n_res(a):.3f}"
            ),
        )
    )
    add(
        Claim(
            "8a",
            "000",
            "pitfall 8",
            "The median training σ is 16 * exp(-1.2) ≈ 4.8",
            4.8,
            lambda a: (p0.training_sigma.median, "LogNormalSigma.median of pomodoro-v0.9.0"),
            "02",
        )
    )
    add(
        Claim(
            "8b",
            "000",
            "pitfall 8",
            "the schedule goes from 80 * 16 = 1280 ...",
            1280,
            lambda a: (float(p0.schedule()[0]), "karras_sigmas(...)[0] of pomodoro-v0.9.0"),
            "03",
        )
    )
    add(
        Claim(
            "8c",
            "000",
            "pitfall 8",
            "... down to 1e-3 * 16 = 0.016",
            0.016,
            lambda a: (float(p0.schedule()[-2]), "last non-zero level of the schedule"),
            "03",
        )
    )
    add(
        Claim(
            "8d",
            "000",
            "pitfall 8",
            "a 3σ event gives 16 * exp(-1.2 + 4.5) ≈ 434",
            434,
            lambda a: (float(p0.training_sigma.quantile(special.ndtr(3.0))), "training quantile at Φ(3)"),
            "02",
        )
    )
    add(
        Claim(
            "8e",
            "000",
            "pitfall 8",
            "c_skip(1280) * X_noised ≈ 0.0002 * X_noised",
            0.0002,
            lambda a: (float(edm.c_skip(1280.0, 16.0)), "c_skip(1280; σ_data 16)"),
            "03",
        )
    )
    add(
        Claim(
            "8f",
            "000",
            "pitfall 8",
            "Boltz's sigma_max=160 with sigma_data=16 gives schedule max = 2560",
            2560,
            lambda a: (pb.first_sigma, "first level of the boltz-2 schedule"),
            "03",
        )
    )
    add(
        Claim(
            "8g",
            "000",
            "pitfall 8",
            "Boltz trains with σ = σ_data * exp(...) which can reach these values at 3σ+ events",
            3.0,
            lambda a: (_z_of(pb, pb.first_sigma), "z-score of the schedule max under Boltz's training log-normal"),
            "03",
        )
    )
    add(
        Claim(
            "8h",
            "000",
            "pitfall 8",
            "Lower sigma_max to something like 10 so the schedule max is 10 * 16 = 160, which is reachable in training",
            None,
            lambda a: (float(p0.training_sigma.sf(160.0)), "P(σ > 160 Å) under the v0.9.0 training distribution"),
            "03",
            judge=lambda v, c, a: f"{HOLDS}: {v:.2%} of training draws exceed it (z = {_z_of(p0, 160.0):.2f})",
        )
    )
    # ---- seed 003
    z_med = math.log(p0.training_sigma.median / 16.0)
    add(
        Claim(
            "G1",
            "003",
            "problem",
            "Gradient at z = -5 (σ ≈ 0.1) is ~100× stronger than at z = -1.2 (median σ)",
            100,
            lambda a: (
                gradient.ratio_at(p0.training_sigma, 16.0, -5.0, z_med, "p_lambda"),
                "p·λ(z=-5) / p·λ(median), v0.9.0 (the seed's 'effective_gradient')",
            ),
            "02",
        )
    )
    add(Claim("G2", "003", "problem", "z = -5 (σ ≈ 0.1)", 0.1, lambda a: (16.0 * math.exp(-5.0), "σ_data e^z"), "02"))
    add(
        Claim(
            "G3",
            "003",
            "problem",
            "Gradient at z = 2 (σ ≈ 120) is ~10,000× weaker",
            10_000,
            lambda a: (1 / gradient.ratio_at(p0.training_sigma, 16.0, 2.0, z_med, "p_lambda"), "p·λ(median) / p·λ(z=2), v0.9.0"),
            "02",
        )
    )
    add(
        Claim(
            "G4",
            "003",
            "key insight",
            "λ(σ) · c_out² = 1",
            1.0,
            lambda a: (
                float(np.max(np.abs(edm.loss_weight(s := np.logspace(-4, 4, 401), 16.0) * edm.c_out(s, 16.0) ** 2))),
                "max over σ in [1e-4, 1e4] of λ·c_out²",
            ),
            "02",
        )
    )
    add(
        Claim(
            "G5", "003", "fix table", "v0.9.0 effective median σ 4.8 Å", 4.8, lambda a: (p0.training_sigma.median, "median"), "02"
        )
    )
    add(
        Claim(
            "G6", "003", "fix table", "v0.9.1 effective median σ 2.5 Å", 2.5, lambda a: (p1.training_sigma.median, "median"), "02"
        )
    )
    for cid, p, end, claimed in (("G7", p0, 0, 0.25), ("G8", p0, 1, 95), ("G9", p1, 0, 0.06), ("G10", p1, 1, 110)):
        add(
            Claim(
                cid,
                "003",
                "fix table",
                f"{p.name} 95% range σ {'lower' if end == 0 else 'upper'} end {claimed:g} Å",
                claimed,
                lambda a, p=p, end=end: (p.training_sigma.interval(0.95)[end], "central 95 % interval of the log-normal"),
                "02",
            )
        )
    add(
        Claim(
            "G11",
            "003",
            "P_mean formula",
            "P_mean = ln(sigma_min / sigma_data) + P_std² [= -1.84 for P_std 2.8]",
            -1.84,
            lambda a: (edm.p_mean_for_sigma_min(1e-3, 16.0, 2.8), "ln(1e-3/16) + 2.8²"),
            "02",
        )
    )
    add(
        Claim(
            "G12",
            "003",
            "P_mean formula",
            "[the formula] ensures the low-σ CDF tail still reaches sigma_min",
            None,
            lambda a: (float(p1.training_sigma.cdf(p1.sigma_min)), "P(σ < σ_min) under v0.9.1 = Φ(-P_std)"),
            "02",
            judge=lambda v, c, a: (
                f"{ROUGHLY}: P(σ<σ_min) = {v:.2%} (= Φ(-P_std)); what the formula does exactly is put the "
                f"mode of p(σ) at σ_min (mode = {p1.training_sigma.mode:.2g} Å)"
            ),
        )
    )
    add(
        Claim(
            "G11b",
            "003",
            "P_mean formula",
            "P_mean = ln(sigma_min / sigma_data) + P_std² [units: sigma_min = 1e-3 next to sigma_data = 16 Å]",
            -1.84,
            lambda a: (
                edm.p_mean_for_sigma_min(p1.sigma_min * p1.sigma_data, p1.sigma_data, p1.P_std),
                "the same rule with σ_min in Å as the sampler uses it (σ_min·σ_data = "
                f"{p1.sigma_min * p1.sigma_data:g} Å); the seed's -1.84 puts the mode of p(σ) at 1e-3 Å, "
                f"{p1.sigma_data:g}x below the smallest sampled σ",
            ),
            "02",
            judge=lambda v, c, a: f"{FAILS} with consistent units: P_mean = {v:.2f}, not {c:g}",
        )
    )
    add(
        Claim(
            "G13",
            "003",
            "log-uniform",
            "Log-uniform with λ(σ) intact would create a cubic singularity (1/σ³) at low σ, making the bias worse",
            None,
            lambda a: (1.0, "weight on F under log-uniform ln σ: p(z)·λ·c_out² = const, so the ratio between any two σ is 1"),
            "02",
            judge=lambda v, c, a: (
                f"{FAILS} for the weight on F (flat in ln σ: no bias); 1/σ³ is the *loss-value* density "
                "p(σ)·λ in σ, the quantity the seed itself set aside"
            ),
        )
    )
    add(
        Claim(
            "G14",
            "003",
            "what's not changed",
            "sigma_min = 1e-3 ... unchanged [v0.9.1 training below the schedule's last level]",
            None,
            lambda a: (float(p1.training_sigma.cdf(float(p1.schedule()[-2]))), "P(σ < last schedule level) under v0.9.1"),
            "02",
            judge=lambda v, c, a: (
                f"new finding: v0.9.1 spends {v:.1%} of training below the smallest sampled σ "
                f"(v0.9.0: {float(p0.training_sigma.cdf(float(p0.schedule()[-2]))):.2%})"
            ),
        )
    )
    return C


CLAIMS = _claims()


def audit(a: Assumptions) -> pl.DataFrame:
    rows = []
    for c in CLAIMS:
        value, how = c.compute(a)
        v = c.judge(value, c.claimed, a) if c.judge else verdict(value, c.claimed, a)
        rows.append(
            {
                "id": c.id,
                "seed": c.seed,
                "where": c.where,
                "claim": c.quote,
                "claimed": c.claimed,
                "computed": float(value),
                "how": how,
                "verdict": v,
                "notebook": c.notebook,
            }
        )
    return pl.DataFrame(rows)


def verdict_kind(text: str) -> str:
    """holds / roughly / does not hold / other, from a verdict's opening words."""
    for kind in (FAILS, ROUGHLY, HOLDS):
        if text.startswith(kind):
            return kind
    return "other"


def verdict_counts(table: pl.DataFrame) -> dict[str, int]:
    out = {HOLDS: 0, ROUGHLY: 0, FAILS: 0, "other": 0}
    for v in table["verdict"]:
        out[verdict_kind(v)] += 1
    return out
