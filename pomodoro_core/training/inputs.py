"""What every backbone reads besides coordinates: per-unit features, the noise level and the identity switch.

    h_l = Linear([coords_l,] features_l) + FourierNoise_l(c_noise_l) [+ learned residue vector]

Identity (what the inputs say about which residue is which):
  'none'     atoms: atom-name one-hot; residue and chain tracks F=1 zeros (as reviewed)
  'atom'     + residue type, position in the chain, chain and sequence one-hot, and a
             learned vector per residue of each training structure, on every atom
  'residue'  the same on the residue track, chain one-hot on the chain track (fix 7)
  'both'     'atom' and 'residue'
Without identity every residue looks alike: the network is equivariant to permuting
residues of the same atom composition (notebook 00, claim 7b).

The transformer also feeds its coordinates here (`coord_dims=3`); the geometric
backbone does not (`coord_dims=0`): its scalar states must not see absolute positions.
"""

from __future__ import annotations

import torch
from torch import nn

from ..core.hierarchy import LEVELS
from .context import Context

IDENTITIES = ("none", "atom", "residue", "both")


def identity_on_atoms(identity: str) -> bool:
    return identity in ("atom", "both")


def identity_on_tracks(identity: str) -> bool:
    return identity in ("residue", "both")


def feature_widths(identity: str, ctx: Context) -> dict[str, int]:
    fa, fr, fc = (t.shape[-1] for t in (ctx.atom_features, ctx.residue_features, ctx.chain_features))
    return {
        "atom": fa + (fr if identity_on_atoms(identity) else 0),
        "residue": fr if identity_on_tracks(identity) else 1,
        "chain": fc if identity_on_tracks(identity) else 1,
    }


class FourierNoise(nn.Module):
    """c_noise -> width: fixed Fourier features then a linear map (EDM's noise embedding, smaller)."""

    def __init__(self, width: int, n_freq: int = 8):
        super().__init__()
        self.register_buffer("freq", 2.0 ** torch.arange(n_freq, dtype=torch.float32) / 4)
        self.proj = nn.Linear(2 * n_freq + 1, width)

    def forward(self, c: torch.Tensor) -> torch.Tensor:  # (B,) -> (B, 1, width)
        a = c.reshape(-1, 1) * self.freq
        return self.proj(torch.cat([c.reshape(-1, 1), a.sin(), a.cos()], -1)).unsqueeze(1)


class InputEmbedding(nn.Module):
    """The initial scalar state h_l (B, n_l, width) of every level."""

    def __init__(self, ctx: Context, width: int, identity: str = "none", coord_dims: int = 0):
        super().__init__()
        self.identity, self.coord_dims = identity, coord_dims
        self.embed = nn.ModuleDict({lvl: nn.Linear(coord_dims + f, width) for lvl, f in feature_widths(identity, ctx).items()})
        self.noise = nn.ModuleDict({lvl: FourierNoise(width) for lvl in LEVELS})
        # identity: a learned vector per residue of each training structure (which residue of which sequence)
        n_keys = int(ctx.residue_key.max()) + 1
        self.residue_embed = nn.Embedding(n_keys, width) if identity != "none" else None

    def features(self, ctx: Context) -> dict[str, torch.Tensor]:
        atom = ctx.atom_features
        if identity_on_atoms(self.identity):
            atom = torch.cat([atom, ctx.hierarchy.residues_to_atoms(ctx.residue_features)], -1)
        if identity_on_tracks(self.identity):
            return {"atom": atom, "residue": ctx.residue_features, "chain": ctx.chain_features}
        zeros = lambda t: t.new_zeros(*t.shape[:-1], 1)  # noqa: E731  F = 1 of zeros, as reviewed
        return {"atom": atom, "residue": zeros(ctx.residue_features), "chain": zeros(ctx.chain_features)}

    def forward(self, c_noise: dict, ctx: Context, coords: dict | None = None) -> dict[str, torch.Tensor]:
        feats = self.features(ctx)
        if coords is not None:
            feats = {lvl: torch.cat([coords[lvl], feats[lvl]], -1) for lvl in LEVELS}
        h = {lvl: self.embed[lvl](feats[lvl]) + self.noise[lvl](c_noise[lvl]) for lvl in LEVELS}
        if self.residue_embed is not None:
            e = self.residue_embed(ctx.residue_key)
            if identity_on_atoms(self.identity):
                h["atom"] = h["atom"] + ctx.hierarchy.residues_to_atoms(e)
            if identity_on_tracks(self.identity):
                h["residue"] = h["residue"] + e
        return h
