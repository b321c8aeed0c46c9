"""What a sampled structure and a sampling trajectory look like, in numbers.

mobility: at each step, each chain of x_{t+1} is superposed on the same chain of x_t
(removing that chain's rigid motion, and so any augmentation); the displacement
d_i of each atom then splits exactly into its residue's mean displacement (the
residue moving relative to its chain: *inter-residue motion*) and the rest (atoms
moving relative to their residue: *intra-residue motion*).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import torch
from scipy.optimize import linear_sum_assignment
from scipy.spatial.transform import Rotation

from ..core.geometry import kabsch, rmsd, superpose
from ..core.hierarchy import Hierarchy
from ..core.structure import Structure, consecutive_ca_pairs, covalent_bonds
from ..core.structure import radius_of_gyration as structure_rg

CA_CA_TRANS = 3.80  # Å, trans peptide CA-CA distance
CA_CA_TOL = 0.25  # Å
BOND_TOL = 0.20  # Å


def radius_of_gyration(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B,) sqrt(mean |x_i - centroid|^2)."""
    m = torch.ones(x.shape[:-1], dtype=x.dtype) if mask is None else mask.to(x.dtype).expand(x.shape[:-1])
    c = (x * m.unsqueeze(-1)).sum(-2, keepdim=True) / m.sum(-1).reshape(-1, 1, 1)
    return ((((x - c) ** 2).sum(-1) * m).sum(-1) / m.sum(-1)).sqrt()


def rmsd_to_target(x: torch.Tensor, structure: Structure) -> torch.Tensor:
    """(B,) RMSD of samples x (B, N, 3) to the structure after optimal superposition."""
    target = torch.as_tensor(structure.coords, dtype=x.dtype).expand_as(x)
    return rmsd(x, target)


def chain_frame_displacements(x_from: torch.Tensor, x_to: torch.Tensor, h: Hierarchy) -> torch.Tensor:
    """(T, N, 3): x_to minus x_from after superposing each chain of x_to on that chain of x_from."""
    out = torch.zeros_like(x_to)
    chain_of_atom = h.atom_chain[0]
    for c in range(h.n_chains):
        m = chain_of_atom == c
        R, t = kabsch(x_to, x_from, m.expand(x_to.shape[:-1]))
        out[:, m] = (x_to[:, m] @ R + t) - x_from[:, m]
    return out


def mobility(x: torch.Tensor, h: Hierarchy, superpose_chains: bool = True) -> dict[str, torch.Tensor]:
    """Per-step motion of one trajectory x (T+1, N, 3) in each chain's frame.

    residue: (T, R) |mean displacement of the residue's atoms|   (inter-residue motion)
    inter:   (T,)   RMS over residues of that displacement
    intra:   (T,)   RMS over atoms of (displacement - its residue's mean)

    With superpose_chains=False the chain frame only removes the chain centroid's displacement
    (no rotation): exact for trajectories without augmentation, and what closed forms describe.
    """
    if superpose_chains:
        d = chain_frame_displacements(x[:-1], x[1:], h)
        per_res = h.residue_centroids(d)  # (T, R, 3)
    else:
        d = x[1:] - x[:-1]
        r = h.residue_centroids(d)
        per_res = r - h.chains_to_residues(h.chain_centroids(r))
    internal = d - h.residues_to_atoms(per_res)
    res_norm = per_res.norm(dim=-1)
    return {
        "residue": res_norm,
        "inter": res_norm.pow(2).mean(-1).sqrt(),
        "intra": internal.pow(2).sum(-1).mean(-1).sqrt(),
    }


def violations(x: torch.Tensor, structure: Structure) -> dict[str, torch.Tensor]:
    """(B,) per sample: mean |bond length error| (Å), fraction of bonds off by > BOND_TOL,
    fraction of bonded CA-CA distances outside CA_CA_TRANS ± CA_CA_TOL."""
    bonds = torch.as_tensor(covalent_bonds(structure))
    ca = torch.as_tensor(consecutive_ca_pairs(structure))
    ref = torch.as_tensor(structure.coords, dtype=x.dtype)
    out = {}
    if bonds.numel():
        d = (x[:, bonds[:, 0]] - x[:, bonds[:, 1]]).norm(dim=-1)
        err = (d - (ref[bonds[:, 0]] - ref[bonds[:, 1]]).norm(dim=-1)).abs()
        out["bond_error"] = err.mean(-1)
        out["bond_violations"] = (err > BOND_TOL).to(x.dtype).mean(-1)
    if ca.numel():
        dca = (x[:, ca[:, 0]] - x[:, ca[:, 1]]).norm(dim=-1)
        out["ca_ca_violations"] = ((dca - CA_CA_TRANS).abs() > CA_CA_TOL).to(x.dtype).mean(-1)
    return out


