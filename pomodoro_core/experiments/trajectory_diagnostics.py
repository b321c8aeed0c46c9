"""Notebook 05's diagnostics on another model's sampling trajectory, next to a perfect denoiser's.

The perfect denoiser returns the reference structure rigidly superposed on its input
(`evaluation.perfect_denoiser`).  It is run through the same sampler from the same
initial state x[0] and the same levels (sigma, sigma_hat), with the given noise weights
for any churn noise (seeded: the model's own churn draws are not in the file), so the
two trajectories differ in the denoiser only.  Residue motion in the late phase
(steps evaluated at sigma_hat <= late_sigma) is reported as a share of the perfect
denoiser's: how far residues move against how far they must move to reach the structure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl
import torch

from ..core.hierarchy import Hierarchy
from ..core.noise import NoiseWeights
from ..core.sampling import SamplerConfig
from ..core.structure import Structure
from ..training.metrics import late_residue_travel, mobility_frame, structure_outcome, trajectory_frames
from ..training.sampler import Trajectory, sample, sample_noise
from .evaluation import perfect_denoiser


def perfect_replay(
    traj: Trajectory, structure: Structure, weights: NoiseWeights, sampler: SamplerConfig, seed: int = 0
) -> Trajectory:
    """The sampler of `traj` (its x[0], sigma and sigma_hat; `sampler`'s solver and scales) driven by a perfect
    denoiser of `structure`'s coordinates."""
    h = Hierarchy.from_structure(structure)
    target = torch.as_tensor(structure.coords, dtype=torch.float32).unsqueeze(0)
    g = torch.Generator().manual_seed(seed)
    xs, ds = [traj.x[0]], []

    def record(step: dict) -> None:
        xs.append(step["x"])
        ds.append(step["denoised"])

    noise = lambda s: sample_noise(h, s, weights, sampler.noise, 1, g)  # noqa: E731
    with torch.no_grad():
        sample(perfect_denoiser(target, h.atom_mask), traj.x[0], traj.sigmas, sampler, noise, h.atom_mask, g, record, traj.t_hat)
    return Trajectory(traj.sigmas, traj.t_hat, torch.stack(xs), torch.stack(ds))


@dataclass
class Diagnosis:
    """A loaded trajectory measured against the reference, with the perfect denoiser's replay beside it."""

    frames: pl.DataFrame  # trajectory_frames of both runs, column `run`: model / perfect denoiser
    mobility: pl.DataFrame  # mobility_frame of the model's trajectory
    outcome: dict[str, float]  # structure_outcome of the model's final state
    late_travel: float  # residue travel relative to the chain over the late steps (Å)
    late_travel_perfect: float
    late_steps: int
    late_sigma: float

    @property
    def late_ratio(self) -> float:
        return self.late_travel / self.late_travel_perfect if self.late_travel_perfect > 0 else float("nan")


def diagnose(
    traj: Trajectory,
    structure: Structure,
    reference: np.ndarray,
    weights: NoiseWeights,
    sampler: SamplerConfig,
    late_sigma: float,
    seed: int = 0,
) -> Diagnosis:
    """Notebook 05's measures of `traj` against `reference` (N, 3) and the perfect denoiser's replay."""
    target = replace(structure, coords=np.asarray(reference, dtype=np.float64))
    ideal = perfect_replay(traj, target, weights, sampler, seed)
    h = Hierarchy.from_structure(structure)
    frames = pl.concat(
        [
            trajectory_frames(t, target).with_columns(run=pl.lit(name))
            for name, t in (("model", traj), ("perfect denoiser", ideal))
        ]
    )
    travel = [float(late_residue_travel(t.x, t.t_hat, h, late_sigma).mean()) for t in (traj, ideal)]
    return Diagnosis(
        frames=frames,
        mobility=mobility_frame(traj.x[:, 0], structure),
        outcome=structure_outcome(traj.final, target),
        late_travel=travel[0],
        late_travel_perfect=travel[1],
        late_steps=int((np.asarray(traj.t_hat) <= late_sigma).sum()),
        late_sigma=late_sigma,
    )


def verdict(d: Diagnosis, name: str) -> str:
    """The diagnosis in words, from its numbers."""
    o = d.outcome
    if d.late_steps == 0:
        late = (
            f"No step of this trajectory is evaluated at σ̂ ≤ {d.late_sigma:g} Å, so the late phase is empty: "
            "lower the late-phase threshold or sample further down."
        )
    elif not d.late_travel_perfect > 0:
        late = f"The perfect denoiser does not move residues over the {d.late_steps} late steps, so there is no share to give."
    else:
        moves = "less than" if d.late_ratio < 0.9 else ("about as much as" if d.late_ratio <= 1.1 else "more than")
        late = (
            f"**Residue motion in the late phase is {d.late_ratio:.0%} of a perfect denoiser's**: over the {d.late_steps} "
            f"steps at σ̂ ≤ {d.late_sigma:g} Å residues travel {d.late_travel:.2f} Å relative to their chain, against "
            f"{d.late_travel_perfect:.2f} Å for a denoiser that knows the structure, from the same start and levels. "
            f"Residues move {moves} they must to reach the structure."
        )
    bonds = f", {o['bond_violations']:.0%} of bonds off by > 0.2 Å" if "bond_violations" in o else ""
    return (
        f"{late}\n\nFinal state of {name} against the reference: RMSD **{o['rmsd']:.2f} Å**, order-free CA RMSD "
        f"{o['order_free_rmsd']:.2f} Å, {o['own_slot']:.0%} of residues in their own sequence slot, Rg {o['rg_ratio']:.2f}× "
        f"the reference's{bonds}."
    )
