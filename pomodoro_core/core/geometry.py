"""Rigid-body geometry on batched coordinates: Kabsch superposition, RMSD, random rigid motions.

All functions take (B, N, 3) tensors and an optional (B, N) or (N,) mask of the atoms
that count; padded atoms are ignored.
"""

from __future__ import annotations

import torch


def _weights(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return x.new_ones(x.shape[:-1])
    return mask.to(x.dtype).expand(x.shape[:-1])


def masked_centroid(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    w = _weights(x, mask).unsqueeze(-1)
    return (x * w).sum(-2, keepdim=True) / w.sum(-2, keepdim=True).clamp_min(1e-12)


def kabsch(mobile: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None):
    """Rotation R (B, 3, 3) and translation t (B, 1, 3) minimising |mobile R + t - target|^2.

    Row-vector convention: the superposed coordinates are mobile @ R + t.  R is a proper
    rotation (det +1): a reflection is never used to improve the fit.
    """
    w = _weights(mobile, mask).unsqueeze(-1)
    mu_m, mu_t = masked_centroid(mobile, mask), masked_centroid(target, mask)
    H = ((mobile - mu_m) * w).transpose(-1, -2) @ (target - mu_t)  # (B, 3, 3) covariance
    U, _, Vh = torch.linalg.svd(H.double())
    d = torch.sign(torch.linalg.det(U @ Vh))
    D = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
    R = (U @ D @ Vh).to(mobile.dtype)
    t = mu_t - mu_m @ R
    return R, t


def superpose(mobile: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """`mobile` moved rigidly onto `target` (no gradient flows through the fitted motion)."""
    R, t = kabsch(mobile.detach(), target.detach(), mask)
    return mobile @ R + t


def rmsd(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None, align: bool = True) -> torch.Tensor:
    """(B,) RMSD between x and y over the masked atoms, after superposing x on y when `align`."""
    if align:
        x = superpose(x, y, mask)
    w = _weights(x, mask)
    return (((x - y) ** 2).sum(-1) * w).sum(-1).div(w.sum(-1).clamp_min(1)).sqrt()


def random_rotations(n: int, generator: torch.Generator | None = None, dtype=torch.float32, device="cpu") -> torch.Tensor:
    """n rotations drawn uniformly (Haar) from SO(3), via normalised random quaternions."""
    q = torch.randn(n, 4, generator=generator, dtype=torch.float64, device=device)
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    R = torch.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ],
        -1,
    ).reshape(n, 3, 3)  # fmt: skip
    return R.to(dtype)


def random_rigid_motion(
    x: torch.Tensor, mask: torch.Tensor | None = None, translation_scale: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Centre each sample, rotate it uniformly at random, then shift it by N(0, translation_scale^2 I).

    AF3 (Alg. 19, CentreRandomAugmentation) and Boltz use s_trans = 1 Å.
    """
    B = x.shape[0]
    R = random_rotations(B, generator, x.dtype, x.device)
    t = translation_scale * torch.randn(B, 1, 3, generator=generator, dtype=x.dtype, device=x.device)
    out = (x - masked_centroid(x, mask)) @ R + t
    return out if mask is None else out * _weights(x, mask).unsqueeze(-1)