def sample_report(x: torch.Tensor, structure: Structure) -> pl.DataFrame:
    """One row per sample: RMSD, Rg / Rg(target), violations."""
    target_rg = structure_rg(structure.coords)
    cols = {"sample": np.arange(x.shape[0]), "rmsd": rmsd_to_target(x, structure).numpy()}
    cols["rg_ratio"] = (radius_of_gyration(x) / target_rg).numpy()
    cols |= {k: v.numpy() for k, v in violations(x, structure).items()}
    return pl.DataFrame(cols)


def trajectory_frames(traj, structure: Structure) -> pl.DataFrame:
    """Per step and sample of a `sampler.Trajectory`: the level t_hat the step evaluated D at, sigma after
    the step, RMSD of x and of the denoised prediction to the target (NaN without predictions), Rg, and the
    step's motion."""
    h = Hierarchy.from_structure(structure)
    T1, B = traj.x.shape[:2]
    nan = torch.full((T1,), float("nan"))
    rows = []
    for b in range(B):
        mob = mobility(traj.x[:, b], h)
        r_x = rmsd_to_target(traj.x[:, b], structure)
        r_d = nan if traj.denoised is None else rmsd_to_target(traj.denoised[:, b], structure)
        rg = radius_of_gyration(traj.x[:, b])
        for t in range(1, T1):
            rows.append(
                {
                    "sample": b,
                    "step": t,
                    "t_hat": float(traj.t_hat[t - 1]),
                    "sigma": float(traj.sigmas[t]),
                    "rmsd_x": float(r_x[t]),
                    "rmsd_denoised": float(r_d[t - 1]),
                    "rg": float(rg[t]),
                    "inter": float(mob["inter"][t - 1]),
                    "intra": float(mob["intra"][t - 1]),
                }
            )
    return pl.DataFrame(rows)


def mobility_frame(x: torch.Tensor, structure: Structure) -> pl.DataFrame:
    """Long frame (step, residue, displacement) of `mobility` for one trajectory x (T+1, N, 3)."""
    res = mobility(x, Hierarchy.from_structure(structure))["residue"].numpy()
    T, R = res.shape
    return pl.DataFrame(
        {"step": np.repeat(np.arange(1, T + 1), R), "residue": np.tile(np.arange(R), T), "displacement": res.ravel()}
    )


def principal_axes(coords: np.ndarray) -> np.ndarray:
    """(3, 3) rows: the principal axes of the coordinates, largest variance first."""
    c = coords - coords.mean(0)
    return np.linalg.svd(c, full_matrices=False)[2]


def ca_projection(x: torch.Tensor, structure: Structure, label: str = "sample") -> pl.DataFrame:
    """CA trace of x (N, 3) superposed on the structure and projected on the structure's two main axes."""
    target = torch.as_tensor(structure.coords, dtype=torch.float64).unsqueeze(0)
    fitted = superpose(x.to(torch.float64).unsqueeze(0), target)[0].numpy()
    axes = principal_axes(structure.coords)
    centre = structure.coords.mean(0)
    ca = structure.atom_name == "CA"
    rows = []
    for kind, c in (("target", structure.coords), (label, fitted)):
        uv = (c[ca] - centre) @ axes[:2].T
        rows.append(
            pl.DataFrame(
                {
                    "u": uv[:, 0],
                    "v": uv[:, 1],
                    "residue": np.arange(structure.n_residues),
                    "chain": structure.chain_id[structure.residue_chain],
                    "kind": kind if kind == "target" else "sample",
                    "trace": [f"{kind} {ch}" for ch in structure.chain_id[structure.residue_chain]],
                }
            )
        )
    return pl.concat(rows)


