"""Tool calls: formats from templates, the tools checked, calls kept out of the streamed text,
and replies held to the tools' schemas, on the tiny random model (which, free, never calls)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from desktop_app.core.chat import ChatMessage, ToolCall
from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationSettings, GenerationStats
from desktop_app.engine import Finished, GenerationRequest, TextChunk
from desktop_app.engine import generate as generate_module
from desktop_app.engine.chat_template import ChatTemplate
from desktop_app.engine.tool_calls import (
    HERMES,
    TOOL_CALL_FORMATS,
    ToolCallStream,
    check_tool_choice,
    check_tools,
    parse_calls,
    plain_history,
    tool_call_format,
)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 6}, "unit": {"enum": ["C", "F"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
            "additionalProperties": False,
        },
    },
}
FORMATS = {fmt.name: fmt for fmt in TOOL_CALL_FORMATS}


def test_the_format_comes_from_the_template() -> None:
    assert tool_call_format("{% if tools %}<tools>{% endif %}<tool_call>") == (FORMATS["hermes"], True)
    assert tool_call_format("[AVAILABLE_TOOLS] {{ tools }} [TOOL_CALLS]")[0].name == "mistral"
    assert tool_call_format("<|tool_call|>{{ tools }}")[0].name == "phi4"
    assert tool_call_format("<|python_tag|>{{ tools }}")[0].name == "llama3"
    assert tool_call_format("{{ messages }}") == (HERMES, False)  # explained in the system prompt


@pytest.mark.parametrize(
    ("tools", "words"),
    [
        ({"type": "function"}, "list of tools"),
        ([{"type": "retrieval"}], r"tools\[0\]"),
        ([{"type": "function", "function": {"name": "bad name!"}}], "letters, digits"),
        ([ADD, ADD], "given twice"),
        ([{"type": "function", "function": {"name": "f", "parameters": {"type": "nonsense"}}}], "cannot be enforced"),
        ([{"type": "function", "function": {"name": "f", "parameters": []}}], "JSON Schema object"),
    ],
)
def test_malformed_tools_are_refused_with_what_is_wrong(tools: object, words: str) -> None:
    with pytest.raises(UserError, match=words):
        check_tools(tools)


def test_tool_choice_is_checked_against_the_tools() -> None:
    tools = check_tools([ADD])
    assert check_tool_choice(None, tools) == "auto" and check_tool_choice(None, ()) == "none"
    assert check_tool_choice({"type": "function", "function": {"name": "add"}}, tools) == "add"
    for bad in ("always", {"type": "function", "function": {"name": "sub"}}, {"name": "add"}):
        with pytest.raises(UserError, match="tool_choice"):
            check_tool_choice(bad, tools)
    with pytest.raises(UserError, match="needs tools"):
        check_tool_choice("required", ())


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("hermes", '<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>'),
        ("mistral", '[TOOL_CALLS][{"name": "add", "arguments": {"a": 1, "b": 2}}]'),
        ("phi4", '<|tool_call|>[{"name": "add", "arguments": {"a": 1, "b": 2}}]<|/tool_call|>'),
        ("llama3", '{"name": "add", "parameters": {"a": 1, "b": 2}}'),
    ],
)
def test_each_format_is_read_and_kept_out_of_the_stream(name: str, text: str) -> None:
    for size in (1, 4, 1000):
        stream = ToolCallStream(FORMATS[name])
        reply = "Sure. " if FORMATS[name].start else ""
        whole = reply + text
        shown = "".join(stream.feed(whole[i : i + size]) for i in range(0, len(whole), size))
        rest, calls = stream.finish()
        assert shown + rest == reply
        assert [(c.name, json.loads(c.arguments)) for c in calls] == [("add", {"a": 1, "b": 2})]
        assert len(calls[0].id) == 9 and calls[0].id.isalnum()


def test_text_that_only_looks_like_a_call_is_shown_not_lost() -> None:
    stream = ToolCallStream(HERMES)
    shown = stream.feed("Use <tool_call>{not json}</tool_call> like this.")
    rest, calls = stream.finish()
    assert calls == () and shown + rest == "Use <tool_call>{not json}</tool_call> like this."
    assert parse_calls(FORMATS["llama3"], "{broken") == ((), "{broken")
    # Parallel calls cut short: the whole ones are calls, the rest is text.
    one = '<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>'
    calls, rest = parse_calls(HERMES, one + "\n" + one + '\n<tool_call>\n{"name": "ad')
    assert [c.name for c in calls] == ["add", "add"] and rest == '<tool_call>\n{"name": "ad'
    assert calls[0].id != calls[1].id
    stream = ToolCallStream(FORMATS["llama3"])
    assert stream.feed("Paris is ") == "Paris is " and stream.feed("{big}") == "{big}"


def test_a_template_without_tools_gets_them_in_the_system_prompt_and_calls_as_text() -> None:
    call = ToolCall("abc123def", "add", '{"a": 1, "b": 2}')
    messages = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "1 + 2?"),
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "3", tool_call_id=call.id, name="add"),
    ]
    plain = plain_history(messages, check_tools([ADD]))
    assert plain[0].content.startswith("Be brief.\n\nYou can call functions") and '"name": "add"' in plain[0].content
    assert plain[2] == ChatMessage(
        "assistant", '<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>'
    )
    assert plain[3] == ChatMessage("user", "<tool_response>\n3\n</tool_response>")


# The tiny model's window (128 tokens) has no room for the tools' description: a template
# that takes them (and shows nothing of them) keeps the prompt short.
SHORT = "{# tools, <tool_call> #}{% for m in messages %}{{ m['content'] }}{% endfor %}"


@pytest.fixture
def tiny_engine(tiny_engine):  # type: ignore[no-untyped-def]
    tiny_engine.template = ChatTemplate(SHORT, {})
    return tiny_engine


def ask(tools: list[dict], choice: object = None, parallel: bool = False, **settings: object) -> GenerationRequest:  # type: ignore[type-arg]
    base = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=110)
    return GenerationRequest(
        messages=(ChatMessage("user", "Weather?"),),
        settings=GenerationSettings(**{**base.to_dict(), "stop_sequences": (), **settings}),
        tools=tuple(tools),
        tool_choice=choice,
        parallel_tool_calls=parallel,
    )


def schema_of(name: str) -> dict:  # type: ignore[type-arg]
    return next(t["function"]["parameters"] for t in (WEATHER, ADD) if t["function"]["name"] == name)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_required_call_is_valid_even_from_a_random_model(tiny_engine, seed: int) -> None:  # type: ignore[no-untyped-def]
    request = ask([WEATHER, ADD], "required", temperature=1.0, seed=seed, top_k=0, top_p=1.0, min_p=0.0)
    events = list(tiny_engine.generate(request))
    [done] = [e for e in events if isinstance(e, Finished)]
    assert done.tool_calls and done.text == ""
    assert not [e for e in events if isinstance(e, TextChunk)]  # the call's text is not streamed as text
    for call in done.tool_calls:
        jsonschema.validate(json.loads(call.arguments), schema_of(call.name))


def test_parallel_calls_each_follow_their_schema(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    request = ask([ADD], "required", parallel=True, temperature=1.0, seed=5, top_k=0, top_p=1.0, min_p=0.0)
    done = next(e for e in tiny_engine.generate(request) if isinstance(e, Finished))
    assert done.tool_calls  # a random model calls again and again until the window is full
    for call in done.tool_calls:
        jsonschema.validate(json.loads(call.arguments), schema_of("add"))


def test_a_named_tool_is_the_one_called(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    request = ask([WEATHER, ADD], {"type": "function", "function": {"name": "add"}})
    done = next(e for e in tiny_engine.generate(request) if isinstance(e, Finished))
    assert [c.name for c in done.tool_calls] == ["add"]
    jsonschema.validate(json.loads(done.tool_calls[0].arguments), schema_of("add"))


def test_a_call_the_model_opens_itself_is_held_to_the_schema(tiny_engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """tool_choice auto: free until the model writes the opening marker; a model made here
    to write "Let me check. <tool_call>\\n" first is held to the schema from there."""
    opening = tiny_engine.tokenizer.encode("Let me check. <tool_call>\n")
    picks = iter(opening)
    real = generate_module.Sampler.__call__

    def scripted(self, logits, history):  # type: ignore[no-untyped-def]
        return next(picks, None) or real(self, logits, history)

    monkeypatch.setattr(generate_module.Sampler, "__call__", scripted)
    events = list(tiny_engine.generate(ask([WEATHER])))
    [done] = [e for e in events if isinstance(e, Finished)]
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == done.text == "Let me check. "
    [call] = done.tool_calls
    assert call.name == "get_weather"
    jsonschema.validate(json.loads(call.arguments), schema_of("get_weather"))


def test_free_text_stays_free_with_tools_on_auto(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    tiny_engine.stop_token_ids = frozenset()
    plain = next(e for e in tiny_engine.generate(ask([], None)) if isinstance(e, Finished))
    with_tools = next(e for e in tiny_engine.generate(ask([WEATHER])) if isinstance(e, Finished))
    assert with_tools.tool_calls == () and with_tools.text and plain.text  # the prompt differs, the path is free


def test_a_template_with_tools_renders_them_itself(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    tiny_engine.template = ChatTemplate(
        "{% if tools %}TOOLS:{% for t in tools %}{{ t.function.name }};{% endfor %}{% endif %}"
        "{% for m in messages %}{{ m.role }}:{{ m.content }}{% if m.tool_calls %}"
        "{% for c in m.tool_calls %}<tool_call>{{ c.function.name }}{{ c.function.arguments | tojson }}</tool_call>"
        "{% endfor %}{% endif %}|{% endfor %}",
        {},
    )
    call = ToolCall("abc123def", "add", '{"a": 1}')
    request = GenerationRequest(
        messages=(
            ChatMessage("user", "q"),
            ChatMessage("assistant", "", tool_calls=(call,)),
            ChatMessage("tool", "3", tool_call_id=call.id),
        ),
        tools=(ADD,),
    )
    text = tiny_engine._render(request.messages, request)
    assert text == 'TOOLS:add;user:q|assistant:<tool_call>add{"a": 1}</tool_call>|tool:3|'


def test_tools_are_refused_where_they_cannot_be_given() -> None:
    with pytest.raises(UserError, match="only to a chat"):
        GenerationRequest(prompt="Once", tools=(ADD,))
    with pytest.raises(UserError, match="only to a chat"):
        GenerationRequest(messages=(ChatMessage("user", "q"),), tools=(ADD,), response_format={"type": "json_object"})


def char_tokenizer():  # type: ignore[no-untyped-def]
    """One token per character, and two special tokens that are markers."""
    from tokenizers import AddedToken, decoders, models, pre_tokenizers
    from tokenizers import Tokenizer as HFTokenizer

    from desktop_app.engine.tokenizer import Tokenizer

    vocabulary = {chr(c): i for i, c in enumerate(range(32, 127))} | {"\n": 95}
    hf = HFTokenizer(models.WordLevel(vocabulary, unk_token="?"))
    hf.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    hf.decoder = decoders.Fuse()
    hf.add_special_tokens([AddedToken("[TOOL_CALLS]", special=True), AddedToken("[THINK]", special=True)])
    return Tokenizer._wrap(hf)


def test_markers_that_are_special_tokens_reach_the_splitters() -> None:
    """Mistral's [TOOL_CALLS] and Magistral's [THINK] are special tokens: the detokenizer
    leaves them out of the text, so the engine writes them back for the splitters."""
    from desktop_app.engine.reply import ReplyText, marker_tokens

    tokenizer = char_tokenizer()
    markers = marker_tokens(tokenizer)
    assert set(markers.values()) == {"[TOOL_CALLS]", "[THINK]"}
    reply = ReplyText(tokenizer, (), 0, calls=ToolCallStream(FORMATS["mistral"], {"add"}), markers=markers)
    ids = [tokenizer.token_to_id("[TOOL_CALLS]"), *tokenizer.encode('[{"name": "add", "arguments": {"a": 1}}]')]
    shown = [e for token in ids for e in reply.accept(token)] + reply.end(FinishReason.STOP_TOKEN)
    assert shown == []  # nothing of the call is shown as text
    done = reply.finished(GenerationStats(1, len(ids), 1.0, 1.0, FinishReason.STOP_TOKEN, seed=1), ids)
    assert [(c.name, c.arguments) for c in done.tool_calls] == [("add", '{"a": 1}')]


def test_calls_of_a_reply_the_user_stopped_are_not_run_and_a_cut_call_is_not_text() -> None:
    from desktop_app.engine.reply import ReplyText

    tokenizer = char_tokenizer()
    text = '<tool_call>\n{"name": "add", "arguments": {}}\n</tool_call>\n<tool_call>\n{"na'
    for reason, expected in (
        (FinishReason.CANCELLED, ()),
        (FinishReason.LENGTH, ("add",)),
        (FinishReason.STOP_TOKEN, ("add",)),
    ):
        reply = ReplyText(tokenizer, (), 0, calls=ToolCallStream(HERMES, {"add"}))
        shown = [e for token in tokenizer.encode(text) for e in reply.accept(token)] + reply.end(reason)
        done = reply.finished(GenerationStats(1, 1, 1.0, 1.0, reason, seed=1), [])
        assert tuple(c.name for c in done.tool_calls) == expected
        assert shown == []  # the partial second call is markup, never text
