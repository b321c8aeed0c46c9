import numpy as np
import polars as pl
import pytest

from pomodoro_core.analysis import precond
from pomodoro_core.core.noise import NoiseWeights
from pomodoro_core.core.structure import find_structure, load_structure, spatial_crop


@pytest.fixture(scope="module")
def crop():
    return spatial_crop(load_structure(find_structure("4E43")), 48, seed=0)


def test_level_sigma_data_direct(crop):
    sd = precond.level_sigma_data(crop)
    res = np.stack([crop.coords[crop.residue_index == r].mean(0) for r in range(crop.n_residues)])
    chains = np.stack([res[crop.residue_chain == c].mean(0) for c in range(crop.n_chains)])
    center = chains.mean(0)
    assert sd["atom"] == pytest.approx(np.sqrt(((crop.coords - center) ** 2).mean()))
    assert sd["residue"] == pytest.approx(np.sqrt(((res - center) ** 2).mean()))
    assert sd["chain"] == pytest.approx(np.sqrt(((chains - center) ** 2).mean()))


@pytest.mark.parametrize("w", [NoiseWeights(8.2, 1.6, 1.3), NoiseWeights(1, 1, 1), NoiseWeights(0, 0, 1)])
def test_closed_form_criterion_matches_monte_carlo(crop, w):
    sig = np.array([0.3, 8.0, 60.0])
    cf = precond.criterion_curves(crop, w, 16.0, sig)
    mc = precond.criterion_monte_carlo(crop, w, 16.0, sig, n_samples=3000, seed=0)
    j = cf.join(mc, on=["level", "choice", "sigma"])
    # chain level has 2-3 units: its Monte Carlo is noisier
    for lvl, tol in (("atom", 0.03), ("residue", 0.03), ("chain", 0.08)):
        s = j.filter(pl.col("level") == lvl)
        assert np.allclose(s["var_c_in_x_mc"], s["var_c_in_x"], rtol=tol)
        assert np.allclose(s["var_F_target_mc"], s["var_F_target"], rtol=tol)


def test_effective_sigma_and_level_data_scale_give_exactly_one(crop):
    cf = precond.criterion_curves(crop, NoiseWeights(8.2, 1.6, 1.3), 16.0, np.logspace(-2, 3, 50))
    full = cf.filter(pl.col("choice") == "effective σ_l, level σ_data")
    assert np.allclose(full["var_c_in_x"], 1.0) and np.allclose(full["var_F_target"], 1.0)


def test_summary_c_noise_shift(crop):
    w = NoiseWeights(8.2, 1.6, 1.3)
    t = precond.level_summary(crop, w, 16.0, 10.0)
    f = precond.level_noise_factor(crop, w)
    r = t.filter(pl.col("level") == "residue").row(0, named=True)
    assert r["c_noise needed"] - r["c_noise(σ)"] == pytest.approx(0.25 * np.log(f["residue"]))
