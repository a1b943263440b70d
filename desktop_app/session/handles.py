"""What a submitted request is: who asked (Source), the handle its consumer holds, and
the events the handle reports beyond the engine's own."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from desktop_app.core.i18n import translate
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, ReasoningChunk, TextChunk


class Source(str, Enum):
    """Who asked: decides the priority and how a busy model is explained."""

    CHAT = "chat"
    COWRITER = "cowriter"
    API = "api"
    COMPARE = "compare"  # the window's Compare mode: the user waits for it as for a chat reply

    @property
    def priority(self) -> int:
        return {"chat": 0, "compare": 0, "cowriter": 1, "api": 2}[self.value]

    @property
    def description(self) -> str:
        """Who the model is busy with, in the window's language."""
        return {
            "chat": translate("Source", "a chat reply"),
            "cowriter": translate("Source", "the co-writer"),
            "api": translate("Source", "another program's request"),
            "compare": translate("Source", "a comparison"),
        }[self.value]


# Events a handle reports beyond the engine's own (PromptPrepared, TextChunk, Finished).
@dataclass(frozen=True)
class Started:
    """The request left the queue and runs now."""


@dataclass(frozen=True)
class Completed:
    """Every version is written; `first` is version 0's result."""

    first: Finished


@dataclass(frozen=True)
class Failed:
    """The request could not be answered; `message` is for the user. `code` names the
    cause where a caller answers differently ("context_length_exceeded")."""

    message: str
    code: str | None = None


CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"


HandleEvent = Started | PromptPrepared | TextChunk | ReasoningChunk | Finished | Completed | Failed
_END = (Completed, Failed)


class GenerationHandle:
    """One submitted request. Its events go to `listener` (called on the scheduler's
    thread) or, without one, wait in a queue for `events()`."""

    def __init__(
        self,
        handle_id: int,
        request: GenerationRequest,
        source: Source,
        listener: Callable[[HandleEvent], None] | None = None,
    ) -> None:
        self.id = handle_id
        self.request = request
        self.source = source
        self.cancel_event = threading.Event()
        self._listener = listener
        self._queue: queue.Queue[HandleEvent] = queue.Queue()
        self.done = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def _emit(self, event: HandleEvent) -> None:
        if isinstance(event, _END):
            self.done.set()
        if self._listener is not None:
            self._listener(event)
        else:
            self._queue.put(event)

    def events(self, poll_s: float = 0.1) -> Iterator[HandleEvent]:
        """Every event until Completed or Failed (both included). Waits in short steps so
        that Ctrl+C reaches a command-line caller."""
        if self._listener is not None:
            raise RuntimeError("this handle reports to a listener")
        while True:
            try:
                event = self._queue.get(timeout=poll_s)
            except queue.Empty:
                continue
            yield event
            if isinstance(event, _END):
                return
