"""A training log is read exactly, its σ are tested against the configuration, and a bad log is one line."""

import numpy as np
import polars as pl
import pytest

from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.presets import get_preset
from pomodoro_core.core.structure import data_dir
from pomodoro_core.experiments import training_log as tl

LOG = data_dir() / "examples" / "training_log.csv"
V090, V091 = get_preset("pomodoro-v0.9.0"), get_preset("pomodoro-v0.9.1")


def test_the_shipped_log_follows_its_configuration_and_not_the_later_one():
    """The KS test can tell the seed-003 change apart: the v0.9.0 run's σ fit v0.9.0 and are refused as v0.9.1's."""
    log = tl.read_training_log(LOG)
    fit = tl.fitted_sigma(log, V090.training_sigma)
    assert abs(fit["P_mean fitted"] - V090.P_mean) < 0.05 and abs(fit["P_std fitted"] - V090.P_std) < 0.05
    assert fit["KS p-value"] > 0.01
    assert tl.fitted_sigma(log, V091.training_sigma)["KS p-value"] < 1e-6
    assert "do not follow" in tl.verdict(
        tl.fitted_sigma(log, V091.training_sigma), tl.band_table(log, V091.training_sigma, 16.0, tl.log_bands(1.45, 16.0))
    )


def test_fitted_parameters_recover_a_known_law(tmp_path):
    rng = np.random.default_rng(0)
    n = 20000
    sigma = 16.0 * np.exp(-1.84 + 2.8 * rng.standard_normal(n))
    log = pl.DataFrame(
        {"step": np.arange(n) // 8, "sigma": sigma, **{f"loss_{k}": rng.random(n) for k in ("atom", "residue", "chain")}}
    )
    log.write_parquet(tmp_path / "log.parquet")
    fit = tl.fitted_sigma(tl.read_training_log(tmp_path / "log.parquet"), V091.training_sigma)
    assert fit["P_mean fitted"] == pytest.approx(-1.84, abs=0.05) and fit["P_std fitted"] == pytest.approx(2.8, abs=0.05)
    table = tl.band_table(log, V091.training_sigma, 16.0, tl.log_bands(1.45, 16.0))
    for col in ("share of samples", "configured share of samples", "share of loss_atom"):
        assert table[col].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(table["share of samples"], table["configured share of samples"], atol=0.01)
    assert set(tl.losses_by_sigma(log)["term"]) == {"atom", "residue", "chain"}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop("loss_chain"), "missing column(s) loss_chain (it has: step, sigma, loss_atom"),
        (lambda f: f.with_columns(pl.lit("x").alias("sigma")), "column sigma must hold numbers"),
        (
            lambda f: f.with_columns(
                pl.when(pl.int_range(pl.len()) == 5).then(float("nan")).otherwise(pl.col("loss_atom")).alias("loss_atom")
            ),
            "column loss_atom has 1 empty or non-finite value(s), the first in data row 6",
        ),
        (
            lambda f: f.with_columns(pl.when(pl.int_range(pl.len()) == 2).then(0.0).otherwise(pl.col("sigma")).alias("sigma")),
            "sigma must be > 0 (data row 3)",
        ),
        (lambda f: f.head(0), "no rows"),
    ],
)
def test_a_bad_log_is_one_line(tmp_path, change, message):
    change(pl.read_csv(LOG).head(50)).write_csv(tmp_path / "bad.csv")
    with pytest.raises(ParameterError) as err:
        tl.read_training_log(tmp_path / "bad.csv")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_missing_or_foreign_file_is_one_line(tmp_path):
    with pytest.raises(ParameterError, match="file not found"):
        tl.read_training_log(tmp_path / "none.csv")
    with pytest.raises(ParameterError, match="unreadable"):
        tl.read_training_log(data_dir() / "examples" / "trajectory.npz")
