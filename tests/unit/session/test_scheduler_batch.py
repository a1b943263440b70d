"""The scheduler batches API requests on a real (tiny GGUF) engine: they decode together,
join between tokens, pause for chat and co-writer requests, and leave when cancelled."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from desktop_app.core.generation import FinishReason, GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, TextChunk
from desktop_app.session.scheduler import (
    Completed,
    Failed,
    GenerationHandle,
    HandleEvent,
    Scheduler,
    Source,
    Started,
)

PROMPTS = ["The quick brown fox", "Paris is the capital of", "Hello", "Writers continue, rewrite and"]


def ask(prompt: str, tokens: int = 12) -> GenerationRequest:
    settings = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=tokens)
    return GenerationRequest(prompt=prompt, settings=settings)


class Log:
    """Every handle's events in the order the scheduler reported them (one thread)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, HandleEvent]] = []
        self.hooks: list[Callable[[str, HandleEvent], None]] = []

    def listener(self, name: str) -> Callable[[HandleEvent], None]:
        def hear(event: HandleEvent) -> None:
            self.events.append((name, event))
            for hook in list(self.hooks):
                hook(name, event)

        return hear

    def of(self, name: str) -> list[HandleEvent]:
        return [e for n, e in self.events if n == name]

    def result(self, name: str) -> Finished:
        [done] = [e for e in self.of(name) if isinstance(e, Completed)]
        return done.first


@pytest.fixture
def engine(tiny_gguf_engine):  # type: ignore[no-untyped-def]
    made = tiny_gguf_engine("Q4_0")
    made.stop_token_ids = frozenset()  # lengths must hold
    return made


@pytest.fixture
def scheduler(engine) -> Iterator[Scheduler]:  # type: ignore[no-untyped-def]
    made = Scheduler(lambda: engine, batch_rows=4)
    made.start()
    made.wait_until_loaded(30)
    yield made
    made.shutdown()
    assert not made.is_running


def alone(engine: Any, request: GenerationRequest) -> str:
    return next(e for e in engine.generate(request) if isinstance(e, Finished)).text


def wait(handles: list[GenerationHandle]) -> None:
    for handle in handles:
        assert handle.done.wait(60)


def test_concurrent_api_requests_decode_together_and_each_gets_its_own_text(scheduler, engine) -> None:  # type: ignore[no-untyped-def]
    log = Log()
    seen: list[int] = []
    log.hooks.append(lambda name, event: seen.append(scheduler.batched) if isinstance(event, TextChunk) else None)
    with scheduler._lock:  # all four queue before the thread looks, as if they came at once
        handles = [
            scheduler.submit(ask(p, 10 + 5 * i), Source.API, log.listener(str(i))) for i, p in enumerate(PROMPTS)
        ]
    wait(handles)
    for i, prompt in enumerate(PROMPTS):
        assert isinstance(log.of(str(i))[0], Started)
        assert log.result(str(i)).text == alone(engine, ask(prompt, 10 + 5 * i))
    assert max(seen) == 4  # all four were in the batch at once
    # Their text interleaves: the last request wrote before the first one finished.
    names = [n for n, e in log.events if isinstance(e, TextChunk)]
    assert names.index("3") < max(i for i, n in enumerate(names) if n == "0")
    assert scheduler.busy_with() is None and not scheduler.busy and scheduler.batched == 0


def test_a_chat_request_pauses_the_batch_which_then_resumes(scheduler, engine) -> None:  # type: ignore[no-untyped-def]
    log = Log()
    chat: list[GenerationHandle] = []

    def on_event(name: str, event: HandleEvent) -> None:  # on the scheduler's thread, between tokens
        if name == "api0" and isinstance(event, TextChunk) and not chat and len(log.of("api0")) > 8:
            chat.append(scheduler.submit(ask(PROMPTS[2], 15), Source.CHAT, log.listener("chat")))
            assert scheduler.busy_with() is Source.API and scheduler.ahead_of(chat[0]) is Source.API

    log.hooks.append(on_event)
    requests = [ask(PROMPTS[0], 60), ask(PROMPTS[3], 50)]
    api = [scheduler.submit(r, Source.API, log.listener(f"api{i}")) for i, r in enumerate(requests)]
    wait(api)
    wait(chat)
    names = [n for n, _ in log.events]
    start, end = names.index("chat"), len(names) - 1 - names[::-1].index("chat")
    assert set(names[start : end + 1]) == {"chat"}  # nothing else was written while the chat ran
    assert "api0" in names[end:] and "api1" in names[end:]  # and both went on afterwards
    assert log.result("chat").text == alone(engine, ask(PROMPTS[2], 15))
    for i, request in enumerate(requests):  # their rows kept their KV through the pause
        assert log.result(f"api{i}").text == alone(engine, request)
        assert log.result(f"api{i}").stats.generated_tokens == request.settings.max_new_tokens


