"""OpenAI's request bodies read into Inkwell's requests, and OpenAI's error shape.

Every field that changes the result is either honoured or refused with a 400 that names
it; fields that change nothing here (user, metadata, store, ...) are accepted and ignored,
as are fields this version has never heard of.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from desktop_app.core.chat import ChatMessage, Role, ToolCall
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import GenerationRequest

MAX_CHOICES = 8  # GenerationSettings.num_alternatives allows 1 to 8
MAX_STOPS = 4  # as OpenAI
COMPLETIONS_DEFAULT_MAX_TOKENS = 16  # OpenAI's default for /v1/completions

Kind = Literal["chat", "completion"]


class ApiError(Exception):
    """An answer other than 200, in OpenAI's error JSON."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.error_type, "param": self.param, "code": self.code}}


def bad(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


@dataclass(frozen=True)
class ApiCall:
    """One generation request as the server runs it."""

    kind: Kind
    model: str
    request: GenerationRequest
    stream: bool = False
    include_usage: bool = False


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise bad("The request body must be a JSON object.")
    return data


# ---- typed fields ----


def _number(data: dict[str, Any], name: str, low: float, high: float, default: float) -> float:
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad(f"'{name}' must be a number.", name, "invalid_type")
    if not low <= value <= high:
        raise bad(f"'{name}' must be between {low:g} and {high:g}; it was {value}.", name, "invalid_value")
    return float(value)


def _integer(data: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"'{name}' must be an integer.", name, "invalid_type")
    if value < low or (high is not None and value > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad(f"'{name}' must be {limit}; it was {value}.", name, "invalid_value")
    return value


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad(f"'{name}' must be true or false.", name, "invalid_type")
    return value


def _stops(data: dict[str, Any]) -> tuple[str, ...]:
    value = data.get("stop")
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad("'stop' must be a string or a list of strings.", "stop", "invalid_type")
    if len(value) > MAX_STOPS:
        raise bad(f"'stop' takes at most {MAX_STOPS} sequences.", "stop", "invalid_value")
    return tuple(v for v in value if v)


def _refuse_unsupported(data: dict[str, Any]) -> None:
    """Fields that would change the result and that this server cannot honour."""
    if data.get("logit_bias"):
        raise bad("'logit_bias' is not supported by this server.", "logit_bias", "unsupported_parameter")
    logprobs = data.get("logprobs")
    if logprobs is not None and logprobs is not False:
        raise bad("'logprobs' is not supported by this server.", "logprobs", "unsupported_parameter")
    if data.get("top_logprobs") is not None:
        raise bad("'top_logprobs' is not supported by this server.", "top_logprobs", "unsupported_parameter")
    if data.get("functions"):
        raise bad(
            "'functions' is OpenAI's old form of tools; send 'tools' instead.", "functions", "unsupported_parameter"
        )
    if data.get("function_call") not in (None, "none"):
        raise bad(
            "'function_call' is OpenAI's old form; send 'tool_choice' instead.",
            "function_call",
            "unsupported_parameter",
        )
    modalities = data.get("modalities")
    if modalities is not None and modalities != ["text"]:
        raise bad("Only text output is supported ('modalities').", "modalities", "unsupported_parameter")
    for name in ("audio", "prediction", "web_search_options", "suffix"):
        if data.get(name):
            raise bad(f"'{name}' is not supported by this server.", name, "unsupported_parameter")
    if data.get("echo"):
        raise bad("'echo' is not supported by this server.", "echo", "unsupported_parameter")
    best_of = data.get("best_of")
    if best_of is not None and best_of != 1:
        raise bad("'best_of' is not supported by this server (use 'n').", "best_of", "unsupported_parameter")


def _response_format(data: dict[str, Any]) -> dict[str, Any] | None:
    value = data.get("response_format")
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise bad("'response_format' must be an object with a 'type'.", "response_format", "invalid_type")
    kind = value["type"]
    if kind == "text":
        return None
    if kind not in ("json_object", "json_schema"):
        raise bad(
            f"'response_format' type must be text, json_object or json_schema; it was {kind!r}.",
            "response_format",
            "invalid_value",
        )
    if kind == "json_schema" and not isinstance(value.get("json_schema"), dict):
        raise bad("A json_schema response_format needs a 'json_schema' object.", "response_format", "invalid_type")
    return value


def _stream_options(data: dict[str, Any], stream: bool) -> bool:
    options = data.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise bad("'stream_options' must be an object.", "stream_options", "invalid_type")
    if not stream:
        raise bad("'stream_options' is only allowed when 'stream' is true.", "stream_options", "invalid_value")
    return _flag(options, "include_usage")


def _settings(data: dict[str, Any], max_tokens: int, n: int) -> GenerationSettings:
    """OpenAI's sampling: temperature 1 and top_p 1 by default, no top-k, min-p or
    repetition penalty unless the client sends llama.cpp's extensions of the same names."""
    top_p = _number(data, "top_p", 0.0, 1.0, 1.0)
    try:
        return GenerationSettings(
            max_new_tokens=max_tokens,
            temperature=_number(data, "temperature", 0.0, 2.0, 1.0),
            top_p=max(top_p, 1e-9),  # 0 keeps the single likeliest token, as OpenAI reads it
            top_k=_integer(data, "top_k", 0) or 0,
            min_p=_number(data, "min_p", 0.0, 0.999, 0.0),
            repetition_penalty=_number(data, "repetition_penalty", 0.01, 10.0, 1.0),
            seed=_integer(data, "seed", 0),
            stop_sequences=_stops(data),
            num_alternatives=n,
            presence_penalty=_number(data, "presence_penalty", -2.0, 2.0, 0.0),
            frequency_penalty=_number(data, "frequency_penalty", -2.0, 2.0, 0.0),
            # Beam search, as extra fields (transformers' and vLLM's names): the n best of num_beams.
            num_beams=_integer(data, "num_beams", 1, 16) or 1,
            length_penalty=_number(data, "length_penalty", -10.0, 10.0, 1.0),
            early_stopping=_early_stopping(data),
            no_repeat_ngram_size=_integer(data, "no_repeat_ngram_size", 0) or 0,
            # Thinking models: chat_template_kwargs.enable_thinking (vLLM's and llama.cpp's
            # way to set the template's switch) and a reasoning budget in tokens (-1: none).
            thinking=_thinking(data),
            reasoning_budget=_budget(data),
        )
    except UserError as exc:
        raise bad(exc.message, code="invalid_value") from None


def _budget(data: dict[str, Any]) -> int:
    value = _integer(data, "reasoning_budget", -1)
    return -1 if value is None else value


def _thinking(data: dict[str, Any]) -> str:
    kwargs = data.get("chat_template_kwargs")
    if kwargs is None:
        return "auto"
    if not isinstance(kwargs, dict):
        raise bad("'chat_template_kwargs' must be an object.", "chat_template_kwargs", "invalid_type")
    unknown = set(kwargs) - {"enable_thinking"}
    if unknown:
        raise bad(
            f"'chat_template_kwargs' may only set enable_thinking here (not {', '.join(sorted(unknown))}).",
            "chat_template_kwargs",
            "unsupported_parameter",
        )
    value = kwargs.get("enable_thinking")
    if value is None:
        return "auto"
    if not isinstance(value, bool):
        raise bad(
            "'chat_template_kwargs.enable_thinking' must be true or false.", "chat_template_kwargs", "invalid_type"
        )
    return "on" if value else "off"


def _early_stopping(data: dict[str, Any]) -> bool | str:
    value = data.get("early_stopping", False)
    if value not in (True, False, "never") or not isinstance(value, (bool, str)):
        raise bad("'early_stopping' must be true, false or \"never\".", "early_stopping", "invalid_value")
    return value


def _model(data: dict[str, Any]) -> str:
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise bad("'model' is required: a model id from GET /v1/models.", "model", "invalid_type")
    return model


def _common(
    data: dict[str, Any], default_max_tokens: int
) -> tuple[GenerationSettings, bool, bool, dict[str, Any] | None]:
    _refuse_unsupported(data)
    stream = _flag(data, "stream")
    include_usage = _stream_options(data, stream)
    n = _integer(data, "n", 1, MAX_CHOICES) or 1
    max_tokens = _integer(data, "max_completion_tokens", 1)
    if max_tokens is None:
        max_tokens = _integer(data, "max_tokens", 1)
    settings = _settings(data, max_tokens or default_max_tokens, n)
    response_format = _response_format(data)
    if settings.beam_search and response_format is not None:
        raise bad("Beam search ('num_beams' > 1) cannot be combined with 'response_format'.", "num_beams")
    return settings, stream, include_usage, response_format


# ---- the two endpoints ----

_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
}


def _content(message: dict[str, Any], where: str) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if content is None and (message.get("tool_calls") or message.get("role") == "assistant"):
        return ""  # an assistant turn that only called tools
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise bad(f"{where}: only text content is supported (not {kind!r}).", "messages", "invalid_value")
            texts.append(part["text"])
        return "".join(texts)
    raise bad(f"{where}: 'content' must be a string or a list of text parts.", "messages", "invalid_type")


def _messages(data: dict[str, Any]) -> tuple[ChatMessage, ...]:
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad("'messages' must be a non-empty list.", "messages", "invalid_type")
    result = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise bad(f"{where} must be an object.", "messages", "invalid_type")
        role = message.get("role")
        if not isinstance(role, str) or role not in _ROLES:
            raise bad(
                f"{where}: 'role' must be system, developer, user, assistant or tool.", "messages", "invalid_value"
            )
        reasoning = message.get("reasoning_content") or ""
        if not isinstance(reasoning, str):
            raise bad(f"{where}: 'reasoning_content' must be a string.", "messages", "invalid_type")
        calls = _tool_calls(message, where) if role == "assistant" else ()
        call_id = message.get("tool_call_id")
        if role == "tool" and not isinstance(call_id, str):
            raise bad(f"{where}: a tool message needs the 'tool_call_id' it answers.", "messages", "invalid_value")
        name = message.get("name") if role == "tool" and isinstance(message.get("name"), str) else None
        content = _content(message, where)
        result.append(ChatMessage(_ROLES[role], content, reasoning, calls, call_id if role == "tool" else None, name))
    known = {call.id: call.name for m in result for call in m.tool_calls}
    result = [
        ChatMessage(
            m.role, m.content, m.reasoning, m.tool_calls, m.tool_call_id, m.name or known.get(m.tool_call_id or "")
        )
        if m.role == "tool"
        else m
        for m in result
    ]
    return tuple(result)


def _tool_calls(message: dict[str, Any], where: str) -> tuple[ToolCall, ...]:
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise bad(f"{where}: 'tool_calls' must be a list.", "messages", "invalid_type")
    result = []
    for j, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("arguments", ""), str)
            or not isinstance(call.get("id", ""), str)
        ):
            raise bad(
                f'{where}.tool_calls[{j}] must be {{"id", "type": "function", "function": {{"name", "arguments": a JSON string}}}}.',
                "messages",
                "invalid_value",
            )
        result.append(ToolCall(call.get("id", ""), function["name"], function.get("arguments", "")))
    return tuple(result)


