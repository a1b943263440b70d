"""The generation worker thread with the tiny real ONNX model."""

from __future__ import annotations

from desktop_app.core.chat import ChatMessage
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import GenerationRequest, load_engine
from desktop_app.ui.worker import GenerationController


def test_worker_streams_from_its_own_thread_and_cancels(qtbot, tiny_model_dir) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QThread

    def factory():  # type: ignore[no-untyped-def]
        engine = load_engine(tiny_model_dir, provider="cpu", threads=1)
        engine.stop_token_ids = frozenset()
        threads.append(QThread.currentThread())
        return engine

    threads: list[object] = []
    controller = GenerationController(factory)
    # Signals from the worker's thread are collected and polled for: pytest-qt's
    # waitSignal would stop its own timer from that thread.
    loaded: list[object] = []
    finished: list[tuple[int, object]] = []
    controller.worker.model_loaded.connect(loaded.append)
    controller.worker.generation_finished.connect(lambda request_id, result: finished.append((request_id, result)))
    controller.start()
    qtbot.waitUntil(lambda: bool(loaded), timeout=30_000)
    assert loaded[0].model_id == "tiny-llama"  # type: ignore[attr-defined]
    assert threads == [controller.thread]  # the engine was built on the worker's thread

    tokens: list[str] = []
    controller.worker.token_generated.connect(lambda _id, text: tokens.append(text))
    request = GenerationRequest((ChatMessage("user", "Hello"),), GenerationSettings(temperature=0, max_new_tokens=8))
    request_id = controller.submit(request)
    qtbot.waitUntil(lambda: len(finished) == 1 and not controller.busy, timeout=30_000)
    done_id, done = finished[0]
    assert done_id == request_id
    assert "".join(tokens) == done.text and done.stats.generated_tokens == 8  # type: ignore[attr-defined]

    long = GenerationRequest((ChatMessage("user", "Go"),), GenerationSettings(temperature=0, max_new_tokens=60))
    controller.submit(long)
    controller.cancel()
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=30_000)
    assert finished[1][1].stats.finish_reason.value == "cancelled"  # type: ignore[attr-defined]
    controller.shutdown()
    assert not controller.thread.isRunning()
