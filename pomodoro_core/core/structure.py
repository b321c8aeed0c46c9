"""Protein structure loading (gemmi) and cropping.

A `Structure` is a flat, atom-ordered record of one protein: coordinates and the
atom -> residue -> chain hierarchy as contiguous integer indices.  Everything
downstream (noise, losses, metrics) works from these arrays.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import gemmi
import numpy as np

BACKBONE = ("N", "CA", "C", "O")
ATOM_SETS = ("backbone_cb", "heavy")
STRUCTURE_SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif", ".pdb.gz", ".ent.gz", ".cif.gz", ".mmcif.gz")


@dataclass(frozen=True)
class Structure:
    """Atoms of one protein, grouped into residues and chains by contiguous indices."""

    name: str
    coords: np.ndarray  # (N, 3) float64, Å
    element: np.ndarray  # (N,) str
    atom_name: np.ndarray  # (N,) str
    residue_index: np.ndarray  # (N,) int64, 0..R-1, non-decreasing
    residue_name: np.ndarray  # (R,) str
    residue_seqid: np.ndarray  # (R,) str, author numbering
    residue_chain: np.ndarray  # (R,) int64, 0..C-1, non-decreasing
    chain_id: np.ndarray  # (C,) str
    atom_set: str = "backbone_cb"
    skipped_residues: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""  # the file it was loaded from
    models: int = 1  # models in that file (the first is used)

    @property
    def n_atoms(self) -> int:
        return int(self.coords.shape[0])

    @property
    def n_residues(self) -> int:
        return int(self.residue_name.shape[0])

    @property
    def n_chains(self) -> int:
        return int(self.chain_id.shape[0])

    @property
    def chain_index(self) -> np.ndarray:
        """(N,) chain of each atom."""
        return self.residue_chain[self.residue_index]

    @property
    def atoms_per_residue(self) -> np.ndarray:
        return np.bincount(self.residue_index, minlength=self.n_residues)

    @property
    def residues_per_chain(self) -> np.ndarray:
        return np.bincount(self.residue_chain, minlength=self.n_chains)

    def ca_coords(self) -> np.ndarray:
        """(R, 3) CA of each residue (every kept residue has one)."""
        return self.coords[self.atom_name == "CA"]

    def summary(self) -> str:
        return (
            f"{self.name}: {self.n_chains} chain(s), {self.n_residues} residues, "
            f"{self.n_atoms} atoms ({self.atom_set}), {self.skipped_residues} residue(s) skipped"
        )

    def describe(self) -> str:
        """One line naming what was loaded: file, chains, residues, atoms, models used, residues skipped."""
        models = "1 model" if self.models == 1 else f"first of {self.models} models used"
        origin = f" from {self.source}" if self.source else ""
        return (
            f"structure: {self.name}{origin} | chains {','.join(self.chain_id)} | {self.n_residues} residues | "
            f"{self.n_atoms} atoms ({self.atom_set}) | {models} | {self.skipped_residues} residue(s) skipped"
        )

    def select_residues(self, keep: np.ndarray, name: str | None = None) -> Structure:
        """Sub-structure of the residues where `keep` (R,) is True, re-indexed."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (self.n_residues,):
            raise ValueError(f"residue mask has shape {keep.shape}, expected ({self.n_residues},)")
        if not keep.any():
            raise ValueError(f"{self.name}: the selection keeps no residue")
        atom_keep = keep[self.residue_index]
        new_res = np.cumsum(keep) - 1
        chains_kept = np.unique(self.residue_chain[keep])
        new_chain = np.full(self.n_chains, -1)
        new_chain[chains_kept] = np.arange(chains_kept.size)
        return replace(
            self,
            name=name or self.name,
            coords=self.coords[atom_keep],
            element=self.element[atom_keep],
            atom_name=self.atom_name[atom_keep],
            residue_index=new_res[self.residue_index[atom_keep]],
            residue_name=self.residue_name[keep],
            residue_seqid=self.residue_seqid[keep],
            residue_chain=new_chain[self.residue_chain[keep]],
            chain_id=self.chain_id[chains_kept],
        )


# --------------------------------------------------------------------------- loading


def _fail(path: Path, reason: str) -> ValueError:
    return ValueError(f"cannot load structure {str(path)!r}: {reason}")


