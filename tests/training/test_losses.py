"""Tests of pomodoro_core/training/losses.py."""

import math

import pytest
import torch

from pomodoro_core.core import edm
from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.geometry import random_rigid_motion
from pomodoro_core.core.noise import ISOTROPIC, NoiseWeights
from pomodoro_core.training.context import Context
from pomodoro_core.training.losses import DenoisingLoss
from pomodoro_core.training.trainer import centred_coords


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
