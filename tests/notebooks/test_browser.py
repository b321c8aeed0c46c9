"""The notebooks as a researcher uses them: served by `marimo run`, controls moved in Chromium.

Each test opens one notebook at its defaults, saves a screenshot under reports/screenshots/, moves its main
controls and checks that the outputs that depend on them change and that no cell fails (marimo's websocket
reports every cell error, also those the app view hides).
"""

import pytest

from tests.notebooks.browser import CHROMIUM, ROOT, choose, control, served, set_number, slide, submit

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian package 'chromium'; .ci/run installs it)"),
]
pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")
SHOTS = ROOT / "reports" / "screenshots"


def weights_shown(page) -> list[str]:
    return [control(page, "number", w).input_value() for w in ("w_c", "w_r", "w_a")]


def changes(nb, needle: str, action, seconds: float = 180) -> None:
    """`action` changes the output that holds `needle`, and no cell fails."""
    before = nb.output_with(needle)
    nb.act(action, seconds)
    assert nb.errors() == []
    assert nb.output_with(needle) != before, f"the output holding {needle!r} did not change"


def opened(nb, name: str) -> None:
    assert nb.errors() == [], nb.errors()
    assert nb.external == [], nb.external
    nb.screenshot(SHOTS / f"{name}.jpg")


def test_00_crop_slider_updates_the_audit():
    with served("00_claims_audit.py") as nb:
        opened(nb, "00_claims_audit")
        changes(nb, "Every claim", slide("residues in the crop", 5, "ArrowLeft"))


def test_01_preset_weights_structure_and_samples():
    with served("01_noise_decomposition.py") as nb:
        opened(nb, "01_noise_decomposition")
        assert weights_shown(nb.page) == ["8.2", "1.6", "1.3"]
        # a preset change resets the boxes, and the verdict uses what the boxes show
        changes(nb, "Verdict on pitfall 1", choose("preset", "boltz-2"))
        assert weights_shown(nb.page) == ["0", "0", "1"]
        assert "w_c : w_r : w_a = 0 : 0 : 1" in nb.output_with("Verdict on pitfall 1")
        # whole-number and zero weights (a polars Int64 crash once) and a preset change after a weight change
        changes(nb, "Verdict on pitfall 1", set_number("w_c", "2"))
        assert "w_c : w_r : w_a = 2 : 0 : 1" in nb.output_with("Verdict on pitfall 1")
        changes(nb, "Verdict on pitfall 1", choose("preset", "pomodoro-v0.9.0"))
        assert weights_shown(nb.page) == ["8.2", "1.6", "1.3"]
        assert "w_c : w_r : w_a = 8.2 : 1.6 : 1.3" in nb.output_with("Verdict on pitfall 1")
        changes(nb, "noise draws", slide("Monte Carlo samples", 3))
        changes(nb, "Verdict on pitfall 1", choose("structure", "5PTI"))  # one chain


def test_02_distribution_sliders_move_the_verdict():
    with served("02_effective_gradient.py") as nb:
        opened(nb, "02_effective_gradient")
        changes(nb, "Verdict on seed 003", slide("P_mean", 20))


def test_03_preset_selector_and_sliders():
    with served("03_schedule_coverage.py") as nb:
        opened(nb, "03_schedule_coverage")
        changes(nb, "Verdict on pitfall 8", choose("preset", "af3"))
        changes(nb, "Verdict on pitfall 8", slide("P_std", 10))


def test_04_one_chain_structure_and_preset_change():
    with served("04_preconditioning.py") as nb:
        opened(nb, "04_preconditioning")
        changes(nb, "Verdict on pitfalls 2 and 6", choose("structure", "5PTI"))
        changes(nb, "Verdict on pitfalls 2 and 6", choose("preset", "boltz-2"))
        assert weights_shown(nb.page) == ["0", "0", "1"]


def test_05_trains_only_when_asked():
    with served("05_sampling_trajectories.py", "--no-gate", "--samples", "2", webgl=True) as nb:
        assert "Nothing has run yet" in "".join(nb.outputs().values())
        assert "What this run says" not in "".join(nb.outputs().values())
        nb.act(submit("Train and sample", **{"training steps": "30", "sampling steps": "8"}), 300)
        assert nb.errors() == []
        opened(nb, "05_sampling_trajectories")
        changes(nb, "projected on the target", slide("sampling step", 3, "ArrowLeft"))
        canvases, last, before_last = nb.viewer_steps()
        assert canvases >= 1 and last.startswith("step 8:") and before_last.startswith("step 7:")


def test_06_trains_only_when_asked():
    with served("06_loss_balance.py") as nb:
        assert "Nothing has run yet" in "".join(nb.outputs().values())
        nb.act(submit("Train both", **{"training steps": "30"}), 400)
        assert nb.errors() == []
        assert "Verdict on pitfall 5" in "".join(nb.outputs().values())
        opened(nb, "06_loss_balance")


def test_07_opens_on_the_committed_results():
    with served("07_ablation.py") as nb:
        opened(nb, "07_ablation")
        assert "Verdict" in "".join(nb.outputs().values())


def test_08_step_slider_moves_the_picture():
    with served("08_your_trajectory.py", webgl=True) as nb:
        opened(nb, "08_your_trajectory")
        changes(nb, "projected on its two main axes", slide("step", 2, "ArrowLeft"))
        canvases, last, before_last = nb.viewer_steps()
        assert canvases >= 1 and last != before_last and last.startswith("step ")


BROKEN = """import marimo
app = marimo.App()


@app.cell
def _():
    import marimo as mo

    choice = mo.ui.dropdown(["one", "zero"], value="one", label="divisor")
    choice
    return choice, mo


@app.cell
def _(choice, mo):
    shown = mo.md(f"result {1 / (1 if choice.value == 'one' else 0)}")
    shown
    return
"""


def test_the_harness_catches_a_cell_that_fails_only_in_the_browser(tmp_path):
    """A control that makes a cell raise: marimo's app view shows nothing, the harness reports the error."""
    nb_file = tmp_path / "broken.py"
    nb_file.write_text(BROKEN)
    with served(str(nb_file)) as nb:
        assert nb.errors() == [] and "result 1.0" in nb.output_with("result")
        nb.act(choose("divisor", "zero"))
        assert len(nb.errors()) == 1
