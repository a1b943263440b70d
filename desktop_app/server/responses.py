"""OpenAI's response shapes: whole completions, streamed chunks, usage, the model list."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from desktop_app.core.generation import FinishReason
from desktop_app.engine import Finished
from desktop_app.server.protocol import Kind

_FINISH = {
    FinishReason.STOP_TOKEN: "stop",
    FinishReason.STOP_SEQUENCE: "stop",
    FinishReason.LENGTH: "length",
    FinishReason.CONTEXT_FULL: "length",
    FinishReason.CANCELLED: "stop",
}


def finish_reason(reason: FinishReason) -> str:
    return _FINISH[reason]


def usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> dict[str, Any]:
    """`cached_tokens` is the prompt's prefix that the KV cache already held (not run again)."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens},
    }


def model_object(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "inkwell"}


class Shapes:
    """The JSON of one response, whole or in chunks; `kind` is chat or completion."""

    def __init__(self, kind: Kind, model: str) -> None:
        self.kind = kind
        self.model = model
        self.id = ("chatcmpl-" if kind == "chat" else "cmpl-") + secrets.token_hex(12)
        self.created = int(time.time())

    def _head(self, object_name: str) -> dict[str, Any]:
        return {"id": self.id, "object": object_name, "created": self.created, "model": self.model}

    def whole(self, results: Sequence[Finished], usage_: dict[str, Any]) -> dict[str, Any]:
        choices: list[dict[str, Any]] = []
        for finished in sorted(results, key=lambda f: f.index):
            reason = finish_reason(finished.stats.finish_reason)
            if self.kind == "chat":
                message = {"role": "assistant", "content": finished.text, "refusal": None}
                choices.append({"index": finished.index, "message": message, "logprobs": None, "finish_reason": reason})
            else:
                choices.append(
                    {"index": finished.index, "text": finished.text, "logprobs": None, "finish_reason": reason}
                )
        object_name = "chat.completion" if self.kind == "chat" else "text_completion"
        return self._head(object_name) | {"system_fingerprint": None, "choices": choices, "usage": usage_}

    def chunk(
        self, index: int, text: str | None, *, first: bool = False, finish: str | None = None, with_usage: bool = False
    ) -> dict[str, Any]:
        """One streamed piece of choice `index`: `first` opens a chat choice with its role;
        `finish` closes it."""
        if self.kind == "chat":
            delta: dict[str, Any] = {}
            if first:
                delta["role"] = "assistant"
            if text is not None:
                delta["content"] = text
            choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
            body = self._head("chat.completion.chunk") | {"system_fingerprint": None, "choices": [choice]}
        else:
            choice = {"index": index, "text": text or "", "logprobs": None, "finish_reason": finish}
            body = self._head("text_completion") | {"system_fingerprint": None, "choices": [choice]}
        if with_usage:
            body["usage"] = None  # every chunk has it, null until the last one (OpenAI's rule)
        return body

    def usage_chunk(self, usage_: dict[str, Any]) -> dict[str, Any]:
        """The last chunk of a stream with include_usage: no choices, the usage."""
        object_name = "chat.completion.chunk" if self.kind == "chat" else "text_completion"
        return self._head(object_name) | {"system_fingerprint": None, "choices": [], "usage": usage_}
