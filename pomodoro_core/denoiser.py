"""A small multiscale denoiser: atom, residue and chain tracks, EDM-preconditioned per level.

    x_l,noisy = reduce(x_noisy) at level l (atoms; residue centroids; chain centroids)
    D_l = c_skip(s_l) x_l,noisy + c_out(s_l) F_l(c_in(s_l) x_l,noisy; c_noise)

Each track attends within its level; information passes up by segment means and
down by broadcast.  The network reads raw coordinates, so it is *not*
rotation-equivariant: random augmentation matters, as in pomodoro and AF3.

Switches for the reviewed design versus each fix:
  precond_sigma      'raw'       s_l = sigma at every level                (pitfall 2, as reviewed)
                     'effective' s_l = the RMS noise sigma of level l       (the review's fix)
  noise_conditioning 'shared'    every track sees c_noise(sigma)           (pitfall 6, as reviewed)
                     'per_level' track l sees c_noise(sigma_l)
  residue_features   'empty'     residue and chain tracks get F=1 zeros    (pitfall 7, as reviewed)
                     'types'     amino-acid type, sequence position, chain identity
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from . import edm
from .edm import ParameterError
from .hierarchy import Hierarchy
from .noise import NoiseWeights
from .precond import LEVELS, level_noise_factor
from .structure import Structure

ATOM_TYPES = ("N", "CA", "C", "O", "CB")  # every other atom name shares one extra type
AMINO_ACIDS = (
    "ALA",
    "ARG",
    "ASN",
    "ASP",
    "CYS",
    "GLN",
    "GLU",
    "GLY",
    "HIS",
    "ILE",
    "LEU",
    "LYS",
    "MET",
    "PHE",
    "PRO",
    "SER",
    "THR",
    "TRP",
    "TYR",
    "VAL",
)  # fmt: skip  (any other residue name shares one extra type)
MAX_CHAINS = 8
POSITION_FREQS = 8


@dataclass(frozen=True)
class ModelConfig:
    width: int = 64
    heads: int = 4
    blocks: int = 2
    precond_sigma: str = "raw"
    noise_conditioning: str = "shared"
    residue_features: str = "empty"

    def __post_init__(self):
        for name, allowed in (
            ("precond_sigma", ("raw", "effective")),
            ("noise_conditioning", ("shared", "per_level")),
            ("residue_features", ("empty", "types")),
        ):
            if getattr(self, name) not in allowed:
                raise ParameterError(f"{name} must be one of {allowed} (got {getattr(self, name)!r})")
        if self.width < 1 or self.heads < 1 or self.width % self.heads:
            raise ParameterError(f"width ({self.width}) must be a positive multiple of heads ({self.heads})")
        if self.blocks < 0:
            raise ParameterError(f"blocks must be >= 0 (got {self.blocks})")

    def as_dict(self) -> dict:
        return asdict(self)


def _positional(pos: np.ndarray) -> np.ndarray:
    """Sinusoidal encoding of a sequence position (Transformer style), POSITION_FREQS sin + cos pairs."""
    f = 1.0 / (100.0 ** (np.arange(POSITION_FREQS) / POSITION_FREQS))
    a = pos[:, None] * f[None]
    return np.concatenate([np.sin(a), np.cos(a)], axis=1)


@dataclass(frozen=True)
class Context:
    """Everything about one structure the denoiser needs besides coordinates and sigma.

    `noise_factor[l]` = sigma_l / sigma: the RMS noise of level l's absolute positions
    under the training noise weights (closed form, `noise.level_variances`).
    """

    hierarchy: Hierarchy
    atom_features: torch.Tensor  # (1, N, Fa)
    residue_features: torch.Tensor  # (1, R, Fr)
    chain_features: torch.Tensor  # (1, C, Fc)
    noise_factor: dict[str, float]
    units: dict[str, int]  # atoms, residues, chains

    @classmethod
    def from_structure(cls, s: Structure, weights: NoiseWeights, device="cpu", dtype=torch.float32) -> Context:
        h = Hierarchy.from_structure(s, device)
        t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32), dtype=dtype, device=device).unsqueeze(0)  # noqa: E731
        atype = np.array([ATOM_TYPES.index(n) if n in ATOM_TYPES else len(ATOM_TYPES) for n in s.atom_name])
        atom_f = np.eye(len(ATOM_TYPES) + 1)[atype]
        rtype = np.array([AMINO_ACIDS.index(n) if n in AMINO_ACIDS else len(AMINO_ACIDS) for n in s.residue_name])
        first = np.concatenate([[0], np.cumsum(s.residues_per_chain)[:-1]])
        pos = np.arange(s.n_residues) - first[s.residue_chain]  # position within its chain
        chain_onehot = np.eye(MAX_CHAINS)[np.minimum(s.residue_chain, MAX_CHAINS - 1)]
        res_f = np.concatenate([np.eye(len(AMINO_ACIDS) + 1)[rtype], _positional(pos.astype(float)), chain_onehot], axis=1)
        chain_f = np.concatenate(
            [np.eye(MAX_CHAINS)[np.minimum(np.arange(s.n_chains), MAX_CHAINS - 1)], np.log(s.residues_per_chain)[:, None] / 4],
            axis=1,
        )
        return cls(
            h,
            t(atom_f),
            t(res_f),
            t(chain_f),
            level_noise_factor(s, weights),
            {"atom": s.n_atoms, "residue": s.n_residues, "chain": s.n_chains},
        )

    def level_coords(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, N, 3) reduced to each level: atoms, residue centroids, chain centroids."""
        r = self.hierarchy.residue_centroids(x)
        return {"atom": x, "residue": r, "chain": self.hierarchy.chain_centroids(r)}

    def masks(self) -> dict[str, torch.Tensor]:
        h = self.hierarchy
        return {"atom": h.atom_mask, "residue": h.residue_mask, "chain": h.chain_mask}


