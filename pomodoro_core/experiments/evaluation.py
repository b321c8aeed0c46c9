"""Measuring a trained denoiser like with like: the same noise, the same sampler, against a perfect one.

denoising_gain (no sampling): on a fixed sigma grid and fixed noise draws (common random
numbers: the same unit draws in every arm, combined with the arm's noise weights),

    gain_l(sigma) = E |D - x0|_l^2 / E |x_noisy - x0|_l^2

per level l, read out as atoms (absolute), residue centroids relative to their chain
centroid, and chain centroids relative to the complex centroid (structures with
several chains only).  The ground truth is superposed on each (the loss's convention),
so 0 is a perfect denoiser and 1 is one that leaves the noise where it is.

sampling_outcomes: the sampler run from a fixed seed, and the same sampler with the
same seed driven by a perfect denoiser (the target, rigidly placed on the current
sample); late residue travel is reported against the perfect denoiser's.
"""

from __future__ import annotations

import numpy as np
import torch

from ..core.geometry import superpose
from ..core.hierarchy import Hierarchy
from ..core.noise import NoiseWeights, multiscale_noise
from ..core.sampling import SamplerConfig
from ..core.structure import Structure
from ..training.context import Context
from ..training.denoiser import ModelConfig, build_denoiser
from ..training.metrics import late_residue_travel, structure_outcome
from ..training.preconditioner import MultiscalePrecond
from ..training.sampler import sample_trajectory
from ..training.trainer import centred_coords

GAIN_LEVELS = ("atom", "residue_vs_chain", "chain_vs_complex")


def level_readouts(x: torch.Tensor, h: Hierarchy) -> dict[str, torch.Tensor]:
    """Per-unit positions (B, units, 3): atoms; residue centroids minus their chain centroid; chain
    centroids minus the complex centroid."""
    r = h.residue_centroids(x)
    c = h.chain_centroids(r)
    return {"atom": x, "residue_vs_chain": r - h.chains_to_residues(c), "chain_vs_complex": c - h.complex_centroid(c)}


def _sq_error(y: torch.Tensor, x0: torch.Tensor, h: Hierarchy) -> dict[str, torch.Tensor]:
    """(B,) summed squared error per read-out of y against x0 superposed on y."""
    x0_on_y = superpose(x0, y, h.atom_mask)
    a, b = level_readouts(y, h), level_readouts(x0_on_y, h)
    masks = {"atom": h.atom_mask, "residue_vs_chain": h.residue_mask, "chain_vs_complex": h.chain_mask}
    return {k: (((a[k] - b[k]) ** 2).sum(-1) * masks[k].to(y.dtype)).sum(-1) for k in GAIN_LEVELS}


def denoising_gain(
    model: MultiscalePrecond,
    ctx: Context,
    x0: torch.Tensor,
    weights: NoiseWeights,
    sigmas,
    draws: int = 4,
    seed: int = 0,
) -> list[dict]:
    """Rows (structure, sigma, level, gain) for every structure of ctx (x0 (S, N, 3) padded, centred)."""
    S = ctx.n_structures
    idx = torch.arange(S, device=x0.device).repeat_interleave(draws)
    sub, x = ctx.select(idx), x0.index_select(0, idx)
    h = sub.hierarchy
    chains = ctx.units["chain"].cpu().numpy()
    rows = []
    for k, sigma in enumerate(np.asarray(sigmas, float)):
        g = torch.Generator(device=x0.device).manual_seed(seed * 1000 + k)
        x_noisy = x + multiscale_noise(h, sigma, weights, generator=g)
        with torch.no_grad():
            D = model(x_noisy, torch.full((x.shape[0],), sigma, device=x0.device), sub)["atom"]
        num, den = _sq_error(D, x, h), _sq_error(x_noisy, x, h)
        for lvl in GAIN_LEVELS:
            n, d = num[lvl].view(S, draws).sum(1), den[lvl].view(S, draws).sum(1)
            for s in range(S):
                if lvl == "chain_vs_complex" and chains[s] < 2:
                    continue  # one chain: nothing to read out
                rows.append({"structure": s, "sigma": float(sigma), "level": lvl, "gain": float(n[s] / d[s])})
    return rows


def perfect_denoiser(x0: torch.Tensor, mask: torch.Tensor):
    """D(x) = the target rigidly superposed on x: what a denoiser that knows the structure returns."""

    def D(x, sigma):
        return superpose(x0.expand_as(x), x, mask)

    return D


