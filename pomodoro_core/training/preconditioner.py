"""EDM preconditioning per level around any multiscale backbone (as NVlabs/edm `EDMPrecond`).

    x_l = reduce_l(x_noisy)          atoms; residue centroids; chain centroids
    D_l = c_skip(s_l) x_l + c_out(s_l) F_l(c_in(s_l) x_l; c_noise(t_l))

Switches for the reviewed design versus each fix:
  precond_sigma      'raw'       s_l = sigma at every level                      (pitfall 2, as reviewed)
                     'absolute'  s_l = RMS noise of level l's absolute positions
                     'relative'  s_l = RMS noise of level l relative to its parent  (the review's sr, sc)
  noise_conditioning 'shared'    t_l = sigma for every track                     (pitfall 6, as reviewed)
                     'per_level' t_l = s_l relative to the parent
  precision          'fp32'      everything in float32
                     'bf16'      the backbone F under bfloat16 autocast (its matmuls and attention in bf16,
                                 norms and softmax in fp32 by autocast's op lists); the preconditioning, the
                                 skip path c_skip x, the loss and the optimizer stay in fp32.  CUDA only: a
                                 CPU without bf16 units runs it slower than fp32, and oneDNN's AMX kernels
                                 die with 'Illegal instruction' on VMs that advertise AMX but do not enable it.
"""

from __future__ import annotations

import torch
from torch import nn

from ..core import edm
from ..core.errors import ParameterError
from ..core.hierarchy import LEVELS
from .context import Context

PRECOND_SIGMAS = ("raw", "absolute", "relative")
NOISE_CONDITIONINGS = ("shared", "per_level")
PRECISIONS = ("fp32", "bf16")
C_NOISE_FLOOR = 1e-6  # a level without noise (one chain, relative frame) is conditioned at this sigma


def level_sigmas(sigma: torch.Tensor, ctx: Context, how: str) -> dict[str, torch.Tensor]:
    """(B,) sigma each level is treated with: the raw sigma, or s_l = noise_factor_l sigma (absolute/relative)."""
    if how == "raw":
        return {lvl: sigma for lvl in LEVELS}
    return {lvl: ctx.noise_factor[how][lvl] * sigma for lvl in LEVELS}


class MultiscalePrecond(nn.Module):
    """D(x_noisy; sigma) at every level; D['atom'] is what the sampler follows."""

    def __init__(
        self,
        backbone: nn.Module,
        sigma_data: float,
        precond_sigma: str = "raw",
        noise_conditioning: str = "shared",
        precision: str = "fp32",
    ):
        super().__init__()
        self.backbone, self.sigma_data = backbone, float(sigma_data)
        self.precond_sigma, self.noise_conditioning = precond_sigma, noise_conditioning
        self.bf16 = precision == "bf16"

    def forward(self, x_noisy: torch.Tensor, sigma: torch.Tensor, ctx: Context) -> dict[str, torch.Tensor]:
        if self.bf16 and x_noisy.device.type != "cuda":
            raise ParameterError(f"precision 'bf16' runs on CUDA only (got a {x_noisy.device.type} tensor): use 'fp32' here")
        B, sd = x_noisy.shape[0], self.sigma_data
        ctx = ctx.for_batch(B)
        sigma = torch.as_tensor(sigma, dtype=x_noisy.dtype, device=x_noisy.device).reshape(-1).expand(B)
        s = level_sigmas(sigma, ctx, self.precond_sigma)
        t = level_sigmas(sigma, ctx, "raw" if self.noise_conditioning == "shared" else "relative")
        x = ctx.level_coords(x_noisy)
        col = lambda v: v.reshape(-1, 1, 1)  # noqa: E731

        c_skip = {lvl: col(edm.c_skip(s[lvl], sd)) for lvl in LEVELS}
        c_out = {lvl: col(edm.c_out(s[lvl], sd)) for lvl in LEVELS}
        c_in = {lvl: col(edm.c_in(s[lvl], sd)) for lvl in LEVELS}
        c_noise = {lvl: edm.c_noise(t[lvl].clamp_min(C_NOISE_FLOOR), sd) for lvl in LEVELS}

        with torch.autocast(x_noisy.device.type, torch.bfloat16, enabled=self.bf16):
            F_x = self.backbone({lvl: c_in[lvl] * x[lvl] for lvl in LEVELS}, c_noise, ctx)
        return {lvl: c_skip[lvl] * x[lvl] + c_out[lvl] * F_x[lvl].to(x_noisy.dtype) for lvl in LEVELS}
