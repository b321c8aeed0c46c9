import gzip

import numpy as np
import pytest

from pomodoro_core.core.structure import (
    ATOM_SETS,
    consecutive_ca_pairs,
    contiguous_crop,
    covalent_bonds,
    data_dir,
    find_structure,
    list_structures,
    load_structure,
    spatial_crop,
)

FILES = list_structures()


def test_data_has_what_the_suite_needs():
    names = {p.name.split(".")[0] for p in FILES}
    assert {"1hvr", "4E43"} <= names
    assert any(p.name.endswith((".cif", ".cif.gz")) for p in FILES)
    assert len(list((data_dir() / "single_chains").glob("*.pdb.gz"))) >= 10
    assert (data_dir() / "SOURCES.md").exists()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("atom_set", ATOM_SETS)
def test_every_shipped_file_loads(path, atom_set):
    st = load_structure(path, atom_set)
    assert st.n_atoms > 0 and np.isfinite(st.coords).all()
    assert (np.diff(st.residue_index) >= 0).all() and (np.diff(st.residue_chain) >= 0).all()
    assert set(np.unique(st.residue_index)) == set(range(st.n_residues))
    assert set(np.unique(st.residue_chain)) == set(range(st.n_chains))
    assert not np.isin(st.element, ["H", "D"]).any()
    # every kept residue has its backbone, exactly one CA
    assert (st.atom_name == "CA").sum() == st.n_residues
    per = st.atoms_per_residue
    if atom_set == "backbone_cb":
        assert per.min() >= 4 and per.max() <= 5
        gly = st.residue_name == "GLY"
        assert (per[gly] == 4).all()
    else:
        assert per.min() >= 4


def test_known_sizes():
    st = load_structure(find_structure("1hvr"))
    assert st.n_chains == 2 and st.residues_per_chain.tolist() == [99, 99]  # ligand dropped
    assert st.skipped_residues == 0
    st = load_structure(find_structure("4E43"))
    assert st.n_chains == 3


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def _residue_lines(n_residues=5):
    """All ATOM records of the first n complete residues of 4E43."""
    lines = [ln for ln in (data_dir() / "4E43.pdb").read_text().splitlines() if ln.startswith("ATOM")]
    ids = list(dict.fromkeys(ln[21:27] for ln in lines))[:n_residues]
    return [ln for ln in lines if ln[21:27] in ids]


def test_empty_file(tmp_path):
    with pytest.raises(ValueError, match="empty.pdb.*empty"):
        load_structure(_write(tmp_path, "empty.pdb", ""))


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_structure(tmp_path / "nope.pdb")


def test_truncated_pdb(tmp_path):
    text = "\n".join(_residue_lines())
    cut = text[: len(text) // 2]
    cut = cut[: cut.rfind("\n") + 30]  # cut in the middle of a record
    with pytest.raises(ValueError, match="truncated"):
        load_structure(_write(tmp_path, "cut.pdb", cut))


def test_truncated_gzip(tmp_path):
    raw = (data_dir() / "5PTI.cif.gz").read_bytes()
    p = tmp_path / "cut.cif.gz"
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="cut.cif.gz.*(truncated|corrupt)"):
        load_structure(p)


