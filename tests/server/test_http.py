"""Bad requests, keys, limits and CORS over raw HTTP, as a careless or hostile client sends them."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from typing import Any

import pytest

from desktop_app.core.generation import FinishReason
from tests.server.conftest import KEY, Running, ServerFakeEngine

CHAT = {"model": "fake-model", "messages": [{"role": "user", "content": "Hello there"}]}


def call(
    running: Running,
    method: str,
    path: str,
    body: Any = None,
    key: str | None = KEY,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
    try:
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        if data is not None:
            sent["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        parsed = (
            json.loads(raw) if raw and response.getheader("Content-Type", "").startswith("application/json") else raw
        )
        return response.status, {k.lower(): v for k, v in response.getheaders()}, parsed
    finally:
        connection.close()


def assert_error(answer: tuple[int, dict[str, str], Any], status: int, code: str | None = None) -> dict[str, Any]:
    got, _headers, body = answer
    assert got == status, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert "Traceback" not in error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def test_malformed_json_is_400(running: Running) -> None:
    error = assert_error(call(running, "POST", "/v1/chat/completions", b'{"model": "fake-model", '), 400)
    assert "not valid JSON" in error["message"] and error["type"] == "invalid_request_error"
    assert_error(call(running, "POST", "/v1/chat/completions", b"[1, 2]"), 400)
    assert_error(call(running, "POST", "/v1/chat/completions", "\udcff".encode("utf-8", "surrogatepass")), 400)


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 2.5}, "temperature"),
        ({"top_p": True}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"n": 9}, "n"),
        ({"stream": "yes"}, "stream"),
        ({"stop": [1, 2]}, "stop"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"seed": -1}, "seed"),
        ({"presence_penalty": 3}, "presence_penalty"),
        ({"frequency_penalty": "x"}, "frequency_penalty"),
        ({"messages": "hello"}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, "messages"),
        ({"model": 3}, "model"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"logprobs": True}, "logprobs"),
        # Tools: malformed ones and a choice that does not fit them are the client's error.
        ({"tools": {"type": "function"}}, "tools"),
        ({"tools": [{"type": "function", "function": {"name": "no spaces"}}]}, "tools"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "nonsense"}}}]}, "tools"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "always"}, "tool_choice"),
        (
            {
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "tool_choice": {"type": "function", "function": {"name": "g"}},
            },
            "tool_choice",
        ),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"parallel_tool_calls": "yes"}, "parallel_tool_calls"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"messages": [{"role": "tool", "content": "42"}]}, "messages"),
        (
            {"messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": "a", "function": {}}]}]},
            "messages",
        ),
        ({"chat_template_kwargs": {"enable_thinking": "yes"}}, "chat_template_kwargs"),
        ({"reasoning_budget": -2}, "reasoning_budget"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
        # A schema the grammar library cannot enforce (an unsatisfiable range)
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "n", "schema": {"type": "integer", "minimum": 5, "maximum": 1}},
                }
            },
            "response_format",
        ),
    ],
)
def test_wrong_types_and_values_are_400_naming_the_field(running: Running, change: dict[str, Any], param: str) -> None:
    error = assert_error(call(running, "POST", "/v1/chat/completions", CHAT | change), 400)
    assert error["param"] == param
    assert running.engine.requests == []  # nothing reached the model


def test_harmless_fields_are_ignored_and_text_parts_are_joined(running: Running) -> None:
    content = [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]
    body = CHAT | {"user": "u1", "metadata": {"k": "v"}, "store": False, "logprobs": False, "tool_choice": "none"}
    body["messages"] = [{"role": "developer", "content": "Be kind."}, {"role": "user", "content": content}]
    status, _, answer = call(running, "POST", "/v1/chat/completions", body)
    assert status == 200 and answer["choices"][0]["message"]["content"] == "Paris is the capital of France."
    assert [(m.role, m.content) for m in running.engine.requests[-1].messages] == [
        ("system", "Be kind."),
        ("user", "Hello there"),
    ]


def test_completions_refuse_lists_of_prompts_and_echo(running: Running) -> None:
    base = {"model": "fake-model", "prompt": "Once"}
    assert_error(call(running, "POST", "/v1/completions", base | {"prompt": ["a", "b"]}), 400)
    assert_error(call(running, "POST", "/v1/completions", base | {"prompt": [1, 2, 3]}), 400)
    assert_error(call(running, "POST", "/v1/completions", base | {"echo": True}), 400)
    status, _, answer = call(running, "POST", "/v1/completions", base | {"prompt": ["Once upon"]})
    assert status == 200 and answer["choices"][0]["text"]


def test_a_missing_or_wrong_key_is_401(running: Running) -> None:
    assert_error(call(running, "GET", "/v1/models", key=None), 401, "invalid_api_key")
    assert_error(call(running, "GET", "/v1/models", key="wrong-key-0123456789"), 401, "invalid_api_key")
    assert_error(call(running, "POST", "/v1/chat/completions", CHAT, key="x"), 401, "invalid_api_key")
    status, _, _ = call(running, "GET", "/v1/models", headers={"Authorization": "Basic " + KEY}, key=None)
    assert status == 401
    assert running.engine.requests == []


def test_an_oversized_body_is_413_without_reading_it(start_server: Any) -> None:
    running = start_server(max_body_bytes=1000)
    body = CHAT | {"messages": [{"role": "user", "content": "x" * 2000}]}
    assert_error(call(running, "POST", "/v1/chat/completions", body), 413)
    # The header alone decides: a client that claims a huge body is refused before sending it.
    with socket.create_connection(("127.0.0.1", running.port), timeout=10) as raw:
        raw.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nContent-Length: 999999999\r\n\r\n"
        )
        assert raw.recv(100).startswith(b"HTTP/1.1 413")
    assert running.engine.requests == []


def test_unknown_paths_and_models_are_404(running: Running) -> None:
    assert_error(call(running, "GET", "/v1/nothing"), 404, "unknown_url")
    assert_error(call(running, "POST", "/v1/embeddings", {"model": "fake-model", "input": "x"}), 404, "unknown_url")
    error = assert_error(call(running, "POST", "/v1/chat/completions", CHAT | {"model": "gpt-4o"}), 404)
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert_error(call(running, "GET", "/v1/models/gpt-4o"), 404, "model_not_found")


def test_a_prompt_longer_than_the_context_is_400_context_length_exceeded(running: Running) -> None:
    long = CHAT | {"messages": [{"role": "user", "content": "word " * 200}]}
    error = assert_error(call(running, "POST", "/v1/chat/completions", long), 400, "context_length_exceeded")
    assert "too long" in error["message"]
    streamed = long | {"stream": True}  # decided before the stream starts, so a status, not a broken stream
    assert_error(call(running, "POST", "/v1/chat/completions", streamed), 400, "context_length_exceeded")
    assert_error(
        call(running, "POST", "/v1/completions", {"model": "fake-model", "prompt": "word " * 200}),
        400,
        "context_length_exceeded",
    )


def test_a_conversation_the_engine_would_trim_is_refused_not_cut(start_server: Any) -> None:
    running = start_server(engine=ServerFakeEngine(dropped_messages=2, delay_s=0.01))
    assert_error(call(running, "POST", "/v1/chat/completions", CHAT), 400, "context_length_exceeded")
    time.sleep(0.2)
    assert running.engine.finished and running.engine.finished[-1].stats.finish_reason is FinishReason.CANCELLED


def test_an_unexpected_error_is_500_without_a_traceback(start_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    running = start_server(engine=ServerFakeEngine(fail_with=RuntimeError("secret internals")))
    error = assert_error(call(running, "POST", "/v1/chat/completions", CHAT), 500)
    assert error["type"] == "server_error" and "secret internals" not in error["message"]
    assert "secret internals" in caplog.text  # the log has it, with the traceback


def test_answers_stay_in_english_when_the_window_shows_chinese(start_server: Any) -> None:
    """Clients and scripts read the messages (and the parameter an error names is found by
    its words): the window's language, here a lookup that makes every string Chinese, stays
    out of them, on the request's thread and on the generation thread alike."""
    from desktop_app.core import i18n

    running = start_server()
    i18n.install(lambda context, text: "已翻译", "zh_CN")
    try:
        assert i18n.translate("Errors", "Hello") == "已翻译"  # the window's strings are translated
        schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "strin"}}}
        error = assert_error(call(running, "POST", "/v1/chat/completions", {**CHAT, "response_format": schema}), 400)
        assert "Invalid type: strin" in error["message"] and error["param"] == "response_format"
        running.engine.fail_with = RuntimeError("secret internals")  # raised on the scheduler's thread
        error = assert_error(call(running, "POST", "/v1/chat/completions", CHAT), 500)
        assert error["message"].startswith("Something went wrong") and "已翻译" not in error["message"]
        assert i18n.translate("Errors", "Hello") == "已翻译"  # and this thread's strings still are
    finally:
        i18n.install(None)


