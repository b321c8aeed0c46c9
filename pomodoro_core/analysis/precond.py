"""Pitfalls 2 and 6: which sigma (and sigma_data) should precondition each level?

At level l (atoms, residue centroids, chain centroids) the network sees
c_in x_l,noisy and is trained towards (x_l - c_skip x_l,noisy) / c_out.  EDM chooses
c_in, c_skip, c_out so both have unit variance *when the c's are evaluated at the
level's true noise sigma_l and data scale s_l*.  With data second moment s_l^2 and
noise variance sigma_l^2 at the level, and c's evaluated at (sigma', sigma_data'):

    Var[c_in x_noisy] = c_in^2 (s_l^2 + sigma_l^2)
    Var[F target]    = ((1 - c_skip)^2 s_l^2 + c_skip^2 sigma_l^2) / c_out^2
"""

from __future__ import annotations

import numpy as np
import polars as pl
import torch

from ..core import edm
from ..core.hierarchy import LEVELS, Hierarchy
from ..core.noise import ComponentGrams, NoiseWeights, level_noise_factors, sample_component_grams
from ..core.structure import Structure

CHOICES = {
    "raw σ, preset σ_data (as reviewed)": ("raw", "preset"),
    "effective σ_l, preset σ_data (review's fix)": ("effective", "preset"),
    "effective σ_l, level σ_data": ("effective", "level"),
}


def level_coordinates(structure: Structure, dtype=torch.float64) -> dict[str, torch.Tensor]:
    """Clean coordinates at each level, centred on the complex centroid: (1, units, 3)."""
    h = Hierarchy.from_structure(structure)
    x = torch.as_tensor(structure.coords, dtype=dtype).unsqueeze(0)
    r = h.residue_centroids(x)
    c = h.chain_centroids(r)
    center = h.complex_centroid(c)
    return {"atom": x - center, "residue": r - center, "chain": c - center}


def level_sigma_data(structure: Structure) -> dict[str, float]:
    """Measured per-coordinate RMS of each level's coordinates about the complex centroid."""
    return {k: float(torch.sqrt((v**2).mean())) for k, v in level_coordinates(structure).items()}


def defined_levels(structure: Structure) -> tuple[str, ...]:
    """The levels with something to precondition: a level whose units all sit at the complex centroid
    (one chain: its centroid *is* the complex centroid, removed by centring; one residue: likewise) has
    zero data scale, and c_skip, c_out, c_in are undefined there.  Such a level is left out, and said so."""
    sd = level_sigma_data(structure)
    return tuple(lvl for lvl in LEVELS if sd[lvl] > 1e-6)


def skipped_levels_note(structure: Structure) -> str:
    """'' or one sentence naming the levels `defined_levels` leaves out and why."""
    skipped = [lvl for lvl in LEVELS if lvl not in defined_levels(structure)]
    if not skipped:
        return ""
    return (
        f"{structure.name} has {structure.n_chains} chain(s) and {structure.n_residues} residue(s): the "
        f"{' and '.join(skipped)} level(s) sit at the complex centroid (data scale 0), so they carry nothing to "
        "precondition and are left out."
    )


def level_noise_factor(structure: Structure, weights: NoiseWeights) -> dict[str, float]:
    """sigma_l / sigma: RMS effective noise of each level's absolute positions."""
    return level_noise_factors(Hierarchy.from_structure(structure), weights, "absolute")


def criterion(sigma_eval, sd_eval, sigma_true, s_data):
    """(Var[c_in x_noisy], Var[F target]) with c's at (sigma_eval, sd_eval), truth (sigma_true, s_data)."""
    cin, cs, co = edm.c_in(sigma_eval, sd_eval), edm.c_skip(sigma_eval, sd_eval), edm.c_out(sigma_eval, sd_eval)
    var_in = cin**2 * (s_data**2 + sigma_true**2)
    var_t = ((1 - cs) ** 2 * s_data**2 + cs**2 * sigma_true**2) / co**2
    return var_in, var_t