def parse_chat(data: dict[str, Any], default_max_tokens: int) -> ApiCall:
    """POST /v1/chat/completions."""
    model = _model(data)
    messages = _messages(data)
    settings, stream, include_usage, response_format = _common(data, default_max_tokens)
    tools = data.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise bad("'tools' must be a list of tools.", "tools", "invalid_type")
    parallel = data.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        raise bad("'parallel_tool_calls' must be true or false.", "parallel_tool_calls", "invalid_type")
    request = _request(
        messages=messages,
        settings=settings,
        response_format=response_format,
        tools=tuple(tools or ()),
        tool_choice=data.get("tool_choice"),
        parallel_tool_calls=parallel,
    )
    return ApiCall("chat", model, request, stream, include_usage)


def parse_completion(data: dict[str, Any]) -> ApiCall:
    """POST /v1/completions (a raw prompt continued, no chat template)."""
    model = _model(data)
    prompt = data.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if isinstance(prompt, list):
        raise bad("'prompt' must be one string (lists of prompts and token ids are not supported).", "prompt")
    if not isinstance(prompt, str) or not prompt:
        raise bad("'prompt' must be a non-empty string.", "prompt", "invalid_type")
    settings, stream, include_usage, response_format = _common(data, COMPLETIONS_DEFAULT_MAX_TOKENS)
    request = _request(prompt=prompt, settings=settings, response_format=response_format)
    return ApiCall("completion", model, request, stream, include_usage)


def _request(**fields: Any) -> GenerationRequest:
    """The engine's request; what it refuses (a JSON Schema it cannot enforce) is the client's 400."""
    try:
        return GenerationRequest(**fields)
    except UserError as exc:
        param = next((p for p in ("response_format", "tool_choice", "tools") if p in exc.message), None)
        raise bad(exc.message, param, "invalid_value") from None
