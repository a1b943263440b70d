"""The scheduler: one thread owns the engine, requests queue by priority, handles report."""

from __future__ import annotations

import threading
import time

import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, TextChunk
from desktop_app.session.scheduler import Completed, Failed, Scheduler, Source, Started
from tests.ui.conftest import FakeEngine


def request(text: str = "Hello") -> GenerationRequest:
    return GenerationRequest((ChatMessage("user", text),), GenerationSettings(temperature=0))


def collect(handle):  # type: ignore[no-untyped-def]
    return list(handle.events(poll_s=0.01))


def test_a_request_streams_its_own_events_and_completes() -> None:
    engine = FakeEngine()
    scheduler = Scheduler(lambda: engine)
    scheduler.start()
    try:
        info = scheduler.wait_until_loaded(10)
        assert (info.model_id, info.provider_name, info.context_length) == ("fake", "cpu", 2048)
        events = collect(scheduler.submit(request(), Source.CHAT))
        assert isinstance(events[0], Started) and isinstance(events[-1], Completed)
        assert "".join(e.text for e in events if isinstance(e, TextChunk)) == "Paris is the capital."
        assert events[-1].first.text == "Paris is the capital."
    finally:
        scheduler.shutdown()
    assert not scheduler.is_running


def test_chat_goes_before_the_cowriter_and_the_queue_says_who_is_ahead() -> None:
    engine = FakeEngine(tokens=["a "] * 20, delay_s=0.01)
    scheduler = Scheduler(lambda: engine)
    scheduler.start()
    scheduler.wait_until_loaded(10)
    order: list[str] = []
    try:
        first = scheduler.submit(
            request("api"), Source.API, lambda e: order.append("api") if isinstance(e, Started) else None
        )
        while scheduler.busy_with() is None:
            time.sleep(0.005)
        cowriter = scheduler.submit(
            request("cw"), Source.COWRITER, lambda e: order.append("cw") if isinstance(e, Started) else None
        )
        chat = scheduler.submit(
            request("chat"), Source.CHAT, lambda e: order.append("chat") if isinstance(e, Started) else None
        )
        assert scheduler.busy_with() is Source.API
        assert scheduler.ahead_of(chat) is Source.API and scheduler.ahead_of(cowriter) is Source.API
        for handle in (first, cowriter, chat):
            assert handle.done.wait(10)
        assert order == ["api", "chat", "cw"]  # chat jumped the queue; nothing was dropped
        assert scheduler.ahead_of(chat) is None and not scheduler.busy
    finally:
        scheduler.shutdown()


def test_a_cancelled_queued_request_finishes_cancelled_without_blocking_others() -> None:
    engine = FakeEngine(tokens=["a "] * 30, delay_s=0.01)
    scheduler = Scheduler(lambda: engine)
    scheduler.start()
    scheduler.wait_until_loaded(10)
    try:
        running = scheduler.submit(request(), Source.CHAT)
        queued = scheduler.submit(request(), Source.COWRITER)
        queued.cancel()
        events = collect(queued)
        finished = [e for e in events if isinstance(e, Finished)]
        assert finished and finished[0].stats.finish_reason.value == "cancelled"
        assert isinstance(collect(running)[-1], Completed)
    finally:
        scheduler.shutdown()


def test_a_model_that_fails_to_load_fails_each_request_with_the_reason() -> None:
    def broken() -> FakeEngine:
        raise UserError("The model file is missing.")

    scheduler = Scheduler(broken)
    seen: list[object] = []
    scheduler.model_listeners.append(lambda info, failure: seen.append((info, failure)))
    scheduler.start()
    try:
        with pytest.raises(UserError, match="missing"):
            scheduler.wait_until_loaded(10)
        assert seen == [(None, "The model file is missing.")]
        events = collect(scheduler.submit(request(), Source.CHAT))
        assert isinstance(events[-1], Failed) and "missing" in events[-1].message
    finally:
        scheduler.shutdown()


def test_the_engine_lives_on_the_scheduler_thread_and_reload_swaps_it() -> None:
    threads: list[threading.Thread] = []

    def factory(name: str):  # type: ignore[no-untyped-def]
        def make() -> FakeEngine:
            threads.append(threading.current_thread())
            return FakeEngine(tokens=[name])

        return make

    scheduler = Scheduler(factory("one"))
    scheduler.start()
    try:
        scheduler.wait_until_loaded(10)
        scheduler.reload(factory("two"))
        scheduler.wait_until_loaded(10)
        events = collect(scheduler.submit(request(), Source.CHAT))
        assert events[-1].first.text == "two"
        assert threads == [scheduler.thread, scheduler.thread]
    finally:
        scheduler.shutdown()


def test_shutdown_stops_a_running_request_within_a_token_and_fails_queued_ones() -> None:
    scheduler = Scheduler(lambda: FakeEngine(tokens=["w "] * 1000, delay_s=0.01))
    scheduler.start()
    scheduler.wait_until_loaded(10)
    running = scheduler.submit(request(), Source.CHAT)
    queued = scheduler.submit(request(), Source.API)
    while scheduler.busy_with() is None:
        time.sleep(0.005)
    started = time.monotonic()
    scheduler.shutdown()
    assert time.monotonic() - started < 2 and not scheduler.is_running
    assert running.done.is_set() and queued.done.is_set()
    assert isinstance(collect(queued)[-1], Failed)
    with pytest.raises(UserError, match="closing"):
        scheduler.submit(request(), Source.CHAT)
