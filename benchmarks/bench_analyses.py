"""Benchmark: recompute time of each notebook's analysis at its default resolution.

What a slider change costs (the pomodoro_core calls a notebook makes, not the
browser's rendering).  Target: under 50 ms each on the 2-core CPU.

    python benchmarks/bench_analyses.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import polars as pl
import torch

from pomodoro_core.analysis import decomposition, gradient, precond, schedule
from pomodoro_core.analysis.probe import PerAtomMLP
from pomodoro_core.audit import claims
from pomodoro_core.core.hierarchy import Hierarchy
from pomodoro_core.core.noise import sample_component_grams
from pomodoro_core.core.presets import PRESET_NAMES, get_preset
from pomodoro_core.core.sampling import SamplerConfig
from pomodoro_core.core.structure import find_structure, load_structure


def timed(fn, repeats: int) -> tuple[float, float]:
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(ts), 1e3 * min(ts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--structure", default="4E43")
    a = p.parse_args()
    torch.set_num_threads(1)  # one thread per process (issue 11): 2 collapse under load
    st = load_structure(find_structure(a.structure))
    v0 = get_preset("pomodoro-v0.9.0")
    w, sd = v0.weights, v0.sigma_data
    series = {
        n: (get_preset(n).training_sigma, get_preset(n).sigma_data) for n in ("pomodoro-v0.9.0", "pomodoro-v0.9.1", "boltz-2")
    }
    z = gradient.z_grid()
    bands = gradient.structure_bands(st)
    s = SamplerConfig.from_preset(v0)
    x0 = torch.tensor(st.coords - st.coords.mean(0), dtype=torch.float64)[None]
    F = PerAtomMLP().double()
    grid = np.exp(np.linspace(np.log(0.01), np.log(2000.0), 121))

    h = Hierarchy.from_structure(st)
    g01, g04 = sample_component_grams(h, 4000), sample_component_grams(h, 1000)
    mc_sig = np.exp(np.linspace(np.log(0.05), np.log(1000), 7))

    def untrained():
        return gradient.untrained_loss_per_sigma(x0, F, sd * np.exp(np.linspace(-7, 4, 12)), sd, n_draws=4)

    def nb01_closed():
        decomposition.level_shares(w)
        decomposition.residue_share_sweep(st, w)
        decomposition.noised_picture_frame(st, w, 16.0)

    def nb02():
        for d, sdd in series.values():
            gradient.signal_curves(d, sdd, z)
            gradient.band_shares(d, sdd, bands)
        gradient.logsnr_frame({k: d.pdf_ln_sigma(z + np.log(sd)) for k, (d, _) in series.items()}, sd, z)
        gradient.preset_table([get_preset(n) for n in series])

    def nb03():
        schedule.levels_frame(s, v0.training_sigma, 0.999)
        schedule.coverage(s, v0.training_sigma, 0.999)
        schedule.preset_comparison([get_preset(n) for n in PRESET_NAMES])

    def nb04_closed():
        precond.level_summary(st, w, sd, 16.0)
        precond.worst_deviation(precond.criterion_curves(st, w, sd, grid))

    rows = [
        ("01 closed form + sweep + picture", nb01_closed),
        ("01 Monte Carlo table, moments cached", lambda: decomposition.effective_sigma_table(st, w, 16.0, grams=g01)),
        ("01 sampling the moments (4000 draws, new structure)", lambda: sample_component_grams(h, 4000)),
        ("02 curves, bands, log-SNR, presets", nb02),
        ("02 untrained-network check (12 σ x 4 draws)", untrained),
        ("03 schedule, coverage, presets", nb03),
        ("04 closed-form criterion + table", nb04_closed),
        ("04 Monte Carlo criterion, moments cached", lambda: precond.criterion_monte_carlo(st, w, sd, mc_sig, grams=g04)),
        ("04 sampling the moments (1000 draws, new structure)", lambda: sample_component_grams(h, 1000)),
        ("00 audit of all claims", lambda: claims.audit(claims.Assumptions(st))),
    ]
    print(f"# structure {st.summary()}; torch {torch.__version__}, 1 thread, {a.repeats} repeats")
    out = []
    for name, fn in rows:
        med, mn = timed(fn, a.repeats)
        out.append({"analysis": name, "median_ms": med, "min_ms": mn, "under_50ms": med < 50})
    with pl.Config(tbl_rows=20, fmt_str_lengths=60, tbl_width_chars=140, float_precision=1):
        print(pl.DataFrame(out))
    base = out[0]["median_ms"]
    print("# ratios to the first row (same run): " + ", ".join(f"{r['median_ms'] / base:.1f}x" for r in out))


if __name__ == "__main__":
    main()
