"""StreamRelay on socket pairs: text goes out from the putting (scheduler's) thread once the
stream is open, in order, never blocking it; what a slow reader cannot take yet, the HTTP
thread sends; a vanished reader cancels the request."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from desktop_app.core.generation import FinishReason, GenerationStats
from desktop_app.engine import Finished, PromptPrepared, TextChunk
from desktop_app.server.relay import StreamRelay, sse
from desktop_app.session.handles import Completed, Started


def encode(event: Any) -> bytes:
    return sse(event.text if isinstance(event, TextChunk) else "end")


def finished() -> Finished:
    stats = GenerationStats(1, 1, 5.0, 100.0, FinishReason.LENGTH, seed=0)
    return Finished(0, "x", stats)


class Cancelled:
    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    server.settimeout(5)  # as the HTTP handler's connection: a timeout, so a non-blocking socket
    client.settimeout(5)
    yield server, client
    server.close()
    client.close()


def read_exactly(client: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = client.recv(size - len(data))
        assert chunk, "the connection closed early"
        data += chunk
    return data


def test_events_wait_for_the_http_thread_until_open_then_text_leaves_from_the_putting_thread(pair) -> None:  # type: ignore[no-untyped-def]
    server, client = pair
    relay = StreamRelay(server)
    early = [Started(), PromptPrepared(3, 0, 0, 64), TextChunk("one ", 0), TextChunk("two ", 0)]
    for event in early:
        relay.put(event)
    events = relay.events()
    assert [next(events), next(events)] == early[:2]  # what the HTTP thread reads before the head
    relay.open(encode)  # the two early chunks are encoded, in order, ahead of what follows
    relay.put(TextChunk("three", 0))  # sent by this (putting) thread, after the early two
    expected = sse("one ") + sse("two ") + sse("three")
    assert read_exactly(client, len(expected)) == expected
    relay.put(TextChunk("four", 0))
    assert read_exactly(client, len(sse("four"))) == sse("four")
    http = threading.Thread(target=lambda: [None for _ in events])
    http.start()
    relay.put(finished())
    relay.put(Completed(finished()))
    http.join(5)
    assert not http.is_alive()
    assert read_exactly(client, len(sse("end"))) == sse("end")


def test_a_slow_reader_never_blocks_the_putting_thread_and_loses_nothing(pair) -> None:  # type: ignore[no-untyped-def]
    server, client = pair
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    relay = StreamRelay(server)
    relay.put(PromptPrepared(3, 0, 0, 64))
    events = relay.events()
    next(events)
    relay.open(encode)
    texts = [f"{i:05d}" + "x" * 2000 for i in range(200)]  # far more than the socket buffers
    putter = threading.Thread(target=lambda: [relay.put(TextChunk(t, 0)) for t in texts])
    putter.start()
    putter.join(5)
    assert not putter.is_alive()  # nobody read yet, and every put returned
    relay.put(Completed(finished()))
    http = threading.Thread(target=lambda: [None for _ in events])
    http.start()
    expected = b"".join(sse(t) for t in texts)
    assert read_exactly(client, len(expected)) == expected
    http.join(5)
    assert not http.is_alive() and not relay.gone


def test_a_reader_that_went_away_cancels_the_request(pair) -> None:  # type: ignore[no-untyped-def]
    server, client = pair
    relay = StreamRelay(server)
    handle = Cancelled()
    relay.handle = handle  # type: ignore[assignment]
    relay.put(PromptPrepared(3, 0, 0, 64))
    next(relay.events())
    relay.open(encode)
    client.close()
    for i in range(50):  # the first sends may still be taken by the kernel
        relay.put(TextChunk(f"t{i} ", 0))
        if relay.gone:
            break
    assert relay.gone and handle.cancelled.is_set()


def test_a_blocking_socket_is_written_by_the_http_thread_alone(pair) -> None:  # type: ignore[no-untyped-def]
    server, _client = pair
    server.settimeout(None)
    relay = StreamRelay(server)
    relay.put(PromptPrepared(3, 0, 0, 64))
    events = relay.events()
    next(events)
    relay.open(encode)
    relay.put(TextChunk("one", 0))
    relay.put(Completed(finished()))
    assert isinstance(next(events), TextChunk)  # handed to the HTTP thread, not sent
    assert isinstance(next(events), Completed)
