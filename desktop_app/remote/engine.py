"""A model on an OpenAI-compatible server, behind the same face as the local engine.

RemoteEngine has what the scheduler uses of engine.Engine (manifest, variant, provider,
context_length, count_tokens, generate), so chat, the co-writer and `inkwell ask` run a
remote model exactly as a local one. A chat request goes to /v1/chat/completions as
OpenAI messages; a raw prompt goes to /v1/completions. Stop sequences are sent to the
server and enforced here too (a server may ignore them, or allow only four).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from desktop_app.core.budget import estimate_tokens
from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationStats
from desktop_app.core.i18n import translate
from desktop_app.engine.events import Event, Finished, PromptPrepared, TextChunk
from desktop_app.engine.generate import GenerationRequest
from desktop_app.engine.stops import StopSequenceFilter
from desktop_app.remote.client import Delta, RemoteClient, StreamEnd

log = logging.getLogger(__name__)

DEFAULT_CONTEXT = 4096  # when the server does not say: a conservative guess for the co-writer's budget
REF_SEPARATOR = ":"
OPENAI_MAX_STOPS = 4


def remote_ref(server: str, model: str) -> str:
    """How a remote model is named everywhere a model is: "SERVER:MODEL"."""
    return f"{server}{REF_SEPARATOR}{model}"


def context_of(model: dict[str, Any]) -> int:
    """The context length a /v1/models entry states (vLLM, llama.cpp, LM Studio say it in
    different places), else DEFAULT_CONTEXT."""
    meta = model.get("meta") if isinstance(model.get("meta"), dict) else {}
    for value in (
        model.get("context_length"),
        model.get("max_model_len"),
        model.get("context_window"),
        meta.get("n_ctx") if meta else None,
        meta.get("n_ctx_train") if meta else None,
    ):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return DEFAULT_CONTEXT


@dataclass(frozen=True)
class RemoteManifest:
    """What the app reads of a local model's manifest, for a remote one."""

    id: str  # "SERVER:MODEL"
    name: str
    context_length: int
    is_base_model: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteVariant:
    quantization: str = "remote"


@dataclass(frozen=True)
class RemoteProvider:
    """Where the model runs: `name` is what replies record, `label` what the window shows."""

    name: str  # "remote:<base URL>"
    label: str  # the host
    reason: str


class RemoteEngine:
    """A remote model. Used from one thread (the scheduler's), like the local engine."""

    def __init__(self, client: RemoteClient, model: str, context_length: int = DEFAULT_CONTEXT) -> None:
        self.client = client
        self.model = model
        self.context_length = context_length
        self.manifest = RemoteManifest(
            remote_ref(client.name, model), f"{model} on {client.name}", context_length, extra={"host": client.host}
        )
        self.variant = RemoteVariant()
        self.provider = RemoteProvider(
            f"remote:{client.base_url}", client.host, f"Your text is sent to {client.host} ({client.base_url})."
        )

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)  # the server's tokenizer is not here; an estimate is enough for budgets

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[Event]:
        settings = request.settings
        if settings.beam_search:  # OpenAI's API has no beams: they would be dropped without a word
            raise UserError(
                translate("Errors", "Beam search runs only with a model on this computer, not on {host}.").format(
                    host=self.client.host
                ),
                hint=translate("Errors", "Choose one beam, or a model on this computer."),
            )
        body: dict[str, Any]
        if request.prompt is not None:
            path, body = "/completions", {"prompt": request.prompt}
            prompt_text = request.prompt
        else:
            # Text turns only: a server is not told of the reasoning or the tool rounds of a
            # chat that began on a local model (OpenAI's shapes for them differ from templates').
            messages = [{"role": m.role, "content": m.content} for m in request.messages if m.role != "tool"]
            path, body = (
                "/chat/completions",
                {"messages": [m for m in messages if m["content"] or m["role"] != "assistant"]},
            )
            prompt_text = "\n".join(m.content for m in request.messages)
        body = {
            **body,
            "model": self.model,
            "max_tokens": settings.max_new_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
        }
        if settings.stop_sequences:
            body["stop"] = list(settings.stop_sequences[:OPENAI_MAX_STOPS])
        prompt_tokens = estimate_tokens(prompt_text)
        yield PromptPrepared(prompt_tokens, 0, 0, self.context_length)
        for index in range(settings.num_alternatives):
            seed = None if settings.seed is None else settings.seed + index
            one = body if seed is None else {**body, "seed": seed}
            yield from self._one(index, path, one, prompt_tokens, settings.stop_sequences, seed, cancel)

    def _one(
        self,
        index: int,
        path: str,
        body: dict[str, Any],
        prompt_tokens: int,
        stop_sequences: tuple[str, ...],
        seed: int | None,
        cancel: threading.Event | None,
    ) -> Iterator[Event]:
        started = time.monotonic()
        first: float | None = None
        stops = StopSequenceFilter(stop_sequences)
        parts: list[str] = []
        pieces = 0
        end = StreamEnd(interrupted=True, detail="the stream ended without a word")
        stream: Generator[Delta | StreamEnd, None, None] = self.client.stream(path, body, cancel)
        try:
            for event in stream:
                if isinstance(event, Delta):
                    first = first or time.monotonic()
                    pieces += 1
                    shown = stops.feed(event.text)
                    if shown:
                        parts.append(shown)
                        yield TextChunk(shown, index)
                    if stops.stopped:
                        end = StreamEnd("stop_sequence")
                        break
                else:
                    end = event
        finally:
            stream.close()  # closes the HTTP stream when we stop early
        rest = stops.flush()
        if rest:
            parts.append(rest)
            yield TextChunk(rest, index)
        text = "".join(parts)
        if end.interrupted and not text and not end.cancelled:
            raise UserError(
                translate("Errors", "{name} ({host}) broke off before writing anything ({detail}).").format(
                    name=self.client.name, host=self.client.host, detail=end.detail
                ),
                hint=translate("Errors", "Check the server (its log says why), then try again."),
            )
        if end.interrupted:
            log.warning("%s broke off mid-reply (%s); the partial reply is kept", self.client.name, end.detail)
        reason = _finish_reason(end)
        now = time.monotonic()
        usage = end.usage
        generated = _int(usage.get("completion_tokens"), pieces)
        stats = GenerationStats(
            prompt_tokens=_int(usage.get("prompt_tokens"), prompt_tokens),
            generated_tokens=generated,
            ttft_ms=((first or now) - started) * 1000,
            tokens_per_s=generated / (now - first) if first is not None and now > first else 0.0,
            finish_reason=reason,
            seed=seed or 0,
            extra={"server": self.client.name, "host": self.client.host}
            | ({"interrupted": end.detail} if end.interrupted else {}),
        )
        yield Finished(index, text, stats)


def _finish_reason(end: StreamEnd) -> FinishReason:
    if end.cancelled:
        return FinishReason.CANCELLED
    if end.interrupted:
        return FinishReason.INTERRUPTED
    if end.finish_reason == "stop_sequence":
        return FinishReason.STOP_SEQUENCE
    if end.finish_reason == "length":
        return FinishReason.LENGTH
    return FinishReason.STOP_TOKEN


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
