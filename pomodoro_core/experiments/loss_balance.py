"""Pitfall 5 measured: how large is each level's loss, and how much of the gradient does it give?

`probe_levels` evaluates a (trained or untrained) denoiser at fixed sigmas on fresh
noise and returns, per sigma and loss term, the term's batch mean (exactly what the
training loss sums) and the norm of its gradient with respect to the weights.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import torch

from ..core.structure import Structure
from ..training.losses import TERMS
from ..training.trainer import TrainConfig, build_model, centred_coords, level_grad_norms


def probe_levels(
    model, ctx, config: TrainConfig, structure: Structure, sigmas, n: int = 8, seed: int = 0, with_grad: bool = True
) -> pl.DataFrame:
    device = next(model.parameters()).device
    g = torch.Generator(device=device).manual_seed(seed)
    x0 = centred_coords(structure, device)
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for s in np.asarray(sigmas, dtype=float):
        sigma = torch.full((n,), float(s), device=device)
        with torch.set_grad_enabled(with_grad):
            terms = config.loss(model, x0, sigma, ctx, g)
        norms = level_grad_norms(terms, params) if with_grad else dict.fromkeys(TERMS, float("nan"))
        for k in TERMS:
            rows.append({"sigma": float(s), "term": k, "loss": float(terms[k].detach().mean()), "grad_norm": norms[k]})
    frame = pl.DataFrame(rows)
    return frame.with_columns(
        grad_share=pl.col("grad_norm") ** 2 / (pl.col("grad_norm") ** 2).sum().over("sigma"),
        loss_share=pl.col("loss") / pl.col("loss").sum().over("sigma"),
    )


def probe_untrained(
    structure: Structure, config: TrainConfig, sigmas, n: int = 8, seed: int = 0, with_grad: bool = True
) -> pl.DataFrame:
    """`probe_levels` on the freshly initialised model (F = 0: each loss is the lambda-weighted target variance)."""
    model, ctx = build_model(structure, config, "cpu")
    return probe_levels(model, ctx, config, structure, sigmas, n, seed, with_grad)


def training_sigma_grid(config: TrainConfig, n: int = 9) -> np.ndarray:
    """Sigmas at evenly spaced quantiles (1 %..99 %) of the training distribution."""
    return config.training_sigma.quantile(np.linspace(0.01, 0.99, n))


def level_ratios(probe: pl.DataFrame) -> dict[str, float]:
    """Atom-level loss and gradient norm over the residue and chain levels, averaged over the probed sigmas
    (geometric mean of the per-sigma ratios: each sigma counts the same)."""
    wide = probe.pivot(on="term", index="sigma", values=["loss", "grad_norm"])
    out = {}
    for what in ("loss", "grad_norm"):
        for lvl in ("residue", "chain"):
            r = (wide[f"{what}_atom"] / wide[f"{what}_{lvl}"]).to_numpy()
            r = r[np.isfinite(r) & (r > 0)]
            out[f"{what} atom/{lvl}"] = float(np.exp(np.log(r).mean())) if r.size else float("nan")
    return out


def binned_sample_losses(samples: pl.DataFrame, bins: int = 12, last_fraction: float = 0.5, terms=TERMS) -> pl.DataFrame:
    """Per-sample training losses (columns step, sigma and `terms`) of the last part of a run, averaged in log-sigma
    bins, per term."""
    if samples.height == 0:
        return pl.DataFrame(schema={"sigma": pl.Float64, "term": pl.String, "loss": pl.Float64, "n": pl.UInt32})
    start = samples["step"].max() * (1 - last_fraction)
    s = samples.filter(pl.col("step") >= start)
    edges = np.quantile(np.log(s["sigma"].to_numpy()), np.linspace(0, 1, bins + 1))
    s = s.with_columns(bin=pl.Series(np.clip(np.searchsorted(edges, np.log(s["sigma"].to_numpy())) - 1, 0, bins - 1)))
    long = s.unpivot(index=["bin", "sigma"], on=list(terms), variable_name="term", value_name="loss")
    return (
        long.group_by("bin", "term")
        .agg(pl.col("sigma").log().mean().exp().alias("sigma"), pl.col("loss").mean(), pl.len().alias("n"))
        .sort("term", "bin")
        .drop("bin")
    )
