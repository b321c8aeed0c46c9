"""Tests of pomodoro_core/training/sampler.py."""

import pytest
import torch

from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.hierarchy import Hierarchy
from pomodoro_core.core.noise import ISOTROPIC, NoiseWeights
from pomodoro_core.core.presets import get_preset
from pomodoro_core.core.sampling import SamplerConfig
from pomodoro_core.training.sampler import edm_sample, sample_trajectory
from pomodoro_core.training.trainer import centred_coords


@pytest.mark.parametrize("solver", ["euler", "heun"])
@pytest.mark.parametrize("churn,augment", [(0.0, False), (0.8, True)])
def test_sampler_with_perfect_denoiser_returns_the_target(crop, solver, churn, augment):
    h = Hierarchy.from_structure(crop)
    x0 = centred_coords(crop, "cpu")
    cfg = SamplerConfig.from_preset(get_preset("pomodoro-v0.9.0"), steps=12, solver=solver, gamma_0=churn, augment=augment)
    out = edm_sample(lambda x, s: x0.expand_as(x), h, NoiseWeights(8.2, 1.6, 1.3), cfg, n_samples=3, seed=0)
    assert torch.allclose(out, x0.expand_as(out), atol=1e-3)


def test_euler_ode_path_is_exact_for_a_point_mass(crop):
    """For a Dirac data distribution the probability-flow ODE is x_t = x0 + (t / t_0)(x_init - x0); Euler is exact."""
    h = Hierarchy.from_structure(crop)
    x0 = centred_coords(crop, "cpu").double()
    cfg = SamplerConfig.from_preset(get_preset("edm"), steps=8)
    traj = sample_trajectory(lambda x, s: x0.expand_as(x).to(x.dtype), h, ISOTROPIC, cfg, n_samples=2, seed=1)
    t = traj.sigmas
    init = traj.x[0].double()
    for i in range(1, len(t)):
        expect = x0 + (t[i] / t[0]) * (init - x0)
        assert torch.allclose(traj.x[i].double(), expect, rtol=1e-4, atol=1e-4)
    assert traj.denoised.shape == (8, 2, crop.n_atoms, 3)


def test_initial_noise_kind(crop):
    """Multiscale initial noise shares the chain part across atoms; isotropic noise does not."""
    h = Hierarchy.from_structure(crop)
    w = NoiseWeights(8.2, 1.6, 1.3)
    cfg = SamplerConfig(steps=1, sigma_max=1.0, sigma_min=0.5, times_sigma_data=False)
    for kind, lo, hi in (("multiscale", 0.6, 1.0), ("isotropic", -0.1, 0.1)):
        traj = sample_trajectory(lambda x, s: x * 0, h, w, cfg.with_(noise=kind), n_samples=400, seed=2)
        e = traj.x[0]
        corr = float(torch.corrcoef(torch.stack([e[:, 0, 0], e[:, -1, 0]]))[0, 1])
        assert lo < corr < hi, (kind, corr)


def test_one_step_sampler_and_bad_settings(crop):
    h = Hierarchy.from_structure(crop)
    x0 = centred_coords(crop, "cpu")
    cfg = SamplerConfig(steps=1)
    out = edm_sample(lambda x, s: x0.expand_as(x), h, ISOTROPIC, cfg, n_samples=1)
    assert torch.allclose(out, x0, atol=1e-3)  # float32 at sigma = 1280
    with pytest.raises(ParameterError, match="sigma_max"):
        SamplerConfig(sigma_max=1e-4, sigma_min=1e-3)
    with pytest.raises(ParameterError, match="solver"):
        SamplerConfig(solver="rk4")
