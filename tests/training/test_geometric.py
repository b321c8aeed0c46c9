"""Tests of pomodoro_core/training/geometric.py: the rotation-equivariant backbone (arch='geometric')."""

import numpy as np
import pytest
import torch

from pomodoro_core.core import edm
from pomodoro_core.core.geometry import random_rotations
from pomodoro_core.core.noise import NoiseWeights, multiscale_noise
from pomodoro_core.core.structure import Structure
from pomodoro_core.training.context import Context
from pomodoro_core.training.denoiser import ModelConfig, build_denoiser, n_parameters
from pomodoro_core.training.geometric import neighbours
from pomodoro_core.training.preconditioner import level_sigmas
from pomodoro_core.training.trainer import centred_coords, train
from tests.helpers import quick

WEIGHTS = NoiseWeights(8.2, 1.6, 1.3)
SIGMA_DATA = 16.0


def geometric(ctx, arch="geometric", **kw):
    """A small model whose zero-initialised output heads are made random, so that F is not 0."""
    torch.manual_seed(0)
    cfg = ModelConfig(width=32, heads=2, blocks=2, arch=arch, neighbours=8, **kw)
    model = build_denoiser(cfg, ctx, SIGMA_DATA)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("backbone.out"):
                p.normal_(0, 0.5)
    return model.eval()


def noisy(structure, sigma, ctx, seed=0):
    g = torch.Generator().manual_seed(seed)
    x0 = centred_coords(structure, "cpu")
    return (x0 + multiscale_noise(ctx.hierarchy, torch.tensor([sigma]), WEIGHTS, generator=g)).double().float()


def rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("precond", ["raw", "relative"])
def test_D_rotates_with_the_structure_and_shifts_by_c_skip_on_a_real_dimer(dimer_crop, precond):
    """D(x R + t) = D(x) R + c_skip(s_l) t at every level, to float32 precision; the transformer is not equivariant."""
    ctx = Context.from_structure(dimer_crop, WEIGHTS)
    model = geometric(ctx, precond_sigma=precond, identity="both")
    sigma = torch.tensor([3.0])
    x = noisy(dimer_crop, 3.0, ctx)
    R = random_rotations(1, torch.Generator().manual_seed(1))[0]
    t = torch.tensor([[[7.0, -3.0, 11.0]]])
    with torch.no_grad():
        D, D_rot, D_shift = (model(y, sigma, ctx) for y in (x, x @ R, x + t))
    c_skip = {lvl: edm.c_skip(s, SIGMA_DATA) for lvl, s in level_sigmas(sigma, ctx, precond).items()}
    for lvl in D:
        F_part = D[lvl] - c_skip[lvl] * ctx.level_coords(x)[lvl]
        assert F_part.abs().max() > 0.5  # the network contributes: the test could fail
        assert rel_err(D_rot[lvl], D[lvl] @ R) < 2e-5, lvl
        assert rel_err(D_shift[lvl], D[lvl] + c_skip[lvl] * t) < 2e-5, lvl
    transformer = geometric(ctx, arch="transformer", precond_sigma=precond, identity="both")
    with torch.no_grad():
        T, T_rot = transformer(x, sigma, ctx), transformer(x @ R, sigma, ctx)
    assert rel_err(T_rot["atom"], T["atom"] @ R) > 1e-2  # the control: a plain transformer is not equivariant


def test_D_tells_a_structure_from_its_mirror_image(dimer_crop):
    """The cross product makes the network chiral: D(-x) is not -D(x) (proteins are not mirror-symmetric)."""
    ctx = Context.from_structure(dimer_crop, WEIGHTS)
    model = geometric(ctx)
    x, sigma = noisy(dimer_crop, 1.0, ctx), torch.tensor([1.0])
    with torch.no_grad():
        D, D_mirror = model(x, sigma, ctx)["atom"], model(-x, sigma, ctx)["atom"]
    assert rel_err(D_mirror, -D) > 1e-3


def _chains_swapped(s: Structure) -> tuple[Structure, np.ndarray, np.ndarray]:
    """The same two-chain structure with its chains in the other order, and the atom and residue permutations."""
    assert s.n_chains == 2
    res = np.concatenate([np.flatnonzero(s.residue_chain == 1), np.flatnonzero(s.residue_chain == 0)])
    atoms = np.concatenate([np.flatnonzero(s.residue_index == r) for r in res])
    new_index = np.repeat(np.arange(len(res)), [int((s.residue_index == r).sum()) for r in res])
    swapped = Structure(
        s.name + "-swapped",
        s.coords[atoms],
        s.element[atoms],
        s.atom_name[atoms],
        new_index,
        s.residue_name[res],
        s.residue_seqid[res],
        1 - s.residue_chain[res],
        s.chain_id[::-1].copy(),
        s.atom_set,
    )
    return swapped, atoms, res


