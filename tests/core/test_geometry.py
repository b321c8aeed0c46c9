"""Tests of pomodoro_core/core/geometry.py."""

import torch

from pomodoro_core.core.geometry import kabsch, random_rigid_motion, random_rotations, rmsd
from pomodoro_core.training.trainer import centred_coords


def test_kabsch_recovers_a_known_rotation():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 20, 3, generator=g, dtype=torch.float64)
    R = random_rotations(3, g, torch.float64)
    t = torch.randn(3, 1, 3, generator=g, dtype=torch.float64)
    y = x @ R + t
    R_fit, t_fit = kabsch(x, y)
    assert torch.allclose(R_fit, R, atol=1e-10)
    assert torch.allclose(t_fit, t, atol=1e-10)
    assert torch.allclose(rmsd(x, y), torch.zeros(3, dtype=torch.float64), atol=1e-10)
    assert rmsd(x, y, align=False).min() > 0.1  # without superposition the check can fail


def test_kabsch_never_reflects():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 30, 3, generator=g, dtype=torch.float64)
    mirror = x * torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64)
    R, _ = kabsch(mirror, x)
    assert torch.allclose(torch.linalg.det(R), torch.ones(1, dtype=torch.float64))
    assert rmsd(mirror, x) > 0.1  # a mirror image is not superposable


def test_random_rotations_are_uniform_proper_rotations():
    R = random_rotations(20_000, torch.Generator().manual_seed(2), torch.float64)
    eye = torch.eye(3, dtype=torch.float64).expand_as(R)
    assert torch.allclose(R @ R.transpose(-1, -2), eye, atol=1e-12)
    assert torch.allclose(torch.linalg.det(R), torch.ones(20_000, dtype=torch.float64))
    # Haar measure: E[R] = 0 and E[trace R] = 0 (Monte Carlo, 20k draws: sd of a mean ~ 0.004)
    assert R.mean(0).abs().max() < 0.03
    assert abs(float(R.diagonal(dim1=-2, dim2=-1).sum(-1).mean())) < 0.05


def test_random_rigid_motion_keeps_internal_geometry(crop):
    x = centred_coords(crop, "cpu").double().expand(5, -1, -1)
    y = random_rigid_motion(x, generator=torch.Generator().manual_seed(3))
    dist = lambda a: torch.cdist(a, a, compute_mode="donot_use_mm_for_euclid_dist")  # noqa: E731
    assert torch.allclose(dist(x), dist(y), atol=1e-9)
    assert (y - x).abs().max() > 1.0
