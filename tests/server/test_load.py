"""A bounded load test: many clients at once are each answered or refused cleanly."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import ServerFakeEngine
from tests.server.test_http import CHAT, call


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def run_clients(running: Any, clients: int, requests: int) -> list[tuple[int, Any]]:
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def client(number: int) -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            body = CHAT | {"stream": index % 2 == 0, "n": 1 + index % 2}
            status, _, answer = call(running, "POST", "/v1/chat/completions", body)
            with lock:
                answers.append((status, answer))
            if status == 429:
                time.sleep(0.05)  # a polite client backs off (the answer says Retry-After)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def settled(running: Any) -> None:
    """Wait until no handler holds a request: one lets go of it just after its client has
    read the last byte, so run_clients can return before the last is counted served."""
    deadline = time.monotonic() + 5
    while running.server.pending and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running.server.pending == 0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the memory from /proc (Linux)")
def test_eight_clients_a_hundred_requests_none_lost_memory_flat(start_server: Any) -> None:
    running = start_server(engine=ServerFakeEngine(delay_s=0.005), max_pending=4)
    run_clients(running, 8, 30)  # warm up: threads, imports, buffers
    settled(running)
    before, served_before = rss_mb(), running.server.requests_served
    answers = run_clients(running, 8, 100)
    grown = rss_mb() - before

    assert len(answers) == 100  # none lost
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 429} and statuses[200] >= 4, statuses
    print(f"{statuses[200]} answered, {statuses[429]} refused; memory {grown:+.1f} MB")
    for status, answer in answers:
        if status == 429:
            assert answer["error"]["code"] == "rate_limit_exceeded"
        elif isinstance(answer, bytes):  # a stream: every chunk parses, the last is [DONE]
            events = [e for e in answer.decode().split("\n\n") if e]
            assert events[-1] == "data: [DONE]"
            text = "".join(json.loads(e[6:])["choices"][0]["delta"].get("content") or "" for e in events[:-1])
            assert text == "Paris is the capital of France."
        else:
            assert answer["choices"][0]["message"]["content"] == "Paris is the capital of France."
    settled(running)
    assert running.server.requests_served - served_before == statuses[200]  # a refusal never reached the model
    assert grown < 30, f"memory grew by {grown:.1f} MB"
