"""Composition root: QApplication, store, generation worker, main window; and the self-test."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.system_libs import check_before_qt

log = logging.getLogger(__name__)
SELF_TEST_PROMPT = "What is the capital of France?"


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _build(
    provider: str | None, qsettings_path: Path | None = None, interactive: bool = True
) -> tuple[Any, Any, Any, Any]:
    """(app, store, scheduler, window), or raises UserError before any window opens."""
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.paths import data_dir, log_dir
    from desktop_app.core.presets import draft_templates, system_presets
    from desktop_app.engine import load_engine
    from desktop_app.models.registry import default_output_dir, default_registry, model_options, split_model_setting
    from desktop_app.session.servers import server_registry
    from desktop_app.session.settings import AppSettings, ModelChoice
    from desktop_app.session.speedup import apply_speedup, draft_choices
    from desktop_app.ui.generation import QtScheduler
    from desktop_app.ui.i18n import install_language
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.services import WindowServices
    from desktop_app.ui.theme import apply_appearance

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Inkwell")
    app.setOrganizationName("Inkwell")
    app.setApplicationDisplayName("Inkwell")
    _set_window_icon(app)
    # The system's language for what may be asked before the settings can be read (a damaged
    # database), then the one the settings choose, before any window's text is made.
    chosen = os.environ.get("INKWELL_LANGUAGE")
    install_language(app, chosen or "system")
    store = open_store_asking(app if interactive else None)
    settings = AppSettings.load(store)
    if not chosen and settings.language != "system":
        install_language(app, settings.language)
    registry = default_registry()
    servers = server_registry(store)

    def engine_factory(model_setting: str, chosen_provider: str, speedup: tuple[str, str] = ("auto", "")) -> Any:
        remote = servers.split_ref(model_setting)  # "SERVER:MODEL" of a server the user added
        if remote is not None:
            return servers.engine_loader(*remote, require_consent=True)
        model_id, quantization = split_model_setting(model_setting)

        def load() -> Any:  # resolved when the worker loads, so a model prepared after start-up is found
            engine = load_engine(registry.get(model_id).directory, chosen_provider, quantization)
            engine.speedup_note = apply_speedup(engine, *speedup, registry)
            return engine

        return load

    remote_models: list[ModelChoice] = []  # the added servers' models, as last heard
    refreshing = threading.Lock()

    def refresh_remote_models() -> None:
        """Ask the added servers for their models off the GUI thread (a dead one takes seconds)."""
        if not refreshing.acquire(blocking=False):
            return
        try:
            job = servers.listing_job()  # the store is read here, on its own thread
        except Exception:
            refreshing.release()
            raise

        def run() -> None:
            try:
                on_server = QCoreApplication.translate("App", "{model} on {server} (remote: {host})")
                remote_models[:] = [
                    ModelChoice(m.ref, on_server.format(model=m.model, server=m.server.name, host=m.server.host))
                    for listing in job()
                    for m in listing.models
                ]
            except Exception:
                log.exception("Listing the model servers' models failed")
            finally:
                refreshing.release()

        threading.Thread(target=run, name="inkwell-remote-models", daemon=True).start()

    def list_models() -> list[ModelChoice]:
        """The installed models, then the servers' as last heard; asks them again meanwhile
        (only the servers the user added: none, no connection)."""
        local = [ModelChoice(setting, label) for setting, label in model_options(registry.list())]
        if servers.list():
            refresh_remote_models()
        return local + list(remote_models)

    def prepare_default_model(progress: Any, cancel: Any) -> Path:
        from desktop_app.models.prepare import prepare_default

        return prepare_default(default_output_dir(), progress=progress, cancel=cancel)

    def import_model(source: Path, progress: Any, cancel: Any) -> Path:
        from desktop_app.models.prepare import prepare_model

        return prepare_model(source, default_output_dir(), progress=progress, cancel=cancel)

    def start_api_server(scheduler: Any, server: Any, key: str, on_request: Any, on_saved: Any) -> Any:
        from desktop_app.server.serve import start_in_background

        return start_in_background(scheduler, server, key, store.path, on_request, on_saved)

    apply_appearance(app, settings.theme, settings.font_size)
    scheduler = QtScheduler(
        engine_factory(settings.model, provider or settings.provider, (settings.speedup, settings.draft_model))
    )
    qsettings = QSettings(str(qsettings_path), QSettings.Format.IniFormat) if qsettings_path else QSettings()
    services = WindowServices(
        presets=system_presets(),
        templates=draft_templates(),
        list_models=list_models,
        engine_factory=engine_factory,
        drafts=lambda setting: draft_choices(registry, split_model_setting(setting)[0]),
        prepare_default_model=prepare_default_model,
        installed_models=lambda: registry.list(kind=None),  # chat and embedding models
        model_registry=registry,
        default_model_id=registry.default_id,
        delete_model=registry.delete,
        import_model=import_model,
        servers=servers,
        data_folder=data_dir(),
        start_api_server=start_api_server,
        log_hint=QCoreApplication.translate("App", "Details are in the log: {path}").format(
            path=log_dir() / "inkwell.log"
        ),
    )
    window = MainWindow(store, scheduler, qsettings, services)
    return app, store, scheduler, window


def _set_window_icon(app: Any) -> None:
    from PySide6.QtGui import QIcon

    from desktop_app.core.paths import resources_dir

    icon = resources_dir() / "icons" / "inkwell.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def open_store_asking(app: Any) -> Any:
    """open_store(), and when the database is refused (damaged, or from a newer Inkwell),
    ask the user: start a new database with the old file kept beside it, or quit."""
    from desktop_app.store import open_store
    from desktop_app.store.db import DatabaseRefused, DatabaseTooNew, default_db_path, set_aside

    while True:
        try:
            return open_store()
        except DatabaseRefused as exc:
            if app is None:
                raise
            from desktop_app.ui.dialogs import ask_about_refused_database

            path = default_db_path()
            if not ask_about_refused_database(exc, path, too_new=isinstance(exc, DatabaseTooNew)):
                raise
            kept = set_aside(path)
            log.warning("The refused database was set aside as %s", kept)


def run_gui(provider: str | None = None) -> int:
    if not _has_display():
        raise UserError(
            "No display was found, so the window cannot open.",
            hint="Use `inkwell chat` for a conversation in the terminal.",
        )
    problem = check_before_qt()  # before Qt: its own abort names the wrong library, or none
    if problem:
        log.error("%s", problem)  # started from the menu, the log is where it can be read
        raise UserError(problem, hint="Meanwhile, `inkwell chat` works in the terminal.")
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.paths import data_dir
    from desktop_app.ui.single_instance import SingleInstance, raise_window

    qt_app = QApplication.instance() or QApplication(sys.argv[:1])  # _build() takes this one
    instance = SingleInstance(data_dir(), qt_app)
    try:
        first = instance.claim()
    except UserError as exc:  # another one holds the folder but does not answer
        _show_start_problem(exc)
        raise
    if not first:  # one window per data folder: the first one is raised instead
        print("Inkwell is already open; its window was raised.", file=sys.stderr)
        return 0
    qt_app.aboutToQuit.connect(instance.release)
    try:
        app, store, _controller, window = _build(provider)
    except UserError as exc:
        _show_start_problem(exc)
        raise
    _report_unexpected_errors(window)
    instance.activation_requested.connect(lambda _argv: raise_window(window))
    window.show()
    window.start()  # the model loads in the background once the window shows
    checker = check_large_database_in_background(store.path, window)
    code = int(app.exec())
    if checker is not None:
        checker.join(timeout=5)
    store.close()
    return code


def _show_start_problem(exc: UserError) -> None:
    """Started from the desktop's menu, a message box is the only place a user sees why."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication, QMessageBox

    _ = QApplication.instance() or QApplication(sys.argv[:1])
    QMessageBox.critical(None, QCoreApplication.translate("App", "Inkwell cannot start"), str(exc))


