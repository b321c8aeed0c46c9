"""EDM / AF3-style sampling (Karras et al. 2022 Alg. 2; AF3 Alg. 18), in k-diffusion's shape.

`sample(denoise, x, sigmas, ...)` takes its noise levels (`SamplerConfig.sigmas`) and
calls `callback` with k-diffusion's keys {'x', 'i', 'sigma', 'sigma_hat', 'denoised'}.
For i = 0 .. N-1, with t_0 > ... > t_{N-1} > t_N = 0:
    (augment)  x <- random rigid motion of x (centre, rotate, shift by N(0, 1 Å))
    gamma_i = gamma_0 if t_i > gamma_min else 0;   t_hat = t_i (1 + gamma_i)
    x_hat = x + noise_scale sqrt(t_hat^2 - t_i^2) eps          (churn)
    d = (x_hat - D(x_hat; t_hat)) / t_hat                       (`to_d`)
    x <- x_hat + step_scale (t_{i+1} - t_hat) d                (Euler)
    Heun (t_{i+1} > 0): d' = to_d(x, t_{i+1}, D(x; t_{i+1}));  x <- x_hat + step_scale (t_{i+1} - t_hat)(d + d')/2

Initial and churn noise eps are multiscale with the training weights (as reviewed,
pitfall 3) or isotropic (`SamplerConfig.noise`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..core.edm import churned_levels
from ..core.geometry import random_rigid_motion
from ..core.hierarchy import Hierarchy
from ..core.noise import ISOTROPIC, NoiseWeights, multiscale_noise
from ..core.sampling import SamplerConfig

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Noise = Callable[[float], torch.Tensor]  # sigma -> a noise sample of that size, shaped like x


def to_d(x: torch.Tensor, sigma: float, denoised: torch.Tensor) -> torch.Tensor:
    """The Karras ODE derivative dx/dsigma = (x - D(x; sigma)) / sigma."""
    return (x - denoised) / sigma


def sample(
    denoise: Denoiser,
    x: torch.Tensor,
    sigmas: np.ndarray,
    config: SamplerConfig,
    noise: Noise,
    mask: torch.Tensor,
    generator: torch.Generator | None = None,
    callback: Callable[[dict], None] | None = None,
    t_hats: np.ndarray | None = None,
) -> torch.Tensor:
    """Run the sampler from x (already noised at sigmas[0]) down the levels `sigmas`; padding (mask False) stays 0.
    `t_hats` replays given churned levels (a loaded trajectory's sigma_hat) instead of the config's churn."""
    if t_hats is None:
        t_hats = churned_levels(sigmas, config.gamma_0, config.gamma_min)
    dev, keep = x.device, mask.unsqueeze(-1)
    for i in range(len(sigmas) - 1):
        # augmentation: a random rigid motion of the current sample (AF3 Alg. 18)
        if config.augment:
            x = random_rigid_motion(x, mask, 1.0, generator=generator)
        # churn: raise the level to t_hat by adding fresh noise
        t_cur, t_next = float(sigmas[i]), float(sigmas[i + 1])
        t_hat = float(t_hats[i])
        if t_hat > t_cur:
            x = x + config.noise_scale * noise((t_hat**2 - t_cur**2) ** 0.5)
        x_hat = x
        # Euler step from t_hat to t_next
        denoised = denoise(x_hat, torch.tensor(t_hat, device=dev))
        d = to_d(x_hat, t_hat, denoised)
        x = x_hat + config.step_scale * (t_next - t_hat) * d
        # Heun's second-order correction
        if config.solver == "heun" and t_next > 0:
            d2 = to_d(x, t_next, denoise(x, torch.tensor(t_next, device=dev)))
            x = x_hat + config.step_scale * (t_next - t_hat) * (d + d2) / 2
        x = x * keep.to(x.dtype)
        if callback:
            callback({"x": x, "i": i, "sigma": t_cur, "sigma_hat": t_hat, "denoised": denoised})
    return x


def sample_noise(h: Hierarchy, sigma, weights: NoiseWeights, kind: str, n: int | None, generator) -> torch.Tensor:
    """Noise of the training kind (multiscale with the training weights) or isotropic; n samples of a
    one-structure hierarchy, or (n None) one per structure of a padded batch."""
    return multiscale_noise(h, sigma, weights if kind == "multiscale" else ISOTROPIC, n_samples=n, generator=generator)


def edm_sample(
    denoise: Denoiser,
    hierarchy: Hierarchy,
    weights: NoiseWeights,
    config: SamplerConfig,
    n_samples: int | None = 1,
    seed: int = 0,
    callback: Callable[[dict], None] | None = None,
) -> torch.Tensor:
    """Final samples (B, atoms, 3) from initial noise at config.sigmas()[0]: n_samples of a one-structure
    hierarchy, or (None) one per structure of a padded batch.  The callback first gets the initial noise (i = -1)."""
    g = torch.Generator(device=hierarchy.device).manual_seed(seed)
    sigmas = config.sigmas()
    noise = lambda s: sample_noise(hierarchy, s, weights, config.noise, n_samples, g)  # noqa: E731
    x = noise(float(sigmas[0]))
    if callback:
        callback({"x": x, "i": -1, "sigma": float(sigmas[0]), "sigma_hat": float(sigmas[0]), "denoised": None})
    return sample(denoise, x, sigmas, config, noise, hierarchy.atom_mask, g, callback)


@dataclass
class Trajectory:
    """What the sampler did: x_0 (initial noise) ... x_N, and the denoised prediction at each step."""

    sigmas: np.ndarray  # (N+1,) schedule t_0 .. t_N = 0
    t_hat: np.ndarray  # (N,) the levels D was evaluated at
    x: torch.Tensor  # (N+1, B, atoms, 3)
    denoised: torch.Tensor | None  # (N, B, atoms, 3); None for a loaded trajectory without predictions

    @property
    def final(self) -> torch.Tensor:
        return self.x[-1]


def sample_trajectory(
    denoise: Denoiser,
    hierarchy: Hierarchy,
    weights: NoiseWeights,
    config: SamplerConfig,
    n_samples: int | None = 1,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Trajectory:
    """`edm_sample` with every step recorded through the callback; `progress(steps done, steps)` after each."""
    xs, ds, hats = [], [], []

    def record(step: dict) -> None:
        xs.append(step["x"].detach().cpu())
        if step["denoised"] is not None:
            ds.append(step["denoised"].detach().cpu())
            hats.append(step["sigma_hat"])
            if progress:
                progress(step["i"] + 1, config.steps)

    edm_sample(denoise, hierarchy, weights, config, n_samples, seed, record)
    return Trajectory(config.sigmas(), np.asarray(hats), torch.stack(xs), torch.stack(ds))
