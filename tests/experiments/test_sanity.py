"""Tests of pomodoro_core/experiments/sanity.py: the sanity gate of notebook 05."""

from dataclasses import replace

from pomodoro_core.experiments import ablation, sanity
from pomodoro_core.training.trainer import default_budget, train


def test_geometric_base_passes_the_sanity_gate_on_the_notebook_crop():
    """The geometric backbone can learn the notebook's default crop at the default budget (about 3 min on 1 core):
    the design's base with that backbone samples it back below the gate's RMSD, and the gate's base has the run's
    backbone (the run differs from it in identity only)."""
    structure = ablation.crop(ablation.NOTEBOOK_CROPS[0])
    budget = default_budget("cpu")
    run, sampler = ablation.one_factor_configs(**budget)[ablation.REVIEWED_NAME]
    run = run.with_(model=replace(run.model, arch="geometric"))
    gate = sanity.sanity_gate(structure, run, sampler, budget, 4, 0, lambda s, c: train(s, c))
    print(f"geometric gate: RMSD {gate['rmsd']:.3f} Å, own slot {gate['own_slot']:.2f}")
    assert gate["met"], gate
    assert gate["differences"] == ["model.identity: atom → none"]
    assert "same backbone" in sanity.gate_text(gate, structure.name)
