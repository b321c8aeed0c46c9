"""Tests of pomodoro_core/training/cache.py."""

import torch

from pomodoro_core.training.cache import load_checkpoint, save_checkpoint, train_cached
from pomodoro_core.training.trainer import centred_coords, train
from tests.helpers import quick


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
