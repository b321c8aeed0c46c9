"""Claims of seed 000, the model authors' review of pomodoro v0.9.0 (pitfalls 1-8)."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..core import edm
from ..core.hierarchy import Hierarchy
from ..core.noise import ISOTROPIC, level_variances
from ..core.presets import get_preset
from ..core.sampling import SamplerConfig
from ..core.structure import contiguous_crop
from ..experiments import loss_balance
from ..experiments.evaluation import residue_swap_error
from ..training.trainer import TrainConfig
from .registry import FAILS, HOLDS, NEW, Assumptions, Verdict, by_ratio, claim

V090, BOLTZ = "pomodoro-v0.9.0", "boltz-2"
P0, PB = get_preset(V090), get_preset(BOLTZ)
W = P0.weights
S_C, S_R, S_A = W.scales()
SD = P0.sigma_data


def rms(a: Assumptions, weights, key: str) -> float:
    """RMS effective sigma / sigma of a level read-out, closed form on the structure."""
    return level_variances(Hierarchy.from_structure(a.structure), weights, 1.0).rms_sigma()[key]


def sampling_sigma(a: Assumptions) -> tuple[float, str]:
    if a.sampling_sigma == "raw":
        return P0.sigma_max, f"σ = σ_max = {P0.sigma_max:g} (as pitfall 1 assumes)"
    return P0.first_sigma, f"σ = the schedule's first level σ_max·σ_data = {P0.first_sigma:g} Å (as pitfall 8 finds)"


def atoms_per_residue(a: Assumptions) -> float:
    return float(a.structure.atoms_per_residue.mean())


def residues_per_chain(a: Assumptions) -> float:
    return float(a.structure.residues_per_chain.mean())


def crop(a: Assumptions):
    return contiguous_crop(a.structure, a.crop_residues, seed=0)


def z_score(p, sigma: float) -> float:
    return (math.log(sigma) - p.training_sigma.mu) / p.P_std


# --------------------------------------------------------------------------- pitfall 1: the weights split sigma


@claim("1a", "000", "pitfall 1", "w_sum = w_c + w_r + w_a # = 11.1", 11.1, "01")
def weight_sum(a, claimed):
    return by_ratio(W.total, claimed, a, "NoiseWeights.total")


@claim("1b", "000", "pitfall 1", "sc = sqrt(8.2/11.1) * sigma # ≈ 0.86 * sigma", 0.86, "01")
def chain_scale(a, claimed):
    return by_ratio(S_C, claimed, a, "sqrt(w_c/W)")


@claim("1c", "000", "pitfall 1", "sr = sqrt(1.6/11.1) * sigma # ≈ 0.38 * sigma", 0.38, "01")
def residue_scale(a, claimed):
    return by_ratio(S_R, claimed, a, "sqrt(w_r/W)")


@claim("1d", "000", "pitfall 1", "sa = sqrt(1.3/11.1) * sigma # ≈ 0.34 * sigma", 0.34, "01")
def atom_scale(a, claimed):
    return by_ratio(S_A, claimed, a, "sqrt(w_a/W)")


@claim("1e", "000", "pitfall 1", "the total residue noise is roughly sqrt(0.38² + 0.86²) * σ ≈ 0.94σ", 0.94, "01")
def total_residue_noise(a, claimed):
    how = "RMS effective σ of residue centroids / σ, closed form on the structure "
    how += f"(includes the atom term s_a²/n, n = {atoms_per_residue(a):.2f})"
    return by_ratio(rms(a, W, "residue"), claimed, a, how)


@claim(
    "1f",
    "000",
    "pitfall 1",
    "the independent residue noise component is only 0.38σ [what moves residues relative to each other]",
    0.38,
    "01",
)
def independent_residue_noise(a, claimed):
    how = "RMS σ of residue centroid relative to its chain centroid / σ; "
    how += f"isotropic noise gives {rms(a, ISOTROPIC, 'residue_vs_chain'):.3f}"
    return by_ratio(rms(a, W, "residue_vs_chain"), claimed, a, how)


def offset_at_sampling(a, claimed, scale: float, level: str) -> Verdict:
    sigma, how = sampling_sigma(a)
    return by_ratio(scale * sigma, claimed, a, f"s_{level[0]} x {how}")


@claim("1g", "000", "pitfall 1 (sampling)", "Chain offset ~ 0.86 * 80 * randn ≈ 68.8 * randn", 68.8, "03")
def chain_offset(a, claimed):
    return offset_at_sampling(a, claimed, S_C, "chain")


@claim("1h", "000", "pitfall 1 (sampling)", "Residue independent offset ~ 0.38 * 80 * randn ≈ 30.4 * randn", 30.4, "03")
def residue_offset(a, claimed):
    return offset_at_sampling(a, claimed, S_R, "residue")


@claim("1i", "000", "pitfall 1 (sampling)", "Atom independent offset ~ 0.34 * 80 * randn ≈ 27.2 * randn", 27.2, "03")
def atom_offset(a, claimed):
    return offset_at_sampling(a, claimed, S_A, "atom")


# --------------------------------------------------------------------------- pitfall 2: raw sigma in per-level preconditioning


@claim("2a", "000", "pitfall 2", "If a residue has ~5 atoms, the residue-level noise variance is σ² / 5, not σ²", 1 / 5, "04")
def residue_variance(a, claimed):
    how = f"Var(residue centroid)/σ² under the reviewed weights (isotropic noise: {rms(a, ISOTROPIC, 'residue') ** 2:.3f})"
    return by_ratio(rms(a, W, "residue") ** 2, claimed, a, how)


@claim("2b", "000", "pitfall 2", "σ_r = σ / sqrt(avg_atoms_per_residue)  [recommended residue σ]", None, "04")
def recommended_residue_sigma(a, claimed):
    formula = 1 / math.sqrt(atoms_per_residue(a))
    how = "effective residue σ / σ under the reviewed weights"
    return by_ratio(rms(a, W, "residue"), formula, a, how, note=f"the formula gives {formula:.3f}")


@claim(
    "2c",
    "000",
    "pitfall 2",
    "The current noise decomposition already gives you sr and sc — use those as the σ for each level's preconditioning",
    S_R,
    "04",
)
def decomposition_gives_residue_sigma(a, claimed):
    return by_ratio(rms(a, W, "residue"), claimed, a, "effective residue σ / σ (the seed's sr is the claimed value)")


@claim(
    "2d",
    "000",
    "pitfall 2",
    "c_skip(σ) is smaller than it should be ... and c_out(σ) is larger [at the residue level]",
    None,
    "04",
)
def c_skip_too_small(a, claimed):
    v = float(edm.c_skip(rms(a, W, "residue") * SD, SD) / edm.c_skip(SD, SD))
    how = "c_skip(σ_r)/c_skip(σ) at σ = σ_data = 16 Å with σ_r the effective residue σ"
    return Verdict(HOLDS if v > 1 else FAILS, v, how, f" in direction; the size is only {100 * (v - 1):.1f} %")


# --------------------------------------------------------------------------- pitfall 3: what the model sees at sigma_max


@claim("3a", "000", "pitfall 3", "at σ_max the model sees c_in(σ_max) * X_noised ≈ (1/81.6) * ...", 1 / 81.6, "03")
def c_in_at_sigma_max(a, claimed):
    sigma, how = sampling_sigma(a)
    return by_ratio(float(edm.c_in(sigma, SD)), claimed, a, "c_in at " + how)


# --------------------------------------------------------------------------- pitfall 5: loss levels summed


@claim("5a", "000", "pitfall 5", "32 residues × ~5 atoms/residue = ~160 atoms", 160, "01")
def atoms_in_crop(a, claimed):
    return by_ratio(float(crop(a).n_atoms), claimed, a, f"atoms in a {a.crop_residues}-residue crop of {a.structure.name}")


@claim("5b", "000", "pitfall 5", "la could dominate lr by 5× [count of terms atoms / residues]", 5, "01")
def atom_residue_count_ratio(a, claimed):
    how = "atoms per residue; note each level loss is a *mean*, so the count of terms "
    how += "does not scale its size (measured magnitudes: notebook 06, training issue)"
    return by_ratio(atoms_per_residue(a), claimed, a, how)


@claim("5c", "000", "pitfall 5", "... and lc by 50× [count of terms atoms / chains]", 50, "01")
def atom_chain_count_ratio(a, claimed):
    c = crop(a)
    return by_ratio(c.n_atoms / c.n_chains, claimed, a, f"atoms / chains in a {a.crop_residues}-residue crop")


LOSS_RATIOS: dict[tuple, dict[str, float]] = {}  # one probe per structure and crop serves claims 5d and 5e


def measured_loss_ratio(a: Assumptions, level: str) -> tuple[float, str]:
    key = (a.structure.name, a.structure.n_atoms, a.crop_residues)
    if key not in LOSS_RATIOS:
        cfg = TrainConfig.from_preset(P0)
        sigmas = loss_balance.training_sigma_grid(cfg, 7)
        LOSS_RATIOS[key] = loss_balance.level_ratios(loss_balance.probe_untrained(crop(a), cfg, sigmas, n=4, with_grad=False))
    how = f"measured: reviewed loss terms of the untrained model (F = 0) on a {a.crop_residues}-residue crop of "
    how += f"{a.structure.name}, geometric mean over 7 training-σ quantiles; trained runs: notebook 06"
    return LOSS_RATIOS[key][f"loss atom/{level}"], how


@claim("5d", "000", "pitfall 5", "la could dominate lr by 5× [measured loss magnitudes]", 5, "06")
def atom_residue_loss_ratio(a, claimed):
    value, how = measured_loss_ratio(a, "residue")
    return by_ratio(value, claimed, a, how)


@claim("5e", "000", "pitfall 5", "... and lc by 50× [measured loss magnitudes]", 50, "06")
def atom_chain_loss_ratio(a, claimed):
    value, how = measured_loss_ratio(a, "chain")
    return by_ratio(value, claimed, a, how)


# --------------------------------------------------------------------------- pitfall 7: empty residue and chain features


@claim(
    "7b",
    "000",
    "pitfall 7",
    "qr = zeros(...) # F=1 → ZEROS; qc = zeros(...); atoms: 30 element types + 1 noise level [no residue identity]",
    None,
    "07",
)
def no_residue_identity(a, claimed):
    v = residue_swap_error(crop(a), "none")
    how = f"measured: untrained reviewed denoiser (random output heads) on a {a.crop_residues}-residue crop of "
    how += f"{a.structure.name}, σ = 16 Å; two residues of one chain and composition swapped; "
    how += "|D(swapped x) − swapped D(x)| / |D − c_skip x|"
    if not np.isfinite(v):
        return Verdict(NEW, None, how, ": not measurable here: no two residues of one chain share their atoms")
    with_id = residue_swap_error(crop(a), "atom")
    note = f": without sequence identity the network cannot tell residues apart (swap error {v:.1e}, against {with_id:.2f} "
    note += "with residue identity on the atoms), so it cannot learn where a given residue goes; "
    note += "measured on trained models in notebook 07 (identity as a factor)"
    return Verdict(NEW, v, how, note)


# --------------------------------------------------------------------------- pitfall 6: one shared c_noise


@claim("6a", "000", "pitfall 6", "The atom level has effective variance σ_a² + σ_r²/n_a + σ_c²/(n_a·n_r)", None, "04")
def atom_variance(a, claimed):
    n_a, n_r = atoms_per_residue(a), residues_per_chain(a)
    formula = S_A**2 + S_R**2 / n_a + S_C**2 / (n_a * n_r)
    how = "Var(atom)/σ², closed form: s_a² + s_r² + s_c² = 1 (broadcast copies, it does not average)"
    return by_ratio(rms(a, W, "atom") ** 2, formula, a, how, note=f"the formula gives {formula:.3f}")


@claim("6b", "000", "pitfall 6", "the residue level has σ_r² + σ_c²/n_r", None, "04")
def residue_level_variance(a, claimed):
    formula = S_R**2 + S_C**2 / residues_per_chain(a)
    how = "Var(residue centroid)/σ², closed form: s_a²/n_a + s_r² + s_c²"
    return by_ratio(rms(a, W, "residue") ** 2, formula, a, how, note=f"the formula gives {formula:.3f}")


# --------------------------------------------------------------------------- pitfall 8: the schedule starts outside training


@claim("8a", "000", "pitfall 8", "The median training σ is 16 * exp(-1.2) ≈ 4.8", 4.8, "02")
def median_training_sigma(a, claimed):
    return by_ratio(P0.training_sigma.median, claimed, a, "LogNormalSigma.median of pomodoro-v0.9.0")


@claim("8b", "000", "pitfall 8", "the schedule goes from 80 * 16 = 1280 ...", 1280, "03")
def schedule_start(a, claimed):
    return by_ratio(float(SamplerConfig.from_preset(P0).sigmas()[0]), claimed, a, "SamplerConfig.sigmas()[0] of pomodoro-v0.9.0")


@claim("8c", "000", "pitfall 8", "... down to 1e-3 * 16 = 0.016", 0.016, "03")
def schedule_end(a, claimed):
    return by_ratio(float(SamplerConfig.from_preset(P0).sigmas()[-2]), claimed, a, "last non-zero level of the schedule")


@claim("8d", "000", "pitfall 8", "a 3σ event gives 16 * exp(-1.2 + 4.5) ≈ 434", 434, "02")
def three_sigma_event(a, claimed):
    return by_ratio(float(P0.training_sigma.quantile(special.ndtr(3.0))), claimed, a, "training quantile at Φ(3)")


@claim("8e", "000", "pitfall 8", "c_skip(1280) * X_noised ≈ 0.0002 * X_noised", 0.0002, "03")
def c_skip_at_1280(a, claimed):
    return by_ratio(float(edm.c_skip(1280.0, SD)), claimed, a, "c_skip(1280; σ_data 16)")


@claim("8f", "000", "pitfall 8", "Boltz's sigma_max=160 with sigma_data=16 gives schedule max = 2560", 2560, "03")
def boltz_schedule_start(a, claimed):
    return by_ratio(PB.first_sigma, claimed, a, "first level of the boltz-2 schedule")


@claim("8g", "000", "pitfall 8", "Boltz trains with σ = σ_data * exp(...) which can reach these values at 3σ+ events", 3.0, "03")
def boltz_start_z(a, claimed):
    return by_ratio(z_score(PB, PB.first_sigma), claimed, a, "z-score of the schedule max under Boltz's training log-normal")


@claim(
    "8h",
    "000",
    "pitfall 8",
    "Lower sigma_max to something like 10 so the schedule max is 10 * 16 = 160, which is reachable in training",
    None,
    "03",
)
def lower_sigma_max(a, claimed):
    v = float(P0.training_sigma.sf(160.0))
    note = f": {v:.2%} of training draws exceed it (z = {z_score(P0, 160.0):.2f})"
    return Verdict(HOLDS, v, "P(σ > 160 Å) under the v0.9.0 training distribution", note)
