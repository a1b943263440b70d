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


def finish_reason(reason: FinishReason, tool_calls: bool = False) -> str:
    return "tool_calls" if tool_calls else _FINISH[reason]


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
            reason = finish_reason(finished.stats.finish_reason, bool(finished.tool_calls))
            if self.kind == "chat":
                message: dict[str, Any] = {"role": "assistant", "content": finished.text, "refusal": None}
                if finished.reasoning:
                    message["reasoning_content"] = finished.reasoning
                if finished.tool_calls:
                    message["content"] = finished.text or None
                    message["tool_calls"] = [call.as_openai() for call in finished.tool_calls]
                choices.append({"index": finished.index, "message": message, "logprobs": None, "finish_reason": reason})
            else:
                choices.append(
                    {"index": finished.index, "text": finished.text, "logprobs": None, "finish_reason": reason}
                )
        object_name = "chat.completion" if self.kind == "chat" else "text_completion"
        return self._head(object_name) | {"system_fingerprint": None, "choices": choices, "usage": usage_}

    def chunk(
        self,
        index: int,
        text: str | None,
        *,
        first: bool = False,
        finish: str | None = None,
        with_usage: bool = False,
        delta: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One streamed piece of choice `index`: `first` opens a chat choice with its role;
        `finish` closes it; `delta` is a chat delta's other fields (reasoning, tool calls)."""
        if self.kind == "chat":
            delta = dict(delta or {})
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

    def tool_call_chunks(self, index: int, finished: Finished, with_usage: bool = False) -> list[dict[str, Any]]:
        """A reply's calls as OpenAI streams them: per call, its id and name, then its
        arguments (the official client joins the pieces by their index)."""
        chunks = []
        for number, call in enumerate(finished.tool_calls):
            head = {
                "index": number,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            chunks.append(self.chunk(index, None, with_usage=with_usage, delta={"tool_calls": [head]}))
            arguments = {"index": number, "function": {"arguments": call.arguments}}
            chunks.append(self.chunk(index, None, with_usage=with_usage, delta={"tool_calls": [arguments]}))
        return chunks

    def usage_chunk(self, usage_: dict[str, Any]) -> dict[str, Any]:
        """The last chunk of a stream with include_usage: no choices, the usage."""
        object_name = "chat.completion.chunk" if self.kind == "chat" else "text_completion"
        return self._head(object_name) | {"system_fingerprint": None, "choices": [], "usage": usage_}
