"""Composition root: QApplication, store, generation worker, main window; and the self-test."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError

log = logging.getLogger(__name__)
SELF_TEST_PROMPT = "What is the capital of France?"


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _build(provider: str | None, qsettings_path: Path | None = None) -> tuple[Any, Any, Any, Any]:
    """(app, store, controller, window), or raises UserError before any window opens."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.engine import load_engine
    from desktop_app.models.registry import default_registry
    from desktop_app.store import open_store
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.worker import GenerationController

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Inkwell")
    app.setOrganizationName("Inkwell")
    store = open_store()
    try:
        model = default_registry().get(store.settings.get("model", "") or None)
        chosen_provider = provider or store.settings.get("provider", "auto")
    except UserError:
        store.close()
        raise
    controller = GenerationController(lambda: load_engine(model.directory, chosen_provider))
    qsettings = QSettings(str(qsettings_path), QSettings.Format.IniFormat) if qsettings_path else QSettings()
    window = MainWindow(store, controller, qsettings)
    return app, store, controller, window


def run_gui(provider: str | None = None) -> int:
    if not _has_display():
        raise UserError(
            "No display was found, so the window cannot open.",
            hint="Use `inkwell chat` for a conversation in the terminal.",
        )
    try:
        app, store, controller, window = _build(provider)
    except UserError as exc:
        from PySide6.QtWidgets import QApplication, QMessageBox

        _ = QApplication.instance() or QApplication(sys.argv[:1])
        QMessageBox.critical(None, "Inkwell cannot start", str(exc))
        raise
    controller.start()
    window.show()
    checker = _check_large_database_in_background(store.path, window)
    code = int(app.exec())
    if checker is not None:
        checker.join(timeout=5)
    store.close()
    return code


def _check_large_database_in_background(path: Path, window: Any) -> Any:
    """open_store() skips the full integrity check on large files; run it now, off the GUI
    thread, and tell the user if it finds damage (their data stays as it is)."""
    import threading

    from PySide6.QtCore import QObject, Signal

    from desktop_app.store.db import FULL_CHECK_MAX_BYTES, check_integrity

    if path.stat().st_size <= FULL_CHECK_MAX_BYTES:
        return None

    class _Relay(QObject):
        damaged = Signal(str)

    relay = _Relay(window)
    relay.damaged.connect(window.show_database_damage)

    def check() -> None:
        try:
            check_integrity(path)
        except UserError as exc:
            relay.damaged.emit(str(exc))

    thread = threading.Thread(target=check, name="inkwell-integrity-check", daemon=True)
    thread.start()
    return thread


def _wait_until(condition: Any, timeout_s: float) -> bool:
    """Let Qt run until `condition()` holds (True) or the time is up (False)."""
    import time

    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    return True


def self_test(provider: str | None = None) -> int:
    """Open the window, ask the real model through the worker thread, check it was saved and
    exports; in a throwaway data folder. 0 when all is well, else 1 with the reason."""
    if not _has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="inkwell-self-test-") as folder:
        os.environ["INKWELL_DATA_DIR"] = folder
        try:
            return _self_test(provider, Path(folder))
        except UserError as exc:
            print(f"self-test failed: {exc}", file=sys.stderr)
            return 1


def _self_test(provider: str | None, folder: Path) -> int:
    from desktop_app.transcripts.export import conversations_bytes

    app, store, controller, window = _build(provider, folder / "window.ini")
    failure = None
    try:
        window.show()
        problems: list[str] = []
        replies: list[str] = []
        window.model_unavailable.connect(problems.append)
        window.reply_finished.connect(replies.append)
        controller.start()
        if not _wait_until(lambda: window.engine_info is not None or problems, 300):
            failure = "the model did not load within five minutes"
        elif problems:
            failure = f"the model did not load: {problems[0]}"
        else:
            window.composer.setPlainText(SELF_TEST_PROMPT)
            window.send()
            if not _wait_until(lambda: bool(replies), 300):
                failure = "no reply within five minutes"
            else:
                reply = store.conversations.message(replies[0])
                exported = conversations_bytes(store, [reply.conversation_id], "md").decode()
                if reply.status != "complete" or not reply.content.strip():
                    failure = f"the reply was not saved complete ({reply.status})"
                elif reply.content.strip() not in exported:
                    failure = "the exported transcript lacks the reply"
                else:
                    print(f"self-test passed: {window.model_label.text()}; reply: {reply.content.strip()[:80]!r}")
    finally:
        window.close()
        store.close()
        app.processEvents()
    if failure:
        print(f"self-test failed: {failure}", file=sys.stderr)
        return 1
    return 0
