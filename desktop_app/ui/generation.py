"""The scheduler as the window sees it: handles with Qt signals, delivered on the GUI thread.

The session layer's Scheduler runs the engine on its own thread and calls back there.
Each QtHandle relays those callbacks through a queued signal to itself, so its public
signals are emitted on the GUI thread, where the store and the widgets live, and each
consumer hears only the request it submitted. The worker never touches a widget.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, ReasoningChunk, TextChunk
from desktop_app.session.scheduler import (
    Completed,
    EngineFactory,
    EngineInfo,
    Failed,
    GenerationHandle,
    HandleEvent,
    Scheduler,
    Source,
    Started,
)

log = logging.getLogger(__name__)


class QtHandle(QObject):
    """One request's events as signals on the GUI thread."""

    started = Signal()  # it left the queue
    prepared = Signal(object)  # PromptPrepared: how long the prompt is, what was left out
    text = Signal(int, str)  # version index (0, 1, ...), new text
    chunk = Signal(object)  # TextChunk or ReasoningChunk (a thinking model's reasoning), for who shows both
    version_finished = Signal(int, object)  # version index, Finished
    finished = Signal(object)  # Finished of version 0, after every version
    failed = Signal(str)  # a message for the user
    _relay = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.handle: GenerationHandle | None = None
        self.is_over = False
        self._relay.connect(self._on_relay)

    @property
    def source(self) -> Source | None:
        return self.handle.source if self.handle is not None else None

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()

    def deliver(self, event: HandleEvent) -> None:
        """Called on the scheduler's thread; the relay crosses to the GUI thread."""
        self._relay.emit(event)

    @Slot(object)
    def _on_relay(self, event: HandleEvent) -> None:
        if isinstance(event, Started):
            self.started.emit()
        elif isinstance(event, PromptPrepared):
            self.prepared.emit(event)
        elif isinstance(event, TextChunk):
            self.text.emit(event.index, event.text)
            self.chunk.emit(event)
        elif isinstance(event, ReasoningChunk):
            self.chunk.emit(event)
        elif isinstance(event, Finished):
            self.version_finished.emit(event.index, event)
        elif isinstance(event, Completed):
            self.is_over = True
            self.finished.emit(event.first)
        elif isinstance(event, Failed):
            self.is_over = True
            self.failed.emit(event.message)


class QtScheduler(QObject):
    """Owns the Scheduler for the window: starts it, submits, reloads, shuts it down."""

    model_loaded = Signal(object)  # EngineInfo
    model_failed = Signal(str)
    _model_relay = Signal(object, object)

    def __init__(self, engine_factory: EngineFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scheduler = Scheduler(engine_factory)
        self._live: set[QtHandle] = set()
        self._model_relay.connect(self._on_model_relay)
        self.scheduler.model_listeners.append(lambda info, failure: self._model_relay.emit(info, failure))

    def start(self) -> None:
        self.scheduler.start()

    def reload(self, engine_factory: EngineFactory | None = None) -> None:
        """Stop what runs and load again (another model or provider); model_loaded or
        model_failed follows."""
        self.scheduler.reload(engine_factory)

    def submit(self, request: GenerationRequest, source: Source) -> QtHandle:
        handle = QtHandle(self)
        self._live.add(handle)  # kept until it is over, whatever the consumer does
        handle.finished.connect(lambda _finished, h=handle: self._live.discard(h))
        handle.failed.connect(lambda _text, h=handle: self._live.discard(h))
        handle.handle = self.scheduler.submit(request, source, handle.deliver)
        return handle

    def waiting_for(self, handle: QtHandle) -> Source | None:
        """Whose request the queued `handle` waits behind (None once it runs)."""
        return self.scheduler.ahead_of(handle.handle) if handle.handle is not None else None

    def busy_with(self) -> Source | None:
        return self.scheduler.busy_with()

    @property
    def busy(self) -> bool:
        return self.scheduler.busy

    @property
    def is_running(self) -> bool:
        return self.scheduler.is_running

    def cancel_all(self) -> None:
        self.scheduler.cancel_all()

    def shutdown(self, timeout_s: float = 10.0) -> None:
        self.scheduler.shutdown(timeout_s)

    @Slot(object, object)
    def _on_model_relay(self, info: EngineInfo | None, failure: str | None) -> None:
        if info is not None:
            self.model_loaded.emit(info)
        else:
            self.model_failed.emit(failure or self.tr("The model could not be loaded."))
