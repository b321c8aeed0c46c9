"""The designs are balanced and of the stated resolution; the paired effect estimator recovers known effects."""

import itertools

import numpy as np
import polars as pl
import pytest

from pomodoro_core.core.errors import ParameterError
from pomodoro_core.experiments import ablation
from pomodoro_core.experiments.design import alias_chains, fractional_factorial, paired_effects, resolution

TRAIN_KEYS = [f.key for f in ablation.TRAINING_FACTORS]
SAMPLER_KEYS = [f.key for f in ablation.SAMPLER_FACTORS]


@pytest.mark.parametrize(
    "design,keys,arms,res",
    [(ablation.training_design(), TRAIN_KEYS, 16, 4), (ablation.sampler_design(), SAMPLER_KEYS, 16, 5)],
)
def test_designs_are_balanced_orthogonal_and_of_their_resolution(design, keys, arms, res):
    X = design.select(keys).to_numpy()
    assert X.shape == (arms, len(keys)) and set(np.unique(X)) == {-1, 1}
    assert np.all(X.sum(0) == 0)  # every factor at each level in half the arms
    assert np.all(X.T @ X == arms * np.eye(len(keys)))  # main effects orthogonal
    assert resolution(design, keys) == res
    # resolution >= 4: no main effect is aliased with a two-factor interaction
    for a, b in itertools.combinations(range(len(keys)), 2):
        assert np.all(X.T @ (X[:, a] * X[:, b]) == 0)
    assert np.all(X[0] == -1)  # arm 0 is the reviewed setting


def test_resolution_finds_the_shortest_word():
    half = fractional_factorial(["a", "b", "c"], "a b ab")  # c = ab: word abc, resolution III
    assert resolution(half, ["a", "b", "c"]) == 3
    full = fractional_factorial(["a", "b", "c"], "a b c")
    assert resolution(full, ["a", "b", "c"]) == 4  # nothing confounded


def test_alias_chains_of_the_training_design_group_four_interactions_each():
    chains = alias_chains(ablation.training_design(), TRAIN_KEYS)
    assert len(chains) == 7 and all(len(c) == 4 for c in chains)
    assert sorted(sum(chains, [])) == sorted(f"{a}×{b}" for a, b in itertools.combinations(TRAIN_KEYS, 2))


def _synthetic(effects: dict, noise: float, blocks: int, seed: int = 0) -> pl.DataFrame:
    design = ablation.training_design()
    rng = np.random.default_rng(seed)
    rows = []
    for blk in range(blocks):
        block_offset = rng.normal(0, 5.0)  # large block differences: pairing removes them
        for row in design.iter_rows(named=True):
            y = 1.0 + block_offset + rng.normal(0, noise)
            for term, eff in effects.items():
                cols = term.split("×")
                y += eff / 2 * np.prod([row[c] for c in cols])
            rows.append({"arm": row["arm"], "block": blk, "y": y})
    return pl.DataFrame(rows)


def test_paired_effects_recover_known_effects_with_honest_intervals():
    truth = {"weights": 1.5, "isotropic": -0.7, "weights×precond": 0.4}
    runs = _synthetic(truth, noise=0.3, blocks=12)
    eff = paired_effects(runs, ablation.training_design(), TRAIN_KEYS, "y", ["block"])
    by = {r["term"]: r for r in eff.iter_rows(named=True)}
    for term in TRAIN_KEYS + ["weights×precond"]:
        r = by[term]
        expect = truth.get(term, 0.0)
        assert r["ci_low"] <= expect <= r["ci_high"], (term, r)
        assert abs(r["effect"] - expect) < 0.25
    assert by["weights"]["p"] < 1e-6 and by["augment"]["ci_low"] < 0 < by["augment"]["ci_high"]
    assert "isotropic×levels" in by["weights×precond"]["aliases"]  # aliased interactions are named


def test_paired_effects_are_exact_without_noise_and_refuse_missing_arms():
    runs = _synthetic({"sigma": 2.0}, noise=0.0, blocks=3)
    eff = paired_effects(runs, ablation.training_design(), TRAIN_KEYS, "y", ["block"])
    sig = eff.filter(pl.col("term") == "sigma").row(0, named=True)
    assert sig["effect"] == pytest.approx(2.0) and sig["ci_low"] == pytest.approx(2.0)
    with pytest.raises(ParameterError, match="arms"):
        paired_effects(runs.filter(pl.col("arm") != 3), ablation.training_design(), TRAIN_KEYS, "y", ["block"])
