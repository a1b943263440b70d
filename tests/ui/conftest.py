"""A fake engine that streams canned tokens, and a main window wired to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from desktop_app.core.generation import FinishReason, GenerationStats
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, TextChunk
from desktop_app.store import Store


@dataclass
class FakeEngine:
    tokens: list[str] = field(default_factory=lambda: ["Paris ", "is ", "the ", "capital."])
    delay_s: float = 0.0
    requests: list[GenerationRequest] = field(default_factory=list)
    manifest: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(id="fake", name="Fake model"))
    provider: SimpleNamespace = field(
        default_factory=lambda: SimpleNamespace(name="cpu", label="CPU", reason="a fake for tests")
    )
    variant: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(quantization="q4"))
    context_length: int = 2048
    dropped_messages: int = 0  # what the prompt had to leave out, as reported

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[object]:
        self.requests.append(request)
        yield PromptPrepared(10, self.dropped_messages, 0, self.context_length)
        for index in range(request.settings.num_alternatives):  # versions after the first say "(v2)" ...
            tokens = self.tokens if index == 0 else [*self.tokens, f" (v{index + 1})"]
            sent: list[str] = []
            reason = FinishReason.STOP_TOKEN
            for token in tokens:
                if cancel is not None and cancel.is_set():
                    reason = FinishReason.CANCELLED
                    break
                time.sleep(self.delay_s)
                sent.append(token)
                yield TextChunk(token, index)
            stats = GenerationStats(10, len(sent), 5.0, 100.0, reason, seed=1 + index)
            yield Finished(index, "".join(sent), stats)


@pytest.fixture
def make_window(qtbot, store: Store, tmp_path: Path):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings

    from desktop_app.ui.generation import QtScheduler
    from desktop_app.ui.main_window import MainWindow

    windows = []

    def make(engine_factory, services=None, start=True):  # type: ignore[no-untyped-def]
        scheduler = QtScheduler(engine_factory)
        qsettings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
        window = MainWindow(store, scheduler, qsettings, services)
        qtbot.addWidget(window)
        windows.append(window)
        if start:
            # Wait by polling: pytest-qt's waitSignal on a signal emitted from the worker's
            # thread would stop its own timer from that thread.
            scheduler.start()
            qtbot.waitUntil(lambda: window.model_status.engine_info is not None, timeout=30_000)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.scheduler.is_running  # no dangling threads


def titles(window) -> list[str]:  # type: ignore[no-untyped-def]
    """The sidebar's conversation rows (date headings left out)."""
    return [item.text() for item in window.list_pane.sidebar.conversation_items()]


def select(window, index: int) -> None:  # type: ignore[no-untyped-def]
    """Click the index-th conversation row."""
    window.list_pane.sidebar.setCurrentItem(window.list_pane.sidebar.conversation_items()[index])


def ask_and_wait(qtbot, window, text: str) -> str:  # type: ignore[no-untyped-def]
    window.chat_pane.composer.setPlainText(text)
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        window.chat_pane.send()
    return str(finished.args[0])


def click_action(qtbot, window, action: str, message_id: str) -> None:  # type: ignore[no-untyped-def]
    """What a click on a message's action link does."""
    from PySide6.QtCore import QUrl

    window.chat_pane.chat_view.anchorClicked.emit(QUrl(f"inkwell:{action}/{message_id}"))


def conversations_with(store: Store, *titles: str) -> list[str]:
    ids = []
    for title in titles:
        c = store.conversations.create(title)
        store.conversations.add_message(c.id, "user", f"question about {title.lower()}")
        store.conversations.add_message(c.id, "assistant", f"an answer about {title.lower()}")
        ids.append(c.id)
    return ids
