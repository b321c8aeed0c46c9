"""Another model's trajectory: the .npz and the multi-model file say the same, and anything wrong is one line."""

import numpy as np
import pytest
import torch

from pomodoro_core.core.presets import get_preset
from pomodoro_core.core.sampling import SamplerConfig
from pomodoro_core.core.structure import data_dir, load_structure
from pomodoro_core.experiments import trajectory_diagnostics as td
from pomodoro_core.training import trajectory_file as tf
from pomodoro_core.training.sampler import Trajectory

EXAMPLES = data_dir() / "examples"
V090 = get_preset("pomodoro-v0.9.0")
SAMPLER = SamplerConfig.from_preset(V090)


@pytest.fixture(scope="module")
def structure():
    return load_structure(EXAMPLES / "1hvr_crop.pdb")


@pytest.fixture(scope="module")
def shipped(structure):
    return tf.load_npz(EXAMPLES / "trajectory.npz", structure)


def test_the_shipped_npz_and_mmcif_hold_the_same_states(structure, shipped):
    from_models = tf.load_models(EXAMPLES / "trajectory.cif", structure, SAMPLER.sigmas())
    assert torch.equal(shipped.x, from_models.x)  # mmCIF keeps float32 coordinates exactly
    np.testing.assert_array_equal(shipped.sigmas, from_models.sigmas)
    assert shipped.denoised is not None and from_models.denoised is None


def test_written_files_read_back(tmp_path, structure, shipped):
    tf.write_npz(tmp_path / "t.npz", shipped, structure)
    tf.write_models(tmp_path / "t.cif", shipped.x[:, 0].numpy(), structure)
    again = tf.load_npz(tmp_path / "t.npz", structure)
    assert torch.equal(again.x, shipped.x) and torch.equal(again.denoised, shipped.denoised)
    assert torch.equal(tf.load_models(tmp_path / "t.cif", structure, shipped.sigmas).x, shipped.x)
    with pytest.raises(tf.TrajectoryError, match="beyond PDB's columns; write .cif"):
        tf.write_models(tmp_path / "t.pdb", shipped.x[:, 0].numpy(), structure)
    late = Trajectory(shipped.sigmas[-3:], shipped.t_hat[-2:], shipped.x[-3:], None)  # small coordinates fit a PDB
    tf.write_models(tmp_path / "late.pdb", late.x[:, 0].numpy(), structure)
    assert (tf.load_models(tmp_path / "late.pdb", structure, late.sigmas).x - late.x).abs().max() < 6e-4


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a | {"x": a["x"][:, :100]}, "x has 100 atoms per state; structure 1hvr_crop"),
        (lambda a: {k: v for k, v in a.items() if k != "sigma"}, "no array 'sigma'"),
        (
            lambda a: a | {"x": np.where(np.arange(3) == 1, np.nan, a["x"])},
            "non-finite coordinate(s), the first at state 0, atom 0",
        ),
        (lambda a: a | {"sigma": a["sigma"][::-1].copy()}, "sigma rises from state 0 to 1"),
        (lambda a: a | {"sigma": a["sigma"][:-1]}, "sigma must hold one level per state"),
        (lambda a: a | {"sigma_hat": a["sigma"][:-1] * 0.5}, "sigma_hat[0] = 640 is below sigma[0] = 1280"),
        (lambda a: a | {"denoised": a["x"]}, "denoised must hold one prediction per step: shape (50, 159, 3)"),
        (lambda a: a | {"atom_name": a["atom_name"][::-1]}, "atom 0 is CB here but A PRO 1 N in the structure"),
        (lambda a: a | {"extra": a["sigma"]}, "unknown array(s) extra"),
        (lambda a: a | {"x": a["x"][:1], "sigma": a["sigma"][:1]}, "x holds 1 state(s)"),
        (lambda a: a | {"sigma": a["sigma"].astype(str)}, "array 'sigma' must be numbers"),
    ],
)
def test_a_bad_npz_is_one_line(tmp_path, structure, change, message):
    arrays = dict(np.load(EXAMPLES / "trajectory.npz"))
    with pytest.raises(tf.TrajectoryError) as err:
        tf.load_npz(_npz(tmp_path / "bad.npz", **change(arrays)), structure)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_cut_or_foreign_file_is_one_line(tmp_path, structure):
    raw = (EXAMPLES / "trajectory.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(tf.TrajectoryError, match="not a readable .npz archive"):
        tf.load_npz(tmp_path / "cut.npz", structure)
    text = (EXAMPLES / "trajectory.cif").read_text()
    models = text.split("\nATOM")
    (tmp_path / "cut.cif").write_text("\nATOM".join(models[: len(models) - 40]) + "\n")  # the last model cut short
    with pytest.raises(tf.TrajectoryError, match="model 51 of 51 has no atom"):
        tf.load_models(tmp_path / "cut.cif", structure, SAMPLER.sigmas())
    with pytest.raises(tf.TrajectoryError, match="51 models but 50 levels"):
        tf.load_models(EXAMPLES / "trajectory.cif", structure, SAMPLER.sigmas()[:-1])
    heavy = load_structure(data_dir() / "1hvr.pdb", "heavy")
    with pytest.raises(tf.TrajectoryError, match="has no atom"):
        tf.load_models(EXAMPLES / "trajectory.cif", heavy, SAMPLER.sigmas())
    with pytest.raises(tf.TrajectoryError, match="file not found"):
        tf.load_npz(tmp_path / "none.npz", structure)


def test_levels_from_a_text_file(tmp_path, structure, shipped):
    tf.write_levels(tmp_path / "levels.txt", shipped.sigmas, shipped.t_hat)
    traj, said = tf.load_trajectory(EXAMPLES / "trajectory.cif", structure, tmp_path / "levels.txt")
    assert "levels from" in said
    np.testing.assert_array_equal(traj.t_hat, shipped.t_hat)


def test_the_perfect_replay_reaches_the_reference_and_scores_itself_one(structure, shipped):
    ideal = td.perfect_replay(shipped, structure, V090.weights, SAMPLER)
    final = torch.as_tensor(structure.coords, dtype=torch.float32)
    from pomodoro_core.core.geometry import rmsd

    assert float(rmsd(ideal.final, final.unsqueeze(0))) < 1e-3  # Euler's last step to σ = 0 lands on D
    again = td.diagnose(ideal, structure, structure.coords, V090.weights, SAMPLER, V090.sigma_data)
    assert again.late_ratio == pytest.approx(1.0, abs=1e-6)


def test_frozen_residues_score_below_one(structure, shipped):
    """The measure can detect the symptom: states whose residues stay where the noise put them (each residue's
    centroid frozen after the first late step, atoms still moving inside it) score well below the perfect denoiser."""
    from pomodoro_core.core.hierarchy import Hierarchy

    ideal = td.perfect_replay(shipped, structure, V090.weights, SAMPLER)
    h = Hierarchy.from_structure(structure)
    x = ideal.x.clone()
    first_late = int(np.argmax(ideal.t_hat <= V090.sigma_data))
    frozen = h.residues_to_atoms(h.residue_centroids(x[first_late]))
    for t in range(first_late + 1, x.shape[0]):
        x[t] = x[t] - h.residues_to_atoms(h.residue_centroids(x[t])) + frozen
    stuck = Trajectory(ideal.sigmas, ideal.t_hat, x, None)
    d = td.diagnose(stuck, structure, structure.coords, V090.weights, SAMPLER, V090.sigma_data)
    assert d.late_ratio < 0.2
    assert "Residues move less than" in td.verdict(d, "stuck")
