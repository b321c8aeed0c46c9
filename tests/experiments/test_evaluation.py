"""Like-with-like metrics: denoising gain, the perfect denoiser's travel, order-free RMSD."""

import numpy as np
import pytest
import torch

from pomodoro_core.core.hierarchy import Hierarchy
from pomodoro_core.core.noise import NoiseWeights, level_variances
from pomodoro_core.core.presets import get_preset
from pomodoro_core.core.sampling import SamplerConfig
from pomodoro_core.core.structure import contiguous_crop, find_structure, load_structure, spatial_crop
from pomodoro_core.experiments.evaluation import denoising_gain, perfect_denoiser
from pomodoro_core.training.context import Context
from pomodoro_core.training.metrics import late_residue_travel, mobility, order_free_fit
from pomodoro_core.training.sampler import sample_trajectory
from pomodoro_core.training.trainer import centred_coords

REVIEWED = NoiseWeights(8.2, 1.6, 1.3)


@pytest.fixture(scope="module")
def pair():
    single = contiguous_crop(load_structure(find_structure("5PTI")), 10, seed=0)
    multi = spatial_crop(load_structure(find_structure("1hvr")), 12, seed=0)
    return [single, multi]


class _Fixed:
    """A stand-in model: returns x_noisy (does nothing) or the clean structure (perfect)."""

    def __init__(self, x0=None):
        self.x0 = x0

    def __call__(self, x, sigma, ctx):
        return {"atom": x if self.x0 is None else self.x0.index_select(0, self._idx(x, ctx))}

    def _idx(self, x, ctx):
        S = self.x0.shape[0]
        return torch.arange(S).repeat_interleave(x.shape[0] // S)


def test_gain_is_one_for_doing_nothing_and_zero_for_a_perfect_denoiser(pair):
    ctx = Context.from_structures(pair, REVIEWED)
    x0 = centred_coords(pair, "cpu")
    nothing = denoising_gain(_Fixed(), ctx, x0, REVIEWED, [1.0, 20.0], draws=3)
    perfect = denoising_gain(_Fixed(x0), ctx, x0, REVIEWED, [1.0, 20.0], draws=3)
    assert all(r["gain"] == pytest.approx(1.0, abs=1e-6) for r in nothing)
    assert all(r["gain"] < 1e-8 for r in perfect)
    levels = {(r["structure"], r["level"]) for r in nothing}
    assert (0, "chain_vs_complex") not in levels and (1, "chain_vs_complex") in levels  # one chain: no chain read-out


def test_perfect_denoiser_travel_matches_the_closed_form(pair):
    """Euler, no churn, D = x0: x_i = x0 + t_i eps, so each step moves residues relative to their chain by
    (t_i - t_{i+1}) |eps_r - eps_c|, and E|eps_r - eps_c|^2 = 3 x the closed-form residue_vs_chain variance."""
    s = pair[1]
    h = Hierarchy.from_structure(s)
    x0 = centred_coords(s, "cpu").double()
    cfg = SamplerConfig.from_preset(get_preset("pomodoro-v0.9.0"), steps=20)
    traj = sample_trajectory(lambda x, t: x0.expand_as(x).to(x.dtype), h, REVIEWED, cfg, n_samples=200, seed=3)
    eps = (traj.x[0].double() - x0) / traj.sigmas[0]
    r = h.residue_centroids(eps)
    rel = r - h.chains_to_residues(h.chain_centroids(r))
    rms = rel.pow(2).sum(-1).mean(-1).sqrt()  # (samples,)
    late = traj.t_hat <= cfg.sigma_data
    steps = traj.sigmas[:-1] - traj.sigmas[1:]
    expect = float(steps[late].sum()) * rms
    for b in range(3):
        inter = mobility(traj.x[:, b].double(), h, superpose_chains=False)["inter"]
        assert float(inter[torch.as_tensor(late)].sum()) == pytest.approx(float(expect[b]), rel=1e-4)
    closed = 3 * level_variances(h, REVIEWED, 1.0).values["residue_vs_chain"].mean()
    assert float((rms**2).mean()) == pytest.approx(closed, rel=0.08)
    # the chain-frame travel (rigid motion of each chain removed) stays close to the closed form
    chain_frame = late_residue_travel(traj.x[:, :20], traj.t_hat, h, cfg.sigma_data)
    assert np.allclose(chain_frame.numpy(), expect[:20].numpy(), rtol=0.15)


def test_perfect_denoiser_places_the_target_on_any_sample(pair):
    s = pair[0]
    x0 = centred_coords(s, "cpu")
    D = perfect_denoiser(x0, Hierarchy.from_structure(s).atom_mask)
    moved = x0 @ torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]) + 3.0
    assert torch.allclose(D(moved, None), moved, atol=1e-4)


