"""Model, losses, trainer, sampler and metrics of the training issue."""

import math

import numpy as np
import pytest
import torch

from pomodoro_core.core import edm
from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.geometry import kabsch, random_rigid_motion, random_rotations, rmsd
from pomodoro_core.core.hierarchy import LEVELS, Hierarchy
from pomodoro_core.core.noise import ISOTROPIC, NoiseWeights
from pomodoro_core.core.presets import get_preset
from pomodoro_core.core.sampling import SamplerConfig
from pomodoro_core.core.structure import consecutive_ca_pairs, contiguous_crop, covalent_bonds, find_structure, load_structure
from pomodoro_core.training.cache import load_checkpoint, save_checkpoint, train_cached
from pomodoro_core.training.context import Context
from pomodoro_core.training.denoiser import ModelConfig, build_denoiser
from pomodoro_core.training.losses import DenoisingLoss
from pomodoro_core.training.metrics import mobility, sample_report, violations
from pomodoro_core.training.sampler import edm_sample, sample_trajectory
from pomodoro_core.training.trainer import TrainConfig, centred_coords, train


@pytest.fixture(scope="module")
def crop():
    return contiguous_crop(load_structure(find_structure("5PTI")), 12, seed=0)


def quick(**kw) -> TrainConfig:
    base = dict(steps=4, batch_size=4, model=ModelConfig(width=16, heads=2, blocks=1))
    return TrainConfig.from_preset(get_preset("pomodoro-v0.9.0"), **(base | kw))


# --------------------------------------------------------------------------- geometry


def test_kabsch_recovers_a_known_rotation():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 20, 3, generator=g, dtype=torch.float64)
    R = random_rotations(3, g, torch.float64)
    t = torch.randn(3, 1, 3, generator=g, dtype=torch.float64)
    y = x @ R + t
    R_fit, t_fit = kabsch(x, y)
    assert torch.allclose(R_fit, R, atol=1e-10)
    assert torch.allclose(t_fit, t, atol=1e-10)
    assert torch.allclose(rmsd(x, y), torch.zeros(3, dtype=torch.float64), atol=1e-10)
    assert rmsd(x, y, align=False).min() > 0.1  # without superposition the check can fail


def test_kabsch_never_reflects():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 30, 3, generator=g, dtype=torch.float64)
    mirror = x * torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64)
    R, _ = kabsch(mirror, x)
    assert torch.allclose(torch.linalg.det(R), torch.ones(1, dtype=torch.float64))
    assert rmsd(mirror, x) > 0.1  # a mirror image is not superposable


def test_random_rotations_are_uniform_proper_rotations():
    R = random_rotations(20_000, torch.Generator().manual_seed(2), torch.float64)
    eye = torch.eye(3, dtype=torch.float64).expand_as(R)
    assert torch.allclose(R @ R.transpose(-1, -2), eye, atol=1e-12)
    assert torch.allclose(torch.linalg.det(R), torch.ones(20_000, dtype=torch.float64))
    # Haar measure: E[R] = 0 and E[trace R] = 0 (Monte Carlo, 20k draws: sd of a mean ~ 0.004)
    assert R.mean(0).abs().max() < 0.03
    assert abs(float(R.diagonal(dim1=-2, dim2=-1).sum(-1).mean())) < 0.05


def test_random_rigid_motion_keeps_internal_geometry(crop):
    x = centred_coords(crop, "cpu").double().expand(5, -1, -1)
    y = random_rigid_motion(x, generator=torch.Generator().manual_seed(3))
    dist = lambda a: torch.cdist(a, a, compute_mode="donot_use_mm_for_euclid_dist")  # noqa: E731
    assert torch.allclose(dist(x), dist(y), atol=1e-9)
    assert (y - x).abs().max() > 1.0


# --------------------------------------------------------------------------- structure geometry and metrics


def test_covalent_bonds_of_a_contiguous_crop(crop):
    bonds = covalent_bonds(crop)
    n_gly = int((crop.residue_name == "GLY").sum())
    assert len(bonds) == 4 * crop.n_residues - n_gly + (crop.n_residues - 1)
    d = np.linalg.norm(crop.coords[bonds[:, 0]] - crop.coords[bonds[:, 1]], axis=1)
    assert d.min() > 1.1 and d.max() < 1.7
    assert len(consecutive_ca_pairs(crop)) == crop.n_residues - 1


def test_violations_are_zero_on_the_target_and_not_on_noise(crop):
    x = torch.as_tensor(crop.coords).unsqueeze(0)
    v = violations(x, crop)
    assert float(v["bond_error"][0]) < 1e-9 and float(v["bond_violations"][0]) == 0
    noisy = x + torch.randn(x.shape, generator=torch.Generator().manual_seed(0), dtype=x.dtype)
    assert float(violations(noisy, crop)["bond_violations"][0]) > 0.3
    rep = sample_report(x, crop)
    assert rep["rmsd"][0] < 1e-5 and abs(rep["rg_ratio"][0] - 1) < 1e-9


