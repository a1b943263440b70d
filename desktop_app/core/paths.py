"""Where Inkwell keeps its files: the user's data dir, private to them; and where it finds
its own (resources/, the bundled model)."""

from __future__ import annotations

import importlib.resources
import os
import sys
from pathlib import Path

DATA_DIR_ENV = "INKWELL_DATA_DIR"
APP_NAME = "Inkwell"
# resources/ is installed as this package (setup.py maps it), so a wheel carries it.
RESOURCES_PACKAGE = "desktop_app.resources"


def data_dir() -> Path:
    """The data folder (created on first use, readable by the user alone).

    INKWELL_DATA_DIR overrides the platform's user data dir; tests and scripts use it.
    """
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        path = Path(override).expanduser()
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP_NAME, appauthor=False))
    return ensure_private_dir(path)


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(path, 0o700)
    return path


def user_models_dir() -> Path:
    """Models the user imported or prepared outside a source checkout."""
    return ensure_private_dir(data_dir() / "models")


def resources_dir() -> Path:
    """The folder of icons, prompt presets, draft templates and the .desktop entry.

    Installed (from a wheel, or editable) it is the package data desktop_app.resources,
    found through importlib.resources; the frozen app carries it as resources/ in its
    bundle (as qutebrowser does); a source checkout that was never installed has it beside
    the package.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    try:
        found = importlib.resources.files(RESOURCES_PACKAGE)
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "resources"
    if not isinstance(found, Path):  # Inkwell is never imported from a zip file
        raise RuntimeError(f"Inkwell's resources are not a folder on disk: {found}")
    return found


def bundled_models_dir() -> Path:
    """onnx_models/ beside the package: in a source checkout, and inside the frozen app."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "onnx_models"
    return Path(__file__).resolve().parents[2] / "onnx_models"


def log_dir() -> Path:
    return ensure_private_dir(data_dir() / "logs")
