import math

import numpy as np
import polars as pl
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from pomodoro_core.analysis import gradient
from pomodoro_core.analysis.probe import PerAtomMLP
from pomodoro_core.core import edm
from pomodoro_core.core.edm import LogNormalSigma
from pomodoro_core.core.presets import PRESET_NAMES, get_preset
from pomodoro_core.core.structure import find_structure, load_structure


def test_weight_on_F_is_the_density():
    d = get_preset("pomodoro-v0.9.0").training_sigma
    c = gradient.signal_curves(d, 16.0, gradient.z_grid())
    p = c.filter(pl.col("quantity") == "p")["value"].to_numpy()
    w = c.filter(pl.col("quantity") == "p_lambda_cout2")["value"].to_numpy()
    assert np.allclose(p, w, rtol=1e-12)


def test_ratio_at_matches_direct_formula():
    d = LogNormalSigma(-1.2, 1.5, 16.0)
    za, zb = -5.0, -1.2
    direct = (d.pdf_z(za, 16.0) * edm.loss_weight(16 * math.exp(za), 16.0)) / (
        d.pdf_z(zb, 16.0) * edm.loss_weight(16 * math.exp(zb), 16.0)
    )
    assert gradient.ratio_at(d, 16.0, za, zb, "p_lambda") == pytest.approx(direct, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.floats(-3, 1), st.floats(0.3, 3), st.floats(0.01, 5), st.floats(1.5, 200))
def test_expected_inverse_square_closed_form_vs_quadrature(P_mean, P_std, lo, hi_factor):
    d = LogNormalSigma(P_mean, P_std, 16.0)
    hi = lo * hi_factor
    exact = gradient.expected_inverse_square_between(d, lo, hi)
    quad, _ = integrate.quad(lambda ls: d.pdf_ln_sigma(ls) * math.exp(-2 * ls), math.log(lo), math.log(hi), limit=200)
    assert exact == pytest.approx(quad, rel=1e-6, abs=1e-14)


def test_band_shares_monte_carlo():
    st_ = load_structure(find_structure("4E43"))
    bands = gradient.structure_bands(st_)
    assert 1.3 < bands.edges[0] < 1.6  # backbone bonds
    d = get_preset("pomodoro-v0.9.0").training_sigma
    shares = gradient.band_shares(d, 16.0, bands)
    assert shares["share_of_weight_on_F"].sum() == pytest.approx(1.0)
    assert shares["share_of_loss_weight"].sum() == pytest.approx(1.0)
    s = d.sample(400_000, torch.Generator().manual_seed(0)).double().numpy()
    edges = [0, *bands.edges, np.inf]
    lam = edm.loss_weight(s, 16.0)
    for i in range(3):
        m = (s > edges[i]) & (s <= edges[i + 1])
        assert shares["share_of_weight_on_F"][i] == pytest.approx(m.mean(), abs=0.003)
    # the loss weight share by Monte Carlo (heavy tailed at low sigma: loose tolerance)
    mc = [(lam * ((s > edges[i]) & (s <= edges[i + 1]))).sum() / lam.sum() for i in range(3)]
    assert shares["share_of_loss_weight"][0] == pytest.approx(mc[0], abs=0.02)


def test_logsnr_density_integrates_to_one_and_log_uniform_is_flat():
    z = np.linspace(-15, 10, 20001)
    sd = 16.0
    ln = z + math.log(sd)
    d = LogNormalSigma(-1.2, 1.5, sd)
    w = gradient.logsnr_weighting(d.pdf_ln_sigma(ln), sd * np.exp(z), sd)
    logsnr = -2 * z
    p_l = w["p(logSNR): weight on F"]
    assert abs(np.trapezoid(p_l, logsnr)) == pytest.approx(1.0, rel=1e-4)
    lu = gradient.log_uniform_pdf_ln_sigma(ln, 1e-3 * sd, 80 * sd)
    inside = lu > 0
    assert np.ptp(lu[inside]) == 0  # weight on F flat under log-uniform
    # the loss-value density in sigma (not in ln sigma) goes like 1/sigma^3 at low sigma under log-uniform
    s = np.array([1e-2, 2e-2])
    dens_sigma = (1 / s) * edm.loss_weight(s, sd)
    assert dens_sigma[0] / dens_sigma[1] == pytest.approx(8.0, rel=1e-3)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_table_matches_sampling(name):
    p = get_preset(name)
    row = gradient.preset_table([p]).row(0, named=True)
    s = p.training_sigma.sample(200_000, torch.Generator().manual_seed(2)).double().numpy()
    assert np.median(s) == pytest.approx(row["median"], rel=0.02)
    assert np.quantile(s, 0.975) == pytest.approx(row["q97.5%"], rel=0.05)


def test_p_mean_rule():
    e = gradient.p_mean_rule_effect(1e-3 * 16, 16.0, 2.8)
    assert e["mode"] == pytest.approx(1e-3 * 16, rel=1e-9)
    assert e["P(sigma<sigma_min)"] == pytest.approx(e["Phi(-P_std)"], rel=1e-9)


def test_untrained_network_loss_matches_analytic():
    st_ = load_structure(find_structure("5PTI"))
    x0 = torch.tensor(st_.coords - st_.coords.mean(0), dtype=torch.float64)[None]
    F = PerAtomMLP(seed=3).double()
    sig = np.array([0.05, 1.0, 16.0, 200.0])
    res = gradient.untrained_loss_per_sigma(x0, F, sig, 16.0, n_draws=6, seed=1)
    assert np.allclose(res["loss"], res["analytic_loss_F0"], rtol=0.05)
    # dL/dF = 2 (F - target): its RMS is 2 sqrt(loss) at every sigma
    assert np.allclose(res["grad_rms_F"], 2 * np.sqrt(res["loss"]), rtol=0.02)
    assert (res["param_grad_norm"] > 0).all()
