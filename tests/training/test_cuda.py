"""The CUDA path (runs where a GPU is present; skipped on CPU with the reason): training, local attention and
sampling on the GPU give finite results that agree with the CPU's from the same seed; bf16 autocast stays close
to fp32."""

from dataclasses import replace

import pytest
import torch

from pomodoro_core.core.sampling import SamplerConfig
from pomodoro_core.core.structure import find_structure, load_structure, spatial_crop
from pomodoro_core.experiments import ablation
from pomodoro_core.training.context import Context
from pomodoro_core.training.denoiser import ModelConfig, build_denoiser
from pomodoro_core.training.sampler import edm_sample
from pomodoro_core.training.trainer import centred_coords, train
from tests.helpers import quick

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here: the CUDA path runs on a GPU machine")


def test_training_on_cuda_agrees_with_the_cpu():
    crop = ablation.crop(ablation.NOTEBOOK_CROPS[0])
    cfg = quick(steps=3)
    gpu, cpu = train(crop, cfg, "cuda"), train(crop, cfg, "cpu")
    assert gpu.completed and gpu.device.startswith("cuda")
    assert gpu.metrics["loss"].to_list() == pytest.approx(cpu.metrics["loss"].to_list(), rel=1e-3)


def test_local_attention_and_sampling_on_cuda():
    big = load_structure(find_structure("4E43"))  # 994 atoms: above the atom window, so attention is local
    r = train(big, quick(steps=2), "cuda")
    assert r.completed and r.metrics["loss"].is_finite().all()
    x = edm_sample(r.denoiser(), r.ctx.hierarchy, r.config.weights, SamplerConfig(steps=5), 2)
    assert torch.isfinite(x).all() and x.device.type == "cuda"


def test_the_ablation_budget_on_cuda_is_the_gpu_budget():
    assert ablation.default_budget_name() == "gpu"
    crop = spatial_crop(load_structure(find_structure("1hvr")), 16, seed=0)
    assert train(crop, quick(steps=2), "cuda").completed


@pytest.mark.parametrize("arch", ["transformer", "geometric"])
def test_bf16_denoiser_stays_within_bf16_rounding_of_fp32(arch):
    """Same weights (random output heads, so F is not 0), fp32 and bf16: D differs, by at most 3 % of |c_out F|."""
    crop = ablation.crop(ablation.NOTEBOOK_CROPS[0])
    cfg = quick()
    ctx = Context.from_structure(crop, cfg.weights, "cuda")
    torch.manual_seed(0)
    fp32 = build_denoiser(ModelConfig(arch=arch), ctx, cfg.sigma_data).cuda()
    for head in fp32.backbone.out.values():  # the last Linear of each output head
        torch.nn.init.normal_([m for m in head.modules() if isinstance(m, torch.nn.Linear)][-1].weight, std=0.5)
    bf16 = build_denoiser(ModelConfig(arch=arch, precision="bf16"), ctx, cfg.sigma_data).cuda()
    bf16.load_state_dict(fp32.state_dict())
    x = centred_coords(crop, "cuda").expand(4, -1, -1) + 4.0 * torch.randn(4, crop.n_atoms, 3, device="cuda")
    sigma = torch.tensor([0.5, 2.0, 8.0, 32.0], device="cuda")
    with torch.no_grad():
        d32, d16 = fp32(x, sigma, ctx), bf16(x, sigma, ctx)
        skip = build_denoiser(ModelConfig(arch=arch), ctx, cfg.sigma_data).cuda()(x, sigma, ctx)  # F = 0: c_skip x
    for lvl in d32:
        assert d16[lvl].dtype == torch.float32
        scale = (d32[lvl] - skip[lvl]).abs().max()  # |c_out F|
        err = (d16[lvl] - d32[lvl]).abs().max()
        assert 0 < err <= 3e-2 * scale, (lvl, float(err), float(scale))


def test_bf16_training_follows_fp32_training():
    crop = ablation.crop(ablation.NOTEBOOK_CROPS[0])
    cfg = quick(steps=20)
    fp32 = train(crop, cfg, "cuda")
    bf16 = train(crop, cfg.with_(model=replace(cfg.model, precision="bf16")), "cuda")
    assert bf16.completed and bf16.metrics["loss"].is_finite().all()
    assert bf16.metrics["loss"].to_list() == pytest.approx(fp32.metrics["loss"].to_list(), rel=5e-2)
