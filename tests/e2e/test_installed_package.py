"""A plain, non-editable `pip install` of the project: it must carry its resources.

The package is built from a copy of the sources into a fresh venv; the dependencies come
from the dev venv through a .pth line (a plain path: the dev venv's editable-install finder
is not run, so the installed copy of desktop_app is the one imported). Everything runs
from an empty folder, so the checkout is not on sys.path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "desktop_app", "resources")


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv's python, with Inkwell installed from a wheel built like `pip install .`."""
    folder = tmp_path_factory.mktemp("installed")
    source = folder / "source"  # a copy, so that building leaves nothing in the checkout
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()
    )  # fmt: skip
    dev_site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "inkwell-dev-dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(dev_site)))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--no-index", str(source)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return python


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INKWELL_", "PYTHON"))}
    return env | {"QT_QPA_PLATFORM": "offscreen", "INKWELL_DATA_DIR": str(tmp_path / "data")} | extra


def test_the_installed_package_reads_its_resources_from_itself(installed: Path, tmp_path: Path) -> None:
    code = (
        "import json, desktop_app\n"
        "from desktop_app.core.paths import resources_dir\n"
        "from desktop_app.core.presets import draft_templates, system_presets\n"
        "print(json.dumps([desktop_app.__file__, str(resources_dir()), len(system_presets()), len(draft_templates())]))\n"
    )
    done = subprocess.run(
        [str(installed), "-c", code], cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    package, resources, presets, templates = json.loads(done.stdout)
    site = installed.parents[1] / "lib"
    assert Path(package).is_relative_to(site), package  # not the checkout, not the editable install
    assert Path(resources).is_relative_to(site) and (Path(resources) / "icons" / "inkwell.svg").is_file()
    assert presets and templates


def test_the_installed_package_passes_its_self_test(
    installed: Path, prepared: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    model_dir, _ = prepared
    inkwell = installed.with_name("inkwell")
    env = clean_env(tmp_path, INKWELL_MODELS_DIR=str(model_dir.parent))
    done = subprocess.run(
        [str(inkwell), "--self-test"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "self-test passed" in done.stdout
