"""A second `inkwell` started on the same data folder raises the first window and exits;
another data folder gets its own window."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def launch(data: Path, models: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, INKWELL_DATA_DIR=str(data), INKWELL_MODELS_DIR=str(models), QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [sys.executable, "-m", "desktop_app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.1)


def test_a_second_launch_on_the_same_folder_raises_the_first_and_exits(tmp_path: Path) -> None:
    data, other, models = tmp_path / "data", tmp_path / "other", tmp_path / "models"
    models.mkdir()
    first = launch(data, models)  # no model: it waits on its first-run dialog, window open
    try:
        wait_for(data / "instance.lock", 60)
        wait_for(data / "inkwell.db", 60)  # past the claim: the window is being built
        second = launch(data, models)
        _out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
        assert "already open" in err
        assert first.poll() is None  # the first one is still there
        third = launch(other, models)  # another data folder: a window of its own
        try:
            wait_for(other / "inkwell.db", 60)
            time.sleep(1)
            assert third.poll() is None
        finally:
            third.kill()
            third.wait(timeout=30)
    finally:
        first.kill()
        first.wait(timeout=30)