def test_a_cancelled_api_request_leaves_the_batch_within_a_token(scheduler, engine) -> None:  # type: ignore[no-untyped-def]
    log = Log()
    after: list[int] = []

    def on_event(name: str, event: HandleEvent) -> None:
        if name == "gone" and isinstance(event, TextChunk):
            if handles[1].cancelled:
                after.append(1)
            elif len(log.of("gone")) > 5:
                handles[1].cancel()

    log.hooks.append(on_event)
    with scheduler._lock:
        handles = [
            scheduler.submit(ask(PROMPTS[1], 40), Source.API, log.listener("kept")),
            scheduler.submit(ask(PROMPTS[0], 400), Source.API, log.listener("gone")),
        ]
    wait(handles)
    gone = log.result("gone")
    assert gone.stats.finish_reason is FinishReason.CANCELLED and gone.stats.generated_tokens < 10
    assert not after  # no text after the cancel
    assert log.result("kept").text == alone(engine, ask(PROMPTS[1], 40))


def test_requests_beyond_the_rows_wait_their_turn_and_none_starves(engine) -> None:  # type: ignore[no-untyped-def]
    scheduler = Scheduler(lambda: engine, batch_rows=2)
    scheduler.start()
    scheduler.wait_until_loaded(30)
    log = Log()
    waiting: list[Source | None] = []
    try:
        with scheduler._lock:
            handles = [scheduler.submit(ask(PROMPTS[i % 4], 8 + i), Source.API, log.listener(str(i))) for i in range(7)]
        log.hooks.append(lambda name, event: waiting.append(scheduler.ahead_of(handles[6])) if name == "0" else None)
        wait(handles)
    finally:
        scheduler.shutdown()
    started = [n for n, e in log.events if isinstance(e, Started)]
    assert started == [str(i) for i in range(7)]  # first come, first served
    for i in range(7):
        assert log.result(str(i)).text == alone(engine, ask(PROMPTS[i % 4], 8 + i))
    assert Source.API in waiting  # the last one was told whose requests it waited for


def test_a_request_with_more_alternatives_than_rows_runs_alone(engine) -> None:  # type: ignore[no-untyped-def]
    scheduler = Scheduler(lambda: engine, batch_rows=2)
    scheduler.start()
    scheduler.wait_until_loaded(30)
    try:
        many = GenerationRequest(prompt=PROMPTS[0], settings=GenerationSettings(seed=3, num_alternatives=3))
        events = list(scheduler.submit(many, Source.API).events(poll_s=0.01))
    finally:
        scheduler.shutdown()
    assert isinstance(events[-1], Completed)
    assert sorted(e.index for e in events if isinstance(e, Finished)) == [0, 1, 2]


def test_without_a_batch_decoder_api_requests_run_one_by_one(engine) -> None:  # type: ignore[no-untyped-def]
    scheduler = Scheduler(lambda: engine, batch_factory=None)
    scheduler.start()
    scheduler.wait_until_loaded(30)
    log = Log()
    try:
        handles = [scheduler.submit(ask(p, 6), Source.API, log.listener(str(i))) for i, p in enumerate(PROMPTS[:2])]
        wait(handles)
    finally:
        scheduler.shutdown()
    names = [n for n, _ in log.events]
    assert names == sorted(names)  # the second began after the first had finished


def test_shutdown_mid_batch_stops_its_rows_within_a_token_and_fails_the_queued(engine) -> None:  # type: ignore[no-untyped-def]
    scheduler = Scheduler(lambda: engine, batch_rows=2)
    scheduler.start()
    scheduler.wait_until_loaded(30)
    log = Log()
    writing = threading.Event()
    log.hooks.append(lambda name, event: writing.set() if isinstance(event, TextChunk) else None)
    with scheduler._lock:
        handles = [scheduler.submit(ask(PROMPTS[i], 400), Source.API, log.listener(str(i))) for i in range(3)]
    assert writing.wait(30)
    scheduler.shutdown()
    assert not scheduler.is_running
    for i in range(2):
        assert log.result(str(i)).stats.finish_reason is FinishReason.CANCELLED
    assert isinstance(log.of("2")[-1], Failed) and handles[2].done.is_set()


def test_reload_mid_batch_cancels_its_rows_and_the_next_request_runs_on_the_new_model(engine, tiny_gguf_engine) -> None:  # type: ignore[no-untyped-def]
    scheduler = Scheduler(lambda: engine, batch_rows=2)
    scheduler.start()
    scheduler.wait_until_loaded(30)
    other = tiny_gguf_engine("F32")
    other.stop_token_ids = frozenset()
    log = Log()
    writing = threading.Event()
    log.hooks.append(lambda name, event: writing.set() if isinstance(event, TextChunk) else None)
    try:
        running = [scheduler.submit(ask(PROMPTS[i], 400), Source.API, log.listener(str(i))) for i in range(2)]
        assert writing.wait(30)
        scheduler.reload(lambda: other)
        wait(running)
        assert all(log.result(str(i)).stats.finish_reason is FinishReason.CANCELLED for i in range(2))
        after = scheduler.submit(ask(PROMPTS[1]), Source.API, log.listener("after"))
        wait([after])
        assert scheduler.info is not None and scheduler.info.model_id == "tiny-llama-f32"
    finally:
        scheduler.shutdown()
    assert log.result("after").text == alone(other, ask(PROMPTS[1]))
