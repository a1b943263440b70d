"""The scheduler's thread with the tiny real ONNX model, seen through the Qt handles."""

from __future__ import annotations

import threading

from desktop_app.core.chat import ChatMessage
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import GenerationRequest, load_engine
from desktop_app.session.scheduler import Source
from desktop_app.ui.generation import QtScheduler


def test_handles_stream_from_the_generation_thread_and_cancel(qtbot, tiny_model_dir) -> None:  # type: ignore[no-untyped-def]
    def factory():  # type: ignore[no-untyped-def]
        engine = load_engine(tiny_model_dir, provider="cpu", threads=1)
        engine.stop_token_ids = frozenset()
        threads.append(threading.current_thread())
        return engine

    threads: list[object] = []
    scheduler = QtScheduler(factory)
    loaded: list[object] = []
    scheduler.model_loaded.connect(loaded.append)
    scheduler.start()
    qtbot.waitUntil(lambda: bool(loaded), timeout=30_000)
    assert loaded[0].model_id == "tiny-llama"  # type: ignore[attr-defined]
    assert threads == [scheduler.scheduler.thread]  # the engine was built on the generation thread

    main = threading.current_thread()
    tokens: list[str] = []
    finished: list[object] = []
    seen_on: set[object] = set()
    request = GenerationRequest((ChatMessage("user", "Hello"),), GenerationSettings(temperature=0, max_new_tokens=8))
    handle = scheduler.submit(request, Source.CHAT)
    handle.text.connect(lambda _index, text: (tokens.append(text), seen_on.add(threading.current_thread())))
    handle.finished.connect(finished.append)
    qtbot.waitUntil(lambda: len(finished) == 1, timeout=30_000)
    assert seen_on == {main}  # the handle's signals arrive on the GUI thread
    assert "".join(tokens) == finished[0].text and finished[0].stats.generated_tokens == 8  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not scheduler.busy, timeout=5_000)

    long = GenerationRequest((ChatMessage("user", "Go"),), GenerationSettings(temperature=0, max_new_tokens=60))
    second = scheduler.submit(long, Source.COWRITER)
    second.finished.connect(finished.append)
    second.cancel()
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=30_000)
    assert finished[1].stats.finish_reason.value == "cancelled"  # type: ignore[attr-defined]
    scheduler.shutdown()
    assert not scheduler.is_running
