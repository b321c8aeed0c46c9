"""Tests of pomodoro_core/experiments/fanout.py beyond the ablation's (tests/experiments/test_ablation.py)."""

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

DRIVER = """
import sys
sys.path.insert(0, {here!r})
from test_fanout import tell_and_sleep
from pomodoro_core.experiments.fanout import Executor, fan_out
for _ in fan_out(tell_and_sleep, [({folder!r},), ({folder!r},)], Executor("local", workers=2)):
    pass
"""


def tell_and_sleep(folder: str) -> None:
    """A long run: leaves its pid in `folder`, then sleeps."""
    Path(folder, str(os.getpid())).touch()
    time.sleep(300)


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] != "Z"  # a zombie has ended
    except (FileNotFoundError, IndexError):
        return False


def wait_for(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_workers_end_when_their_driver_is_killed(tmp_path):
    """A driver killed outright (SIGKILL: no clean-up runs) leaves no worker computing runs nobody will write."""
    cmd = [sys.executable, "-c", DRIVER.format(here=str(HERE), folder=str(tmp_path))]
    driver = subprocess.Popen(cmd, cwd=ROOT)
    try:
        assert wait_for(lambda: len(list(tmp_path.iterdir())) == 2, 120), "the workers never started"
        pids = [int(p.name) for p in tmp_path.iterdir()]
        assert all(alive(p) for p in pids)  # running while the driver runs: the check below can fail
    finally:
        driver.kill()
        driver.wait()
    assert wait_for(lambda: not any(alive(p) for p in pids), 15), [p for p in pids if alive(p)]
