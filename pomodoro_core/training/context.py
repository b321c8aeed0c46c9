"""What the denoiser knows about a batch of structures besides coordinates and sigma.

A `Context` holds a padded batch of structures (one model can be trained on several
at once): the hierarchy, per-unit input features, each level's noise factor under the
training weights, unit counts, a key per residue and the covalent bonds.
`Context.select` picks the structure of every sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

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
