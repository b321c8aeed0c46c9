"""The code is lint-clean, its layers point one way, and the notebooks are in marimo's canonical form."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean():
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "."], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr


def test_layers_never_import_upwards():
    """import-linter's layers contract (pyproject.toml): report > audit > experiments > analysis | training > core."""
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    res = subprocess.run([lint], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0 and "1 kept, 0 broken" in res.stdout, res.stdout + res.stderr


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The contract can fail: a core module that imports the report layer is caught."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "pomodoro_core", copy / "pomodoro_core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "pomodoro_core" / "core" / "bad.py").write_text("from ..report import charts  # noqa: F401\n")
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    res = subprocess.run([lint], capture_output=True, text=True, cwd=copy, env={"PYTHONPATH": str(copy), "PATH": ""})
    assert res.returncode != 0 and "pomodoro_core.core.bad -> pomodoro_core.report" in res.stdout, res.stdout + res.stderr


def test_notebooks_are_in_marimo_canonical_form(tmp_path):
    """`marimo check --fix` (what `make lint` runs) changes nothing: saving in `marimo edit` will not churn the diff."""
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        shutil.copy(nb, tmp_path / nb.name)
    subprocess.run([sys.executable, "-m", "marimo", "check", "--fix", *sorted(map(str, tmp_path.glob("*.py")))],
                   capture_output=True, text=True)  # fmt: skip
    changed = [nb.name for nb in sorted(tmp_path.glob("*.py")) if nb.read_bytes() != (ROOT / "notebooks" / nb.name).read_bytes()]
    assert not changed, f"not in marimo's canonical form (run `make lint`): {changed}"
