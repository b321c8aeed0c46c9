"""Multiscale (chain / residue / atom) Gaussian noise and its exact covariance by level.

The reviewed noise, for weights (w_c, w_r, w_a) and W = w_c + w_r + w_a:

    s_l = sqrt(w_l / W) sigma,     l in {chain, residue, atom}
    eps_i = s_a n_i + s_r n_{res(i)} + s_c n_{chain(i)}        (n ~ N(0, I_3) per unit)

Every atom then carries variance sigma^2 per coordinate, but the three parts are
shared by different groups of atoms.  Any linear read-out v of the atom noise
(a centroid, a difference of centroids) has per-coordinate variance

    Var[v . eps] = s_a^2 sum_i v_i^2 + s_r^2 sum_r (sum_{i in r} v_i)^2 + s_c^2 sum_c (sum_{i in c} v_i)^2,

which `level_variances` evaluates in closed form for the read-outs below, with
n_r atoms in residue r, R_c residues in chain c and C chains.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .errors import ParameterError
from .hierarchy import Hierarchy


@dataclass(frozen=True)
class NoiseWeights:
    """Variance weights of the chain, residue and atom noise (only ratios matter)."""

    w_c: float
    w_r: float
    w_a: float

    def __post_init__(self):
        ws = (self.w_c, self.w_r, self.w_a)
        if not all(isinstance(w, numbers.Real) and not isinstance(w, bool) for w in ws):
            raise ParameterError(f"noise weights must be numbers (got w_c={self.w_c!r}, w_r={self.w_r!r}, w_a={self.w_a!r})")
        for name, w in zip(("w_c", "w_r", "w_a"), ws, strict=True):
            object.__setattr__(self, name, float(w))  # a whole number from a widget is a float like the rest
        if not all(math.isfinite(w) for w in ws):
            raise ParameterError(f"noise weights must be finite (got w_c={self.w_c}, w_r={self.w_r}, w_a={self.w_a})")
        if any(w < 0 for w in ws):
            raise ParameterError(f"noise weights must be >= 0 (got w_c={self.w_c}, w_r={self.w_r}, w_a={self.w_a})")
        if sum(ws) <= 0:
            raise ParameterError(
                "all three noise weights are 0: there would be no noise at all; give at least one level a weight > 0"
            )

    @property
    def total(self) -> float:
        return self.w_c + self.w_r + self.w_a

    def shares(self) -> dict[str, float]:
        """Each level's share of the per-atom noise variance, w_l / W."""
        return {"chain": self.w_c / self.total, "residue": self.w_r / self.total, "atom": self.w_a / self.total}

    def scales(self) -> tuple[float, float, float]:
        """(s_c, s_r, s_a) / sigma = sqrt(w_l / W)."""
        sh = self.shares()
        return math.sqrt(sh["chain"]), math.sqrt(sh["residue"]), math.sqrt(sh["atom"])


ISOTROPIC = NoiseWeights(0.0, 0.0, 1.0)


def multiscale_noise(
    hierarchy: Hierarchy,
    sigma,
    weights: NoiseWeights,
    n_samples: int | None = None,
    generator: torch.Generator | None = None,
    dtype=torch.float32,
) -> torch.Tensor:
    """Noise eps (B, N, 3) of the hierarchy (B = batch, or n_samples for a batch of one).

    `sigma` is a float or a (B,) tensor.  Padded atoms get zero noise.
    """
    B = hierarchy.atom_residue.shape[0] if n_samples is None else n_samples
    N, R, C = hierarchy.atom_residue.shape[-1], hierarchy.n_residues, hierarchy.n_chains
    dev = hierarchy.device
    s_c, s_r, s_a = weights.scales()
    kw = dict(generator=generator, dtype=dtype, device=dev)
    eps = s_a * torch.randn(B, N, 3, **kw)
    if s_r > 0:
        eps = eps + s_r * hierarchy.residues_to_atoms(torch.randn(B, R, 3, **kw))
    if s_c > 0:
        eps = eps + s_c * hierarchy.chains_to_atoms(torch.randn(B, C, 3, **kw))
    sigma = torch.as_tensor(sigma, dtype=dtype, device=dev).reshape(-1, 1, 1)
    return eps * sigma * hierarchy.atom_mask.unsqueeze(-1).to(dtype)