def level_sigmas(sigma: torch.Tensor, ctx: Context, how: str) -> dict[str, torch.Tensor]:
    """The sigma each level is treated with: the raw sigma, or sigma_l = noise_factor_l sigma."""
    if how == "raw":
        return {lvl: sigma for lvl in LEVELS}
    return {lvl: ctx.noise_factor[lvl] * sigma for lvl in LEVELS}


class FourierNoise(nn.Module):
    """c_noise -> width: fixed Fourier features then a linear map (EDM's noise embedding, smaller)."""

    def __init__(self, width: int, n_freq: int = 8):
        super().__init__()
        self.register_buffer("freq", 2.0 ** torch.arange(n_freq, dtype=torch.float32) / 4)
        self.proj = nn.Linear(2 * n_freq + 1, width)

    def forward(self, c: torch.Tensor) -> torch.Tensor:  # (B,) -> (B, 1, width)
        a = c.reshape(-1, 1) * self.freq
        return self.proj(torch.cat([c.reshape(-1, 1), a.sin(), a.cos()], -1)).unsqueeze(1)


class Track(nn.Module):
    """Pre-norm self-attention + MLP over the units of one level."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.SiLU(), nn.Linear(2 * width, width))

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = self.norm1(h)
        pad = ~mask.expand(h.shape[0], -1)
        h = h + self.attn(y, y, y, key_padding_mask=pad, need_weights=False)[0]
        return h + self.mlp(self.norm2(h))


class Block(nn.Module):
    """Up (atoms -> residues -> chains), attend at each level, down (chains -> residues -> atoms)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.tracks = nn.ModuleDict({lvl: Track(width, heads) for lvl in LEVELS})
        self.up = nn.ModuleDict({lvl: nn.Linear(width, width) for lvl in ("residue", "chain")})
        self.down = nn.ModuleDict({lvl: nn.Linear(width, width) for lvl in ("atom", "residue")})

    def forward(self, h: dict, hier: Hierarchy, masks: dict) -> dict:
        a, r, c = h["atom"], h["residue"], h["chain"]
        r = r + self.up["residue"](hier.residue_centroids(a))
        c = c + self.up["chain"](hier.chain_centroids(r))
        c = self.tracks["chain"](c, masks["chain"])
        r = self.tracks["residue"](r + self.down["residue"](hier.chains_to_residues(c)), masks["residue"])
        a = self.tracks["atom"](a + self.down["atom"](hier.residues_to_atoms(r)), masks["atom"])
        return {"atom": a, "residue": r, "chain": c}