def _eval_point(choice: str, sigma, lvl: str, factor: dict, sd_level: dict, sigma_data: float):
    how_sigma, how_sd = CHOICES[choice]
    s_eval = sigma if how_sigma == "raw" else factor[lvl] * sigma
    sd_eval = sigma_data if how_sd == "preset" else sd_level[lvl]
    return s_eval, sd_eval


def criterion_curves(structure: Structure, weights: NoiseWeights, sigma_data: float, sigmas: np.ndarray) -> pl.DataFrame:
    """Closed-form Var[c_in x_noisy] and Var[F target] per level, choice and sigma."""
    factor, sd_level = level_noise_factor(structure, weights), level_sigma_data(structure)
    rows = []
    for lvl in defined_levels(structure):
        true_sigma = factor[lvl] * sigmas
        for choice in CHOICES:
            s_eval, sd_eval = _eval_point(choice, sigmas, lvl, factor, sd_level, sigma_data)
            v_in, v_t = criterion(s_eval, sd_eval, true_sigma, sd_level[lvl])
            rows.append(pl.DataFrame({"level": lvl, "choice": choice, "sigma": sigmas, "var_c_in_x": v_in, "var_F_target": v_t}))
    return pl.concat(rows)


def criterion_monte_carlo(
    structure: Structure,
    weights: NoiseWeights,
    sigma_data: float,
    sigmas: np.ndarray,
    n_samples: int = 256,
    seed: int = 0,
    grams: ComponentGrams | None = None,
) -> pl.DataFrame:
    """The same variances measured on sampled multiscale noise of the real structure.

    Uses the sampled component moments (`sample_component_grams`, cacheable per structure):
    with eps = sum_k s_k E_k, the sample means of (c_in (x + eps))^2 and ((x - c_skip (x + eps)) / c_out)^2
    expand exactly into x^2, the sampled cross terms x . mean(E_k) and the sampled Gram s^T G s.
    """
    h = Hierarchy.from_structure(structure)
    grams = grams or sample_component_grams(h, n_samples, seed)
    factor, sd_level = level_noise_factor(structure, weights), level_sigma_data(structure)
    clean = {k: v[0].numpy() for k, v in level_coordinates(structure).items()}
    scales = np.asarray(weights.scales())
    levels = defined_levels(structure)
    rows = []
    for sigma in sigmas:
        s = scales * float(sigma)
        for lvl in levels:
            x = clean[lvl]  # (units, 3)
            xx = float((x**2).mean())
            xe = float(np.einsum("ux,uxk,k->", x, grams.means[lvl], s) / x.size)  # mean of x * eps
            ee = float(np.einsum("k,ukl,l->u", s, grams.grams[lvl], s).mean())  # mean of eps^2
            for choice in CHOICES:
                s_eval, sd_eval = _eval_point(choice, float(sigma), lvl, factor, sd_level, sigma_data)
                cin, cs, co = edm.c_in(s_eval, sd_eval), edm.c_skip(s_eval, sd_eval), edm.c_out(s_eval, sd_eval)
                rows.append(
                    {
                        "level": lvl,
                        "choice": choice,
                        "sigma": float(sigma),
                        "var_c_in_x_mc": cin**2 * (xx + 2 * xe + ee),
                        "var_F_target_mc": ((1 - cs) ** 2 * xx - 2 * (1 - cs) * cs * xe + cs**2 * ee) / co**2,
                    }
                )
    return pl.DataFrame(rows)


