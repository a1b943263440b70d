"""One way for every pane to tell the user something: a status message, a message with an
Undo button, or a problem in a non-blocking box (never a traceback).

Callers pass text already translated; the titles given to `reports_problems` are fixed at
import time, before a translator is installed, so they are marked with
`QT_TRANSLATE_NOOP("Problems", "…")` (PROBLEMS) and translated here, when it is shown."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton, QStatusBar, QWidget

from desktop_app.core.errors import UserError

log = logging.getLogger(__name__)

UNDO_MS = 10_000
PROBLEMS = "Problems"  # the translation context of the titles given to reports_problems


class StatusReporter(QObject):
    """Owns the status bar's message and its Undo button, and the problem box."""

    problem_shown = Signal(str, str)  # title, text

    def __init__(self, status_bar: QStatusBar, parent_window: QWidget, log_hint: str) -> None:
        super().__init__(parent_window)
        self.status_bar = status_bar
        self.parent_window = parent_window
        self.log_hint = log_hint
        self.problem_box: QMessageBox | None = None
        self.undo_button = QPushButton(self.tr("Undo"))
        self.undo_button.setAccessibleName(self.tr("Undo delete"))
        self.undo_button.hide()
        self._undo: Callable[[], None] | None = None
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(UNDO_MS)
        self._undo_timer.timeout.connect(self.undo_button.hide)
        self.undo_button.clicked.connect(self.undo)
        # The last reply's speed (the window puts it at the status bar's right end).
        self.speed_label = QLabel("")
        self.speed_label.setAccessibleName(self.tr("Speed of the last reply"))

    def show(self, message: str, timeout_ms: int = 4000) -> None:
        self.status_bar.showMessage(message, timeout_ms)

    def show_speed(self, stats: Any) -> None:
        """A reply's tokens/s, and where speculative decoding checked proposed tokens, the
        share of them the model kept (GenerationStats)."""
        text = self.tr("{speed} tokens/s").format(speed=f"{stats.tokens_per_s:.0f}")
        tip = ""
        if stats.proposed_tokens:
            share = round(100 * stats.accepted_tokens / stats.proposed_tokens)
            text += self.tr(" · {share}% accepted").format(share=share)
            tip = self.tr(
                "{accepted} of {proposed} proposed tokens were what the model chose: they cost no pass of their own."
            ).format(accepted=stats.accepted_tokens, proposed=stats.proposed_tokens)
        self.speed_label.setText(text)
        self.speed_label.setToolTip(tip)

    def offer_undo(self, message: str, undo: Callable[[], None]) -> None:
        """A message with an Undo button in the status bar for the next ten seconds."""
        self._undo = undo
        self.status_bar.showMessage(message, UNDO_MS)
        self.undo_button.show()
        self._undo_timer.start()

    @Slot()
    def undo(self) -> None:
        undo, self._undo = self._undo, None
        self.undo_button.hide()
        self.status_bar.clearMessage()
        if undo is not None:
            self.guard(self.tr("Could not undo"), undo)

    def problem(self, title: str, text: str) -> None:
        """A readable message, never a traceback; non-blocking so streaming goes on."""
        log.warning("%s: %s", title, text)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self.parent_window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.problem_box = box
        self.problem_shown.emit(title, text)

    def unexpected(self, title: str) -> None:
        """A bug: logged by the caller with its traceback, shown as "something went wrong"."""
        self.problem(title, self.tr("Something unexpected went wrong. {log_hint}").format(log_hint=self.log_hint))

    def guard(self, title: str, action: Callable[[], Any]) -> Any:
        """Run `action`; a UserError becomes a message with its hint, a bug "something went
        wrong" (logged with its traceback)."""
        try:
            return action()
        except UserError as exc:
            self.problem(title, str(exc))
        except Exception:
            log.exception(title)
            self.unexpected(title)
        return None


F = TypeVar("F", bound=Callable[..., Any])


def reports_problems(title: str) -> Callable[[F], F]:
    """For a method of an object with a `reporter`: a slot never fails silently or with a
    traceback. `title` is marked with QT_TRANSLATE_NOOP("Problems", …) and translated when the
    method runs (the language is chosen after the modules are imported)."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            shown = QCoreApplication.translate(PROBLEMS, title)
            return self.reporter.guard(shown, lambda: method(self, *args, **kwargs))

        return run  # type: ignore[return-value]

    return decorate
