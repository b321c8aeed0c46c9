"""Tests of pomodoro_core/training/metrics.py."""

import torch

from pomodoro_core.core.geometry import random_rigid_motion
from pomodoro_core.core.hierarchy import Hierarchy
from pomodoro_core.training.metrics import mobility, sample_report, violations


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
