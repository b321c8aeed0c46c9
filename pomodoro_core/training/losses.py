"""The multiscale denoising loss, as reviewed (seed 000, pitfall 5), as one callable (as NVlabs/edm `EDMLoss`).

    x = random rigid motion of x0 (when augment);  x_noisy = x + multiscale noise(sigma; training weights)
    D = net(x_noisy, sigma)
    x0_aligned = superpose(x0, D_atom.detach())              ground truth onto the prediction
    l_l = mean over units of |D_l - reduce_l(x0_aligned)|^2  (per-unit MSE, summed over xyz)
    l_bond = mean over bonds of (|d_pred| - |d_true|)^2
    loss = sum_l w_l lambda(s_l) l_l + lambda(sigma) l_bond

Each l_l is already a *mean* over its units, so the unit counts do not weight the
levels (the review's "la dominates lr by 5x" assumes sums).  Pitfall 5's fix is then a
choice of the weights w_l on the per-unit means: (1, 1, 1) as reviewed, or larger
residue and chain weights.  lambda is evaluated at the sigma each level was
preconditioned with, so that lambda(s_l) c_out(s_l)^2 = 1 at every level; a level
that carries no noise (s_l = 0: one chain, relative frame) has nothing to denoise
and is left out of that sample's loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core import edm
from ..core.errors import ParameterError
from ..core.geometry import random_rigid_motion, superpose
from ..core.hierarchy import LEVELS
from ..core.noise import NoiseWeights, multiscale_noise
from .context import Context
from .preconditioner import level_sigmas

TERMS = (*LEVELS, "bond")
REVIEWED_LEVEL_WEIGHTS = (1.0, 1.0, 1.0)


def masked_unit_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B,) mean over the masked units of the squared distance."""
    m = mask.to(pred.dtype).expand(pred.shape[:-1])
    return (((pred - target) ** 2).sum(-1) * m).sum(-1) / m.sum(-1).clamp_min(1)


def bond_length_error(x: torch.Tensor, x_true: torch.Tensor, bonds: torch.Tensor, bond_mask: torch.Tensor) -> torch.Tensor:
    """(B,) mean over each sample's bonds (B, P, 2) of (|d| - |d_true|)^2; 0 without bonds."""
    bonds = bonds.expand(x.shape[0], -1, -1)
    pick = lambda y, k: torch.gather(y, 1, bonds[..., k : k + 1].expand(-1, -1, 3))  # noqa: E731
    d = (pick(x, 0) - pick(x, 1)).norm(dim=-1)
    d0 = (pick(x_true, 0) - pick(x_true, 1)).norm(dim=-1)
    m = bond_mask.to(x.dtype).expand(d.shape)
    return (((d - d0) ** 2) * m).sum(-1) / m.sum(-1).clamp_min(1)


@dataclass(frozen=True)
class DenoisingLoss:
    """Per-sample loss terms of the multiscale denoiser: `loss(net, x0, sigma, ctx, generator)` noises and scores;
    `loss.terms(D, x, sigma, ctx)` scores a given prediction."""

    sigma_data: float = 16.0
    precond_sigma: str = "raw"
    level_weights: tuple[float, float, float] = REVIEWED_LEVEL_WEIGHTS  # atom, residue, chain
    bond_weight: float = 1.0
    weights: NoiseWeights = NoiseWeights(8.2, 1.6, 1.3)  # the training noise (as reviewed)
    augment: bool = False  # a random rigid motion of each sample before the noise

    def __post_init__(self):
        w = tuple(float(v) for v in self.level_weights)
        if len(w) != 3 or not all(torch.isfinite(torch.tensor(v)) and v >= 0 for v in w) or sum(w) <= 0:
            raise ParameterError(f"level weights (atom, residue, chain) must be 3 finite numbers >= 0, not all 0 (got {w})")

    def __call__(self, net, x0: torch.Tensor, sigma: torch.Tensor, ctx: Context, generator=None) -> dict[str, torch.Tensor]:
        """The (B,) terms for a batch of sigmas: x0 (B, N, 3), or (1, N, 3) for one structure, moved, noised, denoised."""
        x, x_noisy = self.noisy(x0, sigma, ctx, generator)
        return self.terms(net(x_noisy, sigma, ctx), x, sigma, ctx)

    def noisy(self, x0: torch.Tensor, sigma: torch.Tensor, ctx: Context, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, x_noisy): x0 randomly moved per sample when augment, plus multiscale noise with the training weights."""
        B = sigma.shape[0]
        ctx = ctx.for_batch(B)
        x = x0.expand(B, -1, -1)
        if self.augment:
            x = random_rigid_motion(x, ctx.hierarchy.atom_mask, 1.0, generator=generator)
        return x, x + multiscale_noise(ctx.hierarchy, sigma, self.weights, generator=generator)

    def terms(self, D: dict, x0: torch.Tensor, sigma: torch.Tensor, ctx: Context) -> dict[str, torch.Tensor]:
        """{'atom', 'residue', 'chain', 'bond'} weighted (B,) terms and their raw 'mse_*' (detached)."""
        ctx = ctx.for_batch(D["atom"].shape[0])
        x0_aligned = superpose(x0.expand_as(D["atom"]), D["atom"].detach(), ctx.hierarchy.atom_mask)
        target, masks = ctx.level_coords(x0_aligned), ctx.masks()
        s_l = level_sigmas(sigma, ctx, self.precond_sigma)
        out = {}
        for lvl, w in zip(LEVELS, self.level_weights, strict=True):
            mse = masked_unit_mse(D[lvl], target[lvl], masks[lvl])
            has_noise = s_l[lvl] > 0
            lam = edm.loss_weight(torch.where(has_noise, s_l[lvl], 1.0), self.sigma_data)
            out[f"mse_{lvl}"] = mse.detach()
            out[lvl] = torch.where(has_noise, w * lam * mse, 0.0)
        bond = bond_length_error(D["atom"], x0_aligned, ctx.bonds, ctx.bond_mask)
        out["mse_bond"] = bond.detach()
        out["bond"] = self.bond_weight * edm.loss_weight(sigma, self.sigma_data) * bond
        return out


def total(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    """Scalar training loss: the terms summed, averaged over the batch."""
    return sum(terms[k] for k in TERMS).mean()
