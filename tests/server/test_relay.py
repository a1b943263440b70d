"""StreamRelay on socket pairs: once the prompt is accepted, text goes out from the putting
(scheduler's) thread, the head first, in order, never blocking it; what a slow reader cannot
take yet, the HTTP thread sends; a vanished reader cancels the request."""

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

HEAD = b"HTTP/1.1 200 OK\r\n\r\n"


def encode(event: Any) -> bytes:
    return sse(event.text if isinstance(event, TextChunk) else "end")


RELAYS: list[StreamRelay] = []


def relay_on(connection: socket.socket, encoder: Any = encode) -> StreamRelay:
    RELAYS.append(StreamRelay(connection, HEAD, encoder))
    return RELAYS[-1]


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
    while RELAYS:
        RELAYS.pop().close()
    server.close()
    client.close()


def read_exactly(client: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = client.recv(size - len(data))
        assert chunk, "the connection closed early"
        data += chunk
    return data


def test_after_the_prompt_text_leaves_from_the_putting_thread_with_the_head_first(pair) -> None:  # type: ignore[no-untyped-def]
    server, client = pair
    relay = relay_on(server)
    relay.put(Started())
    relay.put(PromptPrepared(3, 0, 0, 64))
    relay.put(TextChunk("one ", 0))  # no HTTP thread has looked yet: sent by this thread
    expected = HEAD + sse("one ")
    assert read_exactly(client, len(expected)) == expected
    events = relay.events()  # the HTTP thread, later: it reads what came before the text
    assert isinstance(next(events), Started) and isinstance(next(events), PromptPrepared)
    relay.open()  # the head went already: not again
    relay.put(TextChunk("two", 0))
    relay.put(finished())
    relay.put(Completed(finished()))
    assert isinstance(next(events), Completed)
    expected = sse("two") + sse("end")
    assert read_exactly(client, len(expected)) == expected
    client.setblocking(False)
    with pytest.raises(BlockingIOError):
        client.recv(1)  # nothing more


def test_a_prompt_that_drops_messages_sends_nothing_and_wakes_the_http_thread(pair) -> None:  # type: ignore[no-untyped-def]
    server, client = pair
    relay = relay_on(server)
    relay.put(PromptPrepared(3, 1, 0, 64))  # the HTTP thread answers 400 instead
    relay.put(TextChunk("one", 0))
    events = relay.events()
    assert isinstance(next(events), PromptPrepared) and isinstance(next(events), TextChunk)
    client.setblocking(False)
    with pytest.raises(BlockingIOError):
        client.recv(1)


def test_a_slow_reader_never_blocks_the_putting_thread_and_loses_nothing(pair) -> None:  # type: ignore[no-untyped-def]
    server, client = pair
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    relay = relay_on(server)
    relay.put(PromptPrepared(3, 0, 0, 64))
    events = relay.events()
    next(events)
    texts = [f"{i:05d}" + "x" * 2000 for i in range(200)]  # far more than the socket buffers
    putter = threading.Thread(target=lambda: [relay.put(TextChunk(t, 0)) for t in texts])
    putter.start()
    putter.join(5)
    assert not putter.is_alive()  # nobody read yet, and every put returned
    relay.put(Completed(finished()))
    http = threading.Thread(target=lambda: [None for _ in events])
    http.start()
    expected = HEAD + b"".join(sse(t) for t in texts)
    assert read_exactly(client, len(expected)) == expected
    http.join(5)
    assert not http.is_alive() and not relay.gone


def test_a_reader_that_went_away_cancels_the_request(pair) -> None:  # type: ignore[no-untyped-def]
    server, client = pair
    relay = relay_on(server)
    handle = Cancelled()
    relay.handle = handle  # type: ignore[assignment]
    relay.put(PromptPrepared(3, 0, 0, 64))
    client.close()
    for i in range(50):  # the first sends may still be taken by the kernel
        relay.put(TextChunk(f"t{i} ", 0))
        if relay.gone:
            break
    assert relay.gone and handle.cancelled.is_set()


def test_a_blocking_socket_is_written_by_the_http_thread_alone(pair) -> None:  # type: ignore[no-untyped-def]
    server, _client = pair
    server.settimeout(None)
    relay = relay_on(server)
    relay.put(PromptPrepared(3, 0, 0, 64))
    events = relay.events()
    next(events)
    relay.open()
    relay.put(TextChunk("one", 0))
    relay.put(Completed(finished()))
    assert isinstance(next(events), TextChunk)  # handed to the HTTP thread, not sent
    assert isinstance(next(events), Completed)
    assert read_exactly(_client, len(HEAD)) == HEAD  # the head, sent by the HTTP thread


def test_a_chunk_that_cannot_be_encoded_ends_its_stream_not_the_scheduler(pair, caplog) -> None:  # type: ignore[no-untyped-def]
    server, _client = pair

    def broken(event: Any) -> bytes:
        raise ValueError("no")

    relay = relay_on(server, broken)
    handle = Cancelled()
    relay.handle = handle  # type: ignore[assignment]
    relay.put(PromptPrepared(3, 0, 0, 64))
    relay.put(TextChunk("one", 0))  # raises nothing here, on the scheduler's thread
    assert relay.gone and handle.cancelled.is_set()
    assert "Streaming a reply failed" in caplog.text
