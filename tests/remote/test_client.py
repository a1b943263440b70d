"""The OpenAI-compatible client and RemoteEngine against the scripted fake server: streaming,
stop sequences, cancel, and each fault turned into a plain message (or a kept, interrupted reply)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, TextChunk
from desktop_app.remote.client import RemoteClient, RetryPolicy, Timeouts, normalize_base_url
from desktop_app.remote.engine import RemoteEngine
from tests.remote.fake_server import FakeServer

QUICK_RETRY = RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=1.0)


def engine(server: FakeServer, model: str, key: str | None = None, **timeouts: float) -> RemoteEngine:
    client = RemoteClient("fake", server.url, key, Timeouts(**timeouts), QUICK_RETRY)
    return RemoteEngine(client, model)


def ask(
    target: RemoteEngine, text: str = "Hi", cancel: threading.Event | None = None, **settings: object
) -> list[object]:
    request = GenerationRequest(
        messages=(ChatMessage("user", text),),
        settings=GenerationSettings(temperature=0, **settings),  # type: ignore[arg-type]
    )
    return list(target.generate(request, cancel))


def finished(events: list[object]) -> Finished:
    return next(e for e in events if isinstance(e, Finished))


def test_base_url_is_normalized_and_bad_ones_refused() -> None:
    assert normalize_base_url("http://gpu-box:8000") == "http://gpu-box:8000/v1"
    assert normalize_base_url(" https://api.example.com/v1/ ") == "https://api.example.com/v1"
    for bad in ("gpu-box:8000", "ftp://x", "http://user:pw@host/v1", "http://host/v1?key=1"):
        with pytest.raises(UserError):
            normalize_base_url(bad)


def test_streams_a_chat_as_openai_messages(fake_server: FakeServer) -> None:
    events = ask(engine(fake_server, "ok"), "Say hello", max_new_tokens=7, stop_sequences=("END",))
    assert isinstance(events[0], PromptPrepared)
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == "Hello world!"
    done = finished(events)
    assert done.text == "Hello world!"
    assert done.stats.finish_reason is FinishReason.STOP_TOKEN
    assert done.stats.extra["server"] == "fake"
    path, body, _headers = fake_server.requests[-1]
    assert path == "/v1/chat/completions"
    assert body["messages"] == [{"role": "user", "content": "Say hello"}]
    assert (body["stream"], body["max_tokens"], body["stop"], body["temperature"]) == (True, 7, ["END"], 0)


def test_a_raw_prompt_goes_to_completions(fake_server: FakeServer) -> None:
    request = GenerationRequest(prompt="Once upon a time", settings=GenerationSettings(max_new_tokens=5))
    events = list(engine(fake_server, "ok").generate(request))
    assert finished(events).text == "Hello world!"
    path, body, _ = fake_server.requests[-1]
    assert (path, body["prompt"]) == ("/v1/completions", "Once upon a time")
    assert "messages" not in body


def test_stop_sequences_hold_even_when_the_server_ignores_them(fake_server: FakeServer) -> None:
    events = ask(engine(fake_server, "ignores-stop"), stop_sequences=("STOP",))
    shown = "".join(e.text for e in events if isinstance(e, TextChunk))
    assert shown == "one two "  # the partial "ST" was held back, never shown
    assert finished(events).stats.finish_reason is FinishReason.STOP_SEQUENCE


def test_a_server_that_dies_mid_reply_keeps_the_text_marked_interrupted(fake_server: FakeServer) -> None:
    done = finished(ask(engine(fake_server, "dies")))
    assert done.text == "Partial answer"
    assert done.stats.finish_reason is FinishReason.INTERRUPTED
    assert "interrupted" in done.stats.extra


def test_401_says_the_key_was_refused_and_what_to_do(keyed_server: FakeServer) -> None:
    with pytest.raises(UserError) as missing:
        ask(engine(keyed_server, "ok"))
    assert "needs an API key" in missing.value.message and "--api-key-env" in (missing.value.hint or "")
    with pytest.raises(UserError) as wrong:
        ask(engine(keyed_server, "ok", key="sk-wrong"))
    assert "refused the API key" in wrong.value.message
    assert "sk-wrong" not in str(wrong.value)
    assert finished(ask(engine(keyed_server, "ok", key="sk-test-secret-1234"))).text == "Hello world!"
    assert keyed_server.requests[-1][2]["Authorization"] == "Bearer sk-test-secret-1234"


def test_429_is_retried_honouring_retry_after_then_succeeds(fake_server: FakeServer) -> None:
    assert finished(ask(engine(fake_server, "busy"))).text == "Hello world!"
    assert fake_server.counts["busy"] == 3  # two refusals, then the answer


def test_429_gives_up_after_the_bounded_retries() -> None:
    server = FakeServer(busy_times=100).start()
    try:
        with pytest.raises(UserError) as error:
            ask(engine(server, "busy"))
        assert "429" in error.value.message and "Rate limit reached" in error.value.message
        assert server.counts["busy"] == QUICK_RETRY.attempts
    finally:
        server.stop()


def test_a_retry_after_longer_than_the_bound_is_not_waited_for(fake_server: FakeServer) -> None:
    client = RemoteClient("fake", fake_server.url, retry=RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=1))
    assert client._retry_delay(429, httpx.Headers({"Retry-After": "3600"}), 0) is None
    assert client._retry_delay(429, httpx.Headers({"Retry-After": "0.5"}), 0) == 0.5
    assert client._retry_delay(503, httpx.Headers(), 2) == pytest.approx(0.04)  # backoff doubles


@pytest.mark.parametrize(
    ("model", "words"),
    [("broken", ["error of its own (500)", "CUDA out of memory"]), ("denied", ["does not allow"]), ("nope", ["404"])],
)
def test_server_errors_become_plain_messages(fake_server: FakeServer, model: str, words: list[str]) -> None:
    with pytest.raises(UserError) as error:
        ask(engine(fake_server, model))
    for word in words:
        assert word in error.value.message
    assert error.value.hint


def test_503_is_retried_then_explained(fake_server: FakeServer) -> None:
    with pytest.raises(UserError, match="unavailable"):
        ask(engine(fake_server, "unavail"))
    assert fake_server.counts["unavail"] == QUICK_RETRY.attempts


def test_a_slow_server_times_out_with_a_message() -> None:
    server = FakeServer(slow_s=3).start()
    try:
        started = time.monotonic()
        with pytest.raises(UserError, match="stopped answering"):
            ask(engine(server, "slow", read_s=0.5))
        assert time.monotonic() - started < 2.5
    finally:
        server.stop()


def test_nothing_listening_is_a_connection_message() -> None:
    from tests.remote.conftest import free_port

    client = RemoteClient("gone", f"http://127.0.0.1:{free_port()}", timeouts=Timeouts(models_s=1))
    started = time.monotonic()
    with pytest.raises(UserError, match="could not connect"):
        client.models()
    assert time.monotonic() - started < 2


def test_tls_to_a_plain_http_server_is_a_tls_message(fake_server: FakeServer) -> None:
    client = RemoteClient("fake", fake_server.url.replace("http://", "https://"), timeouts=Timeouts(models_s=2))
    with pytest.raises(UserError) as error:
        client.models()
    assert "secure connection" in error.value.message
    assert "certificate" in (error.value.hint or "")


def test_cancel_closes_the_stream(fake_server: FakeServer) -> None:
    cancel = threading.Event()
    target = engine(fake_server, "trickle")
    request = GenerationRequest(messages=(ChatMessage("user", "go"),), settings=GenerationSettings(temperature=0))
    events: list[object] = []
    for event in target.generate(request, cancel):
        events.append(event)
        if isinstance(event, TextChunk) and len(events) == 3:
            cancel.set()
    done = finished(events)
    assert done.stats.finish_reason is FinishReason.CANCELLED
    assert done.text.startswith("tick tick")
    assert fake_server.client_hung_up.wait(5), "the server kept writing to an open stream"
    assert fake_server.pieces_sent < 400


def test_models_lists_what_the_server_has(fake_server: FakeServer) -> None:
    models = RemoteClient("fake", fake_server.url).models()
    assert [m["id"] for m in models][:2] == ["ok", "dies"]


def test_beam_search_is_refused_rather_than_dropped(fake_server: FakeServer) -> None:
    """OpenAI's API has no beams: a server would write a plain reply labelled as a beam search."""
    remote = engine(fake_server, "m")
    with pytest.raises(UserError, match="Beam search runs only with a model on this computer"):
        ask(remote, num_beams=4)
    assert fake_server.requests == []
