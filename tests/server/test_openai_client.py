"""The server as other programs see it: OpenAI's own Python client, on a fake engine."""

from __future__ import annotations

from typing import Any

import openai
import pytest

import desktop_app.engine
from desktop_app.core.chat import ChatMessage
from tests.server.conftest import Running

HELLO = [{"role": "user", "content": "What is the capital of France?"}]


def test_the_model_list_names_the_loaded_model(client: Any) -> None:
    models = client.models.list()
    assert [m.id for m in models.data] == ["fake-model"]
    assert client.models.retrieve("fake-model").owned_by == "inkwell"


def test_a_chat_completion_answers_with_usage_and_finish_reason(client: Any, running: Running) -> None:
    reply = client.chat.completions.create(
        model="fake-model",
        messages=[{"role": "system", "content": "Be brief."}, *HELLO],
        temperature=0.2,
        top_p=0.5,
        seed=7,
        presence_penalty=0.5,
        frequency_penalty=-0.25,
        max_tokens=100,
        user="someone",  # harmless: ignored
        metadata={"a": "b"},
    )
    assert reply.object == "chat.completion" and reply.model == "fake-model" and reply.id.startswith("chatcmpl-")
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content == "Paris is the capital of France."
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens == 6 and reply.usage.prompt_tokens == 8
    assert reply.usage.total_tokens == 14 and reply.usage.prompt_tokens_details.cached_tokens == 4
    request = running.engine.requests[-1]
    assert request.messages == (ChatMessage("system", "Be brief."), ChatMessage("user", HELLO[0]["content"]))
    s = request.settings
    assert (s.temperature, s.top_p, s.seed, s.max_new_tokens) == (0.2, 0.5, 7, 100)
    assert (s.presence_penalty, s.frequency_penalty) == (0.5, -0.25)
    # Only what the client asked applies: no top-k, min-p or repetition penalty of the app's own.
    assert (s.top_k, s.min_p, s.repetition_penalty) == (0, 0.0, 1.0)


def test_openai_defaults_and_max_completion_tokens(client: Any, running: Running) -> None:
    reply = client.chat.completions.create(model="fake-model", messages=HELLO, max_completion_tokens=3)
    assert reply.choices[0].message.content == "Paris is the "
    assert reply.choices[0].finish_reason == "length"
    s = running.engine.requests[-1].settings
    assert (s.temperature, s.top_p, s.max_new_tokens, s.seed) == (1.0, 1.0, 3, None)


def test_a_streamed_chat_sends_openai_chunks(client: Any) -> None:
    chunks = list(client.chat.completions.create(model="fake-model", messages=HELLO, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Paris is the capital of France."
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert all(c.usage is None for c in chunks)


def test_include_usage_adds_a_last_chunk_with_the_usage(client: Any) -> None:
    chunks = list(
        client.chat.completions.create(
            model="fake-model", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    last = chunks[-1]
    assert last.choices == [] and last.usage.completion_tokens == 6 and last.usage.prompt_tokens == 6
    assert all(c.usage is None for c in chunks[:-1])


def test_n_gives_alternatives_streamed_and_not(client: Any, running: Running) -> None:
    reply = client.chat.completions.create(model="fake-model", messages=HELLO, n=2)
    assert [c.index for c in reply.choices] == [0, 1]
    assert reply.choices[1].message.content == "Paris is the capital of France. (v2)"
    assert reply.usage.completion_tokens == 13
    assert running.engine.requests[-1].settings.num_alternatives == 2
    texts = {0: "", 1: ""}
    finishes = {}
    for chunk in client.chat.completions.create(model="fake-model", messages=HELLO, n=2, stream=True):
        choice = chunk.choices[0]
        texts[choice.index] += choice.delta.content or ""
        if choice.finish_reason:
            finishes[choice.index] = choice.finish_reason
    assert texts == {0: "Paris is the capital of France.", 1: "Paris is the capital of France. (v2)"}
    assert finishes == {0: "stop", 1: "stop"}


def test_stop_sequences_cut_the_reply(client: Any, running: Running) -> None:
    reply = client.chat.completions.create(model="fake-model", messages=HELLO, stop=["capital"])
    assert reply.choices[0].message.content == "Paris is the "
    assert reply.choices[0].finish_reason == "stop"
    client.chat.completions.create(model="fake-model", messages=HELLO, stop="is")
    assert running.engine.requests[-1].settings.stop_sequences == ("is",)


def test_text_completions_streamed_and_not(client: Any, running: Running) -> None:
    done = client.completions.create(model="fake-model", prompt="The capital of France", max_tokens=4)
    assert done.object == "text_completion" and done.id.startswith("cmpl-")
    assert done.choices[0].text == "Paris is the capital " and done.choices[0].finish_reason == "length"
    assert running.engine.requests[-1].prompt == "The capital of France"
    assert running.engine.requests[-1].messages == ()
    streamed = list(
        client.completions.create(
            model="fake-model", prompt="The capital", stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].text for c in streamed if c.choices)
    assert text == "Paris is the capital of France."[: len(text)] and len(text) > 0
    assert streamed[-1].usage.completion_tokens == 6  # OpenAI's default max_tokens (16) is more
    assert running.engine.requests[-1].settings.max_new_tokens == 16


def test_an_unknown_model_is_404_through_the_client(client: Any) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert caught.value.code == "model_not_found"


def test_response_format_reaches_the_engine_that_enforces_it(client: Any, running: Running) -> None:
    assert desktop_app.engine.supports_response_format is True
    client.chat.completions.create(model="fake-model", messages=HELLO, response_format={"type": "json_object"})
    assert running.engine.requests[-1].response_format == {"type": "json_object"}
    # A text response_format is no constraint at all.
    client.chat.completions.create(model="fake-model", messages=HELLO, response_format={"type": "text"})
    assert running.engine.requests[-1].response_format is None


def test_a_schema_the_engine_cannot_enforce_is_a_400_with_its_reason(client: Any, running: Running) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "strin"}}}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="fake-model", messages=HELLO, response_format=schema)
    assert "Invalid type: strin" in str(caught.value) and caught.value.param == "response_format"
    assert running.engine.requests == []


