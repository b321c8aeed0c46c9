"""Notebooks 05-07 run as scripts (quick budgets), print their figures and reject bad input clearly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NB = ROOT / "notebooks"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("train_cache")


def run(name, *args, cache=None, timeout=600):
    env = dict(os.environ, POMODORO_CACHE=str(cache)) if cache else None
    return subprocess.run(
        [sys.executable, str(NB / name), *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=env
    )


def test_05_trains_samples_and_reports(cache):
    res = run("05_sampling_trajectories.py", "--steps", "40", "--samples", "2", "--fix", "3", "6", cache=cache)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert "What this run says" in out and "Sanity gate" in out and "final samples against the target" in out
    assert "fixes on: 3, 6" in out and "This run differs from the base in" in out
    keys = _key_lines(out)
    assert float(keys["late residue travel / perfect denoiser's"]) >= 0 and 0 <= float(keys["own-slot share of residues"]) <= 1
    # the same configuration again comes from the cache
    again = run("05_sampling_trajectories.py", "--steps", "40", "--samples", "2", "--fix", "3", "6", "--no-gate", cache=cache)
    assert again.returncode == 0 and "loaded from cache" in again.stdout


@pytest.mark.parametrize("arch", ["transformer", "geometric"])
def test_05_one_sampling_step_and_two_chains(cache, arch):
    res = run(
        "05_sampling_trajectories.py", "--steps", "5", "--sampler-steps", "1", "--samples", "1", "--no-gate",
        "--structure", "1hvr*", "--arch", arch, cache=cache,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert "1hvr" in res.stdout and f"backbone {arch}" in res.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--w-c", "0", "--w-r", "0", "--w-a", "0"], "all three noise weights are 0"),
        (["--sampler-steps", "0"], "argument --sampler-steps: must be a whole number in [1, 1000]"),
        (["--steps", "0"], "argument --steps: must be a whole number in [1, 100000]"),
        (["--batch-size", "0"], "argument --batch-size: must be a whole number in [1, 1024]"),
        (["--p-std", "0"], "argument --p-std: must be a number in [0.05, 4]"),
        (["--fix", "9"], "argument --fix: must be one of 2, 3, 4, 5, 6 (got '9')"),
        (["--p-mean", "120"], "argument --p-mean: must be a number in [-6, 3]"),
    ],
)
def test_05_bad_input_exits_with_message(args, message, cache):
    res = run("05_sampling_trajectories.py", "--steps", "3", "--samples", "1", "--no-gate", *args, cache=cache)
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    assert message in res.stderr and "Traceback" not in res.stderr


def test_06_measures_the_level_balance(cache):
    args = ("--structure", "5PTI", "--steps", "30", "--probe-every", "5", "--probe-batch", "4")
    res = run("06_loss_balance.py", *args, cache=cache)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Verdict on pitfall 5" in res.stdout and "KEY| pitfall 5: loss atom/residue" in res.stdout
    # the shipped training log (the reviewed v0.9.0 run): its σ follow v0.9.0's law, and v0.9.1's law is refused
    assert "9600 samples over 1200 steps" in res.stdout and "The logged σ follow the configured law" in res.stdout
    res = run("06_loss_balance.py", *args, "--preset", "pomodoro-v0.9.1", cache=cache)
    assert res.returncode == 0 and "The logged σ do not follow the configured law" in res.stdout


def test_06_a_log_without_a_column_is_one_line(cache, tmp_path):
    bad = tmp_path / "log.csv"
    bad.write_text("step,sigma,loss_atom,loss_residue\n0,1.0,0.1,0.2\n")
    res = run("06_loss_balance.py", "--structure", "5PTI", "--steps", "3", "--training-log", str(bad), cache=cache)
    assert res.returncode == 2 and "missing column(s) loss_chain" in res.stderr and "Traceback" not in res.stderr


def _key_lines(out: str) -> dict[str, str]:
    """The `KEY| label | value` lines a notebook prints in script mode."""
    lines = [line.removeprefix("KEY|").rsplit("|", 1) for line in out.splitlines() if line.startswith("KEY|")]
    return {label.strip(): value.strip() for label, value in lines}


@pytest.fixture(scope="module")
def small_ablation(tmp_path_factory):
    out = tmp_path_factory.mktemp("ablation")
    cmd = [sys.executable, "-m", "pomodoro_core.experiments.ablation", "--budget", "quick", "--seeds", "0", "1", "--workers", "2"]
    res = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return out


def test_07_summarises_the_design(small_ablation):
    res = run("07_ablation.py", "--results", str(small_ablation))
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Verdict (paired" in res.stdout and "Identity (not in the review)" in res.stdout
    assert "Architecture study" in res.stdout and "Pitfall 4 (augmentation), change in" in res.stdout
    assert "transformer:" in res.stdout and "geometric:" in res.stdout
    keys = _key_lines(res.stdout)
    assert {f"training effect on ln residue gain, {k}" for k in ("weights", "precond", "sigma")} <= set(keys)
    assert all(v not in ("nan", "inf") for v in keys.values())
    other = run("07_ablation.py", "--results", str(small_ablation), "--response", "own_slot")
    assert other.returncode == 0 and "training effects on own_slot" in other.stdout


def test_07_missing_or_foreign_results(tmp_path):
    res = run("07_ablation.py", "--results", str(tmp_path / "none"))
    assert res.returncode == 2 and "python -m pomodoro_core.experiments.ablation" in res.stderr and "Traceback" not in res.stderr
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "foreign.json").write_text('{"a": 1}')
    res = run("07_ablation.py", "--results", str(tmp_path))
    assert res.returncode == 2 and "not a complete ablation run" in res.stderr and "Traceback" not in res.stderr
    res = run("07_ablation.py", "--response", "nope")
    assert res.returncode == 2 and "--response must be one of" in res.stderr
