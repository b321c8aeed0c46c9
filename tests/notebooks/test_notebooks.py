"""Every notebook runs as a script (exit 0, key figures printed) and rejects bad input clearly."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NB = ROOT / "notebooks"


def run(name, *args, timeout=600):
    return subprocess.run([sys.executable, str(NB / name), *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def test_marimo_check_passes():
    res = subprocess.run([sys.executable, "-m", "marimo", "check", "--strict", str(NB)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr


def test_01_runs_as_script_and_prints_its_figures():
    res = run("01_noise_decomposition.py", "--samples", "2000")
    assert res.returncode == 0, res.stderr
    assert "effective sigma per read-out" in res.stdout
    assert "verdict on pitfall 1" in res.stdout
    # the printed residue share follows the weights: 1.6 / 11.1
    assert "0.1441" in res.stdout


def test_01_takes_parameters():
    res = run("01_noise_decomposition.py", "--w-c", "1", "--w-r", "1", "--w-a", "1", "--structure", "1hvr", "--samples", "500")
    assert res.returncode == 0, res.stderr
    assert "0.3333" in res.stdout and "1hvr" not in res.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--w-c", "0", "--w-r", "0", "--w-a", "0"], "all three noise weights are 0"),
        (["--w-r", "-1"], "must be >= 0"),
        (["--sigma", "0"], "σ must be > 0"),
        (["--structure", "no_such_protein"], "no structure named"),
        (["--w-a", "nan"], "finite"),
    ],
)
def test_01_bad_input_exits_nonzero_with_message(args, message):
    res = run("01_noise_decomposition.py", *args, "--samples", "200")
    assert res.returncode == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_01_broken_structure_file(tmp_path):
    bad = tmp_path / "broken.pdb"
    bad.write_text("ATOM      1  N   ALA A   1      11.1")
    res = run("01_noise_decomposition.py", "--structure", str(bad), "--samples", "200")
    assert res.returncode == 2 and "truncated" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "name, needle",
    [
        ("00_claims_audit.py", "verdicts: {'holds'"),
        ("02_effective_gradient.py", "untrained network: loss per σ"),
        ("03_schedule_coverage.py", "per-preset comparison"),
        ("04_preconditioning.py", "Verdict on pitfalls 2 and 6"),
    ],
)
def test_analytic_notebooks_run_as_scripts(name, needle):
    res = run(name)
    assert res.returncode == 0, res.stderr[-3000:]
    assert needle in res.stdout


@pytest.mark.parametrize(
    "name, args, message",
    [
        ("03_schedule_coverage.py", ["--sigma-max", "0.0005"], "must be greater than sigma_min"),
        ("03_schedule_coverage.py", ["--p-std", "0"], "P_std must be finite and > 0"),
        ("03_schedule_coverage.py", ["--steps", "0"], "number of steps"),
        ("02_effective_gradient.py", ["--p-std", "0"], "P_std must be finite and > 0"),
        ("02_effective_gradient.py", ["--sigma-max", "0.0001"], "must be greater than σ_min"),
        ("04_preconditioning.py", ["--w-c", "0", "--w-r", "0", "--w-a", "0"], "all three noise weights are 0"),
        ("00_claims_audit.py", ["--structure", "nothing_here"], "no structure named"),
    ],
)
def test_bad_slider_combinations_exit_with_message(name, args, message):
    res = run(name, *args)
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    assert message in res.stderr and "Traceback" not in res.stderr


def test_one_sampling_step_is_valid():
    res = run("03_schedule_coverage.py", "--steps", "1")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "1 of 1 steps" in res.stdout or "steps_above_q" in res.stdout
