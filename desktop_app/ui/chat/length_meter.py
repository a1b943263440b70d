"""How long the message being typed is, in tokens, against what the context window has left;
and how much of the context the open chat already uses."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QLocale, QObject
from PySide6.QtWidgets import QLabel, QProgressBar

from desktop_app.core.budget import estimate_tokens, prompt_budget
from desktop_app.session.scheduler import EngineInfo

# Counting a very long paste's tokens exactly would hold up typing; above this, estimate.
EXACT_COUNT_MAX_CHARS = 200_000


class LengthMeter(QObject):
    """The label under the message box and the context bar in the status bar."""

    def __init__(self, max_new_tokens: Callable[[], int], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.max_new_tokens = max_new_tokens
        self.engine_info: EngineInfo | None = None
        self.context_used = 0
        self.token_label = QLabel("")
        self.token_label.setAccessibleName(self.tr("Message length"))
        self.context_meter = QProgressBar()
        self.context_meter.setAccessibleName(self.tr("Context used"))
        self.context_meter.setMaximumWidth(140)
        self.context_meter.setFormat(self.tr("context %p%"))
        self.context_meter.setRange(0, 1)
        self.context_meter.setValue(0)

    def set_engine_info(self, info: EngineInfo | None) -> None:
        self.engine_info = info
        if info is not None:
            self.context_meter.setRange(0, info.context_length)
        self.show_context_used()

    def set_context_used(self, tokens: int) -> None:
        self.context_used = tokens
        self.show_context_used()

    def show_context_used(self) -> None:
        if self.engine_info is None:
            return
        length = self.engine_info.context_length
        self.context_meter.setValue(min(self.context_used, length))
        locale = QLocale()
        self.context_meter.setToolTip(
            self.tr("{used} of {length} tokens of context used by this chat").format(
                used=locale.toString(self.context_used), length=locale.toString(length)
            )
        )

    def update(self, text: str) -> None:
        """The message's length in tokens against what the context window has left."""
        if not text.strip() or self.engine_info is None:
            self.token_label.setText("")
            return
        locale = QLocale()
        if len(text) > EXACT_COUNT_MAX_CHARS:
            count = estimate_tokens(text)
            template = self.tr("about {count} tokens · {total} of {length} in context")
        else:
            count = self.engine_info.count_tokens(text)
            template = self.tr("{count} tokens · {total} of {length} in context")
        length = self.engine_info.context_length
        budget = prompt_budget(length, self.max_new_tokens())
        summary = template.format(
            count=locale.toString(count),
            total=locale.toString(self.context_used + count),
            length=locale.toString(length),
        )
        if count > budget:
            warning = self.tr("{summary}: too long for this model; shorten it or split it into parts")
            self.token_label.setText(f"<span style='color:#cf222e'>{warning.format(summary=summary)}</span>")
        elif self.context_used + count > budget:
            warning = self.tr("{summary}: the oldest messages will be left out")
            self.token_label.setText(f"<span style='color:#9a6700'>{warning.format(summary=summary)}</span>")
        else:
            self.token_label.setText(summary)