# --------------------------------------------------------------------------- closed form


READOUTS = {
    "atom": "an atom (absolute)",
    "residue": "a residue centroid (absolute)",
    "chain": "a chain centroid (absolute)",
    "complex": "the complex centroid (absolute)",
    "atom_vs_residue": "an atom relative to its residue centroid",
    "residue_vs_chain": "a residue centroid relative to its chain centroid",
    "chain_vs_complex": "a chain centroid relative to the complex centroid",
}


@dataclass(frozen=True)
class LevelVariances:
    """Per-coordinate noise variance of each read-out, one value per unit (numpy float64)."""

    values: dict[str, np.ndarray]

    def rms_sigma(self) -> dict[str, float]:
        """Root-mean-square effective sigma over the units of each read-out."""
        return {k: float(np.sqrt(np.mean(v))) for k, v in self.values.items()}


def _sizes(hierarchy: Hierarchy):
    if hierarchy.atom_residue.shape[0] != 1:
        raise ValueError("closed-form level variances take a single (unbatched) structure")
    ar = hierarchy.atom_residue[0][hierarchy.atom_mask[0]].cpu().numpy()
    rc = hierarchy.residue_chain[0][hierarchy.residue_mask[0]].cpu().numpy()
    n_r = np.bincount(ar).astype(float)  # atoms per residue
    R_c = np.bincount(rc).astype(float)  # residues per chain
    return ar, rc, n_r, R_c


def level_variances(hierarchy: Hierarchy, weights: NoiseWeights, sigma: float = 1.0) -> LevelVariances:
    """Exact per-coordinate variance of every read-out in READOUTS."""
    ar, rc, n_r, R_c = _sizes(hierarchy)
    C = float(R_c.size)
    s_c, s_r, s_a = (s * sigma for s in weights.scales())
    a, r, c = s_a**2, s_r**2, s_c**2
    # A_c = Var of the atom part of chain centroid c / s_a^2 = (1/R_c^2) sum_{r in c} 1/n_r
    A = np.bincount(rc, weights=1.0 / n_r) / R_c**2
    B = 1.0 / R_c  # same for the residue part
    A_bar, B_bar = A.sum() / C**2, B.sum() / C**2
    n_i, R_i = n_r[ar], R_c[rc]  # size of each atom's residue, each residue's chain
    A_r = A[rc]
    v = {
        "atom": np.full(ar.size, a + r + c),
        "residue": a / n_r + r + c,
        "chain": a * A + r * B + c,
        "complex": np.array([a * A_bar + r * B_bar + c / C]),
        "atom_vs_residue": a * (1 - 1 / n_i),
        "residue_vs_chain": a * (1 / n_r - 2 / (R_i * n_r) + A_r) + r * (1 - 1 / R_i),
        "chain_vs_complex": a * (A * (1 - 2 / C) + A_bar) + r * (B * (1 - 2 / C) + B_bar) + c * (1 - 1 / C),
    }
    return LevelVariances(v)


ABSOLUTE = {"atom": "atom", "residue": "residue", "chain": "chain"}
RELATIVE = {"atom": "atom_vs_residue", "residue": "residue_vs_chain", "chain": "chain_vs_complex"}


def level_noise_factors(hierarchy: Hierarchy, weights: NoiseWeights, frame: str) -> dict[str, float]:
    """sigma_l / sigma per level (atom, residue, chain): the RMS noise of each level's positions,
    absolute (frame 'absolute') or relative to the parent unit (frame 'relative': an atom against its
    residue centroid, a residue centroid against its chain centroid, a chain against the complex).
    A single chain has relative chain noise 0: that level carries no noise to remove."""
    readout = {"absolute": ABSOLUTE, "relative": RELATIVE}[frame]
    rms = level_variances(hierarchy, weights, 1.0).rms_sigma()
    return {lvl: rms[readout[lvl]] for lvl in readout}


# --------------------------------------------------------------------------- Monte Carlo


