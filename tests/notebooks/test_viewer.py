"""The 3-D viewer: its script is the vendored 3Dmol.js it claims to be, and its frames are the superposed states."""

import numpy as np
import pytest
import torch

from pomodoro_core.report import viewer


def _models(pdb: str) -> list[np.ndarray]:
    """(atoms, 4) arrays of x, y, z, B per MODEL of a PDB text."""
    out, rows = [], []
    for line in pdb.splitlines():
        if line.startswith("ATOM"):
            rows.append([float(line[30:38]), float(line[38:46]), float(line[46:54]), float(line[60:66])])
        elif line.startswith("ENDMDL"):
            out.append(np.array(rows))
            rows = []
    return out


def test_each_frame_holds_the_state_superposed_on_the_target_and_the_target(crop):
    st = crop
    rot = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))[0]
    if torch.linalg.det(rot) < 0:
        rot = -rot
    target = torch.as_tensor(st.coords)
    moved = target @ rot + torch.tensor([30.0, -5.0, 2.0], dtype=torch.float64)  # a rigid motion of the target
    noisy = target + torch.randn(st.n_atoms, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    models = _models(viewer.trajectory_pdb(torch.stack([moved, noisy]), st, [0, 1]))
    assert len(models) == 2 and all(m.shape == (2 * st.n_atoms, 4) for m in models)
    sample, ref = models[0][: st.n_atoms], models[0][st.n_atoms :]
    assert (sample[:, 3] == 0).all() and (ref[:, 3] == 1).all()
    np.testing.assert_allclose(ref[:, :3], st.coords, atol=1e-3)
    np.testing.assert_allclose(sample[:, :3], st.coords, atol=2e-3)  # the rigid motion is undone
    assert np.abs(models[1][: st.n_atoms, :3] - st.coords).max() > 0.5  # the noise is not


def test_frames_are_thinned_to_most_keeping_first_and_last():
    assert viewer.frame_steps(5) == [0, 1, 2, 3, 4]
    steps = viewer.frame_steps(201, most=60)
    assert len(steps) == 60 and steps[0] == 0 and steps[-1] == 200


def test_the_vendored_script_is_checked_against_its_hash(tmp_path, monkeypatch):
    assert "3Dmol" in viewer.viewer_js()[:5000]
    (tmp_path / viewer.VIEWER_JS["file"]).write_text("// not 3Dmol")
    monkeypatch.setattr(viewer, "VENDOR", tmp_path)
    with pytest.raises(RuntimeError, match="vendor_3dmol.sh"):
        viewer.viewer_js()


def test_states_that_do_not_fit_the_structure_are_refused(crop):
    with pytest.raises(ValueError, match="do not fit"):
        viewer.trajectory_view(torch.zeros(2, 3, 3), crop, ["a", "b"])
