"""The ablation's arms, its quick design end to end (what CI runs), resume, reproducible rows, safe tables,
and the fan-out on a real local Ray cluster (started and stopped here) with rows equal to the local pool's."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from pomodoro_core.core.errors import ParameterError
from pomodoro_core.experiments import ablation
from pomodoro_core.experiments import ablation_report as report

ROOT = Path(__file__).resolve().parents[2]
TIMING = ("seconds", "train_seconds", "command")  # wall time, and the --out folder named in the command


def cli(*args, env=None, prefix=()):
    return subprocess.run(
        [*prefix, sys.executable, "-m", "pomodoro_core.experiments.ablation", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip


def test_arms_are_the_design_plus_named_extras():
    arms = ablation.arms()
    names = [a.name for a in arms]
    assert len(names) == len(set(names)) == 16 + 2 + 8 + 6  # design, identity, leave-one-out, architecture
    design = ablation.training_design()
    budget = ablation.BUDGETS["quick"]
    base = arms[0].train_config(budget, 0)
    for a in arms[:16]:
        assert a.levels == {k: design.row(a.design_arm, named=True)[k] for k in a.levels}
    for f in ablation.TRAINING_FACTORS:  # each fix alone changes the configuration
        one = ablation.Arm("one", {g.key: (1 if g is f else -1) for g in ablation.TRAINING_FACTORS})
        assert one.train_config(budget, 0) != base, f.key
        loo = ablation.arm_by_name(f"all fixes but {f.key}")
        assert sum(v < 0 for v in loo.levels.values()) == 1 and loo.levels[f.key] == -1
    s0 = arms[0].sampler_config(0, budget)
    assert s0 == ablation.SamplerConfig.from_preset(ablation.get_preset("pomodoro-v0.9.0"), steps=budget.sampler_steps)
    for k in range(1, 16):
        assert arms[0].sampler_config(k, budget) != s0
    assert ablation.arm_by_name("as reviewed (no identity)").identity == "none"
    study = ablation.architecture_arms()
    assert len(study) == 8 and {a.arch for a in study.values()} == {"transformer", "geometric"}
    for (arch, aug, ident), a in study.items():  # each arm differs from the reviewed one in its named factors only
        t = a.train_config(budget, 0)
        assert t.model.arch == ("geometric" if arch > 0 else "transformer") and t.augment == (aug > 0)
        assert t.model.identity == ("atom" if ident > 0 else "none")
        assert a.sampler_config(0, budget).augment == (aug > 0)


@pytest.fixture(scope="module")
def quick_design(tmp_path_factory):
    out = tmp_path_factory.mktemp("ablation")
    res = cli("--budget", "quick", "--seeds", "0", "1", "--workers", "2", "--out", str(out))
    assert res.returncode == 0, res.stderr
    return out


def test_quick_design_runs_end_to_end_and_resumes(quick_design):
    files = list((quick_design / "runs").glob("*.json"))
    assert len(files) == 2 * len(ablation.arms())
    again = cli("--budget", "quick", "--seeds", "0", "1", "--workers", "1", "--out", str(quick_design))
    assert again.returncode == 0 and "0 runs to do" in again.stderr
    res = ablation.load(quick_design)
    assert res.runs.height == 2 * len(ablation.arms()) and set(res.runs["threads"]) == {1}
    resp = report.responses(res)
    main = report.training_effects(resp)
    assert main.height == 8 + 7 and main["effect"].is_finite().all()
    samp = report.sampler_effects(res, "rmsd")
    assert set(samp["models"]) == {"multiscale-trained", "isotropic-trained"}
    ident = report.identity_effects(resp)
    loo = report.leave_one_out(resp)
    lines = report.verdicts(main, loo, ident, samp)
    assert any(line.startswith("Identity") for line in lines) and sum("Pitfall" in line for line in lines) >= 8
    arch = report.architecture_effects(resp)
    assert set(arch["architecture"]) == {"both", "transformer", "geometric"} and arch["effect"].is_finite().all()
    assert len(report.architecture_verdicts(arch)) == 2


def _strip(path: Path) -> dict:
    rec = json.loads(path.read_text())
    for k in TIMING:
        rec["meta"].pop(k, None)
    return rec


@pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset (util-linux) is not installed")
@pytest.mark.parametrize("name", ["design: all fixes", "architecture: geometric, augment on, identity atom"])
def test_a_row_reproduces_bit_for_bit_on_another_core_count(quick_design, tmp_path, name):
    """The recorded command, run pinned to one core, gives the file the two-worker run wrote (both backbones)."""
    arm = ablation.arm_by_name(name)
    src = ablation.run_file(quick_design, arm, 1)
    cmd = json.loads(src.read_text())["meta"]["command"].split()
    args = [a.strip("'") for a in cmd[3:]]
    args = args[: args.index("--only") + 1] + [arm.name] + ["--out", str(tmp_path)]
    env = dict(os.environ, OMP_NUM_THREADS="2")
    res = cli(*args, "--workers", "1", env=env, prefix=("taskset", "-c", "0"))
    assert res.returncode == 0, res.stderr
    assert _strip(ablation.run_file(tmp_path, arm, 1)) == _strip(src)


def test_broken_or_mixed_tables_are_refused_with_one_line(quick_design, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(quick_design / "runs", runs)
    victim = sorted(runs.glob("*.json"))[0]
    victim.write_text(victim.read_text()[:100])  # cut off mid-file
    with pytest.raises(ParameterError, match="not a complete ablation run"):
        ablation.load(tmp_path)
    victim.unlink()
    rec = json.loads(sorted(runs.glob("*.json"))[0].read_text())
    rec["meta"]["budget"] = "cpu"
    (runs / "other.json").write_text(json.dumps(rec))
    with pytest.raises(ParameterError, match="mixes budgets"):
        ablation.load(tmp_path)
    rec["meta"] |= {"budget": "quick", "code": "0123456789ab", "seed": 99}  # a run of other code: not comparable
    (runs / "other.json").write_text(json.dumps(rec))
    with pytest.raises(ParameterError, match=f"mixes runs of different code .*this checkout's code is {ablation.current_code()}"):
        ablation.load(tmp_path)
    with pytest.raises(ParameterError, match="no ablation runs"):
        ablation.load(tmp_path / "empty")


def test_non_finite_untyped_or_duplicate_runs_are_refused(quick_design, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(quick_design / "runs", runs)
    first = sorted(runs.glob("*.json"))[0]
    good = first.read_text()
    for change, message in [
        (lambda r: r["sampling"][0].update(rmsd=float("nan")), "non-finite rmsd in a sampling row"),
        (lambda r: r["meta"].update(seed="0"), "meta seed is '0', not int"),
        (lambda r: r.update(sampling=[]), "says completed but holds no measurement"),
    ]:
        rec = json.loads(good)
        change(rec)
        first.write_text(json.dumps(rec))
        with pytest.raises(ParameterError, match=message):
            ablation.load(tmp_path)
    first.write_text(good)
    (runs / "copy.json").write_text(good)  # the same (arm, seed) twice: refused, not counted as two seeds
    with pytest.raises(ParameterError, match="duplicate runs .* not extra seeds"):
        ablation.load(tmp_path)


def test_resume_runs_a_cut_off_file_again(quick_design, tmp_path):
    arm = ablation.arm_by_name("design: all fixes")
    path = ablation.run_file(tmp_path, arm, 0)
    path.parent.mkdir(parents=True)
    path.write_text(ablation.run_file(quick_design, arm, 0).read_text()[:-40])  # a cut-off last record
    res = cli("--budget", "quick", "--seeds", "0", "--only", arm.name, "--workers", "1", "--out", str(tmp_path))
    assert res.returncode == 0 and "running again" in res.stderr and "1 runs to do" in res.stderr
    assert _strip(path) == _strip(ablation.run_file(quick_design, arm, 0))


@pytest.mark.parametrize(
    "args,message",
    [
        (["--workers", "0"], "--workers"),
        (["--only", "no such arm"], "no arm named"),
        (["--seeds", "-1"], "argument --seeds: must be a whole number in [0, 2147483647] (got '-1')"),
        (["--seeds", "99999999999999999999"], "argument --seeds: must be a whole number"),
        (["--budget", "huge"], "invalid choice"),
        (["--steps", "-5"], "unrecognized arguments: --steps -5"),
        pytest.param(
            ["--budget", "gpu-bf16"],
            "budget gpu-bf16 trains in bf16, which runs on CUDA only",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present: bf16 is allowed"),
        ),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    res = cli(*args, "--out", str(tmp_path))
    assert res.returncode == 2 and message in res.stderr and res.stderr.count("\n") == 1


def test_record_is_written_atomically(tmp_path):
    path = tmp_path / "runs" / "x.json"
    ablation.write_record(path, {"meta": {"arm": "a", "seed": 0}, "gain": [], "sampling": []})
    assert json.loads(path.read_text())["meta"]["arm"] == "a"
    assert not list(path.parent.glob("*.tmp"))


def test_architecture_effects_recover_a_planted_effect():
    """Synthetic responses: augmentation lowers the response by 0.6 under the transformer only, identity by 0.4 under
    both; the study's analysis finds exactly that, and the interaction arch×augment is half the difference."""
    rng = np.random.default_rng(0)
    blocks = {(seed, s): rng.normal() for seed in range(3) for s in ("s1", "s2", "s3", "s4")}  # pairing removes these
    rows = []
    for (arch, aug, ident), a in ablation.architecture_arms().items():
        for (seed, structure), block in blocks.items():
            y = block - 0.3 * aug * (arch < 0) - 0.2 * ident + 0.01 * rng.normal()
            rows.append({"arm": a.name, "seed": seed, "structure": structure, report.PRIMARY: y})
    arch = report.architecture_effects(pl.DataFrame(rows))
    get = lambda who, term: arch.filter((pl.col("architecture") == who) & (pl.col("term") == term)).row(0, named=True)  # noqa: E731
    assert get("transformer", "augment")["effect"] == pytest.approx(-0.6, abs=0.02)
    assert get("geometric", "augment")["effect"] == pytest.approx(0.0, abs=0.02)
    assert get("geometric", "identity")["effect"] == pytest.approx(-0.4, abs=0.02)
    assert get("both", "arch×augment")["effect"] == pytest.approx(0.3, abs=0.02)
    lines = report.architecture_verdicts(arch)
    for who in ("transformer", "geometric"):  # the verdicts quote the table
        assert f"{who}: {get(who, 'augment')['effect']:+.2f}" in lines[0]
        assert f"{who}: {get(who, 'identity')['effect']:+.2f}" in lines[1]
    assert "not clear" in lines[0].split("geometric:")[1].split(";")[0]  # geometric augment: no effect planted
    assert report.architecture_effects(pl.DataFrame(rows[:40])).height == 0  # arms missing: no table, no traceback


