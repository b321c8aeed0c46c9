import numpy as np
import pytest
import torch

from pomodoro_core.analysis.schedule import coverage, levels_frame, oracle_noise_left, preset_comparison
from pomodoro_core.core.edm import LogNormalSigma
from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.presets import PRESET_NAMES, get_preset
from pomodoro_core.core.sampling import SamplerConfig


def simulate_perfect_denoiser(s: SamplerConfig, n=20_000, seed=0):
    """Run the AF3/Boltz sampler with D(x) = x0 = 0 on scalar noise; return the std after each step."""
    g = torch.Generator().manual_seed(seed)
    t = s.sigmas()
    t_hat = s.t_hat()
    x = t[0] * torch.randn(n, generator=g, dtype=torch.float64)
    out = []
    for i in range(s.steps):
        x_noisy = x + s.noise_scale * np.sqrt(t_hat[i] ** 2 - t[i] ** 2) * torch.randn(n, generator=g, dtype=torch.float64)
        d = (x_noisy - 0.0) / t_hat[i]
        x = x_noisy + s.step_scale * (t[i + 1] - t_hat[i]) * d
        out.append(float(x.std()))
    return np.array(out)


@pytest.mark.parametrize("name", ["boltz-2", "pomodoro-v0.9.0", "edm"])
def test_noise_left_matches_simulated_sampler(name):
    s = SamplerConfig.from_preset(get_preset(name), steps=20)
    exact = oracle_noise_left(s)
    sim = simulate_perfect_denoiser(s)
    nz = exact[:-1]
    assert np.allclose(sim[:-1], nz, rtol=0.03)


def test_noise_left_equals_schedule_without_churn_or_overshoot():
    s = SamplerConfig.from_preset(get_preset("edm"))
    assert np.allclose(oracle_noise_left(s), s.sigmas()[1:])


def test_coverage_counts_by_brute_force():
    p = get_preset("pomodoro-v0.9.0")
    s = SamplerConfig.from_preset(p)
    c = coverage(s, p.training_sigma, 0.999)
    q = p.training_sigma.quantile(0.999)
    assert c["steps_above_q"] == sum(1 for t in s.t_hat() if t > q)
    assert c["first_t_hat"] == pytest.approx(p.first_sigma)
    f = levels_frame(s, p.training_sigma, 0.999)
    assert f["above_q"].sum() == c["steps_above_q"]


def test_one_step_and_bad_settings():
    p = get_preset("boltz-2")
    s = SamplerConfig.from_preset(p, steps=1)
    assert len(oracle_noise_left(s)) == 1
    with pytest.raises(ParameterError):
        SamplerConfig.from_preset(p, sigma_max=1e-5).sigmas()
    with pytest.raises(ParameterError):
        SamplerConfig.from_preset(p, step_scale=0)
    with pytest.raises(ParameterError):
        coverage(s, LogNormalSigma(-1.2, 1.5, 16), 1.0)


def test_preset_comparison_covers_every_preset():
    t = preset_comparison([get_preset(n) for n in PRESET_NAMES])
    assert t.height == len(PRESET_NAMES)
    row = t.filter(t["preset"] == "review-fixes").row(0, named=True)
    assert row["steps above q"] <= 1
