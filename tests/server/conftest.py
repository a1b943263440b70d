"""A fake engine that honours what the API server passes on, and servers on ephemeral ports."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from desktop_app.core.errors import ContextOverflowError
from desktop_app.core.generation import FinishReason, GenerationStats
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, TextChunk
from desktop_app.engine.stops import StopSequenceFilter
from desktop_app.server import ApiServer, ServerConfig
from desktop_app.session.scheduler import Scheduler

KEY = "test-key-0123456789abcdef"


@dataclass
class ServerFakeEngine:
    """Words are tokens: the prompt's words count against `context_length`, the reply is
    `tokens` (alternative i>0 ends with " (vN)"), cut by stop sequences and max_new_tokens."""

    tokens: list[str] = field(default_factory=lambda: ["Paris ", "is ", "the ", "capital ", "of ", "France."])
    delay_s: float = 0.0
    context_length: int = 64
    requests: list[GenerationRequest] = field(default_factory=list)
    finished: list[Finished] = field(default_factory=list)
    fail_with: Exception | None = None
    dropped_messages: int = 0
    manifest: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(id="fake-model", name="Fake model"))
    provider: SimpleNamespace = field(
        default_factory=lambda: SimpleNamespace(name="cpu", label="CPU", reason="a fake for tests")
    )
    variant: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(quantization="q4"))
    tokens_sent: int = 0  # over all requests, so that a test can see generation go on or stop

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[object]:
        self.requests.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        text = request.prompt if request.prompt is not None else " ".join(m.content for m in request.messages)
        prompt_tokens = len(text.split())
        budget = self.context_length - min(request.settings.max_new_tokens, self.context_length // 2)
        if prompt_tokens > budget:
            raise ContextOverflowError(f"This message is too long for the model: it needs {prompt_tokens} tokens.")
        yield PromptPrepared(prompt_tokens, self.dropped_messages, prompt_tokens // 2, self.context_length)
        for index in range(request.settings.num_alternatives):
            tokens = self.tokens if index == 0 else [*self.tokens, f" (v{index + 1})"]
            stops = StopSequenceFilter(request.settings.stop_sequences)
            pieces: list[str] = []
            generated = 0
            reason = FinishReason.STOP_TOKEN
            for token in tokens:
                if cancel is not None and cancel.is_set():
                    reason = FinishReason.CANCELLED
                    break
                if generated >= request.settings.max_new_tokens:
                    reason = FinishReason.LENGTH
                    break
                time.sleep(self.delay_s)
                generated += 1
                self.tokens_sent += 1
                piece = stops.feed(token)
                if piece:
                    pieces.append(piece)
                    yield TextChunk(piece, index)
                if stops.stopped:
                    reason = FinishReason.STOP_SEQUENCE
                    break
            tail = stops.flush()
            if tail:
                pieces.append(tail)
                yield TextChunk(tail, index)
            stats = GenerationStats(prompt_tokens, generated, 5.0, 100.0, reason, seed=1 + index)
            result = Finished(index, "".join(pieces), stats)
            self.finished.append(result)
            yield result


@dataclass
class Running:
    server: ApiServer
    engine: ServerFakeEngine
    scheduler: Scheduler

    @property
    def port(self) -> int:
        return self.server.address[1]

    @property
    def base_url(self) -> str:
        return self.server.url


@pytest.fixture
def fake_engine() -> ServerFakeEngine:
    return ServerFakeEngine()


@pytest.fixture
def start_server(fake_engine: ServerFakeEngine) -> Iterator[Any]:
    """start_server(**config, engine=..., history=...) -> Running; all stopped at the end."""
    started: list[Running] = []

    def start(engine: Any = None, history: Any = None, **config: Any) -> Running:
        engine = engine or fake_engine
        scheduler = Scheduler(lambda: engine)
        scheduler.start()
        scheduler.wait_until_loaded(10)
        server = ApiServer(scheduler, ServerConfig(api_key=KEY, host="127.0.0.1", port=0, **config), history)
        server.start()
        running = Running(server, engine, scheduler)
        started.append(running)
        return running

    yield start
    for running in started:
        running.server.shutdown()
        running.scheduler.shutdown()
        assert not running.scheduler.is_running


@pytest.fixture
def running(start_server: Any) -> Running:
    return start_server()


@pytest.fixture
def client(running: Running) -> Any:
    from openai import OpenAI

    with OpenAI(base_url=running.base_url, api_key=KEY, max_retries=0, timeout=30) as opened:
        yield opened
