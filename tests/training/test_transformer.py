"""The transformer's local attention (atoms and residues): the band it promises, exactly; full attention up to the
window; finite gradients when a block holds only padding; a forward pass that torch.compile captures whole."""

import pytest
import torch
import torch.nn.functional as F

from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.noise import NoiseWeights
from pomodoro_core.core.structure import find_structure, load_structure, spatial_crop
from pomodoro_core.training.context import Context
from pomodoro_core.training.denoiser import ModelConfig, build_denoiser
from pomodoro_core.training.trainer import centred_coords
from pomodoro_core.training.transformer import local_attention


def band_mask(N: int, window: int) -> torch.Tensor:
    """Second derivation: query i sees key j when j lies in the `window` keys centred on i's block of window/2."""
    Q = window // 2
    halo = (window - Q) // 2
    start = (torch.arange(N) // Q) * Q - halo
    j = torch.arange(N)
    return (j[None, :] >= start[:, None]) & (j[None, :] < start[:, None] + window)


@pytest.mark.parametrize("N, window", [(37, 8), (64, 16), (100, 32), (5, 8), (9, 8), (1, 4)])
def test_local_attention_is_full_attention_under_the_band_mask(N, window):
    g = torch.Generator().manual_seed(N)
    q, k, v = (torch.randn(2, 3, N, 4, generator=g, dtype=torch.float64) for _ in range(3))
    dense = F.scaled_dot_product_attention(q, k, v, attn_mask=band_mask(N, window))
    assert torch.allclose(local_attention(q, k, v, None, window), dense, atol=1e-12)
    mask = torch.ones(2, N, dtype=torch.bool)
    mask[1, N // 2 :] = False  # the second structure is half as long: its padding is never a key
    keep = band_mask(N, window)[None] & mask[:, None, :]
    dense = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None])
    local = local_attention(q, k, v, mask, window)
    assert torch.allclose(local[0], dense[0], atol=1e-12)
    assert torch.allclose(local[1, :, : N // 2], dense[1, :, : N // 2], atol=1e-12)


def two_crops(atoms_a: int, atoms_b: int):
    s = load_structure(find_structure("4E43"))
    return [spatial_crop(s, atoms_a // 5, seed=0), spatial_crop(s, atoms_b // 5, seed=1)]


def model_and_inputs(structures, window: int, residue_window: int = 256):
    ctx = Context.from_structures(structures, NoiseWeights(1, 1, 1), "cpu")
    torch.manual_seed(0)
    config = ModelConfig(width=16, heads=2, blocks=1, atom_window=window, residue_window=residue_window)
    model = build_denoiser(config, ctx, 16.0)
    for p in model.parameters():  # non-zero heads, so outputs depend on attention
        torch.nn.init.normal_(p, std=0.1)
    x = centred_coords(structures, "cpu") + torch.randn(ctx.n_structures, ctx.hierarchy.atom_residue.shape[-1], 3)
    return model, ctx, x, torch.full((ctx.n_structures,), 5.0)


def test_within_the_window_the_atom_track_is_full_attention():
    structures = two_crops(160, 120)
    outs = []
    for window in (256, 4096):  # both windows hold every atom: one computation
        model, ctx, x, sigma = model_and_inputs(structures, window)
        outs.append(model(x, sigma, ctx)["atom"])
    assert torch.equal(*outs)


def test_the_residue_track_is_local_above_its_window_only():
    structures = two_crops(160, 120)  # 32 and 24 residues
    out = {w: model_and_inputs(structures, 256, residue_window=w) for w in (32, 4096, 8)}
    res = {w: model(x, sigma, ctx)["residue"] for w, (model, ctx, x, sigma) in out.items()}
    assert torch.equal(res[32], res[4096])  # 32 residues fit a window of 32: full attention
    assert not torch.allclose(res[8], res[4096])  # a window of 8 leaves residues out: another computation


def test_local_attention_trains_on_padded_batches_with_finite_gradients():
    structures = two_crops(400, 80)  # the short crop's padding fills whole blocks, of atoms and of residues
    model, ctx, x, sigma = model_and_inputs(structures, 16, residue_window=8)
    out = model(x, sigma, ctx)
    n = structures[1].n_atoms
    assert all(torch.isfinite(t).all() for t in out.values())
    (out["atom"][1, :n].square().sum() + out["residue"][1, : n // 5].square().sum()).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("window", [0, 6, -4])
@pytest.mark.parametrize("name", ["atom_window", "residue_window"])
def test_bad_windows_are_refused(name, window):
    with pytest.raises(ParameterError, match=name):
        ModelConfig(**{name: window})


@pytest.mark.parametrize("padded", [False, True])
def test_the_forward_pass_compiles_into_one_graph(padded):
    """No device sync in the forward (padding is decided on the host), so torch.compile breaks no graph: on a GPU a
    sync per track would stall it, and each break cost the compiled sampler its speed."""
    structures = two_crops(400, 80) if padded else two_crops(400, 80)[:1]
    model, ctx, x, sigma = model_and_inputs(structures, 16, residue_window=8)
    explained = torch._dynamo.explain(model)(x, sigma, ctx)
    assert explained.graph_break_count == 0, explained.break_reasons
    assert explained.graph_count == 1
