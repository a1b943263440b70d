"""Killing the app while someone types loses at most the autosave window (2 s) of typing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHILD = r"""
import os, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from desktop_app.store import open_store
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.generation import QtScheduler
from tests.ui.conftest import FakeEngine

app = QApplication([])
store = open_store()
window = MainWindow(store, QtScheduler(FakeEngine))
window.show_writing_mode()
pane = window.writing_pane
pane.drafts.new_draft()
print("draft", pane.editor_pane.draft_id, flush=True)
count = 0

def type_a_word():
    global count
    pane.editor.moveCursor(pane.editor.textCursor().MoveOperation.End)
    pane.editor.insertPlainText(f"w{count} ")
    count += 1
    print("typed", time.monotonic(), len(pane.editor.toPlainText()), flush=True)

timer = QTimer()
timer.timeout.connect(type_a_word)
timer.start(50)
app.exec()
"""


def test_a_killed_app_keeps_all_but_the_last_two_seconds_of_typing(tmp_path: Path) -> None:
    env = dict(os.environ, INKWELL_DATA_DIR=str(tmp_path), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout is not None
    typed: list[tuple[float, int]] = []
    draft_id = ""
    started = time.monotonic()
    for line in child.stdout:
        kind, *rest = line.split()
        if kind == "draft":
            draft_id = rest[0]
            started = time.monotonic()  # typing starts now, however long the start-up took
        else:
            typed.append((float(rest[0]), int(rest[1])))
        if time.monotonic() - started > 3.5 and typed:
            break
    child.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL and draft_id

    from desktop_app.store import open_store

    store = open_store(tmp_path / "inkwell.db")
    try:
        saved = store.drafts.get(draft_id).body
    finally:
        store.close()
    # Everything typed more than 2 s before the kill must be on disk.
    must_have = max((length for at, length in typed if at <= killed_at - 2.0), default=0)
    assert must_have > 0, "the child typed for too short a time to test anything"
    assert len(saved) >= must_have
    assert saved.startswith("w0 w1 ") and saved.endswith(" ")  # whole words, never half a save
