"""Tables that fit the page: the important columns lead, numbers read as 4 significant figures, long text wraps."""

import polars as pl

from pomodoro_core.report import ui


def _frame():
    return pl.DataFrame(
        {
            "how": ["a long explanation of how the figure was computed, far wider than a column", "short"],
            "value": pl.Series([9.508000373840332, None], dtype=pl.Float32),
            "id": ["1a", "1b"],
        }
    )


def test_rounded_widens_float32_before_rounding():
    assert _frame().pipe(ui.rounded)["value"].to_list() == [9.508, None]


def test_the_first_columns_lead_and_stay_in_view():
    table = ui.table_view(_frame(), first=("id", "value"))
    assert [c for c in table.data.columns if not c.startswith("_marimo")] == ["id", "value", "how"]
    assert table._component_args["freeze-columns-left"] == ["id", "value"]


def test_numbers_show_four_figures_missing_ones_stay_missing_and_long_text_wraps():
    table = ui.table_view(_frame())
    args = table._component_args
    assert args["wrapped-columns"] == ["how"]
    page = table._searched_manager.apply_formatting(table._format_mapping).data  # what the page is sent
    assert page["value"].to_list() == ["9.508", None]


def test_columns_are_labelled_in_words_and_lead_under_their_new_names():
    raw = pl.DataFrame({"sample": [0], "rmsd": [1.5], "rg_ratio": [0.9]})
    table = ui.table_view(raw, first=("rmsd",))
    shown = [c for c in table.data.columns if not c.startswith("_marimo")]
    assert shown == ["RMSD to target (Å)", "sample", "Rg ÷ target's Rg"]
    assert table._component_args["freeze-columns-left"] == ["RMSD to target (Å)"]
