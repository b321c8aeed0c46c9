"""Pitfall 8: does the sampling schedule stay inside the training sigma distribution?

The analysis reads the same `SamplerConfig` the sampler runs with (Euler steps: one
network evaluation per step)."""

from __future__ import annotations

import numpy as np
import polars as pl

from ..core import edm
from ..core.edm import LogNormalSigma
from ..core.errors import ParameterError
from ..core.presets import Preset
from ..core.sampling import SamplerConfig


def oracle_noise_left(s: SamplerConfig) -> np.ndarray:
    """Noise std actually left after each step of the AF3/Boltz sampler with a perfect denoiser.

    Step i: churn adds noise_scale * sqrt(t_hat^2 - t_i^2) of fresh noise, so the noise is
    sigma_noisy = sqrt(sigma_i^2 + noise_scale^2 (t_hat^2 - t_i^2)); a perfect denoiser
    returns x0, d = (x_noisy - x0) / t_hat, and x_{i+1} = x_noisy + step_scale (t_{i+1} - t_hat) d
    scales the noise by (1 + step_scale (t_{i+1} - t_hat) / t_hat).  Returns sigma after each
    step (length steps); with step_scale = 1 and no churn it equals t_{i+1} exactly.
    """
    t = s.sigmas()
    t_hat = s.t_hat()
    sigma = t[0]
    out = []
    for i in range(s.steps):
        noisy = np.sqrt(sigma**2 + s.noise_scale**2 * (t_hat[i] ** 2 - t[i] ** 2))
        sigma = abs(noisy * (1 + s.step_scale * (t[i + 1] - t_hat[i]) / t_hat[i]))
        out.append(sigma)
    return np.asarray(out)


def coverage(s: SamplerConfig, train: LogNormalSigma, q: float) -> dict[str, float]:
    """How much of the sampling runs above the training quantile q."""
    if not 0 < q < 1:
        raise ParameterError(f"training quantile q must lie in (0, 1) (got {q})")
    t_hat = s.t_hat()
    q_sigma = float(train.quantile(q))
    above = t_hat > q_sigma
    first = float(t_hat[0])
    return {
        "first_sigma": float(s.sigmas()[0]),
        "first_t_hat": first,
        "training_quantile_sigma": q_sigma,
        "steps_above_q": int(above.sum()),
        "share_of_evaluations_above_q": float(above.mean()),  # one network evaluation per step (Euler)
        "training_cdf_at_first": float(train.cdf(first)),
        "training_sf_at_first": float(train.sf(first)),
        "c_skip_first": float(edm.c_skip(first, s.sigma_data)),
        "c_out_first": float(edm.c_out(first, s.sigma_data)),
        "c_in_first": float(edm.c_in(first, s.sigma_data)),
    }


def levels_frame(s: SamplerConfig, train: LogNormalSigma, q: float) -> pl.DataFrame:
    t = s.sigmas()[:-1]
    t_hat = s.t_hat()
    left = oracle_noise_left(s)
    q_sigma = float(train.quantile(q))
    return pl.DataFrame(
        {
            "step": np.arange(s.steps),
            "sigma": t,
            "t_hat": t_hat,
            "next_sigma": s.sigmas()[1:],
            "noise_left": left,
            "training_cdf": train.cdf(t_hat),
            "above_q": t_hat > q_sigma,
        }
    )


def density_frame(train: LogNormalSigma, lo: float, hi: float, n: int = 400) -> pl.DataFrame:
    sig = np.exp(np.linspace(np.log(lo), np.log(hi), n))
    return pl.DataFrame({"sigma": sig, "density_ln_sigma": train.pdf_ln_sigma(np.log(sig))})


def preset_comparison(presets: list[Preset], q: float = 0.999) -> pl.DataFrame:
    rows = []
    for p in presets:
        s = SamplerConfig.from_preset(p)
        c = coverage(s, p.training_sigma, q)
        left = oracle_noise_left(s)
        rows.append(
            {
                "preset": p.name,
                "steps": p.steps,
                "first σ": c["first_sigma"],
                "first t̂": c["first_t_hat"],
                f"training q{q:g} σ": c["training_quantile_sigma"],
                "steps above q": c["steps_above_q"],
                "share above q": c["share_of_evaluations_above_q"],
                "P_train(σ > first t̂)": c["training_sf_at_first"],
                "c_skip(first)": c["c_skip_first"],
                "c_in(first)": c["c_in_first"],
                "noise left / schedule (median)": float(np.median(left[:-1] / s.sigmas()[1:-1])),
            }
        )
    return pl.DataFrame(rows)


def verdict(cov: dict[str, float], levels: pl.DataFrame, s: SamplerConfig, q: float) -> str:
    """Markdown verdict on pitfall 8 for one schedule and training distribution, written from `coverage` and `levels_frame`."""
    outside = cov["first_t_hat"] > cov["training_quantile_sigma"]
    head = (
        f"**Pitfall 8 holds for these settings:** the first network evaluation, at t̂₀ = **{cov['first_t_hat']:.4g} Å**, lies "
        f"above the training distribution's {q:g}-quantile ({cov['training_quantile_sigma']:.4g} Å)"
        if outside
        else f"**Pitfall 8 does not hold for these settings:** the first network evaluation, at t̂₀ = "
        f"**{cov['first_t_hat']:.4g} Å**, lies inside the training distribution's {q:g}-quantile "
        f"({cov['training_quantile_sigma']:.4g} Å)"
    )
    ratio = (levels["noise_left"] / levels["next_sigma"]).filter(levels["next_sigma"] > 0)
    cold = float(ratio.median()) if len(ratio) else 1.0
    return (
        f"{head}; training draws a σ that large with probability {cov['training_sf_at_first']:.3g}. "
        f"**{cov['steps_above_q']} of {s.steps}** steps ({cov['share_of_evaluations_above_q']:.1%} of network evaluations) "
        f"run above the quantile. A perfect denoiser leaves a median **{cold:.3f}×** the scheduled noise after each step "
        f"({'colder than the schedule' if cold < 0.99 else 'hotter than the schedule' if cold > 1.01 else 'on schedule'}, "
        f"step_scale = {s.step_scale:g})."
    )
