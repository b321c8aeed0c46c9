"""Claims of seed 003, the change of the training sigma distribution (v0.9.1: P_mean -1.84, P_std 2.8)."""

from __future__ import annotations

import math

import numpy as np

from ..analysis import gradient
from ..core import edm
from ..core.presets import get_preset
from ..core.sampling import SamplerConfig
from .registry import FAILS, NEW, ROUGHLY, Verdict, by_ratio, claim

P0, P1 = get_preset("pomodoro-v0.9.0"), get_preset("pomodoro-v0.9.1")
SD = P0.sigma_data
Z_MEDIAN = math.log(P0.training_sigma.median / SD)


def last_schedule_level(p) -> float:
    return float(SamplerConfig.from_preset(p).sigmas()[-2])


# --------------------------------------------------------------------------- the problem


@claim("G1", "003", "problem", "Gradient at z = -5 (σ ≈ 0.1) is ~100× stronger than at z = -1.2 (median σ)", 100, "02")
def low_sigma_gradient(a, claimed):
    v = gradient.ratio_at(P0.training_sigma, SD, -5.0, Z_MEDIAN, "p_lambda")
    return by_ratio(v, claimed, a, "p·λ(z=-5) / p·λ(median), v0.9.0 (the seed's 'effective_gradient')")


@claim("G2", "003", "problem", "z = -5 (σ ≈ 0.1)", 0.1, "02")
def sigma_at_z_minus_5(a, claimed):
    return by_ratio(SD * math.exp(-5.0), claimed, a, "σ_data e^z")


@claim("G3", "003", "problem", "Gradient at z = 2 (σ ≈ 120) is ~10,000× weaker", 10_000, "02")
def high_sigma_gradient(a, claimed):
    v = 1 / gradient.ratio_at(P0.training_sigma, SD, 2.0, Z_MEDIAN, "p_lambda")
    return by_ratio(v, claimed, a, "p·λ(median) / p·λ(z=2), v0.9.0")


@claim("G4", "003", "key insight", "λ(σ) · c_out² = 1", 1.0, "02")
def lambda_times_c_out_squared(a, claimed):
    s = np.logspace(-4, 4, 401)
    v = float(np.max(np.abs(edm.loss_weight(s, SD) * edm.c_out(s, SD) ** 2)))
    return by_ratio(v, claimed, a, "max over σ in [1e-4, 1e4] of λ·c_out²")


# --------------------------------------------------------------------------- the fix table


@claim("G5", "003", "fix table", "v0.9.0 effective median σ 4.8 Å", 4.8, "02")
def median_v090(a, claimed):
    return by_ratio(P0.training_sigma.median, claimed, a, "median")


@claim("G6", "003", "fix table", "v0.9.1 effective median σ 2.5 Å", 2.5, "02")
def median_v091(a, claimed):
    return by_ratio(P1.training_sigma.median, claimed, a, "median")


def interval_end(a, claimed, p, end: int) -> Verdict:
    return by_ratio(p.training_sigma.interval(0.95)[end], claimed, a, "central 95 % interval of the log-normal")


@claim("G7", "003", "fix table", "pomodoro-v0.9.0 95% range σ lower end 0.25 Å", 0.25, "02")
def range_v090_lower(a, claimed):
    return interval_end(a, claimed, P0, 0)


@claim("G8", "003", "fix table", "pomodoro-v0.9.0 95% range σ upper end 95 Å", 95, "02")
def range_v090_upper(a, claimed):
    return interval_end(a, claimed, P0, 1)


@claim("G9", "003", "fix table", "pomodoro-v0.9.1 95% range σ lower end 0.06 Å", 0.06, "02")
def range_v091_lower(a, claimed):
    return interval_end(a, claimed, P1, 0)


@claim("G10", "003", "fix table", "pomodoro-v0.9.1 95% range σ upper end 110 Å", 110, "02")
def range_v091_upper(a, claimed):
    return interval_end(a, claimed, P1, 1)


