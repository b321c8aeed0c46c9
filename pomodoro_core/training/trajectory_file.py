"""Another model's sampling trajectory, from a file: `.npz` arrays or a multi-model PDB / mmCIF.

A trajectory of T steps has T + 1 states (the format of `sampler.Trajectory`, one sample):

    x          (T+1, N, 3)  float   state t is what step t starts from: x[0] the initial noise, x[T] the sample (Å)
    sigma      (T+1,)       float   the level of each state, non-increasing (sigma[T] is usually 0)
    sigma_hat  (T,)         float   optional: the level the denoiser was evaluated at in step t (churn); default sigma[:-1]
    denoised   (T, N, 3)    float   optional: the denoiser's prediction in step t
    atom_name  (N,)         str     optional: checked, in order, against the structure file's atoms

The N atoms are the structure file's atoms (`core.structure.load_structure` with the same atom
set), in the same order.  A multi-model file holds one model per state (T + 1 models); its atoms
are matched to the structure's by chain, residue number and atom name (hydrogens, waters and
ligands ignored), so their order in the file does not matter.  Its levels come from a text
file (one number per state; a second column is sigma_hat) or from a preset's schedule.

Every check failure is one `TrajectoryError` line naming the file and exactly what disagrees.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import gemmi
import numpy as np
import torch

from ..core.structure import ATOM_SETS, STRUCTURE_SUFFIXES, Structure, load_structure, parse_structure_file
from .sampler import Trajectory

NPZ_ARRAYS = ("x", "sigma", "sigma_hat", "denoised", "atom_name")
PDB_RANGE = (-999.999, 9999.999)  # what PDB's fixed 8.3f coordinate columns hold


class TrajectoryError(ValueError):
    """A trajectory file that cannot be used; the message is one line."""


def _fail(path, reason: str) -> TrajectoryError:
    return TrajectoryError(f"cannot load trajectory {str(path)!r}: {reason}")


def _first_bad(a: np.ndarray) -> str:
    """'state 3, atom 17' for the first non-finite entry of a (T, N, 3) array."""
    t, n = np.argwhere(~np.isfinite(a))[0][:2]
    return f"state {t}, atom {n}"


def _atom_counts(structure: Structure) -> str:
    """The structure's atom count under each atom set, for a message about a count that does not match."""
    counts = []
    for atom_set in ATOM_SETS:
        try:
            n = structure.n_atoms if atom_set == structure.atom_set else load_structure(structure.source, atom_set).n_atoms
        except (ValueError, OSError):
            continue
        counts.append(f"{n} with atom set {atom_set}")
    return "; ".join(counts)


def check_states(path, x: np.ndarray, sigma: np.ndarray, sigma_hat, denoised, structure: Structure) -> None:
    """Shapes, finiteness and the order of the levels; TrajectoryError on the first thing that is wrong."""
    _check_coordinates(path, x, structure)
    _check_levels(path, sigma, sigma_hat, x.shape[0] - 1)
    T = x.shape[0] - 1
    if denoised is not None:
        if denoised.shape != (T, x.shape[1], 3):
            raise _fail(path, f"denoised must hold one prediction per step: shape ({T}, {x.shape[1]}, 3) (got {denoised.shape})")
        if not np.isfinite(denoised).all():
            raise _fail(path, f"denoised has non-finite values, the first at {_first_bad(denoised)}")


def _check_coordinates(path, x: np.ndarray, structure: Structure) -> None:
    if x.ndim != 3 or x.shape[-1] != 3:
        raise _fail(path, f"x must have shape (states, atoms, 3) (got {x.shape})")
    if x.shape[0] < 2:
        raise _fail(path, f"x holds {x.shape[0]} state(s); a trajectory needs at least 2 (the noise and one step)")
    if x.shape[1] != structure.n_atoms:
        raise _fail(
            path,
            f"x has {x.shape[1]} atoms per state; structure {structure.name} ({structure.source}) has {_atom_counts(structure)}",
        )
    if not np.isfinite(x).all():
        raise _fail(path, f"x has {int((~np.isfinite(x)).sum())} non-finite coordinate(s), the first at {_first_bad(x)}")


