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


# Strings are bounded: sampled at temperature 1, a 135M model can ramble inside an open
# string until max_tokens (it did on an AVX-512 machine whose kernels round differently).
CITY = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 40},
        "country": {"type": "string", "maxLength": 40},
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


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


@pytest.mark.parametrize("stream", [False, True])
def test_the_small_default_model_calls_a_required_tool_correctly(client: Any, stream: bool) -> None:
    import json

    import jsonschema

    ask = {
        "model": MODEL_ID,
        "messages": [{"role": "user", "content": "What is the weather like in Paris today?"}],
        "tools": [WEATHER],
        "tool_choice": "required",
        "temperature": 0,
        "max_tokens": 80,
        "parallel_tool_calls": False,
    }
    if stream:
        with client.chat.completions.stream(**ask) as events:
            reply = events.get_final_completion()
    else:
        reply = client.chat.completions.create(**ask)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    arguments = json.loads(call.function.arguments)
    jsonschema.validate(arguments, WEATHER["function"]["parameters"])
    assert call.function.name == "get_weather" and "paris" in arguments["city"].lower()


def test_the_result_goes_back_and_the_model_answers_with_it(client: Any) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather like in Paris today?"}]
    first = client.chat.completions.create(
        model=MODEL_ID, messages=messages, tools=[WEATHER], tool_choice="required", temperature=0, max_tokens=80
    )
    call = first.choices[0].message.tool_calls[0]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 31, "sky": "sunny"}'},
    ]
    answer = client.chat.completions.create(
        model=MODEL_ID, messages=messages, tools=[WEATHER], tool_choice="none", temperature=0, max_tokens=40
    )
    assert answer.choices[0].finish_reason in ("stop", "length") and not answer.choices[0].message.tool_calls
    assert "31" in answer.choices[0].message.content or "sunny" in answer.choices[0].message.content.lower()
