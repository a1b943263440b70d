"""A streamed answer's way from the scheduler's thread to its client.

A stream's handle reports to a `StreamRelay` (its listener, called on the scheduler's
thread). Until the HTTP thread has sent the response's head, every event waits in order
for that thread. Once it has (`open()`), each text and finish event is turned into its
server-sent-event chunk at once and sent from the scheduler's thread, before the next
forward pass, when the socket takes it without waiting. Only what the socket cannot take
at once (a slow reader), the end of the stream and a failure wake the HTTP thread. So a
token reaches the client with no thread hand-off, and a batch of streams does not wake a
thread per stream for every token while the model computes the next one.

A socket that fails to take data means the client has gone: the relay cancels the
request, which stops within a token.
"""

from __future__ import annotations

import json
import select
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from desktop_app.engine import Finished, TextChunk
from desktop_app.session.handles import Completed, Failed, GenerationHandle, HandleEvent

Encoder = Callable[[HandleEvent], bytes]


class StreamRelay:
    """The listener of one streamed request's handle; see the module's text."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._lock = threading.Condition()
        self._events: deque[HandleEvent] = deque()  # for the HTTP thread, in order
        self._out = bytearray()  # encoded, not yet sent
        self._encode: Encoder | None = None
        self._sending = False  # the HTTP thread is sending what it took from _out
        self._ended = False
        self.gone = False
        self.handle: GenerationHandle | None = None  # set once submitted: a client gone cancels it

    # ---- the scheduler's thread ----

    def put(self, event: HandleEvent) -> None:
        with self._lock:
            if self._encode is None or not isinstance(event, TextChunk | Finished):
                self._events.append(event)
                self._ended = self._ended or isinstance(event, Completed | Failed)
                self._lock.notify_all()
                return
            if self.gone:
                return
            self._out += self._encode(event)
            if not self._sending:
                self._send_now()
            if self._out or self.gone:
                self._lock.notify_all()

    def _send_now(self) -> None:
        """Send what the socket takes without waiting (with the lock held)."""
        try:
            _, writable, _ = select.select([], [self._connection], [], 0)
            if writable:
                # The connection has a timeout, so its socket does not block: it takes what fits.
                sent = self._connection.send(self._out)
                del self._out[:sent]
        except (OSError, ValueError):
            self._lose()

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

    def open(self, encode: Encoder) -> None:
        """The response's head is sent: from now on text and finish events go out as `encode`
        writes them. Those that came before wait in order for the HTTP thread, which writes
        them the same way."""
        with self._lock:
            if self._connection.gettimeout() is None:
                return  # a blocking socket: the scheduler's thread must not write to it
            self._encode = encode
            waiting = list(self._events)  # only the end (Completed, Failed) can follow them
            self._events.clear()
            for event in waiting:
                if isinstance(event, TextChunk | Finished):
                    self._out += encode(event)
                else:
                    self._events.append(event)
            if self._out:
                self._lock.notify_all()

    def wait_ended(self) -> None:
        """Until the request's last event (after a cancel, within a token)."""
        with self._lock:
            while not self._ended:
                self._lock.wait(0.05)


def sse(payload: dict[str, Any] | str) -> bytes:
    """One server-sent event as one HTTP/1.1 chunk."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    data = f"data: {text}\n\n".encode()
    return f"{len(data):X}\r\n".encode() + data + b"\r\n"