def test_cors_is_off_unless_origins_are_listed(start_server: Any) -> None:
    off = start_server()
    status, headers, _ = call(off, "GET", "/v1/models", headers={"Origin": "http://evil.example"})
    assert status == 200 and "access-control-allow-origin" not in headers
    preflight = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    status, headers, _ = call(off, "OPTIONS", "/v1/chat/completions", key=None, headers=preflight)
    assert status == 403 and "access-control-allow-origin" not in headers

    on = start_server(cors_origins=("http://localhost:3000",))
    allowed = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    status, headers, _ = call(on, "OPTIONS", "/v1/chat/completions", key=None, headers=allowed)
    assert status == 204 and headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "Authorization" in headers["access-control-allow-headers"]
    status, headers, _ = call(on, "POST", "/v1/chat/completions", CHAT, headers={"Origin": "http://localhost:3000"})
    assert status == 200 and headers["access-control-allow-origin"] == "http://localhost:3000"
    status, headers, _ = call(on, "OPTIONS", "/v1/models", key=None, headers=preflight)
    assert status == 403 and "access-control-allow-origin" not in headers
    status, headers, _ = call(on, "GET", "/v1/models", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in headers


def test_a_full_queue_is_429(start_server: Any) -> None:
    running = start_server(engine=ServerFakeEngine(delay_s=0.2), max_pending=1)
    first: list[int] = []
    worker = threading.Thread(target=lambda: first.append(call(running, "POST", "/v1/chat/completions", CHAT)[0]))
    worker.start()
    deadline = time.monotonic() + 5
    while running.server.pending == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    answer = call(running, "POST", "/v1/chat/completions", CHAT)
    assert_error(answer, 429, "rate_limit_exceeded")
    assert answer[1]["retry-after"] == "1"
    worker.join(10)
    assert first == [200]


def read_until(raw: socket.socket, marker: bytes, limit_s: float = 10) -> bytes:
    seen = b""
    deadline = time.monotonic() + limit_s
    while marker not in seen and time.monotonic() < deadline:
        seen += raw.recv(4096)
    return seen


def test_a_client_that_disconnects_mid_stream_cancels_within_a_token(start_server: Any) -> None:
    engine = ServerFakeEngine(tokens=[f"w{i} " for i in range(200)], delay_s=0.02)
    running = start_server(engine=engine)
    body = json.dumps(CHAT | {"stream": True, "max_tokens": 500}).encode()
    raw = socket.create_connection(("127.0.0.1", running.port), timeout=10)
    raw.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    assert b"w3 " in read_until(raw, b"w3 ")
    raw.close()
    closed_at = engine.tokens_sent
    deadline = time.monotonic() + 5
    while not engine.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.finished[-1].stats.finish_reason is FinishReason.CANCELLED
    # A closed socket fails the next write or the one after (the peer's reset comes back first).
    assert engine.tokens_sent - closed_at <= 3
    deadline = time.monotonic() + 5
    while running.server.pending and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running.server.pending == 0


def test_a_client_that_disconnects_while_waiting_for_a_whole_answer_cancels(start_server: Any) -> None:
    engine = ServerFakeEngine(tokens=[f"w{i} " for i in range(200)], delay_s=0.02)
    running = start_server(engine=engine)
    body = json.dumps(CHAT | {"max_tokens": 500}).encode()
    raw = socket.create_connection(("127.0.0.1", running.port), timeout=10)
    raw.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    deadline = time.monotonic() + 5
    while engine.tokens_sent < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    raw.close()
    deadline = time.monotonic() + 5
    while not engine.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.finished[-1].stats.finish_reason is FinishReason.CANCELLED
    assert engine.tokens_sent < 20


def test_keep_alive_serves_several_requests_on_one_connection(running: Running) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
    try:
        for stream in (False, True, False):
            body = json.dumps(CHAT | {"stream": stream}).encode()
            headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
            connection.request("POST", "/v1/chat/completions", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            assert response.status == 200
            assert data.endswith(b"data: [DONE]\n\n") if stream else json.loads(data)["choices"]
    finally:
        connection.close()
    # The count goes up once a request's handler is done, just after its answer went out.
    deadline = time.monotonic() + 5
    while running.server.requests_served < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running.server.requests_served == 3
