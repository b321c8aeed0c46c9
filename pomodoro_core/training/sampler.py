"""EDM / AF3-style sampling (Karras et al. 2022 Alg. 2; AF3 Alg. 18), with the reviewed switches.

For i = 0 .. N-1, with t_0 > ... > t_{N-1} > t_N = 0:
    (augment)  x <- random rigid motion of x (centre, rotate, shift by N(0, 1 Å))
    gamma_i = gamma_0 if t_i > gamma_min else 0;   t_hat = t_i (1 + gamma_i)
    x_hat = x + noise_scale sqrt(t_hat^2 - t_i^2) eps          (churn)
    d = (x_hat - D(x_hat; t_hat)) / t_hat
    x <- x_hat + step_scale (t_{i+1} - t_hat) d                (Euler)
    Heun (t_{i+1} > 0): d' = (x - D(x; t_{i+1})) / t_{i+1};  x <- x_hat + step_scale (t_{i+1} - t_hat)(d + d')/2

Initial and churn noise eps are multiscale with the training weights (as reviewed,
pitfall 3) or isotropic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..core.edm import churn_gamma, karras_sigmas
from ..core.errors import ParameterError
from ..core.geometry import random_rigid_motion
from ..core.hierarchy import Hierarchy
from ..core.noise import ISOTROPIC, NoiseWeights, multiscale_noise
from ..core.presets import Preset

SOLVERS = ("euler", "heun")
INIT_NOISE = ("multiscale", "isotropic")

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class SamplerConfig:
    sigma_min: float = 1e-3
    sigma_max: float = 80.0
    rho: float = 7.0
    sigma_data: float = 16.0
    times_sigma_data: bool = True
    steps: int = 50
    solver: str = "euler"
    gamma_0: float = 0.0
    gamma_min: float = 1.0
    noise_scale: float = 1.0
    step_scale: float = 1.0
    noise: str = "multiscale"
    augment: bool = False

    def __post_init__(self):
        if self.solver not in SOLVERS:
            raise ParameterError(f"solver must be one of {SOLVERS} (got {self.solver!r})")
        if self.noise not in INIT_NOISE:
            raise ParameterError(f"sampler noise must be one of {INIT_NOISE} (got {self.noise!r})")
        for name in ("noise_scale", "step_scale"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ParameterError(f"{name} must be finite and > 0 (got {v})")
        self.sigmas()  # validates the schedule

    @classmethod
    def from_preset(cls, preset: Preset, **changes) -> SamplerConfig:
        base = cls(
            sigma_min=preset.sigma_min,
            sigma_max=preset.sigma_max,
            rho=preset.rho,
            sigma_data=preset.sigma_data,
            times_sigma_data=preset.schedule_times_sigma_data,
            steps=preset.steps,
            gamma_0=preset.gamma_0,
            gamma_min=preset.gamma_min,
            noise_scale=preset.noise_scale,
            step_scale=preset.step_scale,
        )
        return replace(base, **changes)

    def with_(self, **changes) -> SamplerConfig:
        return replace(self, **changes)

    def sigmas(self) -> np.ndarray:
        return karras_sigmas(self.steps, self.sigma_min, self.sigma_max, self.rho, self.sigma_data, self.times_sigma_data)


@dataclass
class Trajectory:
    """What the sampler did: x_0 (initial noise) ... x_N, and the denoised prediction at each step."""

    sigmas: np.ndarray  # (N+1,) schedule t_0 .. t_N = 0
    t_hat: np.ndarray  # (N,) the levels D was evaluated at
    x: torch.Tensor  # (N+1, B, atoms, 3)
    denoised: torch.Tensor  # (N, B, atoms, 3)

    @property
    def final(self) -> torch.Tensor:
        return self.x[-1]


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
    """Final samples (B, atoms, 3): n_samples of a one-structure hierarchy, or (None) one per structure
    of a padded batch.  `callback` gets {'i', 't_hat', 'sigma_next', 'x', 'denoised'} after each step."""
    dev = hierarchy.device
    g = torch.Generator(device=dev).manual_seed(seed)
    t = config.sigmas()
    gammas = churn_gamma(t, config.gamma_0, config.gamma_min)
    mask = hierarchy.atom_mask
    x = sample_noise(hierarchy, float(t[0]), weights, config.noise, n_samples, g)
    if callback:
        callback({"i": -1, "t_hat": float(t[0]), "sigma_next": float(t[0]), "x": x, "denoised": None})
    for i in range(config.steps):
        if config.augment:
            x = random_rigid_motion(x, mask, 1.0, generator=g)
        t_cur, t_next = float(t[i]), float(t[i + 1])
        t_hat = t_cur * (1 + gammas[i])
        if t_hat > t_cur:
            x = x + config.noise_scale * sample_noise(
                hierarchy, (t_hat**2 - t_cur**2) ** 0.5, weights, config.noise, n_samples, g
            )
        x_hat = x
        D = denoise(x_hat, torch.tensor(t_hat, device=dev))
        d = (x_hat - D) / t_hat
        x = x_hat + config.step_scale * (t_next - t_hat) * d
        if config.solver == "heun" and t_next > 0:
            D2 = denoise(x, torch.tensor(t_next, device=dev))
            d2 = (x - D2) / t_next
            x = x_hat + config.step_scale * (t_next - t_hat) * (d + d2) / 2
        x = x * mask.unsqueeze(-1).to(x.dtype)
        if callback:
            callback({"i": i, "t_hat": t_hat, "sigma_next": t_next, "x": x, "denoised": D})
    return x


def sample_trajectory(
    denoise: Denoiser,
    hierarchy: Hierarchy,
    weights: NoiseWeights,
    config: SamplerConfig,
    n_samples: int | None = 1,
    seed: int = 0,
) -> Trajectory:
    """`edm_sample` with every step recorded (k-diffusion's callback pattern)."""
    xs, ds, hats = [], [], []

    def record(step: dict) -> None:
        xs.append(step["x"].detach().cpu())
        if step["denoised"] is not None:
            ds.append(step["denoised"].detach().cpu())
            hats.append(step["t_hat"])

    edm_sample(denoise, hierarchy, weights, config, n_samples, seed, record)
    return Trajectory(config.sigmas(), np.asarray(hats), torch.stack(xs), torch.stack(ds))
