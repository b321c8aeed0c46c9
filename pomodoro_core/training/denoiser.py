"""A small multiscale denoiser: atom, residue and chain tracks, EDM-preconditioned per level.

    x_l,noisy = reduce(x_noisy) at level l (atoms; residue centroids; chain centroids)
    D_l = c_skip(s_l) x_l,noisy + c_out(s_l) F_l(c_in(s_l) x_l,noisy; c_noise)

Each track attends within its level; information passes up by segment means and
down by broadcast.  The network reads raw coordinates, so it is *not*
rotation-equivariant: random augmentation matters, as in pomodoro and AF3.

One model can be trained on several structures at once: a `Context` holds a padded
batch of structures and `Context.select` picks the structure of every sample.

Switches for the reviewed design versus each fix:
  precond_sigma      'raw'       s_l = sigma at every level                      (pitfall 2, as reviewed)
                     'absolute'  s_l = RMS noise of level l's absolute positions
                     'relative'  s_l = RMS noise of level l relative to its parent  (the review's sr, sc)
  noise_conditioning 'shared'    every track sees c_noise(sigma)                 (pitfall 6, as reviewed)
                     'per_level' track l sees c_noise(s_l), s_l relative to the parent
  identity           'none'      atoms: atom-name one-hot; residue and chain tracks F=1 zeros (as reviewed)
                     'atom'      + residue type, position in the chain, chain and sequence one-hot, and a
                                 learned vector per residue of each training structure, on every atom
                     'residue'   the same on the residue track, chain one-hot on the chain track (fix 7)
                     'both'      'atom' and 'residue'

Without identity every residue looks alike: the network is equivariant to permuting
residues of the same atom composition, so it cannot say which residue goes where
(a finding the review missed; see notebook 00, claim N2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core import edm
from ..core.errors import ParameterError
from ..core.hierarchy import LEVELS, Hierarchy
from ..core.noise import NoiseWeights, level_noise_factors
from ..core.structure import Structure, covalent_bonds

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
MAX_STRUCTURES = 16  # structures one model is trained on together (identity says which sequence it is)
POSITION_FREQS = 8
PRECOND_SIGMAS = ("raw", "absolute", "relative")
NOISE_CONDITIONINGS = ("shared", "per_level")
IDENTITIES = ("none", "atom", "residue", "both")
C_NOISE_FLOOR = 1e-6  # a level without noise (one chain, relative frame) is conditioned at this sigma


@dataclass(frozen=True)
class ModelConfig:
    width: int = 64
    heads: int = 4
    blocks: int = 2
    precond_sigma: str = "raw"
    noise_conditioning: str = "shared"
    identity: str = "none"

    def __post_init__(self):
        for name, allowed in (
            ("precond_sigma", PRECOND_SIGMAS),
            ("noise_conditioning", NOISE_CONDITIONINGS),
            ("identity", IDENTITIES),
        ):
            if getattr(self, name) not in allowed:
                raise ParameterError(f"{name} must be one of {allowed} (got {getattr(self, name)!r})")
        if self.width < 1 or self.heads < 1 or self.width % self.heads:
            raise ParameterError(f"width ({self.width}) must be a positive multiple of heads ({self.heads})")
        if self.blocks < 0:
            raise ParameterError(f"blocks must be >= 0 (got {self.blocks})")

    @property
    def identity_on_atoms(self) -> bool:
        return self.identity in ("atom", "both")

    @property
    def identity_on_tracks(self) -> bool:
        return self.identity in ("residue", "both")

    def as_dict(self) -> dict:
        return asdict(self)


def _positional(pos: np.ndarray) -> np.ndarray:
    """Sinusoidal encoding of a sequence position (Transformer style), POSITION_FREQS sin + cos pairs."""
    f = 1.0 / (100.0 ** (np.arange(POSITION_FREQS) / POSITION_FREQS))
    a = pos[:, None] * f[None]
    return np.concatenate([np.sin(a), np.cos(a)], axis=1)


def structure_features(s: Structure, index: int = 0) -> dict[str, np.ndarray]:
    """Per-unit input features of structure number `index` of a training set: atom names (atoms), residue
    identity (type, position in its chain, chain one-hot, which sequence), chain identity (one-hot, log length).

    In a single-structure run the sequence one-hot is constant; with several structures it tells the
    network which sequence it is denoising, as a sequence-conditioned model knows its input sequence."""
    atype = np.array([ATOM_TYPES.index(n) if n in ATOM_TYPES else len(ATOM_TYPES) for n in s.atom_name])
    rtype = np.array([AMINO_ACIDS.index(n) if n in AMINO_ACIDS else len(AMINO_ACIDS) for n in s.residue_name])
    first = np.concatenate([[0], np.cumsum(s.residues_per_chain)[:-1]])
    pos = np.arange(s.n_residues) - first[s.residue_chain]  # position within its chain
    chain_onehot = np.eye(MAX_CHAINS)[np.minimum(s.residue_chain, MAX_CHAINS - 1)]
    sequence = np.repeat(np.eye(MAX_STRUCTURES)[min(index, MAX_STRUCTURES - 1)][None], s.n_residues, axis=0)
    residue = np.concatenate(
        [np.eye(len(AMINO_ACIDS) + 1)[rtype], _positional(pos.astype(float)), chain_onehot, sequence], axis=1
    )
    chain = np.concatenate(
        [np.eye(MAX_CHAINS)[np.minimum(np.arange(s.n_chains), MAX_CHAINS - 1)], np.log(s.residues_per_chain)[:, None] / 4],
        axis=1,
    )
    return {"atom": np.eye(len(ATOM_TYPES) + 1)[atype], "residue": residue, "chain": chain}


def _padded(arrays: Sequence[np.ndarray], device, dtype) -> torch.Tensor:
    n = max(a.shape[0] for a in arrays)
    out = np.zeros((len(arrays), n, arrays[0].shape[1]), dtype=np.float32)
    for b, a in enumerate(arrays):
        out[b, : a.shape[0]] = a
    return torch.as_tensor(out, dtype=dtype, device=device)


@dataclass(frozen=True)
class Context:
    """Everything about a padded batch of structures the denoiser needs besides coordinates and sigma.

    `noise_factor[frame][l]` (S,) = s_l / sigma for each structure: the RMS noise of level l under the
    training noise weights, absolute or relative to the parent (closed form, `noise.level_noise_factors`).
    """

    hierarchy: Hierarchy
    atom_features: torch.Tensor  # (S, N, Fa) atom names
    residue_features: torch.Tensor  # (S, R, Fr) residue identity
    chain_features: torch.Tensor  # (S, C, Fc) chain identity
    noise_factor: dict[str, dict[str, torch.Tensor]]  # frame -> level -> (S,)
    units: dict[str, torch.Tensor]  # level -> (S,) number of atoms, residues, chains
    residue_key: torch.Tensor  # (S, R) long: a distinct number for every residue of every structure
    bonds: torch.Tensor  # (S, P, 2) covalent bonds (atom index pairs), padded with (0, 0)
    bond_mask: torch.Tensor  # (S, P) bool

    @classmethod
    def from_structures(
        cls, structures: Sequence[Structure], weights: NoiseWeights, device="cpu", dtype=torch.float32
    ) -> Context:
        h = Hierarchy.from_structures(structures, device)
        if len(structures) > MAX_STRUCTURES:
            raise ParameterError(f"one model trains on at most {MAX_STRUCTURES} structures (got {len(structures)})")
        feats = [structure_features(s, b) for b, s in enumerate(structures)]
        col = lambda v: torch.tensor(v, dtype=dtype, device=device)  # noqa: E731
        factors = {}
        for frame in ("absolute", "relative"):
            per = [level_noise_factors(Hierarchy.from_structure(s), weights, frame) for s in structures]
            factors[frame] = {lvl: col([f[lvl] for f in per]) for lvl in LEVELS}
        counts = {"atom": "n_atoms", "residue": "n_residues", "chain": "n_chains"}
        units = {lvl: col([getattr(s, counts[lvl]) for s in structures]) for lvl in LEVELS}
        pairs = [covalent_bonds(s) for s in structures]
        bonds = np.zeros((len(structures), max(max(len(p) for p in pairs), 1), 2), dtype=np.int64)
        bond_mask = np.zeros(bonds.shape[:2], dtype=bool)
        for b, p in enumerate(pairs):
            bonds[b, : len(p)], bond_mask[b, : len(p)] = p, True
        as_t = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
        padded = (_padded([f[lvl] for f in feats], device, dtype) for lvl in LEVELS)
        R = h.n_residues
        keys = torch.arange(len(structures) * R, device=device).view(len(structures), R)
        return cls(h, *padded, factors, units, keys, as_t(bonds), as_t(bond_mask))

    @classmethod
    def from_structure(cls, s: Structure, weights: NoiseWeights, device="cpu", dtype=torch.float32) -> Context:
        return cls.from_structures([s], weights, device, dtype)

    @property
    def n_structures(self) -> int:
        return self.atom_features.shape[0]

    def select(self, index: torch.Tensor) -> Context:
        """The structures at `index` (B,), one per sample (repeats allowed)."""
        index = torch.as_tensor(index, device=self.atom_features.device)
        pick = lambda t: t.index_select(0, index)  # noqa: E731
        return Context(
            self.hierarchy.select(index),
            *(pick(t) for t in (self.atom_features, self.residue_features, self.chain_features)),
            {fr: {lvl: pick(v) for lvl, v in d.items()} for fr, d in self.noise_factor.items()},
            {lvl: pick(v) for lvl, v in self.units.items()},
            pick(self.residue_key),
            pick(self.bonds),
            pick(self.bond_mask),
        )

    def for_batch(self, B: int) -> Context:
        """This context for B samples: itself when it has B structures, B copies when it has one."""
        if self.n_structures == B:
            return self
        if self.n_structures == 1:
            return self.select(torch.zeros(B, dtype=torch.long, device=self.atom_features.device))
        raise ParameterError(f"a batch of {B} samples does not match a context of {self.n_structures} structures")

    def level_coords(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, N, 3) reduced to each level: atoms, residue centroids, chain centroids."""
        r = self.hierarchy.residue_centroids(x)
        return {"atom": x, "residue": r, "chain": self.hierarchy.chain_centroids(r)}

    def masks(self) -> dict[str, torch.Tensor]:
        h = self.hierarchy
        return {"atom": h.atom_mask, "residue": h.residue_mask, "chain": h.chain_mask}


