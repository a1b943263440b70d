"""The layering promises: the running app never loads torch or Qt outside desktop_app.ui."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_answering_a_prompt_loads_no_heavy_libraries() -> None:
    code = (
        "import sys, json\n"
        "import desktop_app.cli, desktop_app.engine, desktop_app.models.registry\n"
        "heavy = ('torch', 'transformers', 'optimum', 'PySide6')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
