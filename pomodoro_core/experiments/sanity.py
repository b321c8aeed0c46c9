"""The sanity gate of notebook 05: can the model and trainer learn this crop at all?

It trains the ablation's base (pomodoro v0.9.0 as reviewed plus residue identity on
the atoms) with the same backbone, on the same crop, budget, seed and sampler as the
run under study, samples it, and asks for a mean RMSD below `GATE_RMSD`; it also
lists every setting in which the run differs from the base.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..core.sampling import SamplerConfig
from ..core.structure import Structure
from ..training.trainer import TrainConfig, TrainResult
from . import ablation, evaluation

GATE_RMSD = 2.0  # Å


def sanity_gate(
    structure: Structure,
    run: TrainConfig,
    sampler: SamplerConfig,
    budget: dict,
    n_samples: int,
    seed: int,
    train: Callable[[Structure, TrainConfig], TrainResult],
) -> dict:
    """The base's sampling outcome (`evaluation.run_outcome`) plus 'met' and 'differences' (run vs base)."""
    base = ablation.one_factor_configs(**budget)[ablation.BASE_NAME][0].with_(seed=seed)
    base = base.with_(model=replace(base.model, arch=run.model.arch, neighbours=run.model.neighbours))
    outcome = evaluation.run_outcome(train(structure, base), structure, sampler, n_samples, seed)
    outcome["differences"] = ablation.differences((base, sampler), (run, sampler))
    outcome["met"] = bool(outcome["rmsd"] < GATE_RMSD)
    return outcome


def gate_text(gate: dict, structure_name: str) -> str:
    """The gate's verdict in a paragraph (markdown)."""
    return (
        f"**Sanity gate {'met' if gate['met'] else 'NOT met'}:** the design's base (pomodoro v0.9.0 as reviewed plus residue "
        f"identity on the atoms; same backbone, crop, budget, seed and sampler) samples {structure_name} back to a mean RMSD of "
        f"**{gate['rmsd']:.2f} Å** ({gate['own_slot']:.0%} of residues in their own slot; late residue travel "
        f"{gate['late_travel_ratio']:.2f}× a perfect denoiser's); the gate asks for < {GATE_RMSD:g} Å. "
        + (
            "The model and trainer can learn this structure. "
            if gate["met"]
            else "At this budget the comparison below says little about the design: train longer. "
        )
        + "This run differs from the base in: "
        + ("; ".join(gate["differences"]) if gate["differences"] else "nothing (it is the base)")
        + "."
    )
