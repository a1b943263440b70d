"""ChatSession: the one place a chat request is built and a reply is recorded."""

from __future__ import annotations

import re

import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationSettings, GenerationStats
from desktop_app.engine import Finished, PromptPrepared, TextChunk
from desktop_app.session.chat import ChatSession, ModelRef
from desktop_app.session.scheduler import Completed, Failed
from desktop_app.store import Store

MODEL = ModelRef("tiny", "cpu")


def reply_events(text: str, reason: FinishReason = FinishReason.STOP_TOKEN) -> list[object]:
    stats = GenerationStats(12, 3, 5.0, 50.0, reason, seed=7)
    return [
        PromptPrepared(12, 1, 0, 128),
        *(TextChunk(w) for w in re.findall(r"\S+\s*", text)),
        Finished(0, text, stats),
    ]


def test_a_turn_is_built_from_the_stored_branch_and_recorded(store: Store) -> None:
    session = ChatSession(store, lambda: GenerationSettings(temperature=0.3))
    conversation = session.new_conversation("Be brief.", GenerationSettings(temperature=0.3, max_new_tokens=64), "tiny")
    user, turn = session.send(conversation.id, "  Hello  ", MODEL)
    assert user.content == "Hello"
    assert [(m.role, m.content) for m in turn.request.messages] == [("system", "Be brief."), ("user", "Hello")]
    assert turn.request.settings.max_new_tokens == 64
    message = turn.run(reply_events("Hi there"))
    assert message is not None and (message.content, message.status, message.provider) == (
        "Hi there",
        "complete",
        "cpu",
    )
    assert turn.prepared is not None and turn.prepared.dropped_messages == 1
    _, second = session.send(conversation.id, "Again", MODEL)
    assert [m.role for m in second.request.messages] == ["system", "user", "assistant", "user"]


def test_regenerate_and_edit_make_versions_and_the_branch_view_shows_them(store: Store) -> None:
    session = ChatSession(store, GenerationSettings)
    conversation = session.new_conversation("", GenerationSettings(), "tiny")
    question, turn = session.send(conversation.id, "Capital of Frnace?", MODEL)
    first = turn.run(reply_events("Paris"))
    assert first is not None
    again = session.regenerate(first.id, MODEL)
    assert [m.role for m in again.request.messages] == ["user"]
    again.run(reply_events("Paris, France"))
    view = session.branch_view(conversation.id)
    assert [m.content for m in view.messages] == ["Capital of Frnace?", "Paris, France"]
    place = view.branches[view.messages[-1].id]
    assert (place.position, place.count, place.previous_id) == (2, 2, first.id)
    assert view.context_used == 12 + 3
    assert session.edit(question.id, "Capital of Frnace?", MODEL) is None  # unchanged: nothing to do
    edited = session.edit(question.id, "Capital of France?", MODEL)
    assert edited is not None and edited.request.messages[-1].content == "Capital of France?"
    with pytest.raises(UserError):
        session.regenerate(question.id, MODEL)  # only replies are written again


def test_a_failure_keeps_the_text_marked_failed_and_says_why(store: Store) -> None:
    session = ChatSession(store, GenerationSettings)
    conversation = session.new_conversation("", GenerationSettings(), "tiny")
    _, turn = session.send(conversation.id, "Hello", MODEL)
    with pytest.raises(UserError, match="out of memory"):
        turn.run([TextChunk("Par"), Failed("The model ran out of memory.")])
    assert store.conversations.message(turn.message_id).status == "failed"
    assert store.conversations.message(turn.message_id).content == "Par"


def test_quitting_mid_reply_keeps_it_marked_stopped(store: Store) -> None:
    session = ChatSession(store, GenerationSettings)
    conversation = session.new_conversation("", GenerationSettings(), "tiny")
    _, turn = session.send(conversation.id, "Hello", MODEL)
    turn.record(TextChunk("Half a"))
    turn.abandon()
    saved = store.conversations.message(turn.message_id)
    assert (saved.content, saved.status) == ("Half a", "cancelled")
    turn.record(Completed(Finished(0, "late", GenerationStats(1, 1, 1.0, 1.0, FinishReason.LENGTH, 1))))
    assert store.conversations.message(turn.message_id).content == "Half a"  # nothing after it is over


