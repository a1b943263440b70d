"""The second real server: Inkwell's own `inkwell serve`, started as a user starts it (a
process of its own, on loopback, with a key) on the default model. Inkwell uses it as a
remote model server: chat, raw prompts, stop sequences, cancel, and `inkwell ask`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop_app.cli import main
from desktop_app.core.chat import ChatMessage
from desktop_app.core.generation import FinishReason, GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, TextChunk
from desktop_app.session.servers import server_registry
from desktop_app.store import Store
from tests.conftest import DEFAULT_MODEL_ID
from tests.remote.conftest import free_port

pytestmark = pytest.mark.slow
KEY = "serve-test-key-0123456789abcdef"
GREEDY = GenerationSettings(temperature=0, max_new_tokens=24)


@pytest.fixture(scope="module")
def inkwell_server(default_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m desktop_app serve` on a free port; yields its base URL."""
    port = free_port()
    folder = tmp_path_factory.mktemp("inkwell-serve")
    env = dict(
        os.environ,
        INKWELL_API_KEY=KEY,
        INKWELL_DATA_DIR=str(folder / "data"),
        INKWELL_MODELS_DIR=str(default_model_dir.parent),
    )
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "desktop_app", "serve", "--port", str(port), "--model", DEFAULT_MODEL_ID],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"inkwell serve exited ({process.returncode}):\n{log.read_text(errors='replace')[-2000:]}")
            try:
                answer = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=1)
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"inkwell serve did not answer within 120 s:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
def remote_engine(inkwell_server: str, store: Store, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    registry = server_registry(store)
    server = registry.add("self", inkwell_server, api_key=KEY)
    return registry.engine_loader(server, DEFAULT_MODEL_ID, require_consent=False)()


def text_of(events: list[object]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextChunk))


def test_without_the_key_the_server_refuses(inkwell_server: str) -> None:
    assert httpx.get(f"{inkwell_server}/v1/models", timeout=5).status_code == 401


def test_a_chat_streams_and_can_be_sent_again(remote_engine) -> None:  # type: ignore[no-untyped-def]
    request = GenerationRequest((ChatMessage("user", "What is the capital of France?"),), GREEDY)
    events = list(remote_engine.generate(request))
    done = next(e for e in events if isinstance(e, Finished))
    assert done.text.strip() and done.text == text_of(events)
    assert sum(isinstance(e, TextChunk) for e in events) > 1
    assert done.stats.finish_reason in (FinishReason.STOP_TOKEN, FinishReason.LENGTH)
    # Not compared word for word with the first: the resent prompt's last token runs alone
    # on the cached prefix (one row, not a batch of rows), and that alone can tip a near-tie.
    again = next(e for e in remote_engine.generate(request) if isinstance(e, Finished))
    assert again.text.strip()


def test_a_raw_prompt_and_a_stop_sequence(remote_engine) -> None:  # type: ignore[no-untyped-def]
    text = text_of(list(remote_engine.generate(GenerationRequest(prompt="1, 2, 3, 4,", settings=GREEDY))))
    words = text.split()
    assert words
    word = words[1] if len(words) > 1 else words[0]
    settings = GenerationSettings(temperature=0, max_new_tokens=24, stop_sequences=(word,))
    stopped = list(remote_engine.generate(GenerationRequest(prompt="1, 2, 3, 4,", settings=settings)))
    done = next(e for e in stopped if isinstance(e, Finished))
    assert done.text == text[: text.index(word)]


def test_cancel_stops_the_reply(remote_engine) -> None:  # type: ignore[no-untyped-def]
    cancel = threading.Event()
    request = GenerationRequest(
        (ChatMessage("user", "Write a long story about a lighthouse."),),
        GenerationSettings(temperature=0, max_new_tokens=200),
    )
    events: list[object] = []
    for event in remote_engine.generate(request, cancel):
        events.append(event)
        if isinstance(event, TextChunk):
            cancel.set()
    done = next(e for e in events if isinstance(e, Finished))
    assert done.stats.finish_reason is FinishReason.CANCELLED
    assert done.stats.generated_tokens < 50


def test_ask_with_a_model_of_the_server(inkwell_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    os.environ["INKWELL_SELF_KEY"] = KEY
    try:
        assert main(["servers", "add", "self", inkwell_server, "--api-key-env", "INKWELL_SELF_KEY"]) == 0
        capsys.readouterr()
        argv = ["ask", "Name a colour.", "--model", f"self:{DEFAULT_MODEL_ID}", "--temperature", "0"]
        assert main([*argv, "--max-new-tokens", "16", "--json"]) == 0
    finally:
        del os.environ["INKWELL_SELF_KEY"]
    answer = json.loads(capsys.readouterr().out)
    assert answer["text"].strip() and answer["model"] == f"self:{DEFAULT_MODEL_ID}"
