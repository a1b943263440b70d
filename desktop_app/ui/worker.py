"""The generation worker: one long-lived QThread that owns the engine.

The ONNX session and its KV cache are stateful, so they live on that one thread. Requests
go in by a queued signal; text and results come back as signals; the worker never
touches a widget. Cancelling sets a threading.Event the engine checks between tokens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop_app.core.errors import UserError
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, TextChunk
from desktop_app.engine.providers import nvidia_gpu_present

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineInfo:
    model_id: str
    model_name: str
    provider: str  # "CPU" or "CUDA"
    provider_reason: str
    context_length: int
    quantization: str
    # The tokenizer's count, safe to call from the GUI thread (the Rust tokenizer keeps no
    # state between calls); the composer uses it to show a long paste's size.
    count_tokens: Callable[[str], int] = field(compare=False, default=lambda text: len(text) // 4)
    gpu_idle: bool = False  # an NVIDIA GPU is here but the model runs on the CPU


@dataclass
class GenerationJob:
    request_id: int
    request: GenerationRequest
    cancel: threading.Event = field(default_factory=threading.Event)


class GenerationWorker(QObject):
    model_loaded = Signal(object)  # EngineInfo
    model_failed = Signal(str)
    prompt_prepared = Signal(int, object)  # request id, PromptPrepared
    token_generated = Signal(int, str)  # request id, text of the first (often only) version
    alternative_generated = Signal(int, int, str)  # request id, version index (1, 2, ...), text
    alternative_finished = Signal(int, int, object)  # request id, version index (1, 2, ...), Finished
    generation_finished = Signal(int, object)  # request id, Finished of version 0; after all versions
    generation_failed = Signal(int, str)  # request id, message for the user

    def __init__(self, engine_factory: Callable[[], Any]) -> None:
        super().__init__()
        self._engine_factory = engine_factory
        self._engine: Any = None

    @Slot(object)
    def reload(self, engine_factory: Callable[[], Any] | None) -> None:
        """Load again, with another factory if given (another model or provider)."""
        self._engine = None
        if engine_factory is not None:
            self._engine_factory = engine_factory
        self.load()

    @Slot()
    def load(self) -> None:
        try:
            engine = self._engine_factory()
        except UserError as exc:
            self.model_failed.emit(str(exc))
            return
        except Exception:
            log.exception("Loading the model failed")
            self.model_failed.emit("The model could not be loaded because of an unexpected error (see the log).")
            return
        self._engine = engine
        log.info("Model loaded: %s (%s) on %s", engine.manifest.id, engine.variant.quantization, engine.provider.label)
        self.model_loaded.emit(
            EngineInfo(
                engine.manifest.id,
                engine.manifest.name,
                engine.provider.label,
                engine.provider.reason,
                engine.context_length,
                engine.variant.quantization,
                engine.count_tokens,
                engine.provider.name == "cpu" and nvidia_gpu_present(),
            )
        )

    @Slot(object)
    def generate(self, job: GenerationJob) -> None:
        if self._engine is None:
            self.generation_failed.emit(job.request_id, "The model is not loaded yet.")
            return
        first: Finished | None = None
        try:
            for event in self._engine.generate(job.request, job.cancel):
                if isinstance(event, TextChunk):
                    if event.index == 0:
                        self.token_generated.emit(job.request_id, event.text)
                    else:
                        self.alternative_generated.emit(job.request_id, event.index, event.text)
                elif isinstance(event, PromptPrepared):
                    self.prompt_prepared.emit(job.request_id, event)
                elif isinstance(event, Finished):
                    if event.index == 0:
                        first = event  # reported last, so "finished" means every version is done
                    else:
                        self.alternative_finished.emit(job.request_id, event.index, event)
            if first is not None:
                self.generation_finished.emit(job.request_id, first)
        except UserError as exc:
            self.generation_failed.emit(job.request_id, str(exc))
        except Exception:
            log.exception("Generation failed")
            self.generation_failed.emit(job.request_id, "Something went wrong while writing the reply (see the log).")


class GenerationController(QObject):
    """Lives on the GUI thread: starts the worker's thread, submits jobs, cancels, shuts down."""

    _submit = Signal(object)
    _load = Signal()
    _reload = Signal(object)

    def __init__(self, engine_factory: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("inkwell-generation")
        self.worker = GenerationWorker(engine_factory)
        self.worker.moveToThread(self.thread)
        self._submit.connect(self.worker.generate)
        self._load.connect(self.worker.load)
        self._reload.connect(self.worker.reload)
        self._jobs: dict[int, GenerationJob] = {}
        self._next_id = 1
        self.worker.generation_finished.connect(self._forget)
        self.worker.generation_failed.connect(self._forget)

    def start(self) -> None:
        self.thread.start()
        self._load.emit()

    def reload(self, engine_factory: Callable[[], Any] | None = None) -> None:
        """Stop what runs and load again, with `engine_factory` if given (a model just
        prepared, another provider), starting the thread if needed; model_loaded or
        model_failed follows."""
        self.cancel()
        if not self.thread.isRunning():
            if engine_factory is not None:
                self.worker._engine_factory = engine_factory  # safe: its thread is not running
            self.start()
        else:
            self._reload.emit(engine_factory)

    def submit(self, request: GenerationRequest) -> int:
        job = GenerationJob(self._next_id, request)
        self._next_id += 1
        self._jobs[job.request_id] = job
        self._submit.emit(job)
        return job.request_id

    def cancel(self, request_id: int | None = None) -> None:
        for job_id, job in list(self._jobs.items()):
            if request_id is None or job_id == request_id:
                job.cancel.set()

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    @Slot(int, object)
    def _forget(self, request_id: int, _result: object) -> None:
        self._jobs.pop(request_id, None)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Cancel whatever runs, stop the thread and wait for it (stop takes one token)."""
        self.cancel()
        self.thread.quit()
        if not self.thread.wait(timeout_ms):
            log.error("The generation thread did not stop within %d ms", timeout_ms)
