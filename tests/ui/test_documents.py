"""Qt's document engine for PDF/ODT export, in a process that shows widgets too."""

from __future__ import annotations

import os
import subprocess
import sys

PROGRAM = """
from desktop_app.qt_documents import html_to_pdf
assert html_to_pdf("<h1>Export first</h1>").startswith(b"%PDF")
from PySide6.QtWidgets import QLabel
label = QLabel("then a widget")  # aborted when the export had made a bare QGuiApplication
print("ok")
"""


def test_an_export_before_any_window_leaves_widgets_possible() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-800:]
    assert done.stdout.strip() == "ok"