def _read_text(path: Path) -> str:
    if not path.exists():
        raise _fail(path, "file not found")
    if path.is_dir():
        raise _fail(path, "is a directory, not a structure file")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise _fail(path, f"truncated or corrupt gzip data ({exc})") from None
    if not raw.strip():
        raise _fail(path, "file is empty")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
            raise _fail(path, "not a text file") from None


def _is_cif(path: Path, text: str) -> bool:
    stem = path.name[:-3] if path.name.endswith(".gz") else path.name
    if stem.endswith((".cif", ".mmcif")):
        return True
    if stem.endswith((".pdb", ".ent")):
        return False
    return text.lstrip().startswith("data_")


def _check_pdb_complete(path: Path, text: str) -> None:
    """A PDB file cut mid-record leaves a last coordinate line shorter than x, y, z need (54 columns) or
    shorter than every other coordinate line of the file (a cut after the coordinates, in occupancy or element)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    records = [ln for ln in lines if ln.startswith(("ATOM", "HETATM"))]
    if not records or lines[-1] != records[-1]:
        return
    last, shortest = len(records[-1]), min((len(ln) for ln in records[:-1]), default=54)
    if last < 54 or last < shortest:
        raise _fail(path, f"truncated: the last ATOM/HETATM record has {last} columns (the others at least {shortest})")


def _parse(path: Path) -> gemmi.Structure:
    text = _read_text(path)
    try:
        if _is_cif(path, text):
            doc = gemmi.cif.read_string(text)
            st = gemmi.make_structure_from_block(doc.sole_block())
        else:
            _check_pdb_complete(path, text)
            st = gemmi.read_pdb_string(text)
    except ValueError as exc:
        if str(exc).startswith("cannot load structure"):
            raise
        raise _fail(path, f"unparsable ({' '.join(str(exc).split())})") from None
    except RuntimeError as exc:
        raise _fail(path, f"unparsable ({' '.join(str(exc).split())})") from None
    if len(st) == 0 or st[0].count_atom_sites() == 0:
        raise _fail(path, "no atoms found (empty or not a PDB/mmCIF structure)")
    return st


def parse_structure_file(path: str | Path) -> gemmi.Structure:
    """Every model of a PDB / mmCIF file (gzipped too), with the loader's checks (missing, empty, cut off, unparsable)."""
    return _parse(Path(path))


def _is_amino_acid(name: str) -> bool:
    info = gemmi.find_tabulated_residue(name)
    return bool(info is not None and info.is_amino_acid())


def _pick_altloc(residue: gemmi.Residue) -> str:
    """The alternative location with the highest mean occupancy ('' if none)."""
    occ: dict[str, list[float]] = {}
    for atom in residue:
        if atom.altloc != "\0":
            occ.setdefault(atom.altloc, []).append(atom.occ)
    if not occ:
        return ""
    return max(occ, key=lambda k: (np.mean(occ[k]), -ord(k)))


def _keep_atom(name: str, element: str, atom_set: str) -> bool:
    if element in ("H", "D"):
        return False
    if atom_set == "heavy":
        return True
    return name in BACKBONE or name == "CB"


