"""Every notebook runs as a script (exit 0, key figures printed) and rejects bad input clearly."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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