def test_mobility_ignores_rigid_motion_and_finds_the_moved_residue(crop):
    h = Hierarchy.from_structure(crop)
    x0 = torch.as_tensor(crop.coords).unsqueeze(0)
    x1 = random_rigid_motion(x0, generator=torch.Generator().manual_seed(4))
    m = mobility(torch.cat([x0, x1]), h)
    assert float(m["residue"].abs().max()) < 1e-9 and float(m["intra"][0]) < 1e-9
    moved = x0.clone()
    moved[0, torch.as_tensor(crop.residue_index == 5)] += torch.tensor([0.0, 0.0, 3.0], dtype=x0.dtype)
    m = mobility(torch.cat([x0, moved]), h)
    res = m["residue"][0]
    assert int(res.argmax()) == 5 and res[5] > 2.0 * res[torch.arange(crop.n_residues) != 5].max()
    assert float(m["intra"][0]) < 0.5 * float(m["inter"][0])  # a rigid shift of a residue is inter-residue motion


# --------------------------------------------------------------------------- model and loss


def test_model_shapes_masks_and_zero_output_at_init(crop):
    cfg = quick(model=ModelConfig(width=16, heads=2, blocks=1, identity="both", noise_conditioning="per_level"))
    ctx = Context.from_structure(crop, cfg.weights)
    model = build_denoiser(cfg.model, ctx, cfg.sigma_data)
    x = centred_coords(crop, "cpu").expand(3, -1, -1) + 5.0
    sigma = torch.tensor([0.5, 4.0, 40.0])
    D = model(x, sigma, ctx)
    assert D["atom"].shape == (3, crop.n_atoms, 3)
    assert D["residue"].shape == (3, crop.n_residues, 3)
    assert D["chain"].shape == (3, crop.n_chains, 3)
    # F = 0 at initialisation: D = c_skip x_noisy at every level
    expect = edm.c_skip(sigma, cfg.sigma_data).reshape(-1, 1, 1) * x
    assert torch.allclose(D["atom"], expect, atol=1e-5)
    assert set(ctx.masks()) == set(LEVELS) and bool(ctx.hierarchy.atom_mask.all())


@pytest.mark.parametrize("frame", ["absolute", "relative"])
def test_level_sigma_changes_residue_preconditioning(crop, frame):
    w = NoiseWeights(8.2, 1.6, 1.3)
    ctx = Context.from_structure(crop, w)
    f = {lvl: float(v) for lvl, v in ctx.noise_factor[frame].items()}
    if frame == "absolute":
        assert f["atom"] == pytest.approx(1.0) and 0 < f["chain"] <= f["residue"] < 1
    else:  # one chain: nothing moves relative to the complex; atoms and residues keep their own share
        assert f["chain"] == 0.0 and 0 < f["atom"] < 1 and 0 < f["residue"] < 1
    x = centred_coords(crop, "cpu")
    raw = build_denoiser(ModelConfig(width=16, heads=2, blocks=1), ctx, 16.0)(x, torch.tensor([10.0]), ctx)
    eff_cfg = ModelConfig(width=16, heads=2, blocks=1, precond_sigma=frame)
    eff = build_denoiser(eff_cfg, ctx, 16.0)(x, torch.tensor([10.0]), ctx)
    s_r = f["residue"] * 10.0
    xr = ctx.level_coords(x)["residue"]
    assert torch.allclose(eff["residue"], edm.c_skip(s_r, 16.0) * xr, atol=1e-5)
    assert not torch.allclose(raw["residue"], eff["residue"])


def test_loss_is_zero_for_a_perfect_rotated_prediction(crop):
    ctx = Context.from_structure(crop, ISOTROPIC)
    x0 = centred_coords(crop, "cpu").double()
    rotated = random_rigid_motion(x0, generator=torch.Generator().manual_seed(5))
    D = ctx.level_coords(rotated)
    loss = DenoisingLoss(16.0)
    terms = loss.terms(D, x0, torch.tensor([3.0]), ctx)
    for k in ("atom", "residue", "chain", "bond"):
        assert float(terms[k][0]) < 1e-16
    shifted = {k: v + 1.0 for k, v in D.items()}  # a rigid shift of the whole prediction is aligned away
    terms = loss.terms(shifted, x0, torch.tensor([3.0]), ctx)
    assert float(terms["atom"][0]) < 1e-16
    wrong = dict(D, residue=D["residue"] + 1.0)  # but a residue level off its own atoms is penalised
    terms = loss.terms(wrong, x0, torch.tensor([3.0]), ctx)
    assert float(terms["residue"][0]) == pytest.approx(3.0 * float(edm.loss_weight(3.0, 16.0)), rel=1e-6)


