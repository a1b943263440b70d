"""The scheduler: one long-lived thread owns the engine; requests queue for it by priority.

The ONNX session and its KV cache are stateful, so the engine is built and used on that
one thread. `submit()` returns a GenerationHandle: its consumer alone hears its events,
either through a callback (the window adapts it to Qt signals) or by iterating
`handle.events()` (the command line, the API server). Chat replies go before the
co-writer's suggestions, which go before other programs' requests; within a priority,
first come, first served. Cancelling sets the handle's threading.Event, which the engine
checks between tokens; a queued request that is cancelled finishes without running.

Other programs' requests are batched: while no chat or co-writer request waits, up to
`batch_rows` API requests decode together, one token each per forward pass (engine.batch),
and new ones join between tokens. A chat or co-writer request pauses the batch between two
tokens (its rows keep their KV), runs, and the batch then goes on. Where the engine cannot
batch (a graph without in-place GroupQueryAttention, the CUDA provider) they run one by one.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop_app.core.budget import estimate_tokens
from desktop_app.core.errors import ContextOverflowError, UserError
from desktop_app.core.i18n import english, translate
from desktop_app.engine import Finished, GenerationRequest
from desktop_app.engine.batch import BatchDecoder, BatchSequence, open_batch_decoder
from desktop_app.engine.providers import nvidia_gpu_present
from desktop_app.session.handles import (
    CONTEXT_LENGTH_EXCEEDED,
    Completed,
    Failed,
    GenerationHandle,
    HandleEvent,
    Source,
    Started,
)

# The handle and its events live in session.handles; callers may import them from here too.
__all__ = [
    "CONTEXT_LENGTH_EXCEEDED",
    "Completed",
    "EngineInfo",
    "Failed",
    "GenerationHandle",
    "HandleEvent",
    "LoadedEngine",
    "Scheduler",
    "Source",
    "Started",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineInfo:
    """What the rest of the app may know about the loaded model (safe on any thread)."""

    model_id: str
    model_name: str
    provider: str  # the label shown: "CPU" or "CUDA"
    provider_reason: str
    context_length: int
    quantization: str
    # The tokenizer's count, safe to call from any thread (the Rust tokenizer keeps no state
    # between calls); the composer uses it to show a long paste's size.
    count_tokens: Callable[[str], int] = field(compare=False, default=estimate_tokens)
    gpu_idle: bool = False  # an NVIDIA GPU is here but the model runs on the CPU
    provider_name: str = "cpu"  # "cpu" or "cuda": what replies record
    base_model: bool = False  # it continues text; it was not trained to follow a chat
    thinking: str = ""  # "switch": a thinking model whose template turns it on and off; "always"; "": none
    speedup: str = ""  # what speculative decoding does for this model, in a sentence (the status's tooltip)

    @property
    def remote(self) -> bool:
        """It runs on a model server (whose OpenAI API knows no beam search)."""
        return self.provider_name.startswith("remote:")


def _thinking(syntax: Any) -> str:
    """EngineInfo.thinking from the engine's ThinkingSyntax (or its absence)."""
    if syntax is None:
        return ""
    return "switch" if syntax.switch else "always"


class LoadedEngine(Protocol):
    """The part of engine.Engine the scheduler uses (tests pass fakes)."""

    manifest: Any
    variant: Any
    provider: Any
    context_length: int

    def count_tokens(self, text: str) -> int: ...

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[object]: ...


EngineFactory = Callable[[], LoadedEngine]
# (engine, rows) -> a batch decoder for it, or None where it cannot batch.
BatchFactory = Callable[[LoadedEngine, int], BatchDecoder | None]


@dataclass(order=True)
class _Entry:
    priority: int
    order: int
    handle: GenerationHandle = field(compare=False)