def _check_levels(path, sigma: np.ndarray, sigma_hat, T: int) -> None:
    if sigma.shape != (T + 1,):
        raise _fail(path, f"sigma must hold one level per state: shape ({T + 1},) for {T + 1} states (got {sigma.shape})")
    if not (np.isfinite(sigma).all() and (sigma >= 0).all()):
        raise _fail(path, f"sigma must be finite and >= 0 (state {int(np.argmin(np.isfinite(sigma) & (sigma >= 0)))})")
    rises = np.flatnonzero(np.diff(sigma) > 0)
    if rises.size:
        i = int(rises[0])
        raise _fail(path, f"sigma rises from state {i} to {i + 1} ({sigma[i]:g} -> {sigma[i + 1]:g}); it must not increase")
    if sigma[-2] <= 0:
        raise _fail(path, "sigma reaches 0 before the last state; only the last level may be 0")
    if sigma_hat is None:
        return
    if sigma_hat.shape != (T,):
        raise _fail(path, f"sigma_hat must hold one level per step: shape ({T},) for {T + 1} states (got {sigma_hat.shape})")
    low = np.flatnonzero(~(np.isfinite(sigma_hat) & (sigma_hat >= sigma[:-1])))
    if low.size:
        raise _fail(path, f"sigma_hat[{low[0]}] = {sigma_hat[low[0]]:g} is below sigma[{low[0]}] = {sigma[low[0]]:g}")


