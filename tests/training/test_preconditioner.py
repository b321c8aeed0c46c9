"""Tests of pomodoro_core/training/preconditioner.py."""

import pytest
import torch

from pomodoro_core.core import edm
from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.noise import NoiseWeights
from pomodoro_core.training.context import Context
from pomodoro_core.training.denoiser import ModelConfig, build_denoiser
from pomodoro_core.training.trainer import centred_coords


@pytest.mark.parametrize("frame", ["absolute", "relative"])
def test_level_sigma_changes_residue_preconditioning(crop, frame):
    w = NoiseWeights(8.2, 1.6, 1.3)
    ctx = Context.from_structure(crop, w)
    f = {lvl: float(v) for lvl, v in ctx.noise_factor[frame].items()}
    if frame == "absolute":
        assert f["atom"] == pytest.approx(1.0) and 0 < f["chain"] <= f["residue"] < 1
    else:  # one chain: nothing moves relative to the complex; atoms and residues keep their own share
        assert f["chain"] == 0.0 and 0 < f["atom"] < 1 and 0 < f["residue"] < 1
    x = centred_coords(crop, "cpu")
    raw = build_denoiser(ModelConfig(width=16, heads=2, blocks=1), ctx, 16.0)(x, torch.tensor([10.0]), ctx)
    eff_cfg = ModelConfig(width=16, heads=2, blocks=1, precond_sigma=frame)
    eff = build_denoiser(eff_cfg, ctx, 16.0)(x, torch.tensor([10.0]), ctx)
    s_r = f["residue"] * 10.0
    xr = ctx.level_coords(x)["residue"]
    assert torch.allclose(eff["residue"], edm.c_skip(s_r, 16.0) * xr, atol=1e-5)
    assert not torch.allclose(raw["residue"], eff["residue"])


def test_bf16_is_refused_off_cuda_in_one_clear_error(crop):
    """bf16 autocast runs on CUDA only (oneDNN's bf16 kernels kill the process on some CPUs): on a CPU tensor the
    denoiser says so instead of computing, and a precision it does not know is refused when configured."""
    ctx = Context.from_structure(crop, NoiseWeights(8.2, 1.6, 1.3))
    model = build_denoiser(ModelConfig(width=16, heads=2, blocks=1, precision="bf16"), ctx, 16.0)
    with pytest.raises(ParameterError, match="precision 'bf16' runs on CUDA only"):
        model(centred_coords(crop, "cpu"), torch.tensor([1.0]), ctx)
    with pytest.raises(ParameterError, match="precision must be one of"):
        ModelConfig(precision="fp16")
