import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pomodoro_core.core import edm
from pomodoro_core.core.edm import LogNormalSigma
from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.presets import PRESET_NAMES, get_preset
from pomodoro_core.core.sampling import SamplerConfig

sigmas = st.floats(1e-4, 1e4)
sigma_datas = st.floats(0.05, 100)


@given(sigmas, sigma_datas)
def test_lambda_times_c_out_squared_is_one(sigma, sigma_data):
    assert edm.loss_weight(sigma, sigma_data) * edm.c_out(sigma, sigma_data) ** 2 == pytest.approx(1.0, rel=1e-9)


@given(sigmas, sigma_datas)
def test_unit_variance_closed_form(sigma, sigma_data):
    # Var[c_in x_noisy] = c_in^2 (s_d^2 + s^2); Var[F target] = (c_skip-1)^2 s_d^2 + c_skip^2 s^2, / c_out^2
    cin = edm.c_in(sigma, sigma_data)
    assert cin**2 * (sigma_data**2 + sigma**2) == pytest.approx(1.0, rel=1e-9)
    cs, co = edm.c_skip(sigma, sigma_data), edm.c_out(sigma, sigma_data)
    var_target = ((1 - cs) ** 2 * sigma_data**2 + cs**2 * sigma**2) / co**2
    assert var_target == pytest.approx(1.0, rel=1e-6)


@settings(max_examples=20, deadline=None)
@given(st.floats(1e-2, 1e3), st.floats(0.1, 30))
def test_unit_variance_monte_carlo(sigma, sigma_data):
    """Data of std sigma_data: the network input and its target both have variance 1."""
    g = torch.Generator().manual_seed(0)
    x = sigma_data * torch.randn(200_000, generator=g, dtype=torch.float64)
    x_noisy = x + sigma * torch.randn(200_000, generator=g, dtype=torch.float64)
    assert (edm.c_in(sigma, sigma_data) * x_noisy).var().item() == pytest.approx(1.0, rel=0.02)
    assert edm.training_target(x, x_noisy, sigma, sigma_data).var().item() == pytest.approx(1.0, rel=0.02)


def test_functions_accept_numpy_and_torch():
    s = np.array([0.1, 1.0, 10.0])
    for f in (edm.c_skip, edm.c_out, edm.c_in, edm.loss_weight):
        assert np.allclose(f(torch.tensor(s), 2.0).numpy(), f(s, 2.0))
    assert np.allclose(edm.c_noise(torch.tensor(s), 2.0).numpy(), np.log(s / 2.0) / 4)


@given(st.floats(-4, 2), st.floats(0.1, 3), st.sampled_from([1.0, 0.5, 16.0]), st.floats(0.001, 0.999))
def test_lognormal_quantiles_match_scipy(P_mean, P_std, scale, q):
    dist = LogNormalSigma(P_mean, P_std, scale)
    ref = stats.lognorm(s=P_std, scale=scale * math.exp(P_mean))
    assert dist.quantile(q) == pytest.approx(ref.ppf(q), rel=1e-9)
    x = float(ref.ppf(q))
    assert dist.cdf(x) == pytest.approx(q, rel=1e-9)
    assert dist.pdf_sigma(x) == pytest.approx(ref.pdf(x), rel=1e-9)


def test_lognormal_mode_median_and_sampling():
    dist = LogNormalSigma(-1.2, 1.5, 16.0)
    grid = np.exp(np.linspace(-12, 8, 200_001))
    assert grid[np.argmax(dist.pdf_sigma(grid))] == pytest.approx(dist.mode, rel=1e-3)
    s = dist.sample(400_000, torch.Generator().manual_seed(1)).double()
    assert s.median().item() == pytest.approx(dist.median, rel=0.01)
    lo, hi = dist.interval(0.95)
    inside = ((s > lo) & (s < hi)).double().mean().item()
    assert inside == pytest.approx(0.95, abs=0.002)
    # density in z integrates to 1
    z = np.linspace(-15, 15, 30001)
    assert np.trapezoid(dist.pdf_z(z, 16.0), z) == pytest.approx(1.0, rel=1e-6)


def test_p_mean_rule_puts_the_sigma_mode_at_sigma_min():
    P_std = 2.0
    P_mean = edm.p_mean_for_sigma_min(1e-3, 16.0, P_std)
    assert LogNormalSigma(P_mean, P_std, 16.0).mode == pytest.approx(1e-3, rel=1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_lognormal_rejects_bad_p_std(bad):
    with pytest.raises(ParameterError, match="P_std"):
        LogNormalSigma(-1.2, bad, 16.0)


@given(st.integers(2, 300), st.floats(1e-4, 1.0), st.floats(1.5, 500), st.floats(1.0, 10), st.booleans())
def test_karras_schedule_endpoints_and_monotone(n, smin, smax_factor, rho, times):
    smax = smin * smax_factor
    t = edm.karras_sigmas(n, smin, smax, rho, sigma_data=16.0, times_sigma_data=times)
    f = 16.0 if times else 1.0
    assert t.shape == (n + 1,) and t[-1] == 0
    assert t[0] == pytest.approx(smax * f, rel=1e-9)
    assert t[-2] == pytest.approx(smin * f, rel=1e-9)
    assert (np.diff(t) < 0).all()


def test_karras_schedule_one_step_and_errors():
    assert edm.karras_sigmas(1, 0.002, 80).tolist() == [80.0, 0.0]
    with pytest.raises(ParameterError, match="greater than"):
        edm.karras_sigmas(10, 5.0, 5.0)
    with pytest.raises(ParameterError, match="steps"):
        edm.karras_sigmas(0, 0.002, 80)
    with pytest.raises(ParameterError, match="sigma_min"):
        edm.karras_sigmas(10, 0.0, 80)


def test_churn():
    t = edm.karras_sigmas(10, 4e-4, 160, 7, 16, True)
    g = edm.churn_gamma(t, 0.8, 1.0)
    assert ((g == 0.8) == (t[:-1] > 1.0)).all()
    assert np.allclose(edm.churned_levels(t, 0.8, 1.0), t[:-1] * (1 + g))


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_presets_are_consistent(name):
    p = get_preset(name)
    t = SamplerConfig.from_preset(p).sigmas()
    assert t[0] == pytest.approx(p.first_sigma)
    assert p.training_sigma.median > 0


def test_review_fixes_schedule_starts_inside_training_support():
    p = get_preset("review-fixes")
    assert p.training_sigma.cdf(p.first_sigma) == pytest.approx(0.999)
    assert p.weights.shares()["residue"] == pytest.approx(1 / 3)