# --------------------------------------------------------------------------- the P_mean formula


@claim("G11", "003", "P_mean formula", "P_mean = ln(sigma_min / sigma_data) + P_std² [= -1.84 for P_std 2.8]", -1.84, "02")
def p_mean_rule(a, claimed):
    return by_ratio(edm.p_mean_for_sigma_min(1e-3, SD, 2.8), claimed, a, "ln(1e-3/16) + 2.8²")


@claim("G12", "003", "P_mean formula", "[the formula] ensures the low-σ CDF tail still reaches sigma_min", None, "02")
def p_mean_rule_reaches_sigma_min(a, claimed):
    v = float(P1.training_sigma.cdf(P1.sigma_min))
    note = f": P(σ<σ_min) = {v:.2%} (= Φ(-P_std)); what the formula does exactly is put the "
    note += f"mode of p(σ) at σ_min (mode = {P1.training_sigma.mode:.2g} Å)"
    return Verdict(ROUGHLY, v, "P(σ < σ_min) under v0.9.1 = Φ(-P_std)", note)


@claim(
    "G11b",
    "003",
    "P_mean formula",
    "P_mean = ln(sigma_min / sigma_data) + P_std² [units: sigma_min = 1e-3 next to sigma_data = 16 Å]",
    -1.84,
    "02",
)
def p_mean_rule_units(a, claimed):
    sigma_min_A = P1.sigma_min * P1.sigma_data
    v = edm.p_mean_for_sigma_min(sigma_min_A, P1.sigma_data, P1.P_std)
    how = f"the same rule with σ_min in Å as the sampler uses it (σ_min·σ_data = {sigma_min_A:g} Å); the seed's -1.84 "
    how += f"puts the mode of p(σ) at 1e-3 Å, {P1.sigma_data:g}x below the smallest sampled σ"
    return Verdict(FAILS, v, how, f" with consistent units: P_mean = {v:.2f}, not {claimed:g}")


# --------------------------------------------------------------------------- log-uniform sigma


@claim(
    "G13",
    "003",
    "log-uniform",
    "Log-uniform with λ(σ) intact would create a cubic singularity (1/σ³) at low σ, making the bias worse",
    None,
    "02",
)
def log_uniform_singularity(a, claimed):
    sigma = SD * np.logspace(-4, 2, 601)  # ln sigma uniform over this range
    p_ln = np.full_like(sigma, 1 / np.log(sigma[-1] / sigma[0]))
    weight_on_F = p_ln * edm.loss_weight(sigma, SD) * edm.c_out(sigma, SD) ** 2
    flatness = float(weight_on_F.max() / weight_on_F.min())
    loss_density = p_ln / sigma * edm.loss_weight(sigma, SD)  # p(σ)·λ(σ) in σ
    slope = float(np.polyfit(np.log(sigma[:50]), np.log(loss_density[:50]), 1)[0])
    how = "weight on F under log-uniform ln σ, p(ln σ)·λ·c_out², max/min over σ in [1e-4, 1e2]·σ_data"
    note = f" for the weight on F (flat in ln σ: max/min {flatness:.6f}, no bias); 1/σ³ is the *loss-value* density "
    note += f"p(σ)·λ in σ (log-log slope {slope:.2f} at low σ), the quantity the seed itself set aside"
    return Verdict(FAILS, flatness, how, note)


# --------------------------------------------------------------------------- what is not changed


@claim(
    "G14",
    "003",
    "what's not changed",
    "sigma_min = 1e-3 ... unchanged [v0.9.1 training below the schedule's last level]",
    None,
    "02",
)
def training_below_last_level(a, claimed):
    v = float(P1.training_sigma.cdf(last_schedule_level(P1)))
    v0 = float(P0.training_sigma.cdf(last_schedule_level(P0)))
    note = f": v0.9.1 spends {v:.1%} of training below the smallest sampled σ (v0.9.0: {v0:.2%})"
    return Verdict(NEW, v, "P(σ < last schedule level) under v0.9.1", note)
