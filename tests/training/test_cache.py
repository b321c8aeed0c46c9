"""Tests of pomodoro_core/training/cache.py."""

import os
import subprocess
import sys
from pathlib import Path

import torch

from pomodoro_core.training.cache import load_checkpoint, save_checkpoint, train_cached
from pomodoro_core.training.trainer import centred_coords, train
from tests.helpers import quick

ROOT = Path(__file__).resolve().parents[2]


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


_STRESS = """
import sys, torch
from pathlib import Path
from pomodoro_core.core.files import atomic_write
path, role = Path(sys.argv[1]), sys.argv[2]
payload = {"w": torch.arange(20000, dtype=torch.float64) * (1 if role == "a" else -1)}
errors = 0
for i in range(150):
    if role in "ab":
        atomic_write(path, lambda f: torch.save(payload, f))
    elif path.exists():
        try:
            w = torch.load(path, weights_only=True)["w"]
            assert w.numel() == 20000 and abs(float(w[1])) == 1.0
        except Exception:
            errors += 1
print(errors)
"""


def test_concurrent_writers_and_readers_never_see_a_partial_checkpoint(tmp_path):
    """Two writers and a reader of one cache file, 150 rounds each: no error, no torn read, no temporary left."""
    path = tmp_path / "cache" / "key.pt"
    procs = [
        subprocess.Popen([sys.executable, "-c", _STRESS, str(path), role], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for role in ("a", "b", "r")
    ]
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0] and outs == ["0", "0", "0"], outs
    assert [f.name for f in path.parent.iterdir()] == ["key.pt"]


def test_two_processes_training_the_same_configuration_share_the_cache(tmp_path):
    """Both finish with exit 0 and the cache holds one complete checkpoint (the race of issue 12)."""
    code = (
        "import sys; from pomodoro_core.core.structure import *; from pomodoro_core.training.cache import train_cached; "
        "from tests.helpers import quick; "
        "s = contiguous_crop(load_structure(find_structure('5PTI')), 12, seed=0); "
        "r, _ = train_cached(s, quick(steps=20), 'cpu', sys.argv[1]); print(r.status)"
    )
    env = dict(os.environ, POMODORO_THREADS="1", OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [f.suffix for f in tmp_path.iterdir()] == [".pt"]


def test_an_unwritable_cache_warns_and_keeps_the_run(crop, tmp_path, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    result, cached = train_cached(crop, quick(steps=2), "cpu", not_a_folder)
    assert not cached and result.completed
    assert "carrying on uncached" in capsys.readouterr().err