def _report_unexpected_errors(window: Any) -> None:
    """A bug in a slot is logged with its traceback and shown as a plain message."""
    from PySide6.QtCore import QCoreApplication

    previous = sys.excepthook

    def hook(kind: Any, value: Any, traceback: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, traceback)
            return
        log.error("Unexpected error", exc_info=(kind, value, traceback))
        if isinstance(value, UserError):
            window.reporter.problem("Inkwell", str(value))
        else:
            window.reporter.problem(
                QCoreApplication.translate("App", "Something went wrong"),
                QCoreApplication.translate("App", "Inkwell met an unexpected error. {log_hint}").format(
                    log_hint=window.services.log_hint
                ),
            )

    sys.excepthook = hook


def check_large_database_in_background(path: Path, window: Any) -> Any:
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


def seconds_since_start() -> float | None:
    """How long ago this process started (Linux: from /proc; None elsewhere)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return uptime - started


def memory_mb() -> float | None:
    """Resident memory of this process now (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def _self_test(provider: str | None, folder: Path) -> int:
    app, store, scheduler, window = _build(provider, folder / "window.ini", interactive=False)
    try:
        window.show()
        app.processEvents()
        shown = seconds_since_start()
        if shown is not None:
            print(f"window shown {shown:.2f} s after the process started")
        failure = _self_test_steps(store, scheduler, window)
    finally:
        window.close()
        store.close()
        app.processEvents()
    if failure:
        print(f"self-test failed: {failure}", file=sys.stderr)
        return 1
    return 0


def _self_test_steps(store: Any, scheduler: Any, window: Any) -> str | None:
    """None when every step passed, else what failed."""
    from desktop_app.transcripts.export import conversations_bytes

    problems: list[str] = []
    replies: list[str] = []
    window.model_status.model_unavailable.connect(problems.append)
    window.reply_finished.connect(replies.append)
    if not window.services.list_models():
        return "no model is prepared (run: inkwell models prepare)"
    scheduler.start()
    if not _wait_until(lambda: window.model_status.engine_info is not None or problems, 300):
        return "the model did not load within five minutes"
    if problems:
        return f"the model did not load: {problems[0]}"
    loaded, memory = seconds_since_start(), memory_mb()
    if loaded is not None and memory is not None:
        print(f"model loaded {loaded:.2f} s after the process started; memory {memory:.0f} MB")
    chat = window.chat_pane
    chat.settings_pane.form.temperature.setValue(0.0)  # greedy: the same answer every time
    chat.composer.setPlainText(SELF_TEST_PROMPT)
    chat.send()
    if not _wait_until(lambda: bool(replies), 300):
        return "no reply within five minutes"
    reply = store.conversations.message(replies[0])
    exported = conversations_bytes(store, [reply.conversation_id], "md").decode()
    if reply.status != "complete" or not reply.content.strip():
        return f"the reply was not saved complete ({reply.status})"
    if reply.content.strip() not in exported:
        return "the exported transcript lacks the reply"
    print(f"self-test passed: {window.model_status.label.text()}; reply: {reply.content.strip()[:80]!r}")
    return None
