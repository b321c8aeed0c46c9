"""EDM math (Karras et al. 2022), with sigma_data explicit everywhere.

Every function takes Python floats, numpy arrays or torch tensors.

    x_noisy = x + sigma * n
    D(x_noisy; sigma) = c_skip(sigma) x_noisy + c_out(sigma) F(c_in(sigma) x_noisy; c_noise(sigma))
    loss = lambda(sigma) || D - x ||^2
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import special

from .errors import ParameterError


def _log(x):
    if isinstance(x, torch.Tensor):
        return torch.log(x)
    return np.log(x)


def _check_positive(name: str, value) -> None:
    v = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=float)
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ParameterError(f"{name} must be finite and > 0 (got {value})")


# --------------------------------------------------------------------------- preconditioning


def c_skip(sigma, sigma_data):
    return sigma_data**2 / (sigma**2 + sigma_data**2)


def c_out(sigma, sigma_data):
    return sigma * sigma_data / (sigma**2 + sigma_data**2) ** 0.5


def c_in(sigma, sigma_data):
    return 1 / (sigma**2 + sigma_data**2) ** 0.5


def c_noise(sigma, sigma_data=1.0):
    """1/4 ln(sigma / sigma_data): EDM uses sigma_data=1 here, AF3/Boltz the data's."""
    return _log(sigma / sigma_data) / 4


def loss_weight(sigma, sigma_data):
    """lambda(sigma) = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2."""
    return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2


def training_target(x, x_noisy, sigma, sigma_data):
    """What F must output for D to be exact: (x - c_skip x_noisy) / c_out."""
    return (x - c_skip(sigma, sigma_data) * x_noisy) / c_out(sigma, sigma_data)


# --------------------------------------------------------------------------- training sigma


@dataclass(frozen=True)
class LogNormalSigma:
    """ln(sigma) ~ N(ln(scale) + P_mean, P_std^2).

    scale = sigma_data for AF3/Boltz/pomodoro (sigma = sigma_data exp(P_mean + P_std n)),
    scale = 1 for the original EDM.
    """

    P_mean: float
    P_std: float
    scale: float = 1.0

    def __post_init__(self):
        if not math.isfinite(self.P_mean):
            raise ParameterError(f"P_mean must be finite (got {self.P_mean})")
        _check_positive("P_std", self.P_std)
        _check_positive("the sigma scale (sigma_data)", self.scale)

    @classmethod
    def for_training(cls, P_mean: float, P_std: float, sigma_data: float, times_sigma_data: bool) -> LogNormalSigma:
        """sigma = sigma_data exp(P_mean + P_std n) when times_sigma_data (AF3, Boltz, pomodoro), else exp(...) (EDM)."""
        return cls(P_mean, P_std, sigma_data if times_sigma_data else 1.0)

    @property
    def mu(self) -> float:
        """Mean of ln(sigma)."""
        return math.log(self.scale) + self.P_mean

    def _std_normal(self, sigma):
        return (np.log(np.asarray(sigma, dtype=float)) - self.mu) / self.P_std

    def pdf_ln_sigma(self, ln_sigma):
        u = (np.asarray(ln_sigma, dtype=float) - self.mu) / self.P_std
        return np.exp(-0.5 * u**2) / (self.P_std * math.sqrt(2 * math.pi))

    def pdf_z(self, z, sigma_data):
        """Density of z = ln(sigma / sigma_data) (a shift of ln sigma: Jacobian 1)."""
        return self.pdf_ln_sigma(np.asarray(z, dtype=float) + math.log(sigma_data))

    def pdf_sigma(self, sigma):
        sigma = np.asarray(sigma, dtype=float)
        return self.pdf_ln_sigma(np.log(sigma)) / sigma

    def cdf(self, sigma):
        return special.ndtr(self._std_normal(sigma))

    def sf(self, sigma):
        """P(sigma' > sigma), accurate in the far tail."""
        return special.ndtr(-self._std_normal(sigma))

    def quantile(self, q):
        q = np.asarray(q, dtype=float)
        if np.any((q <= 0) | (q >= 1)):
            raise ParameterError(f"quantile level must lie in (0, 1) (got {q})")
        return np.exp(self.mu + self.P_std * special.ndtri(q))

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    @property
    def mode(self) -> float:
        """Mode of the density in sigma (not in ln sigma): exp(mu - P_std^2)."""
        return math.exp(self.mu - self.P_std**2)

    def interval(self, mass: float = 0.95) -> tuple[float, float]:
        lo, hi = self.quantile([(1 - mass) / 2, (1 + mass) / 2])
        return float(lo), float(hi)

    def sample(self, n: int, generator: torch.Generator | None = None, device="cpu", dtype=torch.float32) -> torch.Tensor:
        n01 = torch.randn(n, generator=generator, dtype=dtype, device=device if generator is None else generator.device)
        return torch.exp(self.mu + self.P_std * n01).to(device)


