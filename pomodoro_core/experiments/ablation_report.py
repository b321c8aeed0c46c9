"""What the ablation's runs say: per-run responses, paired effects with confidence intervals, verdicts.

Responses per (arm, seed, structure), lower is better unless noted:
    log_gain_residue  mean over the sigma grid of ln gain, residues relative to their chain (primary)
    log_gain_atom     the same for atoms;   log_gain_chain  chains relative to the complex (multi-chain)
    rmsd, order_free_rmsd (CA, residue order ignored), own_slot (higher is better),
    late_travel_ratio (late residue travel / a perfect denoiser's under the same sampler and noise)
Training effects use the reviewed sampler (sampler setting 0); sampler effects are contrasts
within each trained model of the design, over its 16 sampler settings.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..core.errors import ParameterError
from . import ablation
from .design import fractional_factorial, paired_difference, paired_effects

RESPONSES = {
    "log_gain_residue": "ln residue gain (relative to chain)",
    "log_gain_atom": "ln atom gain",
    "rmsd": "RMSD (Å)",
    "order_free_rmsd": "order-free CA RMSD (Å)",
    "own_slot": "share of residues in their own slot",
    "late_travel_ratio": "late residue travel ÷ perfect denoiser's",
}
PRIMARY = "log_gain_residue"
BLOCKS = ["seed", "structure"]


def responses(res: ablation.Results, setting: int = 0) -> pl.DataFrame:
    """One row per (arm, seed, structure): every response, with the arm's design row."""
    level_name = {"atom": "log_gain_atom", "residue_vs_chain": "log_gain_residue", "chain_vs_complex": "log_gain_chain"}
    gain = (
        res.gain.with_columns(pl.col("gain").log().alias("lg"), pl.col("level").replace_strict(level_name).alias("what"))
        .group_by("arm", "seed", "structure", "what")
        .agg(pl.col("lg").mean())
        .pivot(on="what", index=["arm", "seed", "structure"], values="lg")
    )
    samp = res.sampling.filter(pl.col("setting") == setting).drop("setting")
    meta = res.runs.select("arm", "seed", "design_arm", "identity", "arch", "status")
    return meta.join(gain, on=["arm", "seed"], how="left").join(samp, on=["arm", "seed", "structure"], how="left")


def training_effects(resp: pl.DataFrame, response: str = PRIMARY) -> pl.DataFrame:
    """Main effects and two-factor interaction chains of the 16-arm training design, paired over (seed, structure)."""
    design = ablation.training_design()
    keys = [f.key for f in ablation.TRAINING_FACTORS]
    runs = resp.filter(pl.col("design_arm") >= 0).select(pl.col("design_arm").alias("arm"), *BLOCKS, response)
    return paired_effects(runs, design, keys, response, BLOCKS).with_columns(response=pl.lit(response))


def sampler_effects(res: ablation.Results, response: str = "rmsd") -> pl.DataFrame:
    """Sampler main effects and interactions, paired within each design model and structure, separately for
    models trained with multiscale and with isotropic noise (the 'init' factor is void for the latter)."""
    design = ablation.sampler_design()
    keys = [f.key for f in ablation.SAMPLER_FACTORS]
    meta = res.runs.filter(pl.col("design_arm") >= 0).select("arm", "seed", "f_isotropic")
    runs = res.sampling.join(meta, on=["arm", "seed"]).rename({"arm": "model"}).rename({"setting": "arm"})
    out = []
    for iso, label in ((-1, "multiscale-trained"), (1, "isotropic-trained")):
        sub = runs.filter(pl.col("f_isotropic") == iso)
        if sub.height:
            eff = paired_effects(sub, design, keys, response, ["model", "seed", "structure"])
            out.append(eff.with_columns(models=pl.lit(label), response=pl.lit(response)))
    return pl.concat(out) if out else pl.DataFrame()


