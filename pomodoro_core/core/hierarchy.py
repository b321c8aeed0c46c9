"""The atom -> residue -> chain hierarchy as index tensors.

Reduce (segment mean) and broadcast (gather) are index operations, O(N) in time
and memory; the dense atom x residue mapping matrix of the reviewed code is never
built.  Tensors are batched (B, N, D) with padding masks; an unbatched hierarchy
is a batch of one, and its index tensors broadcast over any number of samples.

Conventions (as in the reviewed code): a residue centroid is the mean of its
atoms; a chain centroid is the mean of its *residue centroids*; the complex
centroid is the mean of the chain centroids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .structure import Structure

LEVELS = ("atom", "residue", "chain")


def _expand(index: torch.Tensor, lead: torch.Size) -> torch.Tensor:
    return index.expand(*lead) if index.shape != lead else index


def segment_sum(x: torch.Tensor, index: torch.Tensor, num_segments: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Sum rows of x (B, N, D) into segments given by index (B, N) or (N,)."""
    B, N, D = x.shape
    index = _expand(index, torch.Size((B, N)))
    if mask is not None:
        x = x * _expand(mask, torch.Size((B, N))).unsqueeze(-1).to(x.dtype)
    offset = torch.arange(B, device=x.device).unsqueeze(1) * num_segments
    flat = (index + offset).reshape(-1)
    out = x.new_zeros(B * num_segments, D).index_add_(0, flat, x.reshape(B * N, D))
    return out.view(B, num_segments, D)


def segment_mean(x: torch.Tensor, index: torch.Tensor, num_segments: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of the rows of x (B, N, D) in each segment; empty segments give 0."""
    ones = x.new_ones(x.shape[:-1] + (1,))
    count = segment_sum(ones, index, num_segments, mask)
    return segment_sum(x, index, num_segments, mask) / count.clamp_min(1)


def broadcast(y: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Rows of y (B, S, D) copied to their members: out[b, n] = y[b, index[b, n]]."""
    B, S, D = y.shape
    index = _expand(index, torch.Size((B, index.shape[-1])))
    return torch.gather(y, 1, index.unsqueeze(-1).expand(B, index.shape[-1], D))


@dataclass(frozen=True)
class Hierarchy:
    """Index tensors of a (padded) batch of structures."""

    atom_residue: torch.Tensor  # (B, N) long
    residue_chain: torch.Tensor  # (B, R) long
    atom_mask: torch.Tensor  # (B, N) bool
    residue_mask: torch.Tensor  # (B, R) bool
    chain_mask: torch.Tensor  # (B, C) bool
    sizes: tuple[tuple[int, int, int], ...] | None = None  # (atoms, residues, chains) of each structure, on the host

    @property
    def n_residues(self) -> int:
        return int(self.residue_chain.shape[-1])

    @property
    def n_chains(self) -> int:
        return int(self.chain_mask.shape[-1])

    @property
    def atom_chain(self) -> torch.Tensor:
        return torch.gather(self.residue_chain, 1, self.atom_residue)

    @property
    def device(self) -> torch.device:
        return self.atom_residue.device

    def select(self, index: torch.Tensor) -> Hierarchy:
        """The structures at `index` (B,) of a padded batch, in that order (repeats allowed)."""
        tensors = (self.atom_residue, self.residue_chain, self.atom_mask, self.residue_mask, self.chain_mask)
        return Hierarchy(*(t.index_select(0, index) for t in tensors), sizes=self._selected_sizes(index))

    def _selected_sizes(self, index: torch.Tensor) -> tuple[tuple[int, int, int], ...] | None:
        if self.sizes is None:
            return None
        if len(set(self.sizes)) == 1:  # all alike (one structure): no need to read the index from the device
            return self.sizes[:1] * int(index.shape[0])
        return tuple(self.sizes[i] for i in index.tolist())

    def to(self, device: torch.device | str) -> Hierarchy:
        tensors = (self.atom_residue, self.residue_chain, self.atom_mask, self.residue_mask, self.chain_mask)
        return Hierarchy(*(t.to(device) for t in tensors), sizes=self.sizes)

    def padding_masks(self) -> dict[str, torch.Tensor | None]:
        """Each level's mask, or None where no structure is padded at that level: decided on the host from
        `sizes` (no device sync, nothing that breaks a torch.compile graph), from the mask without them."""
        masks = (self.atom_mask, self.residue_mask, self.chain_mask)
        if self.sizes is None:
            return {lvl: None if bool(m.all()) else m for lvl, m in zip(LEVELS, masks, strict=True)}
        return {
            lvl: None if all(s[k] == m.shape[-1] for s in self.sizes) else m
            for k, (lvl, m) in enumerate(zip(LEVELS, masks, strict=True))
        }

    @classmethod
    def from_structures(cls, structures: Sequence[Structure], device: torch.device | str = "cpu") -> Hierarchy:
        B = len(structures)
        N = max(s.n_atoms for s in structures)
        R = max(s.n_residues for s in structures)
        C = max(s.n_chains for s in structures)
        ar = np.zeros((B, N), dtype=np.int64)
        rc = np.zeros((B, R), dtype=np.int64)
        am = np.zeros((B, N), dtype=bool)
        rm = np.zeros((B, R), dtype=bool)
        cm = np.zeros((B, C), dtype=bool)
        for b, s in enumerate(structures):
            ar[b, : s.n_atoms] = s.residue_index
            rc[b, : s.n_residues] = s.residue_chain
            am[b, : s.n_atoms] = True
            rm[b, : s.n_residues] = True
            cm[b, : s.n_chains] = True
        t = lambda a: torch.from_numpy(a).to(device)  # noqa: E731
        sizes = tuple((s.n_atoms, s.n_residues, s.n_chains) for s in structures)
        return cls(t(ar), t(rc), t(am), t(rm), t(cm), sizes)

    @classmethod
    def from_structure(cls, structure: Structure, device: torch.device | str = "cpu") -> Hierarchy:
        return cls.from_structures([structure], device)

    # reduce: atoms -> residues -> chains -> complex
    def residue_centroids(self, x: torch.Tensor) -> torch.Tensor:
        return segment_mean(x, self.atom_residue, self.n_residues, self.atom_mask)

    def chain_centroids(self, x_residue: torch.Tensor) -> torch.Tensor:
        return segment_mean(x_residue, self.residue_chain, self.n_chains, self.residue_mask)

    def complex_centroid(self, x_chain: torch.Tensor) -> torch.Tensor:
        m = self.chain_mask.unsqueeze(-1).to(x_chain.dtype)
        return (x_chain * m).sum(-2, keepdim=True) / m.sum(-2, keepdim=True).clamp_min(1)

    # broadcast: chains -> residues -> atoms
    def residues_to_atoms(self, y: torch.Tensor) -> torch.Tensor:
        return broadcast(y, self.atom_residue)

    def chains_to_residues(self, y: torch.Tensor) -> torch.Tensor:
        return broadcast(y, self.residue_chain)

    def chains_to_atoms(self, y: torch.Tensor) -> torch.Tensor:
        return broadcast(y, self.atom_chain)


def stack_coords(structures: Sequence[Structure], device: torch.device | str = "cpu", dtype=torch.float32) -> torch.Tensor:
    """(B, N, 3) padded coordinates (padding is zero)."""
    N = max(s.n_atoms for s in structures)
    out = torch.zeros(len(structures), N, 3, dtype=dtype)
    for b, s in enumerate(structures):
        out[b, : s.n_atoms] = torch.as_tensor(s.coords, dtype=dtype)
    return out.to(device)