def p_mean_for_sigma_min(sigma_min: float, sigma_data: float, P_std: float) -> float:
    """The seed's rule P_mean = ln(sigma_min / sigma_data) + P_std^2.

    It places the *mode* of the density in sigma, exp(mu - P_std^2), at sigma_min
    (mu = ln sigma_data + P_mean); `LogNormalSigma.mode` lets a test confirm that.
    """
    _check_positive("sigma_min", sigma_min)
    _check_positive("sigma_data", sigma_data)
    return math.log(sigma_min / sigma_data) + P_std**2


# --------------------------------------------------------------------------- sampling schedule


def karras_sigmas(
    n_steps: int,
    sigma_min: float,
    sigma_max: float,
    rho: float = 7.0,
    sigma_data: float = 1.0,
    times_sigma_data: bool = False,
) -> np.ndarray:
    """Karras et al. (2022) eq. 5 levels t_0 > ... > t_{N-1}, then t_N = 0.

    t_i = (s_max^(1/rho) + i/(N-1) (s_min^(1/rho) - s_max^(1/rho)))^rho, multiplied by
    sigma_data when `times_sigma_data` (AF3, Boltz, pomodoro).  With one step the
    schedule is [sigma_max, 0] (the formula divides by N-1).
    """
    if int(n_steps) != n_steps or n_steps < 1:
        raise ParameterError(f"number of steps must be an integer >= 1 (got {n_steps})")
    _check_positive("sigma_min", sigma_min)
    _check_positive("sigma_max", sigma_max)
    _check_positive("rho", rho)
    if sigma_max <= sigma_min:
        raise ParameterError(f"sigma_max ({sigma_max}) must be greater than sigma_min ({sigma_min})")
    n = int(n_steps)
    frac = np.arange(n) / (n - 1) if n > 1 else np.zeros(1)
    inv = 1.0 / rho
    t = (sigma_max**inv + frac * (sigma_min**inv - sigma_max**inv)) ** rho
    if times_sigma_data:
        _check_positive("sigma_data", sigma_data)
        t = t * sigma_data
    return np.append(t, 0.0)


def churn_gamma(sigmas: np.ndarray, gamma_0: float, gamma_min: float) -> np.ndarray:
    """AF3 / Boltz churn: gamma_i = gamma_0 where sigma_i > gamma_min, else 0 (one per step)."""
    if gamma_0 < 0:
        raise ParameterError(f"gamma_0 must be >= 0 (got {gamma_0})")
    s = np.asarray(sigmas, dtype=float)[:-1]
    return np.where(s > gamma_min, gamma_0, 0.0)


def churned_levels(sigmas: np.ndarray, gamma_0: float, gamma_min: float) -> np.ndarray:
    """t_hat_i = sigma_i (1 + gamma_i): the level the network is evaluated at."""
    s = np.asarray(sigmas, dtype=float)[:-1]
    return s * (1.0 + churn_gamma(sigmas, gamma_0, gamma_min))
