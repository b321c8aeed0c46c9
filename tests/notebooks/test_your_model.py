"""Another model's files in the notebooks: notebook 08 on a trajectory, 06 on a training log, --preset-file everywhere."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
NB = ROOT / "notebooks"
EX = ROOT / "data" / "examples"
NB08 = "08_your_trajectory.py"


def run(name, *args, timeout=600):
    return subprocess.run(
        [sys.executable, str(NB / name), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


def keys(out: str) -> dict[str, str]:
    return dict(line.split(" | ")[0:2] for line in (ln.removeprefix("KEY| ") for ln in out.splitlines() if ln.startswith("KEY|")))


def test_08_measures_the_shipped_trajectory_against_a_perfect_denoiser():
    res = run(NB08)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Residue motion in the late phase is" in res.stdout and "of a perfect denoiser's" in res.stdout
    ratio = float(keys(res.stdout)["late residue motion / perfect denoiser's"])
    assert 0 < ratio < 1  # the reviewed design without identity: residues move less than they must


def test_08_gives_the_same_figures_from_npz_mmcif_and_pdb(tmp_path):
    """The same states as .npz, as multi-model mmCIF (levels from the preset's schedule) and, for the late states that
    fit PDB's columns, as multi-model PDB with a levels file, against the same states as .npz."""
    npz = run(NB08)
    cif = run(NB08, "--trajectory", EX / "trajectory.cif")
    assert cif.returncode == 0, cif.stderr[-2000:]
    assert keys(npz.stdout) == keys(cif.stdout)
    a = dict(np.load(EX / "trajectory.npz"))
    late = {"x": a["x"][-21:], "sigma": a["sigma"][-21:], "sigma_hat": a["sigma_hat"][-20:], "atom_name": a["atom_name"]}
    np.savez(tmp_path / "late.npz", **late)
    sys.path.insert(0, str(ROOT))
    from pomodoro_core.core.structure import load_structure
    from pomodoro_core.training import trajectory_file as tf

    s = load_structure(EX / "1hvr_crop.pdb")
    tf.write_models(tmp_path / "late.pdb", late["x"], s)
    tf.write_levels(tmp_path / "levels.txt", late["sigma"], late["sigma_hat"])
    from_npz = keys(run(NB08, "--trajectory", tmp_path / "late.npz", "--late-sigma", 16).stdout)
    from_pdb = run(NB08, "--trajectory", tmp_path / "late.pdb", "--sigmas", tmp_path / "levels.txt", "--late-sigma", 16)
    assert from_pdb.returncode == 0, from_pdb.stderr[-2000:]
    for k, v in keys(from_pdb.stdout).items():  # PDB rounds coordinates to 0.001 Å
        assert float(v) == pytest.approx(float(from_npz[k]), rel=2e-3, abs=2e-3), k


@pytest.mark.parametrize(
    "args, message",
    [
        (["--trajectory", "no_such.npz"], "cannot load trajectory 'no_such.npz': file not found"),
        (["--structure", "1hvr"], "x has 159 atoms per state; structure 1hvr"),
        (["--trajectory", EX / "trajectory.cif", "--preset", "boltz-2"], "51 models but 201 levels"),
        (["--reference", "1hvr"], "give a reference of the same atoms"),
        (["--late-sigma", "0"], "argument --late-sigma: must be a number in [0.001, 10000] Å (got '0')"),
    ],
)
def test_08_bad_input_is_one_line(args, message):
    res = run(NB08, *args)
    assert res.returncode == 2 and message in res.stderr, res.stderr[-2000:]
    assert res.stderr.count("\n") == 1, res.stderr


def test_a_preset_file_drives_the_analytic_notebooks(tmp_path):
    mine = tmp_path / "my-model.toml"
    mine.write_text('source = "a test"\nbase = "pomodoro-v0.9.1"\nw_c = 1\nw_r = 1\nw_a = 1\n')
    res = run("01_noise_decomposition.py", "--preset-file", mine, "--samples", 200)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "preset file: my-model from" in res.stdout and "0.3333" in res.stdout  # 1:1:1 weights
    res = run("03_schedule_coverage.py", "--preset-file", mine)
    assert res.returncode == 0 and "my-model" in res.stdout.split("per-preset comparison")[1]  # beside the built-in ones
    res = run("00_claims_audit.py", "--preset-file", mine)
    assert res.returncode == 0 and "is not used" in res.stderr


@pytest.mark.parametrize("text, message", [("w_c = 1\n", "missing w_r"), ('base = "edm"\nbogus = 1\n', "unknown key 'bogus'")])
def test_a_bad_preset_file_is_one_line(tmp_path, text, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    res = run("03_schedule_coverage.py", "--preset-file", bad)
    assert res.returncode == 2 and message in res.stderr and res.stderr.count("\n") == 1, res.stderr