def level_sigmas(sigma: torch.Tensor, ctx: Context, how: str) -> dict[str, torch.Tensor]:
    """(B,) sigma each level is treated with: the raw sigma, or s_l = noise_factor_l sigma (absolute/relative)."""
    if how == "raw":
        return {lvl: sigma for lvl in LEVELS}
    return {lvl: ctx.noise_factor[how][lvl] * sigma for lvl in LEVELS}


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
    """Pre-norm self-attention (scaled_dot_product_attention; no mask when nothing is padded) + MLP."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.SiLU(), nn.Linear(2 * width, width))

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, N, W = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(B, N, 3, self.heads, W // self.heads).permute(2, 0, 3, 1, 4)
        attn_mask = None if bool(mask.all()) else mask.expand(B, N)[:, None, None, :]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        h = h + self.proj(y.transpose(1, 2).reshape(B, N, W))
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


def feature_widths(config: ModelConfig, ctx: Context) -> dict[str, int]:
    fa, fr, fc = (t.shape[-1] for t in (ctx.atom_features, ctx.residue_features, ctx.chain_features))
    return {
        "atom": fa + (fr if config.identity_on_atoms else 0),
        "residue": fr if config.identity_on_tracks else 1,
        "chain": fc if config.identity_on_tracks else 1,
    }


class MultiscaleDenoiser(nn.Module):
    """D(x_noisy; sigma) at every level; D['atom'] is what the sampler follows."""

    def __init__(self, config: ModelConfig, ctx: Context, sigma_data: float):
        super().__init__()
        self.config, self.sigma_data = config, float(sigma_data)
        w = config.width
        self.embed = nn.ModuleDict({lvl: nn.Linear(3 + f, w) for lvl, f in feature_widths(config, ctx).items()})
        self.noise = nn.ModuleDict({lvl: FourierNoise(w) for lvl in LEVELS})
        # identity: a learned vector per residue of each training structure (which residue of which sequence)
        n_keys = int(ctx.residue_key.max()) + 1
        self.residue_embed = nn.Embedding(n_keys, w) if config.identity != "none" else None
        self.blocks = nn.ModuleList(Block(w, config.heads) for _ in range(config.blocks))
        self.out = nn.ModuleDict({lvl: nn.Sequential(nn.LayerNorm(w), nn.Linear(w, 3)) for lvl in LEVELS})
        for head in self.out.values():  # F = 0 at initialisation (EDM / AF3 practice)
            nn.init.zeros_(head[1].weight)
            nn.init.zeros_(head[1].bias)

    def features(self, ctx: Context) -> dict[str, torch.Tensor]:
        cfg = self.config
        atom = ctx.atom_features
        if cfg.identity_on_atoms:
            atom = torch.cat([atom, ctx.hierarchy.residues_to_atoms(ctx.residue_features)], -1)
        if cfg.identity_on_tracks:
            return {"atom": atom, "residue": ctx.residue_features, "chain": ctx.chain_features}
        zeros = lambda t: t.new_zeros(*t.shape[:-1], 1)  # noqa: E731  F = 1 of zeros, as reviewed
        return {"atom": atom, "residue": zeros(ctx.residue_features), "chain": zeros(ctx.chain_features)}

    def forward(self, x_noisy: torch.Tensor, sigma: torch.Tensor, ctx: Context) -> dict[str, torch.Tensor]:
        B = x_noisy.shape[0]
        ctx = ctx.for_batch(B)
        sigma = torch.as_tensor(sigma, dtype=x_noisy.dtype, device=x_noisy.device).reshape(-1).expand(B)
        sd = self.sigma_data
        s_pre = level_sigmas(sigma, ctx, self.config.precond_sigma)
        s_cond = level_sigmas(sigma, ctx, "raw" if self.config.noise_conditioning == "shared" else "relative")
        x = ctx.level_coords(x_noisy)
        feats = self.features(ctx)
        col = lambda v: v.reshape(-1, 1, 1)  # noqa: E731
        h = {}
        for lvl in LEVELS:
            u = col(edm.c_in(s_pre[lvl], sd)) * x[lvl]
            c_noise = edm.c_noise(s_cond[lvl].clamp_min(C_NOISE_FLOOR), sd)
            h[lvl] = self.embed[lvl](torch.cat([u, feats[lvl]], -1)) + self.noise[lvl](c_noise)
        if self.residue_embed is not None:
            e = self.residue_embed(ctx.residue_key)
            if self.config.identity_on_atoms:
                h["atom"] = h["atom"] + ctx.hierarchy.residues_to_atoms(e)
            if self.config.identity_on_tracks:
                h["residue"] = h["residue"] + e
        for block in self.blocks:
            h = block(h, ctx.hierarchy, ctx.masks())
        return {
            lvl: col(edm.c_skip(s_pre[lvl], sd)) * x[lvl] + col(edm.c_out(s_pre[lvl], sd)) * self.out[lvl](h[lvl])
            for lvl in LEVELS
        }


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