def _paired(resp: pl.DataFrame, a: str, b: str, response: str, term: str) -> dict:
    x = resp.filter(pl.col("arm") == a).select(*BLOCKS, pl.col(response).alias("a"))
    y = resp.filter(pl.col("arm") == b).select(*BLOCKS, pl.col(response).alias("b"))
    j = x.join(y, on=BLOCKS)
    return paired_difference(j["a"].to_numpy(), j["b"].to_numpy(), term) | {"response": response}


def identity_effects(resp: pl.DataFrame, responses_: tuple[str, ...] = tuple(RESPONSES)) -> pl.DataFrame:
    """Identity as its own factor: reviewed + identity (atoms, or residue track only) minus reviewed without it."""
    rows = []
    for response in responses_:
        if response not in resp.columns:
            continue
        rows.append(_paired(resp, "design: reviewed + identity", "as reviewed (no identity)", response, "identity on atoms"))
        rows.append(
            _paired(
                resp,
                "reviewed + identity on the residue track only",
                "as reviewed (no identity)",
                response,
                "identity on residue track",
            )
        )
    return pl.DataFrame(rows)


ARCHITECTURES = {-1: "transformer", 1: "geometric"}


def _architecture_runs(resp: pl.DataFrame, design: pl.DataFrame, factors: list[str], fixed: dict) -> pl.DataFrame:
    """The study's runs with `arm` set to the row of `design` (factors) they belong to, other factors at `fixed`."""
    names = ablation.architecture_arms()
    rows = {}
    for row in design.iter_rows(named=True):
        levels = fixed | {f: row[f] for f in factors}
        rows[names[tuple(levels[f] for f in ablation.ARCHITECTURE_FACTORS)].name] = row["arm"]
    sub = resp.filter(pl.col("arm").is_in(list(rows)))
    return sub.with_columns(pl.col("arm").replace_strict(rows, return_dtype=pl.Int64))


def architecture_effects(resp: pl.DataFrame, response: str = PRIMARY) -> pl.DataFrame:
    """The architecture study (full 2^3: arch, augment, identity on the atoms), paired over (seed, structure):
    every main effect and interaction pooled over both backbones ('both'), then the effects of augmentation and
    identity within each backbone (a 2^2 on its four arms).  Empty when the study has not been run."""
    if response not in resp.columns:
        return pl.DataFrame()
    factors = list(ablation.ARCHITECTURE_FACTORS)
    out = []
    try:
        full = fractional_factorial(factors, "a b c")
        eff = paired_effects(_architecture_runs(resp, full, factors, {}), full, factors, response, BLOCKS)
        out.append(eff.with_columns(architecture=pl.lit("both")))
        within = fractional_factorial(factors[1:], "a b")
        for level, arch in ARCHITECTURES.items():
            runs = _architecture_runs(resp, within, factors[1:], {"arch": level})
            eff = paired_effects(runs, within, factors[1:], response, BLOCKS)
            out.append(eff.with_columns(architecture=pl.lit(arch)))
    except ParameterError:  # the study's arms are not all there
        return pl.DataFrame()
    return (
        pl.concat(out).with_columns(response=pl.lit(response)).select("architecture", "term", pl.exclude("architecture", "term"))
    )


def architecture_verdicts(arch: pl.DataFrame) -> list[str]:
    """How pitfall 4 (augmentation) and identity behave under each backbone, from `architecture_effects`."""
    if not arch.height:
        return []
    out = []
    for term, what in (("augment", "Pitfall 4 (augmentation)"), ("identity", "Residue identity on the atoms")):
        parts = []
        for arch_name in ARCHITECTURES.values():
            r = arch.filter((pl.col("architecture") == arch_name) & (pl.col("term") == term)).row(0, named=True)
            parts.append(
                f"{arch_name}: {r['effect']:+.2f} (95 % CI {r['ci_low']:+.2f} … {r['ci_high']:+.2f}, "
                + ("clear)" if _sig(r) else "not clear)")
            )
        inter = arch.filter((pl.col("architecture") == "both") & (pl.col("term") == f"arch×{term}"))
        tail = ""
        if inter.height:
            q = inter.row(0, named=True)
            tail = (
                f"; the difference between backbones (arch×{term}, half the difference of the two effects) is "
                f"{q['effect']:+.2f} (95 % CI {q['ci_low']:+.2f} … {q['ci_high']:+.2f}), " + ("clear" if _sig(q) else "not clear")
            )
        out.append(f"{what}, change in {RESPONSES[arch['response'][0]]}: " + "; ".join(parts) + tail + ".")
    return out


