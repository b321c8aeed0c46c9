"""The sampler's settings and its noise levels, apart from the sampler (as k-diffusion keeps schedules apart).

    sigmas = Karras schedule t_0 > ... > t_{N-1} > t_N = 0      (`SamplerConfig.sigmas`)
    t_hat_i = t_i (1 + gamma_i),  gamma_i = gamma_0 if t_i > gamma_min else 0   (churn, `SamplerConfig.t_hat`)

One `SamplerConfig` describes a sampler for both the schedule analysis (notebook 03)
and the sampler that runs a trained model (`training.sampler`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from . import edm
from .errors import ParameterError
from .presets import Preset

SOLVERS = ("euler", "heun")
INIT_NOISE = ("multiscale", "isotropic")


@dataclass(frozen=True)
class SamplerConfig:
    sigma_min: float = 1e-3
    sigma_max: float = 80.0
    rho: float = 7.0
    sigma_data: float = 16.0
    times_sigma_data: bool = True  # levels multiplied by sigma_data (AF3, Boltz, pomodoro)
    steps: int = 50
    solver: str = "euler"
    gamma_0: float = 0.0
    gamma_min: float = 1.0
    noise_scale: float = 1.0  # churn noise multiplier (0: churn raises the level without adding noise)
    step_scale: float = 1.0
    noise: str = "multiscale"  # initial and churn noise: the training weights, or isotropic
    augment: bool = False  # a random rigid motion before every step

    def __post_init__(self):
        if self.solver not in SOLVERS:
            raise ParameterError(f"solver must be one of {SOLVERS} (got {self.solver!r})")
        if self.noise not in INIT_NOISE:
            raise ParameterError(f"sampler noise must be one of {INIT_NOISE} (got {self.noise!r})")
        if not (math.isfinite(self.step_scale) and self.step_scale > 0):
            raise ParameterError(f"step_scale must be finite and > 0 (got {self.step_scale})")
        if not (math.isfinite(self.noise_scale) and self.noise_scale >= 0):
            raise ParameterError(f"noise_scale must be finite and >= 0 (got {self.noise_scale})")
        if not (math.isfinite(self.gamma_0) and math.isfinite(self.gamma_min)):
            raise ParameterError(f"gamma_0 and gamma_min must be finite (got {self.gamma_0}, {self.gamma_min})")
        self.t_hat()  # validates the schedule and the churn

    @classmethod
    def from_preset(cls, preset: Preset, **changes) -> SamplerConfig:
        fields = dict(
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
        return cls(**(fields | changes))

    def with_(self, **changes) -> SamplerConfig:
        return replace(self, **changes)

    def sigmas(self) -> np.ndarray:
        """(steps + 1,) the schedule t_0 .. t_N = 0."""
        return edm.karras_sigmas(self.steps, self.sigma_min, self.sigma_max, self.rho, self.sigma_data, self.times_sigma_data)

    def t_hat(self) -> np.ndarray:
        """(steps,) the churned levels the network is evaluated at."""
        return edm.churned_levels(self.sigmas(), self.gamma_0, self.gamma_min)
