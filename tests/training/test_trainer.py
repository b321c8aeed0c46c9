"""Tests of pomodoro_core/training/trainer.py."""

import copy

import pytest
import torch

from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.presets import get_preset
from pomodoro_core.training.denoiser import ModelConfig
from pomodoro_core.training.losses import DenoisingLoss
from pomodoro_core.training.trainer import TrainConfig, flat_parameters, train
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


def test_flat_parameters_step_like_adamw_on_each_parameter():
    """Parameters and gradients as views of one flat tensor: gradients land in it, and fused AdamW plus clipping
    on it move every parameter as per-parameter AdamW and clipping do (to float rounding)."""
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.SiLU(), torch.nn.Linear(7, 3))
    flat_model = copy.deepcopy(ref)
    start = [p.detach().clone() for p in ref.parameters()]
    flat = flat_parameters(list(flat_model.parameters()))
    opt_ref = torch.optim.AdamW(ref.parameters(), lr=0.05, weight_decay=0.1, foreach=False)
    opt_flat = torch.optim.AdamW([flat], lr=0.05, weight_decay=0.1, fused=True)
    x = torch.randn(16, 5)
    for _ in range(5):
        opt_ref.zero_grad()
        flat.grad.zero_()
        (ref(x) ** 2).sum().backward()
        (flat_model(x) ** 2).sum().backward()
        n_ref = torch.nn.utils.clip_grad_norm_(ref.parameters(), 1.0)
        n_flat = torch.nn.utils.clip_grad_norm_(flat, 1.0)
        assert float(n_flat) == pytest.approx(float(n_ref), rel=1e-5) and float(n_ref) > 1.0  # clipping acts
        opt_ref.step()
        opt_flat.step()
    for p_ref, p_flat, p0 in zip(ref.parameters(), flat_model.parameters(), start, strict=True):
        assert p_flat.grad.untyped_storage().data_ptr() == flat.grad.untyped_storage().data_ptr()  # still views
        assert torch.allclose(p_flat, p_ref, atol=1e-6) and not torch.allclose(p_ref, p0, atol=1e-3)  # both moved
    assert torch.equal(torch.cat([p.detach().reshape(-1) for p in flat_model.parameters()]), flat.detach())
