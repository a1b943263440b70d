"""A real OpenAI-compatible server: llama.cpp's (llama-cpp-python's `python -m llama_cpp.server`)
on the default model's GGUF, started by the tests on loopback. Inkwell streams from it as
from its own engine: chat, raw prompts, stop sequences, cancel, and `inkwell ask`."""

from __future__ import annotations

import json
import threading

import pytest

from desktop_app.cli import main
from desktop_app.core.chat import ChatMessage
from desktop_app.core.generation import FinishReason, GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, TextChunk
from desktop_app.session.chat import ChatSession, ModelRef
from desktop_app.session.scheduler import Scheduler, Source
from desktop_app.session.servers import server_registry
from desktop_app.store import Store
from tests.remote.conftest import LLAMA_ALIAS

GREEDY = GenerationSettings(temperature=0, max_new_tokens=24)


@pytest.fixture
def llama_engine(llama_server: str, store: Store):  # type: ignore[no-untyped-def]
    registry = server_registry(store)
    server = registry.add("llama", llama_server)
    return registry.engine_loader(server, LLAMA_ALIAS, require_consent=False)()


def text_of(events: list[object]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextChunk))


def test_a_chat_streams_and_finishes(llama_engine) -> None:  # type: ignore[no-untyped-def]
    request = GenerationRequest((ChatMessage("user", "What is the capital of France?"),), GREEDY)
    events = list(llama_engine.generate(request))
    done = next(e for e in events if isinstance(e, Finished))
    assert done.text.strip() and done.text == text_of(events)
    assert sum(isinstance(e, TextChunk) for e in events) > 1  # streamed, not in one piece
    assert done.stats.finish_reason in (FinishReason.STOP_TOKEN, FinishReason.LENGTH)
    again = list(llama_engine.generate(request))
    assert text_of(again) == done.text  # greedy: the same answer


def test_a_raw_prompt_and_a_stop_sequence(llama_engine) -> None:  # type: ignore[no-untyped-def]
    free = list(llama_engine.generate(GenerationRequest(prompt="1, 2, 3, 4,", settings=GREEDY)))
    text = text_of(free)
    assert text.strip()
    word = text.split()[1] if len(text.split()) > 1 else text.split()[0]
    cut = text.index(word)
    stopped = list(
        llama_engine.generate(
            GenerationRequest(
                prompt="1, 2, 3, 4,",
                settings=GenerationSettings(temperature=0, max_new_tokens=24, stop_sequences=(word,)),
            )
        )
    )
    done = next(e for e in stopped if isinstance(e, Finished))
    assert done.text == text[:cut]
    assert word not in done.text


def test_cancel_stops_the_reply(llama_engine) -> None:  # type: ignore[no-untyped-def]
    cancel = threading.Event()
    request = GenerationRequest(
        (ChatMessage("user", "Write a long story about a lighthouse."),),
        GenerationSettings(temperature=0, max_new_tokens=120),
    )
    events: list[object] = []
    for event in llama_engine.generate(request, cancel):
        events.append(event)
        if isinstance(event, TextChunk):
            cancel.set()
    done = next(e for e in events if isinstance(e, Finished))
    assert done.stats.finish_reason is FinishReason.CANCELLED
    assert done.stats.generated_tokens < 50


def test_a_chat_session_and_ask_on_the_server(
    llama_server: str, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = server_registry(store)
    server = registry.add("llama", llama_server)
    scheduler = Scheduler(registry.engine_loader(server, LLAMA_ALIAS, require_consent=False))
    try:
        scheduler.start()
        info = scheduler.wait_until_loaded(60)
        session = ChatSession(store, lambda: GREEDY)
        conversation = session.new_conversation("", GREEDY, info.model_id)
        _user, turn = session.send(conversation.id, "Name a colour.", ModelRef.of(info))
        message = turn.run(scheduler.submit(turn.request, Source.CHAT).events())
    finally:
        scheduler.shutdown()
    assert message is not None and message.status == "complete" and message.content.strip()
    assert (message.model_id, message.provider) == (f"llama:{LLAMA_ALIAS}", f"remote:{llama_server}/v1")
    assert main(["servers", "add", "llama", llama_server]) == 0
    assert main(["models", "list", "--json"]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "ask",
                "Name a colour.",
                "--model",
                f"llama:{LLAMA_ALIAS}",
                "--temperature",
                "0",
                "--max-new-tokens",
                "24",
                "--json",
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    # Not compared with the chat's reply word for word: llama.cpp reuses its cached prefix
    # between requests, and that alone can tip a greedy choice.
    assert answer["text"].strip() and answer["finish_reason"] in ("stop_token", "length")
    assert answer["model"] == f"llama:{LLAMA_ALIAS}"