def test_study_flag_runs_the_architecture_arms_only(tmp_path):
    res = cli("--budget", "quick", "--seeds", "0", "--workers", "1", "--study", "architecture", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    runs = ablation.load(tmp_path).runs
    assert set(runs["arm"]) == {a.name for a in ablation.architecture_arms().values()}
    assert sorted(runs["arch"].to_list()) == ["geometric"] * 4 + ["transformer"] * 4


# --------------------------------------------------------------------------- fan-out on Ray

RAY_ARMS = ["design: all fixes", "architecture: geometric, augment on, identity atom"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """`ray start --head` on this machine, 2 CPUs, no dashboard, a random auth token; stopped afterwards."""
    if shutil.which("ray") is None:
        pytest.skip("Ray is not installed (pip install 'ray>=2.9'; the dev extras include it)")
    port = _free_port()
    env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16), RAY_USAGE_STATS_ENABLED="0")
    start = ["ray", "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2"]
    start += ["--include-dashboard=false", "--disable-usage-stats"]
    res = subprocess.run(start, capture_output=True, text=True, env=env, timeout=180)
    assert res.returncode == 0, res.stdout + res.stderr
    try:
        yield f"127.0.0.1:{port}", env
    finally:
        subprocess.run(["ray", "stop", "--force"], capture_output=True, env=env, timeout=120)