def load_structure(path: str | Path, atom_set: str = "backbone_cb") -> Structure:
    """Load the first model of a PDB/mmCIF file (optionally gzipped) as a `Structure`.

    Keeps amino-acid residues only (waters and ligands dropped), drops hydrogens,
    keeps the highest-occupancy alternative location, and skips residues missing
    any backbone atom (N, CA, C, O), counting them.  `atom_set` is 'backbone_cb'
    (N, CA, C, O, CB; glycine has no CB) or 'heavy' (all non-hydrogen atoms).
    Raises ValueError naming the file and the reason on any unusable input.
    """
    path = Path(path)
    if atom_set not in ATOM_SETS:
        raise ValueError(f"unknown atom set {atom_set!r}; choose one of {ATOM_SETS}")
    st = _parse(path)
    model = st[0]

    coords, elements, names, res_idx = [], [], [], []
    res_names, res_seqids, res_chain, chain_ids = [], [], [], []
    skipped = 0
    n_protein_residues = 0
    for chain in model:
        kept_in_chain = 0
        chain_number = len(chain_ids)
        seen_seqids: set[str] = set()
        for residue in chain:
            if not _is_amino_acid(residue.name):
                continue
            seqid = str(residue.seqid)
            if seqid in seen_seqids:  # microheterogeneity: keep the first residue only
                continue
            seen_seqids.add(seqid)
            n_protein_residues += 1
            alt = _pick_altloc(residue)
            atoms = {}
            for atom in residue:
                if atom.altloc not in ("\0", alt):
                    continue
                el = atom.element.name.upper()
                if _keep_atom(atom.name, el, atom_set) and atom.name not in atoms:
                    atoms[atom.name] = atom
            if not all(b in atoms for b in BACKBONE):
                skipped += 1
                continue
            order = list(BACKBONE) + [n for n in atoms if n not in BACKBONE]
            r = len(res_names)
            for n in order:
                a = atoms[n]
                coords.append((a.pos.x, a.pos.y, a.pos.z))
                elements.append(a.element.name.upper())
                names.append(n)
                res_idx.append(r)
            res_names.append(residue.name)
            res_seqids.append(seqid)
            res_chain.append(chain_number)
            kept_in_chain += 1
        if kept_in_chain:
            chain_ids.append(chain.name)

    if n_protein_residues == 0:
        raise _fail(path, "no protein chain (no amino-acid residue in the first model)")
    if not res_names:
        raise _fail(path, f"nothing left after filtering: all {skipped} amino-acid residue(s) miss backbone atoms")
    xyz = np.asarray(coords, dtype=np.float64)
    if not np.isfinite(xyz).all():
        bad = int((~np.isfinite(xyz).all(axis=1)).sum())
        raise _fail(path, f"{bad} atom(s) have non-finite coordinates")
    spread = float(np.sqrt(((xyz - xyz.mean(axis=0)) ** 2).sum(axis=1).mean()))
    if xyz.shape[0] > 1 and spread < 0.01:
        raise _fail(path, f"all {xyz.shape[0]} atoms lie at one point (RMS distance from their centroid {spread:.3g} Å)")
    notes = []
    if len(st) > 1:
        notes.append(f"{len(st)} models in file; the first was used")
    return Structure(
        name=path.name.split(".")[0],
        coords=xyz,
        element=np.asarray(elements),
        atom_name=np.asarray(names),
        residue_index=np.asarray(res_idx, dtype=np.int64),
        residue_name=np.asarray(res_names),
        residue_seqid=np.asarray(res_seqids),
        residue_chain=np.asarray(res_chain, dtype=np.int64),
        chain_id=np.asarray(chain_ids),
        atom_set=atom_set,
        skipped_residues=skipped,
        notes=tuple(notes),
        source=str(path),
        models=len(st),
    )


def data_dir() -> Path:
    """The project's data/ folder (next to the package)."""
    return Path(__file__).resolve().parents[2] / "data"


EXAMPLES = "examples"  # data/examples/: another model's files (trajectories, logs), not structures to choose from


def list_structures(root: str | Path | None = None) -> list[Path]:
    """Structure files under data/ (recursively, data/examples/ left out), sorted by name."""
    root = Path(root) if root is not None else data_dir()
    found = (p for p in root.rglob("*") if p.is_file() and p.name.endswith(STRUCTURE_SUFFIXES))
    return sorted(p for p in found if EXAMPLES not in p.relative_to(root).parts[:-1])


def find_structure(name: str, root: str | Path | None = None) -> Path:
    """Resolve a structure by path or by name (e.g. '1hvr', '5PTI') within data/."""
    p = Path(name)
    if p.exists():
        return p
    for cand in list_structures(root):
        if cand.name.split(".")[0].lower() == name.lower() or cand.name == name:
            return cand
    known = ", ".join(c.name.split(".")[0] for c in list_structures(root))
    raise ValueError(f"no structure named {name!r} in data/ (known: {known})")


# --------------------------------------------------------------------------- cropping


