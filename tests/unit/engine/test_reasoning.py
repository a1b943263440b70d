"""Thinking models: the markers from the template, the split of the stream, the switch and
the budget, on the tiny random model given thinking templates written here."""

from __future__ import annotations

import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, ReasoningChunk, TextChunk
from desktop_app.engine.chat_template import ChatTemplate
from desktop_app.engine.reasoning import THINKING_MARKERS, ReasoningSplitter, thinking_syntax

THINK = THINKING_MARKERS[0]

# Qwen3's shape: the model opens its reasoning itself; enable_thinking=false writes an empty one.
SWITCH_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)
# DeepSeek-R1's shape: the generation prompt opens the reasoning; no switch.
OPEN_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|><think>\n{% endif %}"
)


def split_all(pieces: list[str], inside: bool = False) -> tuple[str, str]:
    splitter = ReasoningSplitter(THINK, inside)
    reasoning, answer = "", ""
    for piece in pieces:
        r, a = splitter.feed(piece)
        reasoning, answer = reasoning + r, answer + a
    r, a = splitter.flush()
    return reasoning + r, answer + a


@pytest.mark.parametrize("size", [1, 2, 3, 5, 100])
def test_the_split_does_not_depend_on_where_the_stream_is_cut(size: int) -> None:
    text = "\n<think>Two and two.\nSo four.</think>\n\nIt is **4**."
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    assert split_all(pieces) == ("Two and two.\nSo four.", "It is **4**.")


def test_a_reply_without_markers_is_all_answer_and_a_lookalike_is_not_a_marker() -> None:
    assert split_all(["Hello ", "there"]) == ("", "Hello there")
    assert split_all(["<thi", "nking about it>"]) == ("", "<thinking about it>")
    assert split_all(["a <think> later", " is text"]) == ("", "a <think> later is text")


def test_a_prompt_that_opened_the_reasoning_and_one_cut_short() -> None:
    assert split_all(["I ponder", "</thi", "nk>Answer"], inside=True) == ("I ponder", "Answer")
    assert split_all(["I ponder and run out </th"], inside=True) == ("I ponder and run out </th", "")


def test_markers_come_from_the_template_or_the_vocabulary() -> None:
    syntax = thinking_syntax(SWITCH_TEMPLATE)
    assert syntax is not None and syntax.markers == THINK and syntax.switch
    syntax = thinking_syntax(OPEN_TEMPLATE)
    assert syntax is not None and not syntax.switch and syntax.opens_in("<|assistant|><think>\n")
    magistral = thinking_syntax("{{ '[THINK]' }}…{{ '[/THINK]' }}")
    assert magistral is not None and magistral.markers.close == "[/THINK]"
    assert thinking_syntax("{{ messages }}") is None
    assert thinking_syntax(None, lambda text: text in {"<think>", "</think>"}) is not None


def use_template(engine, source: str):  # type: ignore[no-untyped-def]
    engine.template = ChatTemplate(source, {})
    engine.thinking = thinking_syntax(source)
    engine.stop_token_ids = frozenset()  # the random model must not stop by chance
    return engine


def ask(settings: GenerationSettings) -> GenerationRequest:
    return GenerationRequest(messages=(ChatMessage("user", "What is 2 + 2?"),), settings=settings)


GREEDY = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=24)


def test_the_switch_sets_the_templates_variable(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    engine = use_template(tiny_engine, SWITCH_TEMPLATE)
    messages = [ChatMessage("user", "Hi")]
    off = engine._render(messages, ask(GenerationSettings(thinking="off")))
    auto = engine._render(messages, ask(GenerationSettings()))
    on = engine._render(messages, ask(GenerationSettings(thinking="on")))
    assert off.endswith("<think>\n\n</think>\n\n")
    assert auto == on and not auto.endswith("</think>\n\n")
    # A JSON reply cannot think first.
    json_reply = GenerationRequest(messages=tuple(messages), response_format={"type": "json_object"})
    assert engine._render(messages, json_reply) == off


def test_reasoning_opened_by_the_prompt_is_streamed_apart(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    engine = use_template(tiny_engine, OPEN_TEMPLATE)
    events = list(engine.generate(ask(GREEDY)))
    [done] = [e for e in events if isinstance(e, Finished)]
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningChunk))
    answer = "".join(e.text for e in events if isinstance(e, TextChunk))
    # The random model never closes its reasoning: all of the reply is reasoning.
    assert reasoning and reasoning == done.reasoning and answer == done.text == ""
    assert done.stats.reasoning_tokens == done.stats.generated_tokens == GREEDY.max_new_tokens


def test_the_budget_closes_the_reasoning_and_the_model_answers(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    engine = use_template(tiny_engine, OPEN_TEMPLATE)
    free = next(e for e in engine.generate(ask(GREEDY)) if isinstance(e, Finished))
    budget = 5
    done = next(
        e
        for e in engine.generate(
            ask(GenerationSettings(**{**GREEDY.to_dict(), "reasoning_budget": budget, "stop_sequences": ()}))
        )
        if isinstance(e, Finished)
    )
    close = engine.tokenizer.encode("\n</think>\n\n")
    # The first `budget` tokens are the model's own (as without a budget), then the close.
    assert done.token_ids[:budget] == free.token_ids[:budget]
    assert list(done.token_ids[budget : budget + len(close)]) == close
    assert done.text and "</think>" not in done.text and "</think>" not in done.reasoning
    assert engine.tokenizer.decode(list(free.token_ids[:budget])).strip() == done.reasoning.strip()
    assert budget < done.stats.reasoning_tokens <= budget + len(close)


def test_thinking_off_closes_a_prompt_that_opens_it(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    engine = use_template(tiny_engine, OPEN_TEMPLATE)
    settings = GenerationSettings(**{**GREEDY.to_dict(), "thinking": "off", "stop_sequences": ()})
    plan = engine.build_prompt(ask(settings))
    assert plan.reasoning is not None and not plan.reasoning.inside
    assert engine.tokenizer.decode(plan.token_ids).rstrip().endswith("</think>")
    done = next(e for e in engine.generate(ask(settings)) if isinstance(e, Finished))
    assert done.reasoning == "" and done.stats.reasoning_tokens == 0 and done.text


def test_past_reasoning_reaches_templates_that_read_it() -> None:
    template = ChatTemplate(
        "{% for m in messages %}{{ m['role'] }}:{% if m.reasoning_content %}({{ m.reasoning_content }}){% endif %}"
        "{{ m['content'] }}|{% endfor %}",
        {},
    )
    messages = [ChatMessage("user", "q"), ChatMessage("assistant", "a", reasoning="r")]
    assert template.render(messages, add_generation_prompt=False) == "user:q|assistant:(r)a|"