def leave_one_out(resp: pl.DataFrame, response: str = PRIMARY) -> pl.DataFrame:
    """For each fix: (all fixes but that one) minus (all fixes), paired over (seed, structure)."""
    rows = [_paired(resp, f"all fixes but {f.key}", "design: all fixes", response, f.key) for f in ablation.TRAINING_FACTORS]
    return pl.DataFrame(rows)


def arm_table(resp: pl.DataFrame) -> pl.DataFrame:
    """Mean over seeds and structures of every response, per arm (seeds and blocks counted)."""
    cols = [c for c in RESPONSES if c in resp.columns]
    return (
        resp.group_by("arm", maintain_order=True)
        .agg(pl.col("seed").n_unique().alias("seeds"), pl.len().alias("blocks"), *[pl.col(c).mean() for c in cols])
        .sort("arm")
    )


def _sig(row: dict) -> bool:
    return row["blocks"] >= 2 and (row["ci_low"] > 0 or row["ci_high"] < 0)


def verdicts(main: pl.DataFrame, loo: pl.DataFrame, ident: pl.DataFrame, samp: pl.DataFrame) -> list[str]:
    """One sentence per pitfall (and identity), written from the paired estimates on the primary response:
    an effect is 'clear' when its 95 % interval excludes 0; 'no effect detected' states the interval's reach."""
    out = []
    idrow = ident.filter((pl.col("term") == "identity on atoms") & (pl.col("response") == PRIMARY))
    if idrow.height:
        r = idrow.row(0, named=True)
        out.append(
            f"Identity (not in the review): adding residue identity on the atoms changes ln residue gain by {r['effect']:+.2f} "
            f"(95 % CI {r['ci_low']:+.2f} … {r['ci_high']:+.2f}, {r['blocks']} paired blocks): "
            + ("a clear effect — the positive control the design can detect." if _sig(r) else "no clear effect.")
        )
    for f in ablation.TRAINING_FACTORS:
        m = main.filter(pl.col("term") == f.key)
        if not m.height:
            continue
        r = m.row(0, named=True)
        ratio = np.exp(r["effect"])
        what = "helps" if r["effect"] < 0 else "hurts"
        head = f"Pitfall {f.pitfall} ({f.low} → {f.high}): "
        body = (
            f"the fix {what}: residue gain × {ratio:.2f} (95 % CI × {np.exp(r['ci_low']):.2f} … × {np.exp(r['ci_high']):.2f})"
            if _sig(r)
            else f"no effect detected: residue gain × {ratio:.2f}, "
            f"the 95 % CI (× {np.exp(r['ci_low']):.2f} … × {np.exp(r['ci_high']):.2f}) "
            "bounds any effect this design could have missed"
        )
        lo = loo.filter(pl.col("term") == f.key)
        if lo.height:
            q = lo.row(0, named=True)
            body += f"; leaving it out of all fixes: × {np.exp(q['effect']):.2f}" + (" (clear)" if _sig(q) else " (not clear)")
        out.append(head + body + ".")
    if samp.height:
        for f in ablation.SAMPLER_FACTORS:
            s = samp.filter((pl.col("term") == f.key) & (pl.col("models") == "multiscale-trained"))
            if not s.height:
                continue
            r = s.row(0, named=True)
            label = f"Pitfall {f.pitfall}, sampler" if f.pitfall else "Sampler"
            out.append(
                f"{label} ({f.low} → {f.high}): final RMSD {r['effect']:+.2f} Å "
                f"(95 % CI {r['ci_low']:+.2f} … {r['ci_high']:+.2f}), " + ("clear." if _sig(r) else "not clear.")
            )
    return out
