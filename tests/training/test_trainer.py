"""Tests of pomodoro_core/training/trainer.py."""

import pytest
import torch

from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.presets import get_preset
from pomodoro_core.training.denoiser import ModelConfig
from pomodoro_core.training.losses import DenoisingLoss
from pomodoro_core.training.trainer import TrainConfig, train
from tests.helpers import quick


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