def test_order_free_fit():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(30, 3)) * 8
    r, own = order_free_fit(t + 0.05 * rng.normal(size=t.shape), t)
    assert r < 0.1 and own == 1.0
    r, own = order_free_fit(t[rng.permutation(30)], t)  # shuffled residues: same shape, wrong slots
    assert r < 1e-6 and own < 0.2
    r, _ = order_free_fit(rng.normal(size=(30, 3)) * 8, t)  # an unrelated blob does not fit
    assert r > 2.0


def test_per_level_c_noise_is_a_reparametrisation_for_one_structure(pair):
    """Fix 6 for one multi-chain structure: c_noise(f_l sigma) = c_noise(sigma) + ln(f_l)/4 shifts each track's own
    Fourier embedding input by a constant, which its linear map absorbs exactly (a rotation of each sin/cos pair)."""
    from pomodoro_core.training.denoiser import ModelConfig, build_denoiser

    s = pair[1]
    ctx = Context.from_structure(s, REVIEWED)
    torch.manual_seed(0)
    shared = build_denoiser(ModelConfig(width=16, heads=2, blocks=1), ctx, 16.0)
    per = build_denoiser(ModelConfig(width=16, heads=2, blocks=1, noise_conditioning="per_level"), ctx, 16.0)
    per.load_state_dict(shared.state_dict())
    for head in list(shared.backbone.out.values()) + list(per.backbone.out.values()):
        torch.manual_seed(1)
        torch.nn.init.normal_(head[1].weight)
    for lvl, emb in per.backbone.inputs.noise.items():
        delta = float(torch.log(ctx.noise_factor["relative"][lvl][0])) / 4
        a = emb.freq.double() * delta
        n = a.numel()
        M = torch.eye(2 * n + 1, dtype=torch.float64)  # phi(c + delta) = M phi(c) + delta e0
        idx_s, idx_c = torch.arange(1, n + 1), torch.arange(n + 1, 2 * n + 1)
        M[idx_s, idx_s], M[idx_s, idx_c] = a.cos(), a.sin()
        M[idx_c, idx_s], M[idx_c, idx_c] = -a.sin(), a.cos()
        W = shared.backbone.inputs.noise[lvl].proj.weight.double() @ torch.linalg.inv(M)
        with torch.no_grad():
            emb.proj.weight.copy_(W.float())
            emb.proj.bias.copy_((shared.backbone.inputs.noise[lvl].proj.bias.double() - W[:, 0] * delta).float())
    x = centred_coords(s, "cpu").expand(3, -1, -1) + torch.randn(3, s.n_atoms, 3, generator=torch.Generator().manual_seed(2))
    sigma = torch.tensor([0.7, 9.0, 120.0])
    with torch.no_grad():
        a, b = shared(x, sigma, ctx), per(x, sigma, ctx)
    for lvl in a:
        assert torch.allclose(a[lvl], b[lvl], atol=2e-4), lvl
    untouched = build_denoiser(ModelConfig(width=16, heads=2, blocks=1, noise_conditioning="per_level"), ctx, 16.0)
    untouched.load_state_dict(shared.state_dict())
    with torch.no_grad():
        assert not torch.allclose(untouched(x, sigma, ctx)["atom"], a["atom"], atol=1e-3)  # the test can fail