def test_a_chat_stored_with_bad_settings_falls_back_to_the_defaults(store: Store) -> None:
    session = ChatSession(store, lambda: GenerationSettings(top_k=5))
    assert session.settings_for({"temperature": -3}).top_k == 5
    assert session.settings_for({"temperature": 0.1}).temperature == 0.1


def test_reasoning_is_stored_apart_and_goes_back_with_its_answer(store: Store) -> None:
    from dataclasses import replace

    from desktop_app.engine import ReasoningChunk

    session = ChatSession(store, GenerationSettings)
    conversation = session.new_conversation("", GenerationSettings(), "tiny")
    _, turn = session.send(conversation.id, "2 + 2?", MODEL)
    stats = replace(
        GenerationStats(12, 9, 5.0, 50.0, FinishReason.STOP_TOKEN, seed=7), reasoning_tokens=6, reasoning_ms=120.0
    )
    message = turn.run(
        [
            PromptPrepared(12, 0, 0, 128),
            ReasoningChunk("Two and "),
            ReasoningChunk("two."),
            TextChunk("Four."),
            Finished(0, "Four.", stats, reasoning="Two and two."),
        ]
    )
    assert message is not None
    assert (message.content, message.reasoning, message.reasoning_ms) == ("Four.", "Two and two.", 120.0)
    stored = store.conversations.message(message.id)
    assert (stored.content, stored.reasoning) == ("Four.", "Two and two.")
    _, second = session.send(conversation.id, "And 3 + 3?", MODEL)
    past = second.request.messages[1]
    assert (past.content, past.reasoning) == ("Four.", "Two and two.")
    assert past.as_dict()["reasoning_content"] == "Two and two."


def test_a_reply_that_calls_tools_goes_on_after_them_and_keeps_them(store: Store) -> None:
    from desktop_app.core.chat import ToolCall
    from desktop_app.session.tools import ToolRunner
    from desktop_app.tools.builtin import CALCULATOR
    from desktop_app.tools.toolbox import Toolbox

    toolbox = Toolbox([CALCULATOR])
    session = ChatSession(store, GenerationSettings, tools=lambda: toolbox)
    conversation = session.new_conversation("", GenerationSettings(), "tiny")
    _, turn = session.send(conversation.id, "What is 6 * 7?", MODEL)
    assert [t["function"]["name"] for t in turn.request.tools] == ["calculator"]
    stats = GenerationStats(12, 9, 5.0, 50.0, FinishReason.STOP_TOKEN, seed=7)
    call = ToolCall("c1", "calculator", '{"expression": "6 * 7"}')
    turn.record(PromptPrepared(12, 0, 0, 128))
    turn.record(TextChunk("Let me see."))
    turn.record(Finished(0, "Let me see.", stats, tool_calls=(call,)))
    assert turn.calls == (call,) and not turn.over
    request = turn.go_on(ToolRunner(toolbox, lambda _key: "allow").run(turn.calls))
    assert [m.role for m in request.messages] == ["user", "assistant", "tool"] and request.messages[2].content == "42"
    message = turn.run([PromptPrepared(20, 0, 12, 128), TextChunk("It is 42."), Finished(0, "It is 42.", stats)])
    assert message is not None and message.content == "Let me see.\n\nIt is 42."
    stored = store.conversations.message(message.id)
    assert [(u.call.name, u.result, u.server) for u in stored.tool_uses] == [("calculator", "42", "builtin")]
    _, later = session.send(conversation.id, "Thanks!", MODEL)
    assert [m.role for m in later.request.messages] == ["user", "assistant", "tool", "assistant", "user"]
    assert later.request.messages[1].tool_calls[0].name == "calculator"