def readouts(hierarchy: Hierarchy, eps: torch.Tensor) -> dict[str, torch.Tensor]:
    """The READOUTS of noise samples eps (S, N, 3) of a single structure."""
    res = hierarchy.residue_centroids(eps)
    ch = hierarchy.chain_centroids(res)
    cx = hierarchy.complex_centroid(ch)
    return {
        "atom": eps,
        "residue": res,
        "chain": ch,
        "complex": cx,
        "atom_vs_residue": eps - hierarchy.residues_to_atoms(res),
        "residue_vs_chain": res - hierarchy.chains_to_residues(ch),
        "chain_vs_complex": ch - cx,
    }


@dataclass(frozen=True)
class ComponentGrams:
    """Monte Carlo second moments of the three unit-noise components, per read-out unit.

    The noise is linear in its parts, eps = s_c E_c + s_r E_r + s_a E_a with unit-variance
    components E_l, so every read-out is too, and its sample second moment is
    s^T G s with G[k, l] = mean over draws and xyz of R(E_k) R(E_l).  G is sampled once;
    any weights and sigma then give the *same* Monte Carlo estimate in O(units).
    """

    grams: dict[str, np.ndarray]  # read-out -> (units, 3, 3), order (chain, residue, atom)
    means: dict[str, np.ndarray]  # read-out -> (units, 3 xyz, 3 components): sample mean of R(E_k)
    n_samples: int

    def variances(self, weights: NoiseWeights, sigma: float = 1.0) -> LevelVariances:
        s = np.asarray(weights.scales()) * sigma
        return LevelVariances({k: np.einsum("k,ukl,l->u", s, g, s) for k, g in self.grams.items()})


ATOM_DRAWS_PER_CHUNK = 1_000_000  # draws x atoms held at once: ~24 MB per (atoms, draws x 3) float64 tensor
AUTO_ATOM_DRAWS = 4_000_000  # `auto_draws`: the Monte Carlo budget in draws x atoms (~0.5 s on one core)


