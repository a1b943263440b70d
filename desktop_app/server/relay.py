"""A streamed answer's way from the scheduler's thread to its client.

A stream's handle reports to a `StreamRelay` (its listener, called on the scheduler's
thread). Once its prompt is prepared and fits (PromptPrepared, no message dropped), each
text and finish event is turned into its server-sent-event chunk at once and sent from
the scheduler's thread, before the next forward pass, when the socket takes it without
waiting; the response's head goes out with the first of them, or when the HTTP thread
gets there first (`open()`). Only what the socket cannot take at once (a slow reader),
the end of the stream and a failure wake the HTTP thread. So a token reaches the client
with no thread hand-off, and neither the prompt's prefill nor a batch of streams wakes a
thread per stream while the model computes.

A socket that fails to take data means the client has gone: the relay cancels the
request, which stops within a token.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from desktop_app.engine import Finished, PromptPrepared, ReasoningChunk, TextChunk
from desktop_app.server.protocol import ApiCall
from desktop_app.server.responses import Shapes, finish_reason
from desktop_app.session.handles import Completed, Failed, GenerationHandle, HandleEvent, Started

Encoder = Callable[[HandleEvent], bytes]

log = logging.getLogger(__name__)


class StreamRelay:
    """The listener of one streamed request's handle; see the module's text."""

    def __init__(self, connection: socket.socket, head: bytes, encode: Encoder) -> None:
        self._connection = connection
        self._head, self.encode = head, encode
        self._lock = threading.Condition()
        self._events: deque[HandleEvent] = deque()  # for the HTTP thread, in order
        self._out = bytearray()  # encoded, not yet sent
        # The scheduler's thread writes through a non-blocking twin of the connection (a send
        # on a socket with a timeout may wait for it), the HTTP thread through the connection.
        self._direct: socket.socket | None = None
        if connection.gettimeout() is not None:  # its descriptor is non-blocking already
            self._direct = connection.dup()
            self._direct.setblocking(False)
        self._accepted = False  # the prompt fits: text goes out from put()
        self._head_sent = False  # (queued in _out)
        self._sending = False  # the HTTP thread is sending what it took from _out
        self.gone = False
        self.handle: GenerationHandle | None = None  # set once submitted: a client gone cancels it

    # ---- the scheduler's thread ----

    def put(self, event: HandleEvent) -> None:
        with self._lock:
            if not (self._accepted and isinstance(event, TextChunk | ReasoningChunk | Finished)):
                self._events.append(event)
                if isinstance(event, PromptPrepared) and not event.dropped_messages and self._direct is not None:
                    self._accepted = True  # the HTTP thread reads it when it next wakes
                elif not isinstance(event, Started):
                    self._lock.notify_all()
                return
            if self.gone:
                return
            try:
                self._queue_head()
                self._out += self.encode(event)
                if not self._sending:
                    self._send_now()
            except Exception:  # never into the scheduler's thread: this stream alone ends
                log.exception("Streaming a reply failed")
                self._lose()
            if self._out or self.gone:
                self._lock.notify_all()

    def _send_now(self) -> None:
        """Send what the socket takes without waiting (with the lock held)."""
        assert self._direct is not None
        try:
            sent = self._direct.send(self._out)
        except BlockingIOError:
            return  # full: the HTTP thread sends it when the client reads
        except (OSError, ValueError):
            self._lose()
            return
        del self._out[:sent]

    def _lose(self) -> None:
        self.gone = True
        self._out.clear()
        if self.handle is not None:
            self.handle.cancel()

    # ---- the HTTP thread ----

    def events(self, poll_s: float = 0.05) -> Iterator[HandleEvent]:
        """The events for the HTTP thread, until the request ends (its last event included);
        once open, what the scheduler's thread left unsent is sent first."""
        while True:
            with self._lock:
                while not self._events and not (self._out and not self._sending):
                    self._lock.wait(poll_s)
                pending, self._out = bytes(self._out), bytearray()
                self._sending = bool(pending)
                event = self._events.popleft() if self._events and not pending else None
            if pending:
                self._send_all(pending)
                continue
            assert event is not None
            yield event
            if isinstance(event, Completed | Failed):
                return

    def _send_all(self, data: bytes) -> None:
        try:
            self._connection.sendall(data)
        except OSError:
            with self._lock:
                self._lose()
        finally:
            with self._lock:
                self._sending = False

    def _queue_head(self) -> None:
        if not self._head_sent:
            self._out += self._head  # nothing is ever queued before it
            self._head_sent = True

    def open(self) -> None:
        """The HTTP thread accepted the prompt: the response's head goes out now unless it
        went with the first text already. (On a blocking socket every event comes to the
        HTTP thread, which encodes and writes it.)"""
        with self._lock:
            self._queue_head()
            self._lock.notify_all()

    def close(self) -> None:
        """After the request's end (the scheduler's thread writes no more)."""
        if self._direct is not None:
            self._direct.close()


def sse(payload: dict[str, Any] | str) -> bytes:
    """One server-sent event as one HTTP/1.1 chunk."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    data = f"data: {text}\n\n".encode()
    return f"{len(data):X}\r\n".encode() + data + b"\r\n"


def chunk_encoder(call: ApiCall, shapes: Shapes, results: list[Finished]) -> Encoder:
    """A stream's text and finish events as its chunks; `results` collects the Finished."""
    opened: set[int] = set()
    with_usage = call.include_usage

    def encode(event: HandleEvent) -> bytes:
        index = event.index if isinstance(event, TextChunk | ReasoningChunk | Finished) else 0
        data = b""
        if index not in opened and call.kind == "chat":
            data += sse(shapes.chunk(index, "", first=True, with_usage=with_usage))
        opened.add(index)
        if isinstance(event, TextChunk):
            return data + sse(shapes.chunk(index, event.text, with_usage=with_usage))
        if isinstance(event, ReasoningChunk):
            if call.kind != "chat":
                return data
            return data + sse(shapes.chunk(index, None, with_usage=with_usage, delta={"reasoning_content": event.text}))
        assert isinstance(event, Finished)
        results.append(event)
        for piece in shapes.tool_call_chunks(index, event, with_usage):
            data += sse(piece)
        reason = finish_reason(event.stats.finish_reason, bool(event.tool_calls))
        text = None if call.kind == "chat" else ""
        return data + sse(shapes.chunk(index, text, finish=reason, with_usage=with_usage))

    return encode
