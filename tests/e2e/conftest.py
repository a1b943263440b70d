"""The real default model, prepared once per test session (as `make run` does)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    models = tmp_path_factory.mktemp("default-model")
    env = dict(os.environ, INKWELL_MODELS_DIR=str(models), INKWELL_DATA_DIR=str(tmp_path_factory.mktemp("data")))
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "models", "prepare"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "max diff" not in done.stdout  # the exporter's chatter stays out of the terminal
    return models / "smollm2-135m-instruct", env