def test_permuting_chains_permutes_D(dimer_crop):
    """Without identity features, the order of the chains in the file does not matter: D is permuted with them."""
    swapped, atoms, res = _chains_swapped(dimer_crop)
    ctx, ctx_s = Context.from_structure(dimer_crop, WEIGHTS), Context.from_structure(swapped, WEIGHTS)
    model = geometric(ctx, identity="none")
    x, sigma = noisy(dimer_crop, 2.0, ctx), torch.tensor([2.0])
    with torch.no_grad():
        D, D_s = model(x, sigma, ctx), model(x[:, atoms], sigma, ctx_s)
    assert rel_err(D_s["atom"], D["atom"][:, atoms]) < 2e-5
    assert rel_err(D_s["residue"], D["residue"][:, res]) < 2e-5
    assert rel_err(D_s["chain"], D["chain"][:, [1, 0]]) < 2e-5


def test_padding_does_not_leak_into_a_shorter_structure(crop, dimer_crop):
    """In a padded batch of two structures, the shorter one's D equals its D alone; nothing is NaN."""
    both = Context.from_structures([crop, dimer_crop], WEIGHTS)
    alone = Context.from_structure(crop, WEIGHTS)
    model = geometric(both, identity="none")
    x = centred_coords([crop, dimer_crop], "cpu") + 0.5 * torch.randn(2, both.hierarchy.atom_mask.shape[-1], 3)
    sigma = torch.tensor([1.5, 1.5])
    with torch.no_grad():
        D = model(x, sigma, both)
        D1 = model(x[:1, : crop.n_atoms], sigma[:1], alone)
    assert all(torch.isfinite(v).all() for v in D.values())
    assert rel_err(D["atom"][0, : crop.n_atoms], D1["atom"][0]) < 2e-5
    assert rel_err(D["residue"][0, : crop.n_residues], D1["residue"][0]) < 2e-5


def test_neighbours_are_the_k_nearest_real_units_self_first():
    p = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [3, 0, 0], [0.5, 0, 0], [0, 0, 0]]])
    mask = torch.tensor([[True, True, True, True, False]])  # the last is padding (at the origin, like unit 0)
    idx, real = neighbours(p, mask, 3)
    assert idx[0, 0].tolist() == [0, 3, 1]
    assert idx[0, 2].tolist() == [2, 1, 3]
    assert bool(real[0, :4].all())
    idx_all, real_all = neighbours(p, mask, 10)  # k above the number of units: every unit, padding marked
    assert idx_all.shape[-1] == 5 and int(real_all[0, 0].sum()) == 4


def test_geometric_training_loss_falls(crop):
    """A short run of the geometric denoiser on a real crop: the loss of the last steps is below the first's."""
    cfg = quick(steps=80, batch_size=8, model=ModelConfig(width=32, heads=2, blocks=1, arch="geometric", identity="atom"))
    r = train(crop, cfg)
    loss = r.metrics["loss"].to_numpy()
    assert r.completed and np.isfinite(loss).all()
    assert loss[-20:].mean() < 0.8 * loss[:20].mean()
    assert n_parameters(r.model) > 0 and r.config.model.arch == "geometric"


def test_unknown_architecture_is_refused():
    from pomodoro_core.core.errors import ParameterError

    with pytest.raises(ParameterError, match="arch"):
        ModelConfig(arch="mlp")
    with pytest.raises(ParameterError, match="neighbours"):
        ModelConfig(arch="geometric", neighbours=0)


@pytest.mark.parametrize("precond", ["raw", "relative"])
def test_one_residue_gives_finite_D_and_gradients(precond):
    """Degenerate but valid: one residue of one chain (one unit at the residue and chain levels, k above n)."""
    from pomodoro_core.core.structure import contiguous_crop, find_structure, load_structure

    one = contiguous_crop(load_structure(find_structure("5PTI")), 1, seed=0)
    ctx = Context.from_structure(one, WEIGHTS)
    model = geometric(ctx, precond_sigma=precond, identity="both")
    D = model(noisy(one, 2.0, ctx), torch.tensor([2.0]), ctx)
    sum(v.square().sum() for v in D.values()).backward()
    assert all(torch.isfinite(v).all() for v in D.values())
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