def level_summary(structure: Structure, weights: NoiseWeights, sigma_data: float, sigma: float) -> pl.DataFrame:
    """Per level at one sigma: effective sigma, measured sigma_data, c's raw vs effective, c_noise needed."""
    factor, sd_level = level_noise_factor(structure, weights), level_sigma_data(structure)
    rel = level_noise_factors(Hierarchy.from_structure(structure), weights, "relative")
    rows = []
    for lvl in defined_levels(structure):
        s_l = factor[lvl] * sigma
        rows.append(
            {
                "level": lvl,
                "σ_l / σ (absolute)": factor[lvl],
                "σ_l / σ (relative to parent)": rel[lvl],
                "measured σ_data,l (Å)": sd_level[lvl],
                "c_skip(σ)": float(edm.c_skip(sigma, sigma_data)),
                "c_skip(σ_l)": float(edm.c_skip(s_l, sigma_data)),
                "c_out(σ)": float(edm.c_out(sigma, sigma_data)),
                "c_out(σ_l)": float(edm.c_out(s_l, sigma_data)),
                "c_in(σ)": float(edm.c_in(sigma, sigma_data)),
                "c_in(σ_l)": float(edm.c_in(s_l, sigma_data)),
                "c_noise(σ)": float(edm.c_noise(sigma, sigma_data)),
                "c_noise needed": float(edm.c_noise(s_l, sigma_data)),
            }
        )
    return pl.DataFrame(rows)


def worst_deviation(curves: pl.DataFrame) -> pl.DataFrame:
    """Largest |log2 variance| over the sigma grid per level and choice (0 = exactly 1)."""
    return (
        curves.with_columns(
            dev_in=pl.col("var_c_in_x").log(2).abs(),
            dev_t=pl.col("var_F_target").log(2).abs(),
        )
        .group_by("level", "choice", maintain_order=True)
        .agg(
            pl.col("var_c_in_x").min().alias("min Var[c_in x]"),
            pl.col("var_c_in_x").max().alias("max Var[c_in x]"),
            pl.col("var_F_target").min().alias("min Var[F target]"),
            pl.col("var_F_target").max().alias("max Var[F target]"),
        )
    )


def verdict(structure: Structure, weights: NoiseWeights, sigma_data: float, worst: pl.DataFrame) -> str:
    """Markdown verdict on pitfalls 2 and 6, written from `worst_deviation` (levels that are left out are said so)."""
    f, sd = level_noise_factor(structure, weights), level_sigma_data(structure)
    w = {(r["level"], r["choice"]): r for r in worst.iter_rows(named=True)}
    span = lambda lvl, choice: "[{:.3f}, {:.3f}]".format(*(w[(lvl, choice)][f"{m} Var[c_in x]"] for m in ("min", "max")))  # noqa: E731
    raw, eff, own = CHOICES
    lines = []
    if note := skipped_levels_note(structure):
        lines.append(f"- {note}")
    levels = defined_levels(structure)
    if "residue" in levels:
        lines += [
            f"- The residue level's noise is **{f['residue']:.3f} σ** and the chain level's **{f['chain']:.3f} σ** under "
            f"these weights (the review's σ/√n would be {1 / structure.atoms_per_residue.mean() ** 0.5:.3f} σ; it holds "
            "only for isotropic noise).",
            f"- Using the effective σ_l instead of σ moves the residue-level Var[c_in x] range from {span('residue', raw)} "
            f"to {span('residue', eff)}.",
        ]
    exact = ", ".join(f"{lvl} {span(lvl, own)}" for lvl in levels)
    lines.append(
        f"- The larger error is the data scale: measured σ_data is {sd['atom']:.2f} / {sd['residue']:.2f} / "
        f"{sd['chain']:.2f} Å (atom / residue / chain) against the preset's {sigma_data:g} Å. With σ_l *and* the level's "
        f"σ_data both variances are exactly 1 at every σ ({exact})."
    )
    lines.append(
        "- Pitfall 6: the c_noise each level needs differs from c_noise(σ) by ¼·ln(σ_l/σ): "
        + ", ".join(f"{0.25 * np.log(f[lvl]):+.3f} ({lvl})" for lvl in levels if lvl != "atom")
        + ", small next to the spread of c_noise over training."
        if len(levels) > 1
        else "- Pitfall 6 needs a second level; this structure has only atoms to precondition."
    )
    return "\n".join(lines)
