import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.hierarchy import Hierarchy
from pomodoro_core.core.noise import (
    ISOTROPIC,
    READOUTS,
    NoiseWeights,
    level_variances,
    multiscale_noise,
    readouts,
    sampled_level_variances,
)
from pomodoro_core.core.presets import get_preset
from pomodoro_core.core.structure import find_structure, load_structure, spatial_crop

WEIGHTS = [
    get_preset("pomodoro-v0.9.0").weights,
    NoiseWeights(1, 1, 1),
    NoiseWeights(1, 2, 3),  # the review's w_a : w_r : w_c = 3 : 2 : 1
    ISOTROPIC,
    NoiseWeights(0, 1, 0),  # a zero weight is valid
]


@pytest.fixture(scope="module")
def structures():
    return {
        "5a7u": load_structure(find_structure("5a7u")),
        "1hvr-crop": spatial_crop(load_structure(find_structure("1hvr")), 32, seed=0),
        "4E43-crop": spatial_crop(load_structure(find_structure("4E43")), 40, seed=0),
        "4E43-heavy-crop": spatial_crop(load_structure(find_structure("4E43"), "heavy"), 24, seed=1),
    }


@pytest.mark.parametrize("w", WEIGHTS, ids=lambda w: f"{w.w_c}-{w.w_r}-{w.w_a}")
@pytest.mark.parametrize("name", ["5a7u", "1hvr-crop", "4E43-crop", "4E43-heavy-crop"])
def test_closed_form_matches_monte_carlo(structures, name, w):
    """Within 3 % for every read-out, at 20 000 samples, on real structures."""
    h = Hierarchy.from_structure(structures[name])
    exact = level_variances(h, w, sigma=7.0)
    mc = sampled_level_variances(h, w, sigma=7.0, n_samples=20_000, seed=1)
    e, m = exact.rms_sigma(), mc.rms_sigma()
    for key in READOUTS:
        if e[key] == 0:
            assert m[key] < 1e-9, key
        else:
            assert m[key] == pytest.approx(e[key], rel=0.03), key
    # per unit, too (pooled over units the estimate is far tighter than 3 %)
    for key in ("residue", "residue_vs_chain", "chain_vs_complex"):
        ok = exact.values[key] > 0
        assert np.allclose(mc.values[key][ok], exact.values[key][ok], rtol=0.10), key


def _dense_readout_variance(structure, w, v):
    """Second derivation: Var = s_a^2 sum v^2 + s_r^2 sum_r (sum_{i in r} v)^2 + s_c^2 sum_c (...)^2."""
    s_c, s_r, s_a = w.scales()
    per_res = np.bincount(structure.residue_index, weights=v, minlength=structure.n_residues)
    per_chain = np.bincount(structure.chain_index, weights=v, minlength=structure.n_chains)
    return s_a**2 * (v**2).sum() + s_r**2 * (per_res**2).sum() + s_c**2 * (per_chain**2).sum()


@settings(max_examples=15, deadline=None)
@given(st.floats(0, 10), st.floats(0, 10), st.floats(0.01, 10))
def test_closed_form_matches_explicit_quadratic_form(structures, w_c, w_r, w_a):
    s = structures["4E43-crop"]
    w = NoiseWeights(w_c, w_r, w_a)
    exact = level_variances(Hierarchy.from_structure(s), w).values
    N, R, C = s.n_atoms, s.n_residues, s.n_chains
    n_r, R_c = s.atoms_per_residue, s.residues_per_chain
    # read-out vectors over atoms, built densely (fine for a crop)
    res_vec = np.zeros((R, N))
    res_vec[s.residue_index, np.arange(N)] = 1 / n_r[s.residue_index]
    chain_vec = np.stack([(res_vec[s.residue_chain == c]).sum(0) / R_c[c] for c in range(C)])
    cx_vec = chain_vec.mean(0)
    checks = {
        "residue": res_vec,
        "chain": chain_vec,
        "complex": cx_vec[None],
        "atom_vs_residue": np.eye(N) - res_vec[s.residue_index],
        "residue_vs_chain": res_vec - chain_vec[s.residue_chain],
        "chain_vs_complex": chain_vec - cx_vec,
    }
    for key, vecs in checks.items():
        dense = np.array([_dense_readout_variance(s, w, v) for v in vecs])
        assert np.allclose(exact[key], dense, rtol=1e-9, atol=1e-12), key


def test_every_atom_carries_sigma_squared(structures):
    h = Hierarchy.from_structure(structures["1hvr-crop"])
    for w in WEIGHTS:
        assert np.allclose(level_variances(h, w, sigma=3.0).values["atom"], 9.0)


