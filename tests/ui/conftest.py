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

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[object]:
        self.requests.append(request)
        yield PromptPrepared(10, 0, 0, self.context_length)
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

    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.worker import GenerationController

    windows = []

    def make(engine_factory, services=None, start=True):  # type: ignore[no-untyped-def]
        controller = GenerationController(engine_factory)
        qsettings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
        window = MainWindow(store, controller, qsettings, services)
        qtbot.addWidget(window)
        windows.append(window)
        if start:
            # Wait by polling: pytest-qt's waitSignal on a signal emitted from the worker's
            # thread would stop its own timer from that thread.
            controller.start()
            qtbot.waitUntil(lambda: window.engine_info is not None, timeout=30_000)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.controller.thread.isRunning()  # no dangling threads


def titles(window) -> list[str]:  # type: ignore[no-untyped-def]
    """The sidebar's conversation rows (date headings left out)."""
    return [item.text() for item in window.sidebar.conversation_items()]


def select(window, index: int) -> None:  # type: ignore[no-untyped-def]
    """Click the index-th conversation row."""
    window.sidebar.setCurrentItem(window.sidebar.conversation_items()[index])
