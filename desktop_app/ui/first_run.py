"""Preparing a model in the background with a progress bar and Cancel: the first run (no
model is prepared yet, so explain and prepare the default one) and imports."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLocale, QObject, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop_app.core.errors import UserError

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
Prepare = Callable[[Progress, threading.Event], Path]


class _Relay(QObject):
    """Carries the preparation thread's news to the GUI thread (queued signals)."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)


class PreparationDialog(QDialog):
    """Runs `prepare(progress, cancel)` on a background thread with a progress bar.

    Accepted when the model is ready; rejected with "Not now" (or after a cancel). A
    failure is shown in the dialog, with the chance to try again.
    """

    def __init__(
        self,
        prepare: Prepare,
        parent: QWidget | None = None,
        title: str | None = None,
        explanation: str | None = None,
        start_text: str | None = None,
    ) -> None:
        """`title`, `explanation` (HTML) and `start_text` come translated; None: the first
        run's, which explain the default model."""
        super().__init__(parent)
        self.setWindowTitle(title if title is not None else self.tr("Prepare the model"))
        self._prepare = prepare
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.prepared: Path | None = None
        self.explanation = QLabel(explanation if explanation is not None else self.welcome())
        self.explanation.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName(self.tr("Preparation progress"))
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox()
        self.prepare_button = QPushButton(start_text if start_text is not None else self.tr("Prepare the model"))
        self.prepare_button.setDefault(True)
        self.close_button = QPushButton(self.tr("Not now"))
        self.buttons.addButton(self.prepare_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)
        self._relay = _Relay(self)
        self._relay.progressed.connect(self._on_relay_progressed)
        self._relay.succeeded.connect(self._on_relay_succeeded)
        self._relay.failed.connect(self._on_relay_failed)
        self.prepare_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)

    def welcome(self) -> str:
        """The first run's explanation: no model is ready, the default one can be prepared."""
        return "<h3>{}</h3><p>{}</p><p>{}</p>".format(
            self.tr("Welcome to Inkwell"),
            self.tr(
                "Inkwell writes with a language model that runs on this computer, so your text never "
                "leaves it. No model is ready yet."
            ),
            self.tr(
                "Inkwell can prepare its default model, SmolLM2-135M-Instruct, from the copy installed "
                "with it: it is converted once for fast use here, which takes a few minutes. Nothing is "
                "downloaded."
            ),
        )

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @Slot()
    def start(self) -> None:
        if self.running:
            return
        self._cancel.clear()
        self.prepare_button.setEnabled(False)
        self.close_button.setText(self.tr("Cancel"))
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText(self.tr("Starting…"))
        self._thread = threading.Thread(target=self._run, name="inkwell-prepare-model", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            path = self._prepare(self._relay.progressed.emit, self._cancel)
        except UserError as exc:
            self._relay.failed.emit(str(exc))
        except Exception:
            log.exception("Preparing the model failed")
            # tr() on this thread is fine: QCoreApplication.translate is thread-safe.
            self._relay.failed.emit(self.tr("Preparing the model failed because of an unexpected error (see the log)."))
        else:
            self._relay.succeeded.emit(path)

    @Slot(int, int, str)
    def _on_relay_progressed(self, step: int, total: int, message: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(step)
        locale = QLocale()
        self.status.setText(
            self.tr("Step {step} of {total}: {message}").format(
                step=locale.toString(step), total=locale.toString(total), message=message
            )
        )

    @Slot(object)
    def _on_relay_succeeded(self, path: Path) -> None:
        self.prepared = path
        self.accept()

    @Slot(str)
    def _on_relay_failed(self, text: str) -> None:
        self.progress.hide()
        if self._cancel.is_set():
            super().reject()
            return
        self.status.setText(f"<span style='color:#cf222e'>{text}</span>".replace("\n", "<br>"))
        self.prepare_button.setEnabled(True)
        self.prepare_button.setText(self.tr("Try again"))
        self.close_button.setText(self.tr("Not now"))

    def reject(self) -> None:
        if self.running:  # cancelled between steps; the dialog closes when the thread stops
            self._cancel.set()
            self.close_button.setEnabled(False)
            self.status.setText(self.tr("Cancelling after the current step…"))
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)


# The first run's dialog is the plain one: its defaults explain the default model.
FirstRunDialog = PreparationDialog