@pytest.mark.parametrize(
    "ws, msg",
    [((0, 0, 0), "all three"), ((-1, 1, 1), ">= 0"), ((float("nan"), 1, 1), "finite"), ((1, float("inf"), 1), "finite")],
)
def test_bad_weights(ws, msg):
    with pytest.raises(ParameterError, match=msg):
        NoiseWeights(*ws)


def test_zero_weight_level_has_no_noise(structures):
    h = Hierarchy.from_structure(structures["1hvr-crop"])
    eps = multiscale_noise(h, 5.0, NoiseWeights(0, 1, 0), n_samples=8, generator=torch.Generator().manual_seed(0))
    r = readouts(h, eps)
    assert r["atom_vs_residue"].abs().max() < 1e-5  # no atom term: atoms move with their residue


def test_noise_is_deterministic_and_batched_sigma(structures):
    h = Hierarchy.from_structure(structures["5a7u"])
    w = NoiseWeights(8.2, 1.6, 1.3)
    a = multiscale_noise(h, 2.0, w, n_samples=3, generator=torch.Generator().manual_seed(5))
    b = multiscale_noise(h, 2.0, w, n_samples=3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    c = multiscale_noise(h, torch.tensor([2.0, 4.0, 0.0]), w, n_samples=3, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(c[0], a[0]) and torch.allclose(c[1], 2 * a[1]) and (c[2] == 0).all()


def test_padded_atoms_get_no_noise(structures):
    s1, s2 = structures["5a7u"], structures["1hvr-crop"]
    h = Hierarchy.from_structures([s1, s2])
    eps = multiscale_noise(h, 1.0, NoiseWeights(1, 1, 1), generator=torch.Generator().manual_seed(0))
    assert (eps[0, s1.n_atoms :] == 0).all() and (eps[0, : s1.n_atoms] != 0).any()


def test_whole_number_weights_are_floats_and_non_numbers_are_refused():
    """A widget's whole number (2, 0) works like 2.0 everywhere (issue 13: polars Int64 crash); None is refused."""
    from pomodoro_core.analysis.decomposition import level_shares
    from pomodoro_core.core.errors import ParameterError

    w = NoiseWeights(2, 0, 1.3)
    assert (w.w_c, w.w_r) == (2.0, 0.0) and isinstance(w.w_c, float)
    assert level_shares(w)["weight"].to_list() == [2.0, 0.0, 1.3]
    with pytest.raises(ParameterError, match="must be numbers"):
        NoiseWeights(None, 1, 1)


def test_monte_carlo_moments_equal_the_brute_force_read_outs_of_the_same_draws(structures):
    """The unit-major accumulation (noise drawn once per level, never broadcast to atoms) gives the moments of
    the brute-force path: every component broadcast to atoms, every read-out formed, every product summed."""
    from pomodoro_core.core.noise import PAIRS, sample_component_grams

    s = structures["4E43-crop"]
    h, S = Hierarchy.from_structure(s), 50
    fast = sample_component_grams(h, S, seed=3)
    g = torch.Generator().manual_seed(3)
    units = (s.n_chains, s.n_residues, s.n_atoms)
    e_c, e_r, e_a = (torch.randn(u, 3 * S, generator=g, dtype=torch.float64).view(u, S, 3).permute(1, 0, 2) for u in units)
    comps = [h.chains_to_atoms(e_c), h.residues_to_atoms(e_r), e_a]
    outs = [readouts(h, e) for e in comps]
    for key in READOUTS:
        R = [o[key] for o in outs]
        gram = np.stack([(R[k] * R[m]).sum((0, 2)).numpy() / (3 * S) for k, m in PAIRS], -1)
        assert np.allclose(fast.grams[key][:, [0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]], gram, atol=1e-12), key
        first = np.stack([r.sum(0).numpy() / S for r in R], -1)
        assert np.allclose(fast.means[key], first, atol=1e-12), key


def test_monte_carlo_moments_are_chunked_and_report_progress(structures, monkeypatch):
    """Memory is bounded by chunks of draws x atoms; the estimate stays within Monte Carlo error."""
    import pomodoro_core.core.noise as noise

    h = Hierarchy.from_structure(structures["1hvr-crop"])
    w = NoiseWeights(8.2, 1.6, 1.3)
    monkeypatch.setattr(noise, "ATOM_DRAWS_PER_CHUNK", 100 * h.atom_residue.shape[-1])
    seen = []
    grams = noise.sample_component_grams(h, 4000, seed=0, progress=lambda done, n: seen.append(done))
    assert seen == list(range(100, 4001, 100))
    exact, mc = level_variances(h, w).rms_sigma(), grams.variances(w).rms_sigma()
    for key in READOUTS:
        assert mc[key] == pytest.approx(exact[key], rel=0.05), key