def _as_trajectory(x, sigma, sigma_hat, denoised) -> Trajectory:
    t_hat = sigma[:-1].copy() if sigma_hat is None else sigma_hat
    return Trajectory(
        sigmas=sigma.astype(np.float64),
        t_hat=t_hat.astype(np.float64),
        x=torch.as_tensor(x, dtype=torch.float32).unsqueeze(1),
        denoised=None if denoised is None else torch.as_tensor(denoised, dtype=torch.float32).unsqueeze(1),
    )


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz: readable, known names, x and sigma present, numbers where numbers belong."""
    if not path.is_file():
        raise _fail(path, "file not found" if not path.exists() else "not a file")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise _fail(path, f"not a readable .npz archive (truncated or another format: {' '.join(str(exc).split())})") from None
    unknown = sorted(set(arrays) - set(NPZ_ARRAYS))
    if unknown:
        raise _fail(path, f"unknown array(s) {', '.join(unknown)} (known: {', '.join(NPZ_ARRAYS)})")
    for need in ("x", "sigma"):
        if need not in arrays:
            raise _fail(path, f"no array {need!r} (it holds {', '.join(sorted(arrays)) or 'nothing'})")
    for k, v in arrays.items():
        if k != "atom_name" and not np.issubdtype(v.dtype, np.number):
            raise _fail(path, f"array {k!r} must be numbers (got dtype {v.dtype})")
    return {k: v if k == "atom_name" else v.astype(np.float64) for k, v in arrays.items()}


def _check_atom_names(path: Path, names: np.ndarray, structure: Structure) -> None:
    names = names.astype(str)
    wrong = np.flatnonzero(names != structure.atom_name) if names.shape == structure.atom_name.shape else [0]
    if len(wrong):
        i = int(wrong[0])
        here = names[i] if i < names.size else "(none)"
        raise _fail(path, f"atom {i} is {here} here but {_atom_label(structure, i)} in the structure")


def load_npz(path: str | Path, structure: Structure) -> Trajectory:
    """A trajectory from `.npz` arrays (see the module's docstring), checked against the structure."""
    path = Path(path)
    a = _read_arrays(path)
    check_states(path, a["x"], a["sigma"], a.get("sigma_hat"), a.get("denoised"), structure)
    if "atom_name" in a:
        _check_atom_names(path, a["atom_name"], structure)
    return _as_trajectory(a["x"], a["sigma"], a.get("sigma_hat"), a.get("denoised"))


def _atom_label(s: Structure, i: int) -> str:
    r = s.residue_index[i]
    return f"{s.chain_id[s.residue_chain[r]]} {s.residue_name[r]} {s.residue_seqid[r]} {s.atom_name[i]}"


def _model_atoms(model: gemmi.Model) -> dict[tuple[str, str, str], tuple[float, float, float]]:
    """(chain, residue number, atom name) -> position for the amino-acid heavy atoms of one model."""
    out = {}
    for chain in model:
        for residue in chain:
            info = gemmi.find_tabulated_residue(residue.name)
            if info is None or not info.is_amino_acid():
                continue
            for atom in residue:
                if atom.element.name.upper() not in ("H", "D"):
                    out.setdefault((chain.name, str(residue.seqid), atom.name), (atom.pos.x, atom.pos.y, atom.pos.z))
    return out


def model_states(path: str | Path, structure: Structure) -> np.ndarray:
    """(models, N, 3): every model's coordinates of the structure's atoms, matched by chain, residue number and name."""
    path = Path(path)
    try:
        st = parse_structure_file(path)
    except ValueError as exc:
        raise _fail(path, str(exc).split(": ", 1)[-1]) from None
    keys = [
        (structure.chain_id[structure.residue_chain[r]], structure.residue_seqid[r], name)
        for r, name in zip(structure.residue_index, structure.atom_name, strict=True)
    ]
    wanted = set(keys)
    states = np.empty((len(st), len(keys), 3))
    for m, model in enumerate(st):
        atoms = _model_atoms(model)
        missing = [i for i, k in enumerate(keys) if k not in atoms]
        if missing:
            raise _fail(
                path,
                f"model {m + 1} of {len(st)} has no atom {_atom_label(structure, missing[0])} (structure atom {missing[0]}; "
                f"{len(missing)} missing in all)",
            )
        extra = [k for k in atoms if k not in wanted]
        if extra:
            c, r, a = extra[0]
            raise _fail(
                path,
                f"model {m + 1} has {len(extra)} atom(s) the structure ({structure.atom_set}) lacks, the first {c} {r} {a}; "
                "pick the structure's atom set to match (--atom-set)",
            )
        states[m] = [atoms[k] for k in keys]
    return states


def read_sigmas(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(sigma, sigma_hat or None) from a text file: one line per state, sigma and optionally sigma_hat (none on the last)."""
    path = Path(path)
    if not path.is_file():
        raise TrajectoryError(f"cannot read levels {str(path)!r}: {'not found' if not path.exists() else 'not a file'}")
    rows = [ln.split() for ln in path.read_text(errors="replace").splitlines() if ln.strip() and not ln.startswith("#")]
    try:
        sigma = np.array([float(r[0]) for r in rows])
        hats = [float(r[1]) for r in rows[:-1] if len(r) > 1]
    except ValueError as exc:
        raise TrajectoryError(f"cannot read levels {str(path)!r}: {exc}") from None
    if hats and len(hats) != len(rows) - 1:
        raise TrajectoryError(f"cannot read levels {str(path)!r}: sigma_hat (second column) must be on every line but the last")
    return sigma, (np.array(hats) if hats else None)


def write_levels(path: str | Path, sigma: np.ndarray, sigma_hat: np.ndarray | None = None) -> None:
    """The levels file `read_sigmas` reads: one line per state, sigma and (all but the last line) sigma_hat."""
    hats = [*(f" {float(h)!r}" for h in sigma_hat), ""] if sigma_hat is not None else [""] * len(sigma)
    Path(path).write_text("".join(f"{float(s)!r}{h}\n" for s, h in zip(sigma, hats, strict=True)))


def load_models(path: str | Path, structure: Structure, sigma: np.ndarray, sigma_hat: np.ndarray | None = None) -> Trajectory:
    """A trajectory from a multi-model PDB / mmCIF (one model per state) and its levels."""
    x = model_states(path, structure)
    if len(sigma) != x.shape[0]:
        raise _fail(path, f"{x.shape[0]} models but {len(sigma)} levels (sigma needs one per model)")
    check_states(path, x, np.asarray(sigma, float), sigma_hat, None, structure)
    return _as_trajectory(x, np.asarray(sigma, float), sigma_hat, None)


def is_model_file(path: str | Path) -> bool:
    return str(path).lower().endswith(STRUCTURE_SUFFIXES)


# --------------------------------------------------------------------------- writing (this suite's own trajectories)


def write_npz(path: str | Path, traj: Trajectory, structure: Structure, sample: int = 0) -> None:
    """One sample of a `sampler.Trajectory` as `.npz` in the format above."""
    arrays = {
        "x": traj.x[:, sample].double().numpy(),
        "sigma": np.asarray(traj.sigmas, float),
        "sigma_hat": np.asarray(traj.t_hat, float),
        "atom_name": structure.atom_name.astype(str),
    }
    if traj.denoised is not None:
        arrays["denoised"] = traj.denoised[:, sample].double().numpy()
    np.savez_compressed(path, **arrays)


def write_models(path: str | Path, x: np.ndarray, structure: Structure) -> None:
    """States x (models, N, 3) of the structure's atoms as a multi-model mmCIF (`.cif`) or PDB (`.pdb`; coordinates
    must fit its columns)."""
    path = Path(path)
    pdb = path.suffix.lower() in (".pdb", ".ent")
    if pdb and not (PDB_RANGE[0] <= x.min() and x.max() <= PDB_RANGE[1]):
        raise TrajectoryError(
            f"cannot write {str(path)!r}: coordinates reach {x.min():.0f} / {x.max():.0f} Å, beyond PDB's columns; write .cif"
        )
    st = gemmi.Structure()
    for t in range(x.shape[0]):
        model = gemmi.Model(str(t + 1))
        for c, cid in enumerate(structure.chain_id):
            chain = gemmi.Chain(str(cid))
            for r in np.flatnonzero(structure.residue_chain == c):
                res = gemmi.Residue()
                res.name, res.seqid, res.entity_type = (
                    str(structure.residue_name[r]),
                    gemmi.SeqId(str(structure.residue_seqid[r])),
                    gemmi.EntityType.Polymer,
                )
                for i in np.flatnonzero(structure.residue_index == r):
                    atom = gemmi.Atom()
                    atom.name, atom.element = str(structure.atom_name[i]), gemmi.Element(str(structure.element[i]))
                    atom.pos, atom.occ = gemmi.Position(*x[t, i]), 1.0
                    res.add_atom(atom)
                chain.add_residue(res)
            model.add_chain(chain)
        st.add_model(model)
    st.setup_entities()
    if pdb:
        st.write_pdb(str(path))
    else:
        st.make_mmcif_document().write_file(str(path))


def load_trajectory(
    path: str | Path, structure: Structure, sigmas: str | Path | None = None, schedule: np.ndarray | None = None
) -> tuple[Trajectory, str]:
    """(trajectory, where its levels came from): `.npz`, or a multi-model file whose levels come from the text file
    `sigmas` or else from `schedule` (a preset's)."""
    if not is_model_file(path):
        return load_npz(path, structure), "levels from the file"
    if sigmas:
        sigma, sigma_hat = read_sigmas(sigmas)
        return load_models(path, structure, sigma, sigma_hat), f"levels from {sigmas}"
    if schedule is None:
        raise _fail(path, "a multi-model file carries no levels: give a levels file (--sigmas) or a preset's schedule")
    try:
        return load_models(
            path, structure, np.asarray(schedule, float)
        ), f"levels: the preset's schedule ({len(schedule)} levels)"
    except TrajectoryError as exc:
        if "levels (sigma needs one per model)" not in str(exc):
            raise
        raise TrajectoryError(f"{exc}; the levels came from the preset's schedule: give a levels file (--sigmas)") from None