def test_truncated_mmcif(tmp_path):
    text = gzip.decompress((data_dir() / "5PTI.cif.gz").read_bytes()).decode()
    with pytest.raises(ValueError, match="cut.cif.*unparsable"):
        load_structure(_write(tmp_path, "cut.cif", text[: len(text) // 2]))


def test_not_a_structure(tmp_path):
    with pytest.raises(ValueError, match="no atoms"):
        load_structure(_write(tmp_path, "junk.pdb", "hello\nthis is no structure\n"))
    with pytest.raises(ValueError, match="unparsable"):
        load_structure(_write(tmp_path, "junk.cif", "hello\nthis is no structure\n"))


def test_ligand_only(tmp_path):
    het = [ln for ln in (data_dir() / "1hvr.pdb").read_text().splitlines() if ln.startswith("HETATM") and " XK2 " in ln]
    assert het
    with pytest.raises(ValueError, match="no protein chain"):
        load_structure(_write(tmp_path, "ligand.pdb", "\n".join(het) + "\nEND\n"))


def test_nan_coordinates(tmp_path):
    lines = _residue_lines()
    lines[1] = lines[1][:30] + "     nan" + lines[1][38:]
    with pytest.raises(ValueError, match="non-finite"):
        load_structure(_write(tmp_path, "nan.pdb", "\n".join(lines) + "\nEND\n"))


def test_nothing_left_after_filtering(tmp_path):
    ca_only = [ln for ln in _residue_lines() if ln[12:16].strip() == "CA"]
    with pytest.raises(ValueError, match="nothing left"):
        load_structure(_write(tmp_path, "ca.pdb", "\n".join(ca_only) + "\nEND\n"))


def test_missing_backbone_is_skipped_and_counted(tmp_path):
    lines = _residue_lines()
    first_res = lines[0][22:26]
    kept = [ln for ln in lines if not (ln[22:26] == first_res and ln[12:16].strip() == "O")]
    st = load_structure(_write(tmp_path, "gap.pdb", "\n".join(kept) + "\nEND\n"))
    assert st.skipped_residues == 1


def test_altloc_highest_occupancy_and_hydrogens(tmp_path):
    base = _residue_lines()[:5]  # N CA C O CB of the first residue
    # CB in two conformers: B has the higher occupancy
    cb = base[4]
    cb_a = cb[:16] + "A" + cb[17:54] + "  0.30" + cb[60:]
    cb_b = cb[:16] + "B" + cb[17:30] + "  99.000" + cb[38:54] + "  0.70" + cb[60:]
    h = base[1][:12] + " HA " + base[1][16:76] + " H"
    st = load_structure(_write(tmp_path, "alt.pdb", "\n".join(base[:4] + [cb_a, cb_b, h]) + "\nEND\n"))
    assert st.n_atoms == 5
    assert st.coords[st.atom_name == "CB"][0, 0] == pytest.approx(99.0)


def test_unknown_atom_set():
    with pytest.raises(ValueError, match="atom set"):
        load_structure(find_structure("5a7u"), "all")


def test_crops(complex_4e43):
    c = contiguous_crop(complex_4e43, 32, seed=3)
    assert c.n_residues == 32 and c.n_chains == 1
    s = spatial_crop(complex_4e43, 32, seed=0)
    assert s.n_residues == 32 and s.n_chains >= 2
    dimer = spatial_crop(load_structure(find_structure("1hvr")), 32, seed=0)
    assert dimer.n_chains == 2 and dimer.residues_per_chain.min() >= 5
    # crop keeps coordinates of the selected residues unchanged
    ca = complex_4e43.ca_coords()
    assert all(np.isclose(ca, x).all(axis=1).any() for x in s.ca_coords())
    with pytest.raises(ValueError):
        contiguous_crop(complex_4e43, 0)


def test_covalent_bonds_of_a_contiguous_crop(crop):
    bonds = covalent_bonds(crop)
    n_gly = int((crop.residue_name == "GLY").sum())
    assert len(bonds) == 4 * crop.n_residues - n_gly + (crop.n_residues - 1)
    d = np.linalg.norm(crop.coords[bonds[:, 0]] - crop.coords[bonds[:, 1]], axis=1)
    assert d.min() > 1.1 and d.max() < 1.7
    assert len(consecutive_ca_pairs(crop)) == crop.n_residues - 1


def test_a_short_line_inside_a_file_is_one_line_naming_it(tmp_path):
    lines = [ln for ln in (data_dir() / "1hvr.pdb").read_text().splitlines() if ln.startswith("ATOM")][:80]
    lines[50] = lines[50][:40]
    path = tmp_path / "short.pdb"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="line 51") as info:
        load_structure(path)
    assert "\n" not in str(info.value)


def test_the_structure_line_names_file_chains_models_and_skips():
    s = load_structure(find_structure("1hvr"))
    assert s.describe().startswith("structure: 1hvr from ") and "| chains A,B | 198 residues | 964 atoms" in s.describe()
    assert "| 1 model |" in s.describe() and "0 residue(s) skipped" in s.describe()


def test_an_nmr_file_says_the_first_of_its_models_was_used(tmp_path):
    atoms = [ln for ln in (data_dir() / "1hvr.pdb").read_text().splitlines() if ln.startswith("ATOM")][:40]
    path = tmp_path / "nmr.pdb"
    path.write_text("\n".join(["MODEL        1", *atoms, "ENDMDL", "MODEL        2", *atoms, "ENDMDL", "END"]) + "\n")
    assert "| first of 2 models used |" in load_structure(path).describe()
