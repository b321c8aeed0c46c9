import math

import numpy as np
import pytest

from pomodoro_core.audit import claims
from pomodoro_core.core.structure import find_structure, load_structure


@pytest.fixture(scope="module")
def table():
    return claims.audit(claims.Assumptions(load_structure(find_structure("4E43"))))


def test_at_least_twenty_claims_with_finite_values(table):
    assert table.height >= 20
    assert np.isfinite(table["computed"].to_numpy()).all()
    assert set(table["seed"]) == {"000", "003"}
    assert table["id"].n_unique() == table.height


def _row(table, cid):
    return table.filter(table["id"] == cid).row(0, named=True)


def test_verdicts_that_follow_from_the_math(table):
    assert _row(table, "G4")["verdict"] == claims.HOLDS  # lambda c_out^2 = 1
    assert _row(table, "1b")["verdict"] == claims.HOLDS  # sqrt(8.2/11.1)
    # atom variance under broadcast is sigma^2, not the seed's averaged formula
    assert _row(table, "6a")["computed"] == pytest.approx(1.0)
    assert _row(table, "6a")["verdict"].startswith(claims.FAILS)


def test_assumption_changes_the_sampling_claims():
    st = load_structure(find_structure("4E43"))
    raw = claims.audit(claims.Assumptions(st, sampling_sigma="raw"))
    sched = claims.audit(claims.Assumptions(st, sampling_sigma="schedule"))
    assert _row(raw, "1g")["verdict"] == claims.HOLDS
    assert _row(sched, "1g")["verdict"].startswith(claims.FAILS)
    assert _row(sched, "1g")["computed"] / _row(raw, "1g")["computed"] == pytest.approx(16.0)


def test_verdict_rule():
    a = claims.Assumptions(load_structure(find_structure("5a7u")))
    assert claims.by_ratio(1.04, 1.0, a, "").kind == claims.HOLDS
    assert claims.by_ratio(1.2, 1.0, a, "").kind == claims.ROUGHLY
    off = claims.by_ratio(0.1, 1.0, a, "")
    assert off.kind == claims.FAILS and "x10" in off.text and off.value == 0.1


def test_every_claim_is_a_named_function_returning_a_verdict(table):
    """The registry: one function per claim, named for what it checks, each returning a Verdict of a known kind."""
    assert len({c.check.__name__ for c in claims.CLAIMS}) == len(claims.CLAIMS) == table.height
    assert {c.check.__module__.rsplit(".", 1)[-1] for c in claims.CLAIMS} == {"seed000", "seed003"}
    assert set(table["kind"]) <= set(claims.KINDS)
    assert all(v.startswith(k) for k, v in zip(table["kind"], table["verdict"], strict=True))


def test_log_uniform_claim_is_computed_not_typed_in(table):
    """G13: the weight on F under log-uniform ln sigma is flat (max/min = 1), computed on a grid."""
    g13 = _row(table, "G13")
    assert g13["computed"] == pytest.approx(1.0, abs=1e-9) and "slope -3.00" in g13["verdict"]


def test_gradient_ratio_claims_independently(table):
    # z = 2 vs the median z under v0.9.0, recomputed with plain math
    def pl_(z):
        s = 16 * math.exp(z)
        p = math.exp(-0.5 * ((z + 1.2) / 1.5) ** 2)
        return p * (s**2 + 256) / (s**2 * 256)

    assert _row(table, "G3")["computed"] == pytest.approx(pl_(-1.2) / pl_(2.0), rel=1e-9)


def test_counts_add_up(table):
    c = claims.verdict_counts(table)
    assert sum(c.values()) == table.height and set(c) == set(claims.KINDS)