class Scheduler:
    """Owns the engine on its thread; queues requests; says who is busy."""

    def __init__(
        self,
        engine_factory: EngineFactory,
        batch_factory: BatchFactory | None = open_batch_decoder,
        batch_rows: int = 8,
    ) -> None:
        self._factory = engine_factory
        self._batch_factory = batch_factory
        self._batch_rows = batch_rows
        self._batch: BatchDecoder | None = None
        self._members: dict[GenerationHandle, BatchSequence] = {}  # API requests in the batch
        self._engine: LoadedEngine | None = None
        self._info: EngineInfo | None = None
        self._failure: str | None = None
        self._lock = threading.Condition()
        self._queue: list[_Entry] = []
        self._running: GenerationHandle | None = None
        self._load_requested = False
        self._stopping = False
        self._order = itertools.count()
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self.model_listeners: list[Callable[[EngineInfo | None, str | None], None]] = []

    # ---- life cycle ----

    def start(self) -> None:
        """Start the thread (once) and load the model on it."""
        with self._lock:
            self._load_requested = True
            self._stopping = False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="inkwell-generation", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def reload(self, engine_factory: EngineFactory | None = None) -> None:
        """Stop what runs and load again, with `engine_factory` if given (another model or
        provider). Queued requests wait and then run on the new model."""
        with self._lock:
            if engine_factory is not None:
                self._factory = engine_factory
            self._cancel_running()
            self._info = None
            self._failure = None
        self.start()

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Cancel everything, stop the thread and wait for it (stopping takes one token)."""
        with self._lock:
            self._stopping = True
            for entry in self._queue:
                entry.handle.cancel()
            self._cancel_running()
            self._lock.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive() and timeout_s > 0:  # 0: the caller chose not to wait
                log.error("The generation thread did not stop within %.0f s", timeout_s)

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def info(self) -> EngineInfo | None:
        return self._info

    def wait_until_loaded(self, timeout_s: float | None = None) -> EngineInfo:
        """Block until the model is loaded; UserError with the reason if it failed."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._info is not None or self._failure is not None, timeout_s):
                raise UserError(translate("Errors", "The model did not load in time."))
            if self._info is None:
                raise UserError(self._failure or translate("Errors", "The model could not be loaded."))
            return self._info

    # ---- requests ----

    def submit(
        self,
        request: GenerationRequest,
        source: Source,
        listener: Callable[[HandleEvent], None] | None = None,
    ) -> GenerationHandle:
        """Queue a request; the handle reports its events (Started when it leaves the queue)."""
        handle = GenerationHandle(next(self._ids), request, source, listener)
        with self._lock:
            if self._stopping:
                raise UserError(translate("Errors", "Inkwell is closing; the request was not started."))
            heapq.heappush(self._queue, _Entry(source.priority, next(self._order), handle))
            self._lock.notify_all()
        return handle

    def cancel_all(self) -> None:
        with self._lock:
            for entry in self._queue:
                entry.handle.cancel()
            self._cancel_running()

    def _cancel_running(self) -> None:
        if self._running is not None:
            self._running.cancel()
        for handle in self._members:
            handle.cancel()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running is not None or bool(self._members) or bool(self._queue)

    def busy_with(self) -> Source | None:
        """Whose request runs now (None when the model is free). A batch of API requests
        paused for a chat reply is not running: the chat is."""
        with self._lock:
            return self._running_source()

    def _running_source(self) -> Source | None:
        if self._running is not None:
            return self._running.source
        return Source.API if self._members else None

    @property
    def batched(self) -> int:  # API requests in the batch now (decoding, prefilling or paused)
        with self._lock:
            return len(self._members)

    def ahead_of(self, handle: GenerationHandle) -> Source | None:
        """Whose request the queued `handle` waits for, None if it is not waiting."""
        with self._lock:
            if handle is self._running or handle in self._members or all(e.handle is not handle for e in self._queue):
                return None
            running = self._running_source()
            if running is not None:
                return running
            mine = next(e for e in self._queue if e.handle is handle)
            earlier = [e for e in self._queue if e < mine]
            return min(earlier).handle.source if earlier else None

    # ---- the thread ----

    def _run(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._stopping or self._load_requested or self._ready_to_run())
                if self._stopping:
                    self._running = None
                    pending, self._queue = self._queue, []
                    break
                batch = False
                if self._load_requested:
                    self._load_requested = False
                    job = None
                elif self._batch_takes(self._queue[0].handle):
                    job, batch = None, True
                else:
                    job = heapq.heappop(self._queue).handle
                    self._running = job
            if batch:
                with english():  # the batch's requests are the API server's (a chat it lets run first says otherwise)
                    self._run_batch()
                continue
            if job is None:
                self._load()
                continue
            try:
                self._generate(job)
            finally:
                with self._lock:
                    self._running = None
        for entry in pending:
            with english(entry.handle.source is Source.API):
                entry.handle._emit(Failed(translate("Errors", "Inkwell closed before this request could run.")))
        self._engine = self._batch = None

    def _ready_to_run(self) -> bool:
        return bool(self._queue) and (self._engine is not None or self._failure is not None)

    def _batch_takes(self, handle: GenerationHandle) -> bool:
        return handle.source is Source.API and self._batch is not None and self._batch.fits(handle.request)

    def _run_batch(self) -> None:
        """Decode the API requests together until none is left, letting queued API requests
        join between tokens and any chat or co-writer request run first."""
        batch = self._batch
        assert batch is not None
        while True:
            preempt: GenerationHandle | None = None
            joining: list[GenerationHandle] = []
            with self._lock:
                admitting = not (self._stopping or self._load_requested)
                if admitting and self._queue and self._queue[0].handle.source is not Source.API:
                    preempt = self._running = heapq.heappop(self._queue).handle
                rows = batch.free_rows
                while admitting and preempt is None and self._queue:
                    head = self._queue[0].handle  # first come, first served: nobody skips the head
                    wanted = head.request.settings.num_alternatives
                    if not self._batch_takes(head) or wanted > rows:
                        break
                    joining.append(heapq.heappop(self._queue).handle)
                    rows -= wanted
                if preempt is None and not joining and not self._members:
                    return
            if preempt is not None:  # the batch waits between two tokens, its rows intact
                try:
                    self._generate(preempt)
                finally:
                    with self._lock:
                        self._running = None
                continue
            for handle in joining:
                self._join(batch, handle)
            try:
                batch.step(self._report_members)  # each token before the next forward pass
            except Exception:
                log.exception("Batched generation failed")
                self._fail_batch()
                return
            self._report_members()

    def _report_members(self) -> None:
        for handle, sequence in list(self._members.items()):
            self._report(handle, sequence)

    def _join(self, batch: BatchDecoder, handle: GenerationHandle) -> None:
        handle._emit(Started())
        try:
            sequence = batch.add(handle.request, handle.cancel_event)
        except Exception as exc:
            handle._emit(_failed(exc, "Starting a batched generation failed"))
            return
        with self._lock:
            self._members[handle] = sequence
            if self._stopping:  # it left the queue as shutdown cancelled the rest
                handle.cancel()
        self._report(handle, sequence)

    def _report(self, handle: GenerationHandle, sequence: BatchSequence) -> None:
        for event in sequence.take_events():
            handle._emit(event)
        if not sequence.done:
            return
        with self._lock:
            del self._members[handle]
        if sequence.first is None:
            handle._emit(Failed(translate("Errors", "The model wrote nothing (see the log).")))
        else:
            handle._emit(Completed(sequence.first))

    def _fail_batch(self) -> None:  # after an unexpected error in a step
        with self._lock:
            members, self._members = self._members, {}
        for handle in members:
            handle._emit(Failed(translate("Errors", "Something went wrong while writing the reply (see the log).")))
        self._batch = self._open_batch(self._engine) if self._engine is not None else None

    def _open_batch(self, engine: LoadedEngine) -> BatchDecoder | None:
        if self._batch_factory is None or self._batch_rows < 1:
            return None
        try:
            return self._batch_factory(engine, self._batch_rows)
        except Exception:
            log.exception("Batched decoding is not available; requests will run one at a time")
            return None

    def _load(self) -> None:
        self._engine = None
        self._batch = None
        try:
            engine = self._factory()
        except UserError as exc:
            self._set_model(None, str(exc))
            return
        except Exception:
            log.exception("Loading the model failed")
            self._set_model(None, "The model could not be loaded because of an unexpected error (see the log).")
            return
        self._engine = engine
        self._batch = self._open_batch(engine)
        log.info("Model loaded: %s (%s) on %s", engine.manifest.id, engine.variant.quantization, engine.provider.label)
        self._set_model(
            EngineInfo(
                engine.manifest.id,
                engine.manifest.name,
                engine.provider.label,
                engine.provider.reason,
                engine.context_length,
                engine.variant.quantization,
                engine.count_tokens,
                engine.provider.name == "cpu" and nvidia_gpu_present(),
                engine.provider.name,
                bool(getattr(engine.manifest, "is_base_model", False)),
                _thinking(getattr(engine, "thinking", None)),
                str(getattr(engine, "speedup_note", "")),
            ),
            None,
        )

    def _set_model(self, info: EngineInfo | None, failure: str | None) -> None:
        with self._lock:
            self._info, self._failure = info, failure
            self._lock.notify_all()
        for listener in list(self.model_listeners):
            listener(info, failure)

    def _generate(self, job: GenerationHandle) -> None:
        with english(job.source is Source.API):  # the API server's answers stay in English
            self._generate_in_its_language(job)

    def _generate_in_its_language(self, job: GenerationHandle) -> None:
        job._emit(Started())
        engine = self._engine
        if engine is None:
            job._emit(Failed(self._failure or translate("Errors", "The model is not loaded yet.")))
            return
        first: Finished | None = None
        try:
            for event in engine.generate(job.request, job.cancel_event):
                if isinstance(event, Finished) and event.index == 0:
                    first = event  # reported last, so Completed means every version is done
                job._emit(event)  # type: ignore[arg-type]
        except Exception as exc:
            job._emit(_failed(exc, "Generation failed"))
            return
        if first is None:
            job._emit(Failed(translate("Errors", "The model wrote nothing (see the log).")))
            log.error("The engine finished without a result for version 0")
            return
        job._emit(Completed(first))


def _failed(exc: Exception, what: str) -> Failed:
    """How a request ends when starting or generating it raised `exc` (call it in the
    except block: an unexpected error is logged with its traceback as `what`)."""
    if isinstance(exc, ContextOverflowError):
        return Failed(str(exc), CONTEXT_LENGTH_EXCEEDED)
    if isinstance(exc, UserError):
        return Failed(str(exc))
    log.exception(what)
    return Failed(translate("Errors", "Something went wrong while writing the reply (see the log)."))