def sampling_outcomes(
    denoise,
    ctx: Context,
    x0: torch.Tensor,
    structures: list[Structure],
    weights: NoiseWeights,
    sampler: SamplerConfig,
    n_samples: int,
    seed: int,
) -> list[dict]:
    """One row per structure: `metrics.structure_outcome` of the final samples, and late residue travel
    (steps at t_hat <= sigma_data) of the model and of the perfect denoiser from the same noise."""
    S = len(structures)
    idx = torch.arange(S, device=x0.device).repeat_interleave(n_samples)
    sub, x_ref = ctx.select(idx), x0.index_select(0, idx)
    h = sub.hierarchy
    traj = sample_trajectory(lambda x, s: denoise(x, s, sub), h, weights, sampler, None, seed)
    ideal = sample_trajectory(perfect_denoiser(x_ref, h.atom_mask), h, weights, sampler, None, seed)
    rows = []
    for s, st in enumerate(structures):
        cols = slice(s * n_samples, (s + 1) * n_samples)
        n = st.n_atoms
        hs = Hierarchy.from_structure(st)
        travel = late_residue_travel(traj.x[:, cols, :n], traj.t_hat, hs, sampler.sigma_data)
        travel_ideal = late_residue_travel(ideal.x[:, cols, :n], ideal.t_hat, hs, sampler.sigma_data)
        row = {"structure": s} | structure_outcome(traj.final[cols, :n].cpu(), st)
        row["late_travel"] = float(travel.mean())
        row["late_travel_perfect"] = float(travel_ideal.mean())
        row["late_travel_ratio"] = row["late_travel"] / max(row["late_travel_perfect"], 1e-12)
        rows.append(row)
    return rows


def residue_swap_error(structure: Structure, identity: str, sigma: float = 16.0, seed: int = 0) -> float:
    """How differently the (untrained, randomly initialised) denoiser treats two residues of the same
    chain and atom composition: swap their noisy coordinates, and compare D of the swapped input with
    the swapped D, relative to the network's contribution |D - c_skip x|.  0 means the network
    cannot tell the two residues apart (it is equivariant to exchanging them)."""
    s = structure
    comp = [tuple(s.atom_name[s.residue_index == r]) for r in range(s.n_residues)]
    pairs = [(i, j) for i in range(s.n_residues) for j in range(i + 1, s.n_residues)]
    pairs = [(i, j) for i, j in pairs if comp[i] == comp[j] and s.residue_chain[i] == s.residue_chain[j]]
    if not pairs:
        return float("nan")
    i, j = pairs[0]
    ai, aj = (torch.as_tensor(np.flatnonzero(s.residue_index == r)) for r in (i, j))
    perm = torch.arange(s.n_atoms)
    perm[ai], perm[aj] = aj, ai
    ctx = Context.from_structure(s, NoiseWeights(8.2, 1.6, 1.3))
    torch.manual_seed(seed)
    model = build_denoiser(ModelConfig(identity=identity), ctx, 16.0)
    for head in model.backbone.out.values():  # random output heads: at initialisation F = 0 would hide any difference
        torch.nn.init.normal_(head[1].weight)
    g = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(s.coords, dtype=torch.float32).unsqueeze(0)
    x = x + sigma * torch.randn(x.shape, generator=g)
    with torch.no_grad():
        d = model(x, torch.tensor([sigma]), ctx)["atom"]
        d_swapped = model(x[:, perm], torch.tensor([sigma]), ctx)["atom"]
    skip = float(16.0**2 / (sigma**2 + 16.0**2))
    net = (d - skip * x).norm()
    return float((d_swapped - d[:, perm]).norm() / net)


def run_outcome(result, structure: Structure, sampler: SamplerConfig, n_samples: int, seed: int) -> dict[str, float]:
    """`sampling_outcomes` of a single-structure training run (`trainer.TrainResult`)."""
    x0 = centred_coords(structure, result.ctx.hierarchy.device)
    model = result.model.eval()
    with torch.no_grad():
        rows = sampling_outcomes(
            lambda x, s, sub: model(x, s, sub)["atom"],
            result.ctx,
            x0,
            [structure],
            result.config.weights,
            sampler,
            n_samples,
            seed,
        )
    return {k: v for k, v in rows[0].items() if k != "structure"}