def test_arms_on_a_ray_cluster_equal_the_local_pool_bit_for_bit(quick_design, ray_cluster, tmp_path):
    address, env = ray_cluster
    res = cli("--budget", "quick", "--seeds", "1", "--only", *RAY_ARMS, "--executor", "ray", "--address", address,
              "--out", str(tmp_path), env=env)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert "runs to do, Ray at" in res.stderr and res.stderr.count("[ablation] done:") == len(RAY_ARMS)
    for name in RAY_ARMS:
        arm = ablation.arm_by_name(name)
        assert _strip(ablation.run_file(tmp_path, arm, 1)) == _strip(ablation.run_file(quick_design, arm, 1)), name
    assert not list(tmp_path.glob("runs/*.tmp*"))  # atomic writes leave no partial file
    again = cli("--budget", "quick", "--seeds", "1", "--only", *RAY_ARMS, "--executor", "ray", "--address", address,
                "--out", str(tmp_path), env=env)  # fmt: skip
    assert again.returncode == 0 and "0 runs to do" in again.stderr  # resumes without starting Ray


@pytest.mark.parametrize(
    "args, message",
    [
        (["--address", "127.0.0.1:1"], "--address and --gpus-per-run go with --executor ray"),
        (["--executor", "spark"], "--executor"),
        (["--executor", "ray", "--gpus-per-run", "-1"], "--gpus-per-run"),
    ],
)
def test_bad_executor_settings_get_one_line(args, message, tmp_path):
    res = cli("--budget", "quick", "--seeds", "0", "--only", RAY_ARMS[0], *args, "--out", str(tmp_path))
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
