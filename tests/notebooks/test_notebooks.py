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
    assert "Verdict on pitfall 1" in res.stdout
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
        (["--w-r", "-1"], "argument --w-r: must be a number in [0, 1000] (got '-1')"),
        (["--sigma", "0"], "argument --sigma: must be a number in [0.001, 10000] Å (got '0')"),
        (["--structure", "no_such_protein"], "no structure named"),
        (["--w-a", "nan"], "argument --w-a: must be a number in [0, 1000] (got 'nan')"),
        (["--samples", "100000000"], "argument --samples: must be a whole number in [200, 20000]"),
        (["--seed", "99999999999999999999"], "argument --seed: must be a whole number in [0, 2147483647]"),
    ],
)
def test_01_bad_input_exits_nonzero_with_message(args, message):
    res = run("01_noise_decomposition.py", "--samples", "200", *args)
    assert res.returncode == 2
    assert message in res.stderr
    assert res.stderr.count("\n") == 1, res.stderr  # one line, no usage block, no traceback


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
        ("03_schedule_coverage.py", ["--sigma-max", "0.05", "--sigma-min", "0.1"], "must be greater than sigma_min"),
        ("03_schedule_coverage.py", ["--p-std", "0"], "argument --p-std: must be a number in [0.05, 4]"),
        ("03_schedule_coverage.py", ["--steps", "0"], "argument --steps: must be a whole number in [1, 1000]"),
        ("03_schedule_coverage.py", ["--q", "nan"], "argument --q: must be a number in [0.9, 0.99999]"),
        ("03_schedule_coverage.py", ["--rho", "0"], "argument --rho: must be a number in [1, 12]"),
        ("02_effective_gradient.py", ["--p-std", "0"], "argument --p-std: must be a number in [0.05, 4]"),
        ("02_effective_gradient.py", ["--p-mean", "inf"], "argument --p-mean: must be a number in [-6, 3]"),
        ("02_effective_gradient.py", ["--check-draws", "0"], "argument --check-draws: must be a whole number in [1, 256]"),
        ("02_effective_gradient.py", ["--sigma-max", "0.01", "--sigma-min", "0.1"], "must be greater than σ_min"),
        ("04_preconditioning.py", ["--samples", "0"], "argument --samples: must be a whole number in [10, 100000]"),
        ("00_claims_audit.py", ["--crop", "100000"], "argument --crop: must be a whole number in [8, 128]"),
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


# --------------------------------------------------------------------------- degenerate structures


def _atom_lines(chain: str | None = None, residue: str | None = None) -> list[str]:
    lines = [ln for ln in (ROOT / "data" / "1hvr.pdb").read_text().splitlines() if ln.startswith("ATOM")]
    return [ln for ln in lines if (chain is None or ln[21] == chain) and (residue is None or ln[22:26].strip() == residue)]


@pytest.fixture(scope="module")
def one_residue(tmp_path_factory):
    path = tmp_path_factory.mktemp("degenerate") / "one_residue.pdb"
    path.write_text("\n".join([*_atom_lines("A", "1"), "END"]) + "\n")
    return str(path)


ANALYTIC = ["00_claims_audit.py", "01_noise_decomposition.py", "02_effective_gradient.py", "04_preconditioning.py"]


@pytest.mark.parametrize("name", ANALYTIC)
def test_one_chain_structure_gets_an_answer(name):
    """5PTI has one chain: the chain level is trivial, said so, and every figure is finite."""
    res = run(name, "--structure", "5PTI", *(["--samples", "200"] if name.startswith(("01", "04")) else []))
    assert res.returncode == 0, res.stderr[-3000:]
    assert "structure: 5PTI from" in res.stdout and "chains A |" in res.stdout
    assert not [line for line in res.stdout.splitlines() if line.startswith("KEY|") and ("nan" in line or "inf" in line)]
    if name.startswith("04"):
        assert "the chain level(s) sit at the complex centroid" in res.stdout


@pytest.mark.parametrize("name", ANALYTIC)
def test_one_residue_structure_gets_an_answer(name, one_residue):
    res = run(name, "--structure", one_residue, *(["--samples", "200"] if name.startswith(("01", "04")) else []))
    assert res.returncode == 0, res.stderr[-3000:]
    assert "| 1 residues |" in res.stdout and "Traceback" not in res.stderr
    assert not [line for line in res.stdout.splitlines() if line.startswith("KEY|") and ("nan" in line or "inf" in line)]
    if name.startswith("01"):
        assert "does not arise here" in res.stdout
    if name.startswith("04"):
        assert "the residue and chain level(s) sit at the complex centroid" in res.stdout


def test_coordinates_at_one_point_are_refused(tmp_path):
    path = tmp_path / "zeros.pdb"
    path.write_text("\n".join(ln[:30] + "   0.000   0.000   0.000" + ln[54:] for ln in _atom_lines("A")) + "\n")
    res = run("04_preconditioning.py", "--structure", str(path), "--samples", "10")
    assert res.returncode == 2 and "lie at one point" in res.stderr and res.stderr.count("\n") == 1


def test_file_cut_after_the_coordinates_is_refused(tmp_path):
    path = tmp_path / "cut.pdb"
    lines = _atom_lines("A")
    path.write_text("\n".join([*lines[:100], lines[100][:60]]) + "\n")  # the last line keeps x, y, z
    res = run("01_noise_decomposition.py", "--structure", str(path), "--samples", "200")
    assert res.returncode == 2 and "truncated: the last ATOM/HETATM record has 60 columns (the others at least 80)" in res.stderr


def test_a_bad_flag_inside_marimo_is_a_red_message(tmp_path):
    """`marimo export html` (or edit / run) with an out-of-range flag renders the refusal, not a dead kernel."""
    page = tmp_path / "03.html"
    cmd = [sys.executable, "-m", "marimo", "export", "html", str(NB / "03_schedule_coverage.py"), "-o", str(page), "--force"]
    res = subprocess.run([*cmd, "--", "--rho", "0"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    html = page.read_text()
    assert res.returncode == 0 and "Cannot compute this" in html and "must be a number in [1, 12]" in html
