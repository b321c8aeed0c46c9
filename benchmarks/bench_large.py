"""Benchmark: big structures. Notebook 01 end to end on a 3KPR-sized complex, and the Monte Carlo moments.

Targets (issue 12): notebook 01 on ~13k heavy atoms (3KPR's size) under 15 s and 2 GB peak memory;
(issue 11) the moments of 1000 draws in <= 0.3 s at ~1k atoms and <= 3 s at ~8k atoms on one core.
No 3KPR file ships here (no downloads at run time): the complex is 3PWP doubled (its chains copied 120 Å
away), 13,276 heavy / 8,186 backbone+CB atoms against 3KPR's 13,318 / 8,172.

    python benchmarks/bench_large.py
"""

from __future__ import annotations

import os
import resource
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gemmi
import torch

from pomodoro_core.core.hierarchy import Hierarchy
from pomodoro_core.core.noise import sample_component_grams
from pomodoro_core.core.structure import find_structure, load_structure

ROOT = Path(__file__).resolve().parents[1]


def tiled_3pwp(path: Path, copies: int = 2) -> Path:
    """3PWP and copies - 1 more of its chains, each 120 Å further along x (PDB for 2 copies, else mmCIF)."""
    st = gemmi.read_structure(str(find_structure("3PWP")))
    st.remove_ligands_and_waters()
    model = st[0]
    originals = [model[ch.name].clone() for ch in model]
    free = iter([c for c in string.ascii_uppercase if c not in [ch.name for ch in originals]])
    for copy in range(1, copies):
        for original in originals:
            chain = original.clone()
            chain.name = next(free) if copies == 2 else f"{original.name}{copy}"
            for residue in chain:
                for atom in residue:
                    atom.pos = gemmi.Position(atom.pos.x + 120.0 * copy, atom.pos.y, atom.pos.z)
            model.add_chain(chain)
    if copies == 2:
        st.write_pdb(str(path))
    else:
        st.setup_entities()
        st.make_mmcif_document().write_file(str(path))
    return path


def doubled_3pwp(path: Path) -> Path:
    """3KPR's size: 13,276 heavy / 8,186 backbone+CB atoms."""
    return tiled_3pwp(path, 2)


def notebook_01(path: Path) -> tuple[float, float, str]:
    """(seconds, peak MB, the structure line) of notebook 01 as a script on `path`, heavy atoms, 1 thread."""
    env = dict(os.environ, OMP_NUM_THREADS="1", POMODORO_THREADS="1")
    cmd = [sys.executable, str(ROOT / "notebooks" / "01_noise_decomposition.py"), "--structure", str(path), "--atom-set", "heavy"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"notebook 01 failed: {res.stderr[-2000:]}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("Monte Carlo:"))
    return seconds, peak_mb, line


def moments(structure, draws: int = 1000, repeats: int = 3) -> float:
    h = Hierarchy.from_structure(structure)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        sample_component_grams(h, draws, 0)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        big = doubled_3pwp(Path(tmp) / "3pwp_doubled.pdb")
        seconds, peak, line = notebook_01(big)
        print(f"notebook 01, {load_structure(big, 'heavy').describe()}")
        print(f"  {line}")
        print(f"  wall {seconds:.1f} s (target < 15 s), peak {peak:.0f} MB (target < 2048 MB)")
        small = load_structure(find_structure("4E43"))
        large = load_structure(big)
        t_small, t_large = moments(small), moments(large)
        print(f"moments, 1000 draws, 1 thread: {small.n_atoms} atoms {t_small:.2f} s (target <= 0.3 s); "
              f"{large.n_atoms} atoms {t_large:.2f} s (target <= 3 s); ratio {t_large / t_small:.1f}x "
              f"for {large.n_atoms / small.n_atoms:.1f}x the atoms")  # fmt: skip


if __name__ == "__main__":
    main()