def contiguous_crop(structure: Structure, k: int, start: int | None = None, seed: int = 0) -> Structure:
    """K consecutive residues of one chain (the whole chain if it is shorter).

    `start` is a residue index into the structure; if None, a chain of at least K
    residues and a start are drawn with `seed`.
    """
    if k < 1:
        raise ValueError(f"crop size must be >= 1, got {k}")
    rpc = structure.residues_per_chain
    first = np.concatenate([[0], np.cumsum(rpc)[:-1]])
    if start is None:
        rng = np.random.default_rng(seed)
        long_enough = np.flatnonzero(rpc >= k)
        chain = int(rng.choice(long_enough)) if long_enough.size else int(np.argmax(rpc))
        span = max(int(rpc[chain]) - k, 0)
        start = int(first[chain]) + int(rng.integers(0, span + 1))
    chain = int(structure.residue_chain[start])
    end = min(start + k, int(first[chain] + rpc[chain]))
    keep = np.zeros(structure.n_residues, dtype=bool)
    keep[start:end] = True
    return structure.select_residues(keep, name=f"{structure.name}[{start}:{end}]")


def spatial_crop(structure: Structure, k: int, center: int | None = None, seed: int = 0) -> Structure:
    """The K residues whose CA lie nearest the CA of residue `center`, across chains.

    With center=None the centre is drawn (with `seed`) among residues near a chain
    interface when the structure has several chains, so the crop keeps several chains.
    """
    if k < 1:
        raise ValueError(f"crop size must be >= 1, got {k}")
    ca = structure.ca_coords()
    if center is None:
        rng = np.random.default_rng(seed)
        if structure.n_chains > 1:
            d = np.linalg.norm(ca[:, None] - ca[None], axis=-1)
            other = structure.residue_chain[:, None] != structure.residue_chain[None]
            contacts = (np.where(other, d, np.inf) < 10.0).sum(axis=1)
            # centres among the residues with the most cross-chain contacts
            pool = np.flatnonzero(contacts >= max(1, contacts.max() // 2))
            if not pool.size:
                pool = np.arange(structure.n_residues)
        else:
            pool = np.arange(structure.n_residues)
        center = int(rng.choice(pool))
    dist = np.linalg.norm(ca - ca[center], axis=-1)
    nearest = np.argsort(dist, kind="stable")[: min(k, structure.n_residues)]
    keep = np.zeros(structure.n_residues, dtype=bool)
    keep[nearest] = True
    return structure.select_residues(keep, name=f"{structure.name}@{center}k{k}")


def radius_of_gyration(coords: np.ndarray) -> float:
    c = np.asarray(coords, dtype=np.float64)
    return float(np.sqrt(((c - c.mean(axis=0)) ** 2).sum(axis=1).mean()))


# --------------------------------------------------------------------------- covalent geometry

INTRA_RESIDUE_BONDS = (("N", "CA"), ("CA", "C"), ("C", "O"), ("CA", "CB"))
PEPTIDE_BOND_MAX = 2.0  # Å: a C(i)-N(i+1) pair closer than this in the structure is a peptide bond


def _atom_lookup(s: Structure) -> dict[tuple[int, str], int]:
    return {(int(r), str(n)): i for i, (r, n) in enumerate(zip(s.residue_index, s.atom_name, strict=True))}


def covalent_bonds(s: Structure) -> np.ndarray:
    """(P, 2) atom index pairs of the backbone (+CB) bonds: within residues, and peptide
    bonds C(i)-N(i+1) between consecutive residues of a chain that are bonded in the structure
    (a crop's gaps are not bonds)."""
    at = _atom_lookup(s)
    pairs = [(at[r, a], at[r, b]) for r in range(s.n_residues) for a, b in INTRA_RESIDUE_BONDS if (r, a) in at and (r, b) in at]
    for r in range(s.n_residues - 1):
        if s.residue_chain[r] == s.residue_chain[r + 1] and (r, "C") in at and (r + 1, "N") in at:
            i, j = at[r, "C"], at[r + 1, "N"]
            if np.linalg.norm(s.coords[i] - s.coords[j]) < PEPTIDE_BOND_MAX:
                pairs.append((i, j))
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def consecutive_ca_pairs(s: Structure) -> np.ndarray:
    """(P, 2) atom indices of the CA atoms of chain neighbours that are peptide-bonded in the structure."""
    at = _atom_lookup(s)
    bonded = {(int(s.residue_index[i]), int(s.residue_index[j])) for i, j in covalent_bonds(s)} - {
        (r, r) for r in range(s.n_residues)
    }
    return np.asarray([(at[r, "CA"], at[q, "CA"]) for r, q in sorted(bonded)], dtype=np.int64).reshape(-1, 2)
