"""A preset file describes a model's settings exactly, and anything wrong in it is one line naming the key."""

import pytest

from pomodoro_core.core import presets
from pomodoro_core.core.errors import ParameterError
from pomodoro_core.core.preset_file import flag_defaults, load_preset_file, preset_from_toml
from pomodoro_core.experiments.examples import preset_toml


@pytest.mark.parametrize("name", presets.PRESET_NAMES)
def test_a_full_file_reproduces_the_preset_it_copies(name):
    copy = preset_from_toml(preset_toml(f"copy-of-{name}", name), "x", "test")
    assert copy.with_(name=name, source="") == presets.get_preset(name).with_(source="")


def test_a_base_fills_what_the_file_leaves_out():
    p = preset_from_toml('base = "pomodoro-v0.9.1"\nw_c = 2\nsigma_max = 20.0\n', "mine", "test")
    v091 = presets.get_preset("pomodoro-v0.9.1")
    assert p.name == "mine" and p.weights == presets.NoiseWeights(2.0, 1.6, 1.3) and p.sigma_max == 20.0
    assert (p.P_mean, p.P_std, p.steps, p.rho) == (v091.P_mean, v091.P_std, v091.steps, v091.rho)
    assert "on pomodoro-v0.9.1" in p.source
    assert flag_defaults(p)["w-c"] == 2.0 and flag_defaults(p)["sampler-steps"] == v091.steps


@pytest.mark.parametrize(
    "text, message",
    [
        ('base = "edm"\nsigma_dta = 3\n', "unknown key 'sigma_dta'"),
        ("w_c = 1\n", "missing w_r, w_a"),
        ('base = "edm"\nP_std = 9\n', "P_std must be a number in [0.05, 4] (got 9.0)"),
        ('base = "edm"\nw_c = "two"\n', "w_c must be a number in [0, 1000] (got 'two')"),
        ('base = "edm"\nsteps = 2.5\n', "steps must be a whole number in [1, 1000] (got 2.5)"),
        ('base = "edm"\ntrain_times_sigma_data = 1\n', "train_times_sigma_data must be true or false"),
        ('base = "edm"\nw_c = 0\nw_r = 0\nw_a = 0\n', "all three noise weights are 0"),
        ('base = "edm"\nsigma_min = 5.0\nsigma_max = 1.0\n', "preset file test:"),
        ('base = "no-such"\n', "unknown preset 'no-such'"),
        ("w_c = [1\n", "not valid TOML"),
        ('base = "edm"\nw_c = nan\n', "w_c must be a number"),
    ],
)
def test_a_bad_file_is_refused_in_one_line(text, message):
    with pytest.raises(ParameterError) as err:
        preset_from_toml(text, "x", "test")
    assert message in str(err.value) and str(err.value).startswith("preset file test:")
    assert "\n" not in str(err.value)


def test_a_file_preset_joins_the_presets_but_may_not_take_a_built_in_name(tmp_path, monkeypatch):
    monkeypatch.setattr(presets, "PRESETS", dict(presets.PRESETS))  # registered here only
    f = tmp_path / "mine.toml"
    f.write_text('base = "pomodoro-v0.9.0"\nw_r = 3\n')
    p = load_preset_file(f)
    assert p.name == "mine" and presets.get_preset("mine") == p and "mine" in presets.preset_names()
    assert load_preset_file(f) == p  # loading the same file again is fine
    f.write_text('name = "af3"\nbase = "af3"\n')
    with pytest.raises(ParameterError, match="is a built-in preset"):
        load_preset_file(f)
    with pytest.raises(ParameterError, match="not found"):
        load_preset_file(tmp_path / "none.toml")
