"""End to end on the real default model: OpenAI's client against `ApiServer` on SmolLM2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.server import ApiServer, ServerConfig
from desktop_app.session.scheduler import Scheduler
from tests.server.conftest import KEY

pytestmark = pytest.mark.slow
MODEL_ID = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def client(default_model_dir: Path) -> Iterator[Any]:
    from openai import OpenAI

    from desktop_app.engine import load_engine

    scheduler = Scheduler(lambda: load_engine(default_model_dir, "cpu", threads=2))
    scheduler.start()
    server = ApiServer(scheduler, ServerConfig(api_key=KEY, port=0))
    try:
        scheduler.wait_until_loaded(300)
        server.start()
        with OpenAI(base_url=server.url, api_key=KEY, max_retries=0, timeout=300) as opened:
            yield opened
    finally:
        server.shutdown()
        scheduler.shutdown()


def test_the_real_model_answers_streamed_and_whole_alike(client: Any) -> None:
    question = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    whole = client.chat.completions.create(model=MODEL_ID, messages=question, temperature=0, max_tokens=12)
    text = whole.choices[0].message.content
    assert "Paris" in text and whole.usage.completion_tokens <= 12
    chunks = client.chat.completions.create(
        model=MODEL_ID, messages=question, temperature=0, max_tokens=12, stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text


def test_a_growing_conversation_reuses_the_cached_prefix(client: Any) -> None:
    messages: list[dict[str, str]] = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Name a colour of the sky."},
    ]
    first = client.chat.completions.create(model=MODEL_ID, messages=messages, temperature=0, max_tokens=16)
    messages += [
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "And of grass?"},
    ]
    second = client.chat.completions.create(model=MODEL_ID, messages=messages, temperature=0, max_tokens=16)
    cached = second.usage.prompt_tokens_details.cached_tokens
    # Everything the first request sent is a prefix of the second's prompt: it is not run again.
    assert cached >= first.usage.prompt_tokens
    assert cached < second.usage.prompt_tokens


CITY = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "country": {"type": "string"},
        "population": {"type": "integer", "minimum": 0},
        "size": {"enum": ["small", "medium", "large"]},
    },
    "required": ["city", "country", "population", "size"],
    "additionalProperties": False,
}


def test_json_schema_output_validates_streamed_and_whole(client: Any) -> None:
    import json

    import jsonschema

    response_format = {"type": "json_schema", "json_schema": {"name": "city", "schema": CITY, "strict": True}}
    question = [{"role": "user", "content": "Describe Paris."}]
    whole = client.chat.completions.create(
        model=MODEL_ID, messages=question, temperature=1.0, seed=5, n=2, max_tokens=200, response_format=response_format
    )
    for choice in whole.choices:
        assert choice.finish_reason == "stop", choice.message.content
        jsonschema.validate(json.loads(choice.message.content), CITY)
    # Streamed, the text arrives in pieces that add up to the same kind of JSON.
    chunks = list(
        client.chat.completions.create(
            model=MODEL_ID, messages=question, temperature=0, max_tokens=200, response_format=response_format,
            stream=True,
        )
    )  # fmt: skip
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    jsonschema.validate(json.loads(streamed), CITY)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
