"""Benchmark: multiscale noise + reduce (atoms -> residues -> chains) + broadcast back.

Index form (pomodoro_core.core.hierarchy: index_add / gather, O(N)) versus the dense
atom x residue mapping matrix of the reviewed `reduce_coordinates(X, Mar)`.
Each configuration runs in its own subprocess so that its peak memory (max RSS,
minus the same process's RSS before the work) is its own.

    python benchmarks/bench_noise.py [--sizes 1000 10000 100000] [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(n_atoms: int):
    """A hierarchy of n_atoms made by tiling a real complex (3PWP), 100+ residues per chain."""
    import numpy as np

    from pomodoro_core.core.structure import find_structure, load_structure

    s = load_structure(find_structure("3PWP"))
    reps = -(-n_atoms // s.n_atoms)
    per = np.tile(s.atoms_per_residue, reps)
    per = per[: np.searchsorted(np.cumsum(per), n_atoms) + 1]
    per[-1] -= per.sum() - n_atoms
    per = per[per > 0]
    R = per.size
    res_chain = np.arange(R) // 150
    atom_res = np.repeat(np.arange(R), per)
    return atom_res, res_chain


def one(n_atoms: int, form: str, repeats: int) -> dict:
    import numpy as np
    import torch

    from pomodoro_core.core.hierarchy import Hierarchy
    from pomodoro_core.core.noise import NoiseWeights, multiscale_noise

    torch.set_num_threads(1)  # one thread per process (issue 11): 2 collapse under load
    atom_res, res_chain = build(n_atoms)
    R, C = int(res_chain.size), int(res_chain.max()) + 1
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    h = Hierarchy(
        torch.from_numpy(atom_res)[None],
        torch.from_numpy(res_chain)[None],
        torch.ones(1, n_atoms, dtype=torch.bool),
        torch.ones(1, R, dtype=torch.bool),
        torch.ones(1, C, dtype=torch.bool),
    )
    w = NoiseWeights(8.2, 1.6, 1.3)
    x0 = torch.randn(1, n_atoms, 3)
    g = torch.Generator().manual_seed(0)
    if form == "index":

        def step():
            x = x0 + multiscale_noise(h, 16.0, w, generator=g)
            xr = h.residue_centroids(x)
            xc = h.chain_centroids(xr)
            return h.residues_to_atoms(xr) + h.chains_to_atoms(xc)

    else:
        Mar = torch.nn.functional.one_hot(torch.from_numpy(atom_res), R).float()  # (N, R) as reviewed
        Mrc = torch.nn.functional.one_hot(torch.from_numpy(res_chain), C).float()  # (R, C)
        Mar_n, Mrc_n = Mar / Mar.sum(0), Mrc / Mrc.sum(0)

        def step():
            x = x0 + multiscale_noise(h, 16.0, w, generator=g)
            xr = Mar_n.T @ x[0]
            xc = Mrc_n.T @ xr
            return Mar @ xr + Mar @ (Mrc @ xc)

    step()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "n_atoms": n_atoms,
        "n_residues": R,
        "n_chains": C,
        "form": form,
        "median_ms": 1e3 * float(np.median(times)),
        "min_ms": 1e3 * float(np.min(times)),
        "peak_mem_mb": (rss1 - rss0) / 1024,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--dense-limit-gb", type=float, default=4.0, help="skip the dense form above this matrix size")
    p.add_argument("--one", nargs=2, metavar=("N", "FORM"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(int(a.one[0]), a.one[1], a.repeats)))
        return
    import platform

    import torch

    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread, {a.repeats} repeats")
    print(f"{'atoms':>8} {'residues':>8} {'form':>6} {'median ms':>10} {'min ms':>8} {'peak MB':>9} {'dense/index':>12}")
    rows = []
    for n in a.sizes:
        res = {}
        for form in ("index", "dense"):
            if form == "dense":
                R = res["index"]["n_residues"]
                gb = n * R * 4 / 1e9 * 2  # Mar and its normalised copy
                if gb > a.dense_limit_gb:
                    print(f"{n:>8} {R:>8} {form:>6}   skipped: the two dense {n} x {R} matrices need {gb:.1f} GB")
                    continue
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(n), form, "--repeats", str(a.repeats)],
                capture_output=True,
                text=True,
                check=True,
            )
            res[form] = json.loads(out.stdout)
        for form, r in res.items():
            ratio = r["median_ms"] / res["index"]["median_ms"]
            cols = f"{n:>8} {r['n_residues']:>8} {form:>6} {r['median_ms']:>10.2f} {r['min_ms']:>8.2f}"
            print(f"{cols} {r['peak_mem_mb']:>9.1f} {ratio:>11.1f}x")
            rows.append(r)
    idx = [r for r in rows if r["form"] == "index"]
    if len(idx) >= 2:
        a0, a1 = idx[0], idx[-1]
        growth = (a1["median_ms"] / a0["median_ms"]) / (a1["n_atoms"] / a0["n_atoms"])
        print(
            f"# index form: time grows {a1['median_ms'] / a0['median_ms']:.1f}x for {a1['n_atoms'] / a0['n_atoms']:.0f}x atoms "
            f"(time ratio / size ratio = {growth:.2f}; 1.0 is linear)"
        )
        big = [r for r in idx if r["n_atoms"] >= 100_000]
        if big:
            verdict = "meets" if big[0]["median_ms"] < 50 else "misses"
            print(f"# target: 100k atoms under 50 ms -> {big[0]['median_ms']:.1f} ms ({verdict})")


if __name__ == "__main__":
    main()
