"""Another model's training log (CSV or Parquet, one row per training sample) read into notebook 06's analyses.

Columns (names as written; more columns are allowed and ignored):

    step          int     the optimiser step the sample belongs to
    sigma         float   the sample's training σ (Å), > 0
    loss_atom     float   the atom term of that sample's loss, as summed into the loss (λ-weighted)
    loss_residue  float   the residue term
    loss_chain    float   the chain term
    loss_bond     float   optional: a bond term

What is measured: each term against σ (log-σ bins, last half of the run), the σ the run
actually drew against the configured distribution (fitted P_mean and P_std; a
Kolmogorov–Smirnov test on ln σ), and each σ band's share of the samples and of the summed
loss, next to the configured distribution's share of samples (`analysis.gradient.band_shares`:
with λ c_out² = 1 this is also the band's share of the weight on the network output, notebook 02).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

from ..analysis.gradient import Bands, band_shares
from ..core.edm import LogNormalSigma
from ..core.errors import ParameterError
from .loss_balance import binned_sample_losses

REQUIRED = ("step", "sigma", "loss_atom", "loss_residue", "loss_chain")
OPTIONAL = ("loss_bond",)


def _fail(path, reason: str) -> ParameterError:
    return ParameterError(f"cannot read training log {str(path)!r}: {reason}")


def read_training_log(path: str | Path) -> pl.DataFrame:
    """The log's columns in REQUIRED (+ OPTIONAL present), checked; ParameterError in one line on anything wrong."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "file not found" if not path.exists() else "not a file")
    try:
        frame = (
            pl.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pl.read_csv(path, infer_schema_length=None)
        )
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise _fail(path, f"unreadable ({' '.join(str(exc).split())[:160]})") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise _fail(path, f"missing column(s) {', '.join(missing)} (it has: {', '.join(frame.columns) or 'none'})")
    if frame.height == 0:
        raise _fail(path, "no rows")
    cols = [c for c in (*REQUIRED, *OPTIONAL) if c in frame.columns]
    for c in cols:
        if not frame[c].dtype.is_numeric():
            raise _fail(path, f"column {c} must hold numbers (got {frame[c].dtype}, e.g. {frame[c][0]!r})")
    frame = frame.select(cols).with_columns(pl.col(c).cast(pl.Float64) for c in cols if c != "step")
    for c in cols:
        bad = frame[c].is_null() | (~frame[c].cast(pl.Float64).is_finite())
        if bad.any():
            row = int(bad.arg_max())
            raise _fail(path, f"column {c} has {int(bad.sum())} empty or non-finite value(s), the first in data row {row + 1}")
    if (frame["sigma"] <= 0).any():
        raise _fail(path, f"sigma must be > 0 (data row {int((frame['sigma'] <= 0).arg_max()) + 1})")
    return frame


def terms(log: pl.DataFrame) -> list[str]:
    return [c.removeprefix("loss_") for c in log.columns if c.startswith("loss_")]


def losses_by_sigma(log: pl.DataFrame, bins: int = 12, last_fraction: float = 0.5) -> pl.DataFrame:
    """Each term's mean loss in log-σ bins over the last part of the run (rows sigma, term, loss, n)."""
    renamed = log.rename({f"loss_{t}": t for t in terms(log)})
    return binned_sample_losses(renamed, bins, last_fraction, terms(log))


def fitted_sigma(log: pl.DataFrame, dist: LogNormalSigma) -> dict[str, float]:
    """P_mean and P_std fitted to the logged σ (in the configured scale) and a KS test of ln σ against the configured law."""
    ln = np.log(log["sigma"].to_numpy())
    ks = stats.kstest(ln, stats.norm(loc=dist.mu, scale=dist.P_std).cdf)
    return {
        "P_mean fitted": float(ln.mean() - math.log(dist.scale)),
        "P_std fitted": float(ln.std(ddof=1)) if ln.size > 1 else float("nan"),
        "P_mean configured": dist.P_mean,
        "P_std configured": dist.P_std,
        "KS statistic": float(ks.statistic),
        "KS p-value": float(ks.pvalue),
        "samples": float(ln.size),
    }


def sigma_histogram(log: pl.DataFrame, dist: LogNormalSigma, bins: int = 40) -> pl.DataFrame:
    """Density of ln σ: the log's histogram and the configured law at the bin centres (rows ln_sigma, density, source)."""
    ln = np.log(log["sigma"].to_numpy())
    lo, hi = min(ln.min(), dist.mu - 4 * dist.P_std), max(ln.max(), dist.mu + 4 * dist.P_std)
    counts, edges = np.histogram(ln, bins=bins, range=(lo, hi), density=True)
    mid = (edges[:-1] + edges[1:]) / 2
    return pl.DataFrame(
        {
            "ln_sigma": np.concatenate([mid, mid]),
            "sigma": np.exp(np.concatenate([mid, mid])),
            "density": np.concatenate([counts, dist.pdf_ln_sigma(mid)]),
            "source": ["training log"] * bins + ["configured"] * bins,
        }
    )


def log_bands(bond_length: float, sigma_data: float) -> Bands:
    return Bands(
        (bond_length, sigma_data),
        (f"σ < bond length ({bond_length:.2f} Å)", f"bond length – σ_data ({sigma_data:g} Å)", f"σ > σ_data ({sigma_data:g} Å)"),
    )


def band_table(log: pl.DataFrame, dist: LogNormalSigma, sigma_data: float, bands: Bands) -> pl.DataFrame:
    """Per σ band: the share of logged samples and of each term's summed loss, next to the configured law's share of
    samples."""
    configured = band_shares(dist, sigma_data, bands)
    edges = np.array([0.0, *bands.edges, np.inf])
    band = np.searchsorted(edges, log["sigma"].to_numpy(), side="right") - 1
    tagged = log.with_columns(band=pl.Series(band))
    cols = [f"loss_{t}" for t in terms(log)]
    totals = tagged.select(cols).sum()
    rows = []
    for i, label in enumerate(bands.labels):
        part = tagged.filter(pl.col("band") == i)
        row = {"band": label, "share of samples": part.height / log.height}
        row["configured share of samples"] = float(configured["share_of_weight_on_F"][i])  # = share of the weight on F
        for c in cols:
            row[f"share of {c}"] = float(part[c].sum() / totals[c][0]) if totals[c][0] > 0 else 0.0
        rows.append(row)
    return pl.DataFrame(rows)


def verdict(fit: dict[str, float], table: pl.DataFrame) -> str:
    """The log's σ against its configuration, and where the loss sits, in words."""
    same = fit["KS p-value"] >= 0.01
    p = f"p = {fit['KS p-value']:.2g}" if fit["KS p-value"] > 0 else "p < 1e-300"  # 0: below double precision
    head = (
        f"The logged σ follow the configured law (KS {p} over {fit['samples']:.0f} samples)"
        if same
        else f"**The logged σ do not follow the configured law** (KS statistic {fit['KS statistic']:.3f}, "
        f"{p} over {fit['samples']:.0f} samples)"
    )
    head += (
        f": fitted P_mean {fit['P_mean fitted']:.2f} / P_std {fit['P_std fitted']:.2f} against the configured "
        f"{fit['P_mean configured']:g} / {fit['P_std configured']:g}."
    )
    top = table.row(int(table["share of loss_residue"].arg_max()), named=True)
    return (
        f"{head} The residue term's loss sits mostly in the band {top['band']} ({top['share of loss_residue']:.0%} of it, "
        f"from {top['share of samples']:.0%} of the samples)."
    )