def travel_summary(frames: pl.DataFrame, late_sigma: float) -> dict[str, float]:
    """From `trajectory_frames`: mean over samples of the summed per-step motion (Å), over the whole
    trajectory and over its late phase (steps evaluated at t_hat <= late_sigma): residue travel (relative
    to the chain) and atom travel (relative to the residue), and the residue share of the late motion."""
    late = pl.col("t_hat") <= late_sigma
    per = frames.group_by("sample").agg(
        pl.col("inter").sum().alias("residue_travel"),
        pl.col("intra").sum().alias("atom_travel"),
        pl.col("inter").filter(late).sum().alias("residue_travel_late"),
        pl.col("intra").filter(late).sum().alias("atom_travel_late"),
    )
    out = {k: float(per[k].mean()) for k in ("residue_travel", "atom_travel", "residue_travel_late", "atom_travel_late")}
    out["late_residue_share"] = out["residue_travel_late"] / max(out["residue_travel_late"] + out["atom_travel_late"], 1e-12)
    return out


def _kabsch_np(mobile: np.ndarray, target: np.ndarray) -> np.ndarray:
    """mobile (n, 3) rigidly superposed on target (n, 3), proper rotations only."""
    mm, mt = mobile.mean(0), target.mean(0)
    U, _, Vt = np.linalg.svd((mobile - mm).T @ (target - mt))
    d = np.sign(np.linalg.det(U @ Vt))
    return (mobile - mm) @ (U @ np.diag([1.0, 1.0, d]) @ Vt) + mt


def order_free_fit(
    x: np.ndarray, target: np.ndarray, starts: int = 8, iterations: int = 15, seed: int = 0
) -> tuple[float, float]:
    """(order-free RMSD, own-slot share) of points x (n, 3) against target (n, 3).

    The residue order is ignored: rigid superposition and a one-to-one assignment of the points
    to the target's points (Hungarian) are alternated from the identity order, from the four
    alignments of the principal axes and from `starts - 1` random orientations, keeping the best fit.
    own-slot share: the fraction of
    points assigned to their own index in that fit (1 for a sample in the right order; about
    1/n for residues in random order)."""
    rng = np.random.default_rng(seed)
    xc, tc = x - x.mean(0), target - target.mean(0)
    ax, at = (np.linalg.svd(c, full_matrices=False)[2] for c in (xc, tc))
    signs = (np.diag([a, b, c]) for a in (1, -1) for b in (1, -1) for c in (1, -1))
    pca = [xc @ R for R in (ax.T @ f @ at for f in signs) if np.linalg.det(R) > 0]  # proper rotations only
    inits = [_kabsch_np(xc, tc), *pca] + [xc @ Rotation.random(random_state=rng).as_matrix() for _ in range(starts - 1)]
    best = (np.inf, 0.0)
    for y in inits:
        for _ in range(iterations):
            cost = ((y[:, None, :] - tc[None, :, :]) ** 2).sum(-1)
            _, slot = linear_sum_assignment(cost)
            y_new = _kabsch_np(xc, tc[slot])
            if np.allclose(y_new, y):
                break
            y = y_new
        r = float(np.sqrt(((y - tc[slot]) ** 2).sum(-1).mean()))
        if r < best[0]:
            best = (r, float((slot == np.arange(len(slot))).mean()))
    return best


def ca_coords(x: torch.Tensor, structure: Structure) -> np.ndarray:
    """(B, R, 3) CA coordinates of samples x (B, N, 3)."""
    return x[:, torch.as_tensor(np.flatnonzero(structure.atom_name == "CA"))].double().numpy()


def structure_outcome(x: torch.Tensor, structure: Structure) -> dict[str, float]:
    """Mean over samples x (B, N, 3) of one structure: RMSD, order-free CA RMSD, own-slot share, Rg ratio,
    bond and CA-CA violations."""
    report = sample_report(x, structure)
    out = {k: float(report[k].mean()) for k in report.columns if k != "sample"}
    fits = [
        order_free_fit(ca, ca_coords(torch.as_tensor(structure.coords).unsqueeze(0), structure)[0])
        for ca in ca_coords(x, structure)
    ]
    out["order_free_rmsd"] = float(np.mean([f[0] for f in fits]))
    out["own_slot"] = float(np.mean([f[1] for f in fits]))
    return out


def late_residue_travel(x_steps: torch.Tensor, t_hat: np.ndarray, h: Hierarchy, late_sigma: float) -> torch.Tensor:
    """(B,) summed residue motion relative to the chain (mobility 'inter', Å) over the steps evaluated at
    t_hat <= late_sigma, for trajectories x_steps (T+1, B, N, 3) of one structure."""
    late = torch.as_tensor(np.asarray(t_hat) <= late_sigma)
    return torch.stack([mobility(x_steps[:, b], h)["inter"][late].sum() for b in range(x_steps.shape[1])])