class MultiscaleDenoiser(nn.Module):
    """D(x_noisy; sigma) at every level; D['atom'] is what the sampler follows."""

    def __init__(self, config: ModelConfig, ctx: Context, sigma_data: float):
        super().__init__()
        self.config, self.sigma_data = config, float(sigma_data)
        w = config.width
        fr = ctx.residue_features.shape[-1] if config.residue_features == "types" else 1
        fc = ctx.chain_features.shape[-1] if config.residue_features == "types" else 1
        self.embed = nn.ModuleDict(
            {
                "atom": nn.Linear(3 + ctx.atom_features.shape[-1], w),
                "residue": nn.Linear(3 + fr, w),
                "chain": nn.Linear(3 + fc, w),
            }
        )
        self.noise = nn.ModuleDict({lvl: FourierNoise(w) for lvl in LEVELS})
        self.blocks = nn.ModuleList(Block(w, config.heads) for _ in range(config.blocks))
        self.out = nn.ModuleDict({lvl: nn.Sequential(nn.LayerNorm(w), nn.Linear(w, 3)) for lvl in LEVELS})
        for head in self.out.values():  # F = 0 at initialisation (EDM / AF3 practice)
            nn.init.zeros_(head[1].weight)
            nn.init.zeros_(head[1].bias)

    def features(self, ctx: Context, B: int) -> dict[str, torch.Tensor]:
        if self.config.residue_features == "types":
            fr, fc = ctx.residue_features, ctx.chain_features
        else:  # F = 1 of zeros, as reviewed
            fr = ctx.residue_features.new_zeros(1, ctx.residue_features.shape[1], 1)
            fc = ctx.chain_features.new_zeros(1, ctx.chain_features.shape[1], 1)
        return {lvl: f.expand(B, -1, -1) for lvl, f in zip(LEVELS, (ctx.atom_features, fr, fc), strict=True)}

    def forward(self, x_noisy: torch.Tensor, sigma: torch.Tensor, ctx: Context) -> dict[str, torch.Tensor]:
        B = x_noisy.shape[0]
        sigma = torch.as_tensor(sigma, dtype=x_noisy.dtype, device=x_noisy.device).reshape(-1).expand(B)
        sd = self.sigma_data
        s_pre = level_sigmas(sigma, ctx, self.config.precond_sigma)
        s_cond = level_sigmas(sigma, ctx, "raw" if self.config.noise_conditioning == "shared" else "effective")
        x = ctx.level_coords(x_noisy)
        feats, masks = self.features(ctx, B), ctx.masks()
        col = lambda v: v.reshape(-1, 1, 1)  # noqa: E731
        h = {}
        for lvl in LEVELS:
            u = col(edm.c_in(s_pre[lvl], sd)) * x[lvl]
            h[lvl] = self.embed[lvl](torch.cat([u, feats[lvl]], -1)) + self.noise[lvl](edm.c_noise(s_cond[lvl], sd))
        for block in self.blocks:
            h = block(h, ctx.hierarchy, masks)
        return {
            lvl: col(edm.c_skip(s_pre[lvl], sd)) * x[lvl] + col(edm.c_out(s_pre[lvl], sd)) * self.out[lvl](h[lvl])
            for lvl in LEVELS
        }


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