def test_a_json_schema_is_passed_as_the_client_sent_it(client: Any, running: Running) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "city", "schema": {"type": "object"}}}
    client.chat.completions.create(model="fake-model", messages=HELLO, response_format=schema)
    assert running.engine.requests[-1].response_format == schema


def test_beam_search_is_an_extra_field_of_the_request(client: Any, running: Running) -> None:
    extra = {"num_beams": 4, "length_penalty": 0.5, "early_stopping": "never", "no_repeat_ngram_size": 2}
    client.chat.completions.create(model="fake-model", messages=HELLO, n=2, extra_body=extra)
    s = running.engine.requests[-1].settings
    assert (s.num_beams, s.num_alternatives, s.length_penalty, s.early_stopping, s.no_repeat_ngram_size) == (
        4,
        2,
        0.5,
        "never",
        2,
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"num_beams": 2, "response_format": {"type": "json_object"}},
        {"num_beams": 0},
        {"num_beams": 2, "n": 3},
        {"num_beams": 2, "early_stopping": "soon"},
    ],
)
def test_a_beam_search_that_cannot_run_is_a_400(client: Any, running: Running, extra: dict[str, Any]) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="fake-model", messages=HELLO, extra_body=extra)
    assert running.engine.requests == []


class ThinkingToolEngine:
    """A fake thinking model that reasons, says a word, then calls two functions."""

    def __init__(self, base: Any) -> None:
        self.base = base

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    def generate(self, request: Any, cancel: Any = None) -> Any:
        from desktop_app.core.chat import ToolCall
        from desktop_app.core.generation import FinishReason, GenerationStats
        from desktop_app.engine import Finished, PromptPrepared, ReasoningChunk, TextChunk

        self.base.requests.append(request)
        yield PromptPrepared(8, 0, 0, 64)
        yield ReasoningChunk("They want ")
        yield ReasoningChunk("the weather.")
        yield TextChunk("Checking.")
        calls = (
            ToolCall("abcdefgh1", "get_weather", '{"city": "Paris"}'),
            ToolCall("abcdefgh2", "get_weather", '{"city": "Lyon"}'),
        )
        stats = GenerationStats(8, 20, 5.0, 100.0, FinishReason.STOP_TOKEN, seed=1, reasoning_tokens=4)
        yield Finished(0, "Checking.", stats, reasoning="They want the weather.", tool_calls=calls)


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_reasoning_and_tool_calls_reach_the_official_client_whole_and_streamed(
    start_server: Any, fake_engine: Any
) -> None:
    running = start_server(engine=ThinkingToolEngine(fake_engine))
    with openai.OpenAI(base_url=running.base_url, api_key="test-key-0123456789abcdef", max_retries=0) as client:
        ask = {
            "model": "fake-model",
            "messages": HELLO,
            "tools": [WEATHER_TOOL],
            "tool_choice": "auto",
            "extra_body": {"reasoning_budget": 100, "chat_template_kwargs": {"enable_thinking": True}},
        }
        whole = client.chat.completions.create(**ask)
        message = whole.choices[0].message
        assert whole.choices[0].finish_reason == "tool_calls" and message.content == "Checking."
        assert [(c.function.name, c.function.arguments) for c in message.tool_calls] == [
            ("get_weather", '{"city": "Paris"}'),
            ("get_weather", '{"city": "Lyon"}'),
        ]
        assert message.model_extra["reasoning_content"] == "They want the weather."
        request = fake_engine.requests[-1]
        assert request.settings.reasoning_budget == 100 and request.settings.thinking == "on"
        assert request.tool_choice == "auto" and request.tools[0]["function"]["name"] == "get_weather"

        stream = list(client.chat.completions.create(**ask, stream=True))
        reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in stream)
        content = "".join(c.choices[0].delta.content or "" for c in stream)
        assert (reasoning, content) == ("They want the weather.", "Checking.")
        assert stream[-1].choices[0].finish_reason == "tool_calls"
        # The client's own helper assembles the streamed calls.
        with client.chat.completions.stream(**ask) as events:
            final = events.get_final_completion()
        calls = final.choices[0].message.tool_calls
        assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
            ("abcdefgh1", "get_weather", '{"city": "Paris"}'),
            ("abcdefgh2", "get_weather", '{"city": "Lyon"}'),
        ]


def test_tool_results_and_past_reasoning_reach_the_model(client: Any, running: Running) -> None:
    client.chat.completions.create(
        model="fake-model",
        messages=[
            *HELLO,
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "Look it up.",
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
        ],
        tools=[WEATHER_TOOL],
        tool_choice="none",
    )
    request = running.engine.requests[-1]
    assistant, result = request.messages[1], request.messages[2]
    assert (assistant.content, assistant.reasoning, assistant.tool_calls[0].name) == ("", "Look it up.", "get_weather")
    assert (result.role, result.content, result.tool_call_id, result.name) == ("tool", "Sunny", "call_1", "get_weather")
    assert request.tool_choice == "none" and not request.calls_tools