def auto_draws(n_atoms: int, most: int, least: int = 200) -> int:
    """Monte Carlo draws scaled to the structure: `most` for small ones, fewer as atoms grow
    (AUTO_ATOM_DRAWS / atoms), never below `least`.  Per-atom read-outs average over many atoms,
    so their precision holds; the chain read-outs (few units) carry the widest Monte Carlo error."""
    return int(min(most, max(least, AUTO_ATOM_DRAWS // max(n_atoms, 1))))


@dataclass(frozen=True)
class Part:
    """One component of one read-out, unit-major: `values` (units, draws x 3) at its own level, copied
    to the read-out's units by `index` (None: already there).  A component that is exactly 0 is None."""

    values: torch.Tensor
    index: torch.Tensor | None = None

    @property
    def units(self) -> int:
        return self.values.shape[0] if self.index is None else self.index.shape[0]

    def at_units(self) -> torch.Tensor:
        return self.values if self.index is None else self.values.index_select(0, self.index)

    def sums(self, n_samples: int) -> torch.Tensor:
        """(units, 3 xyz): the sum over draws."""
        s = self.values.view(self.values.shape[0], n_samples, 3).sum(1)
        return s if self.index is None else s.index_select(0, self.index)


def _dot(p: Part | None, q: Part | None, units: int, like: torch.Tensor) -> torch.Tensor:
    """(units,): sum over draws and xyz of the product of two parts.  Parts on one index multiply at
    their own (coarser) level; only a mix of levels is copied out to the read-out's units."""
    if p is None or q is None:
        return like.new_zeros(units)
    if p.index is q.index:
        d = (p.values * q.values).sum(1)
        return d if p.index is None else d.index_select(0, p.index)
    return (p.at_units() * q.at_units()).sum(1)


def _unit_mean(x: torch.Tensor, index: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Rows of x (members, L) averaged into their units: (units, L)."""
    return x.new_zeros(counts.shape[0], x.shape[1]).index_add_(0, index, x) / counts[:, None]


def component_parts(ar, rc, n_r, R_c, e_c, e_r, e_a) -> dict[str, tuple[Part | None, Part | None, Part | None]]:
    """Each read-out of READOUTS as its (chain, residue, atom) parts, from unit-variance noise drawn once
    per level: e_c (C, L), e_r (R, L), e_a (N, L) with L = draws x 3.  Broadcast parts are never copied
    to atoms: a residue's noise is the same at all its atoms, so its products are formed per residue."""
    ec_r = e_c.index_select(0, rc)  # (R, L) each residue's chain noise
    m_a = _unit_mean(e_a, ar, n_r)  # residue centroids of the atom part
    c_r, c_a = _unit_mean(e_r, rc, R_c), _unit_mean(m_a, rc, R_c)  # chain centroids of residue / atom parts
    x_c, x_r, x_a = e_c.mean(0, keepdim=True), c_r.mean(0, keepdim=True), c_a.mean(0, keepdim=True)
    return {
        "atom": (Part(ec_r, ar), Part(e_r, ar), Part(e_a)),
        "residue": (Part(ec_r), Part(e_r), Part(m_a)),
        "chain": (Part(e_c), Part(c_r), Part(c_a)),
        "complex": (Part(x_c), Part(x_r), Part(x_a)),
        "atom_vs_residue": (None, None, Part(e_a - m_a.index_select(0, ar))),
        "residue_vs_chain": (None, Part(e_r - c_r.index_select(0, rc)), Part(m_a - c_a.index_select(0, rc))),
        "chain_vs_complex": (Part(e_c - x_c), Part(c_r - x_r), Part(c_a - x_a)),
    }


PAIRS = [(k, m) for k in range(3) for m in range(k, 3)]  # the upper triangle of the 3 x 3 Gram, (units, 6)
FULL = [[0, 1, 2], [1, 3, 4], [2, 4, 5]]  # (units, 6) -> symmetric (units, 3, 3)


def sample_component_grams(
    hierarchy: Hierarchy,
    n_samples: int = 20_000,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> ComponentGrams:
    """Monte Carlo moments of the three unit components of a single structure, in chunks of
    ~ATOM_DRAWS_PER_CHUNK draws x atoms (memory bounded whatever the structure): each level's noise is
    drawn once at its own resolution and only the moments that are read are accumulated.
    `progress(done, n_samples)` after each chunk."""
    if not (isinstance(n_samples, int) and n_samples >= 1):
        raise ParameterError(f"n_samples must be a whole number >= 1 (got {n_samples!r})")
    dev = hierarchy.device
    ar, rc, n_r, R_c = (torch.as_tensor(a, device=dev) for a in _sizes(hierarchy))
    kw = dict(generator=torch.Generator(device=dev).manual_seed(seed), dtype=torch.float64, device=dev)
    chunk = max(1, ATOM_DRAWS_PER_CHUNK // ar.numel())
    grams: dict[str, torch.Tensor] = {}
    firsts: dict[str, torch.Tensor] = {}
    for done in range(0, n_samples, chunk):
        L = 3 * min(chunk, n_samples - done)
        e_c, e_r, e_a = (torch.randn(u, L, **kw) for u in (R_c.numel(), n_r.numel(), ar.numel()))
        for key, parts in component_parts(ar, rc, n_r, R_c, e_c, e_r, e_a).items():
            units = next(p.units for p in parts if p is not None)
            gram = torch.stack([_dot(parts[k], parts[m], units, e_a) for k, m in PAIRS], -1) / 3.0
            first = torch.stack([e_a.new_zeros(units, 3) if p is None else p.sums(L // 3) for p in parts], -1)
            grams[key] = grams.get(key, 0) + gram
            firsts[key] = firsts.get(key, 0) + first
        if progress:
            progress(done + L // 3, n_samples)
    return ComponentGrams(
        {k: (v[:, FULL] / n_samples).cpu().numpy() for k, v in grams.items()},
        {k: (v / n_samples).cpu().numpy() for k, v in firsts.items()},
        n_samples,
    )


def sampled_level_variances(
    hierarchy: Hierarchy,
    weights: NoiseWeights,
    sigma: float = 1.0,
    n_samples: int = 20_000,
    seed: int = 0,
) -> LevelVariances:
    """Monte Carlo estimate of `level_variances`: E[x^2] per unit (the noise has mean 0)."""
    return sample_component_grams(hierarchy, n_samples, seed).variances(weights, sigma)
