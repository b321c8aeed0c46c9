"""The CUDA path (runs where a GPU is present; skipped on CPU with the reason): training, local attention and
sampling on the GPU give finite results that agree with the CPU's from the same seed."""

import pytest
import torch

from pomodoro_core.core.sampling import SamplerConfig
from pomodoro_core.core.structure import find_structure, load_structure, spatial_crop
from pomodoro_core.experiments import ablation
from pomodoro_core.training.sampler import edm_sample
from pomodoro_core.training.trainer import train
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
