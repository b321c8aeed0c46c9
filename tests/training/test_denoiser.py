"""Tests of pomodoro_core/training/denoiser.py."""

import torch

from pomodoro_core.core import edm
from pomodoro_core.core.hierarchy import LEVELS
from pomodoro_core.training.context import Context
from pomodoro_core.training.denoiser import ModelConfig, build_denoiser
from pomodoro_core.training.trainer import centred_coords
from tests.helpers import quick


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
