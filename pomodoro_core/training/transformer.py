"""The transformer backbone F of the multiscale denoiser (not rotation-equivariant).

    F_l(c_in x_l, c_noise_l; features)   for l in atoms, residue centroids, chain centroids

Each track attends within its level; information passes up by segment means and
down by broadcast.  The atom and residue tracks attend locally, as AF3's atom
transformer does: units in blocks of window/2 (in sequence order) see the `window`
units around their block, so a step's cost grows linearly with atoms and residues; a
level of at most `window` units sees all of them (full attention, the same
computation as a global track).  The chain track is global.  The
network reads raw coordinates, so random augmentation matters, as in pomodoro and AF3.
It knows nothing of sigma beyond c_noise: the EDM preconditioning lives in `preconditioner.MultiscalePrecond`, which wraps it.

Inputs (features, noise level, identity switch): `inputs.InputEmbedding`, shared with
the geometric backbone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..core.hierarchy import LEVELS, Hierarchy
from .context import Context
from .inputs import InputEmbedding


def windows(t: torch.Tensor, window: int, blocks: int, dim: int) -> torch.Tensor:
    """The `window` rows of `t` (along `dim`) centred on each of `blocks` blocks of window/2, out of range padded.

    (..., N, ...) -> (..., blocks, window, ...).  Shifted by a quarter window, block b's keys are the halves b and
    b + 1: two views side by side, so each row is copied twice (`unfold` would copy as much, and sum slower)."""
    half = window // 2
    pad = [0, 0] * (t.dim() - 1 - dim) + [half // 2, (blocks + 1) * half - t.shape[dim] - half // 2]
    halves = F.pad(t, pad).unflatten(dim, (blocks + 1, half))
    return torch.cat([halves.narrow(dim, 0, blocks), halves.narrow(dim, 1, blocks)], dim + 1)


def local_attention(q, k, v, mask: torch.Tensor | None, window: int) -> torch.Tensor:
    """Blocks of window/2 queries attend to the `window` keys centred on their block (B, H, N, D each).

    Keys outside the structure or masked (padding) are left out with a large negative score, so that a
    block of padding only (whose output is discarded) stays finite."""
    B, H, N, D = q.shape
    nb = -(-N // (window // 2))
    qb = F.pad(q, (0, 0, 0, nb * window // 2 - N)).reshape(B, H * nb, window // 2, D)
    kb, vb = (windows(t, window, nb, 2).view(B, H * nb, window, D) for t in (k, v))
    valid = torch.ones(B, N, dtype=torch.bool, device=q.device) if mask is None else mask.expand(B, N)
    valid = windows(valid, window, nb, 1)  # (B, nb, window)
    bias = torch.zeros(valid.shape, dtype=q.dtype, device=q.device).masked_fill_(~valid, torch.finfo(q.dtype).min / 2)
    bias = bias[:, None, :, None, :].expand(B, H, nb, 1, window).reshape(B, H * nb, 1, window)
    y = F.scaled_dot_product_attention(qb, kb, vb, attn_mask=bias)
    return y.view(B, H, nb * window // 2, D)[:, :, :N]


class Track(nn.Module):
    """Pre-norm self-attention (scaled_dot_product_attention; mask None when nothing is padded) + MLP.
    With `window`, attention is local (`local_attention`) once the level holds more than `window` units."""

    def __init__(self, width: int, heads: int, window: int | None = None):
        super().__init__()
        self.heads, self.window = heads, window
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.SiLU(), nn.Linear(2 * width, width))

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        B, N, W = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(B, N, 3, self.heads, W // self.heads).permute(2, 0, 3, 1, 4)
        if self.window is not None and N > self.window:
            y = local_attention(q, k, v, mask, self.window)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None if mask is None else mask.expand(B, N)[:, None, None, :])
        h = h + self.proj(y.transpose(1, 2).reshape(B, N, W))
        return h + self.mlp(self.norm2(h))


class Block(nn.Module):
    """Up (atoms -> residues -> chains), attend at each level, down (chains -> residues -> atoms)."""

    def __init__(self, width: int, heads: int, window_of: dict[str, int | None]):
        super().__init__()
        self.tracks = nn.ModuleDict({lvl: Track(width, heads, window_of.get(lvl)) for lvl in LEVELS})
        self.up = nn.ModuleDict({lvl: nn.Linear(width, width) for lvl in ("residue", "chain")})
        self.down = nn.ModuleDict({lvl: nn.Linear(width, width) for lvl in ("atom", "residue")})

    def forward(self, h: dict, hier: Hierarchy, masks: dict) -> dict:
        """masks: `Hierarchy.padding_masks()` (None at a level without padding)."""
        a, r, c = h["atom"], h["residue"], h["chain"]
        r = r + self.up["residue"](hier.residue_centroids(a))
        c = c + self.up["chain"](hier.chain_centroids(r))
        c = self.tracks["chain"](c, masks["chain"])
        r = self.tracks["residue"](r + self.down["residue"](hier.chains_to_residues(c)), masks["residue"])
        a = self.tracks["atom"](a + self.down["atom"](hier.residues_to_atoms(r)), masks["atom"])
        return {"atom": a, "residue": r, "chain": c}


class MultiscaleTransformer(nn.Module):
    """F_l(x_in_l, c_noise_l) for every level: embed, blocks of attention within levels, a zero-initialised head."""

    def __init__(
        self,
        ctx: Context,
        width: int = 64,
        heads: int = 2,
        blocks: int = 2,
        identity: str = "none",
        atom_window: int | None = None,  # None: full attention (`ModelConfig.atom_window` sets the model's)
        residue_window: int | None = None,  # the same for residues (`ModelConfig.residue_window`)
    ):
        super().__init__()
        self.inputs = InputEmbedding(ctx, width, identity, coord_dims=3)
        self.blocks = nn.ModuleList(Block(width, heads, {"atom": atom_window, "residue": residue_window}) for _ in range(blocks))
        self.out = nn.ModuleDict({lvl: nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 3)) for lvl in LEVELS})
        for head in self.out.values():  # F = 0 at initialisation (EDM / AF3 practice)
            nn.init.zeros_(head[1].weight)
            nn.init.zeros_(head[1].bias)

    def forward(self, x_in: dict, c_noise: dict, ctx: Context) -> dict[str, torch.Tensor]:
        """x_in[l] (B, n_l, 3) = c_in x_l,noisy; c_noise[l] (B,); ctx for the same B samples."""
        h = self.inputs(c_noise, ctx, coords=x_in)
        masks = ctx.hierarchy.padding_masks()
        for block in self.blocks:
            h = block(h, ctx.hierarchy, masks)
        return {lvl: self.out[lvl](h[lvl]) for lvl in LEVELS}