def test_level_weights_scale_the_per_unit_means_and_a_noiseless_level_is_left_out(crop):
    ctx = Context.from_structure(crop, NoiseWeights(1, 1, 1))
    x0 = centred_coords(crop, "cpu")
    D = {k: v + 0.5 for k, v in ctx.level_coords(x0 + 0.3 * torch.randn_like(x0)).items()}
    sigma = torch.tensor([3.0])
    plain = DenoisingLoss(16.0, "relative").terms(D, x0, sigma, ctx)
    weighted = DenoisingLoss(16.0, "relative", (1.0, 5.0, 5.0)).terms(D, x0, sigma, ctx)
    assert torch.allclose(weighted["residue"], 5 * plain["residue"]) and torch.equal(weighted["atom"], plain["atom"])
    assert float(plain["chain"][0]) == 0.0 and math.isfinite(float(plain["mse_chain"][0]))  # one chain: no chain noise
    for bad in ((1.0, 1.0), (0.0, 0.0, 0.0), (1.0, -1.0, 1.0), (1.0, float("nan"), 1.0)):
        with pytest.raises(ParameterError, match="level weights"):
            DenoisingLoss(16.0, "raw", bad)


# --------------------------------------------------------------------------- trainer


def test_training_is_deterministic_on_cpu(crop):
    a = train(crop, quick(seed=3, augment=True), "cpu")
    b = train(crop, quick(seed=3, augment=True), "cpu")
    c = train(crop, quick(seed=4, augment=True), "cpu")
    assert a.metrics.equals(b.metrics) and a.samples.equals(b.samples)
    assert not a.metrics.equals(c.metrics)


def test_nan_guard_stops_and_keeps_metrics(crop, monkeypatch):
    real = DenoisingLoss.__call__
    calls = {"n": 0}

    def poisoned(*args, **kw):
        terms = real(*args, **kw)
        calls["n"] += 1
        if calls["n"] == 3:
            terms["residue"] = terms["residue"] * float("nan")
        return terms

    monkeypatch.setattr(DenoisingLoss, "__call__", poisoned)
    r = train(crop, quick(steps=10), "cpu")
    assert r.status.startswith("diverged") and "step 3" in r.status and "residue" in r.status
    assert r.metrics.height == 2 and not r.completed
    assert all(torch.isfinite(p).all() for p in r.model.parameters())


def test_overflowing_sigma_is_caught_not_silent(crop):
    r = train(crop, quick(P_mean=120.0), "cpu")  # sigma = 16 e^120 overflows float32
    assert r.status.startswith("diverged") and "overflowed" in r.status and r.metrics.height == 0


def test_per_level_grad_norms_are_recorded(crop):
    r = train(crop, quick(steps=3, probe_every=1, bond_weight=0.0), "cpu")
    m = r.metrics
    assert m["grad_norm_atom"].min() > 0 and m["grad_norm_residue"].min() > 0
    assert m["grad_norm_bond"].max() == 0.0  # a term with weight 0 has no gradient


def test_checkpoint_round_trip_and_cache(crop, tmp_path):
    r = train(crop, quick(steps=3), "cpu")
    path = save_checkpoint(tmp_path / "run.pt", r)
    torch.load(path, weights_only=True)  # loadable without pickled code
    back = load_checkpoint(path, crop, "cpu")
    assert back.metrics.equals(r.metrics) and back.status == r.status and back.config == r.config
    x = centred_coords(crop, "cpu").expand(2, -1, -1) + 1.0
    s = torch.tensor([2.0, 9.0])
    with torch.no_grad():
        assert torch.equal(back.model(x, s, back.ctx)["atom"], r.model(x, s, r.ctx)["atom"])
    first, cached = train_cached(crop, quick(steps=3), "cpu", tmp_path)
    again, cached2 = train_cached(crop, quick(steps=3), "cpu", tmp_path)
    assert not cached and cached2 and again.metrics.equals(first.metrics)


def test_bad_training_settings_raise_clear_errors():
    with pytest.raises(ParameterError, match="P_std"):
        quick(P_std=0.0)
    with pytest.raises(ParameterError, match="steps"):
        quick(steps=0)
    with pytest.raises(ParameterError, match="precond_sigma"):
        ModelConfig(precond_sigma="magic")


def test_a_short_training_run_lowers_the_loss(crop):
    cfg = TrainConfig.from_preset(
        get_preset("boltz-2"), steps=160, batch_size=8, model=ModelConfig(width=32, heads=2, blocks=1, identity="both")
    )
    r = train(crop, cfg, "cpu")
    loss = r.metrics["loss"]
    assert r.completed
    assert loss[-40:].mean() < 0.6 * loss[:40].mean()


# --------------------------------------------------------------------------- sampler


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
