"""Tools in the session: what the user set up, consent, and the rounds of calls."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from desktop_app.core.chat import ChatMessage, ToolCall
from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationStats
from desktop_app.engine import Finished, GenerationRequest
from desktop_app.session.tools import MAX_ROUNDS, ToolRunner, ToolSettings, answer_with_tools, catalog
from desktop_app.store import Store
from desktop_app.tools.builtin import CALCULATOR, CURRENT_TIME
from desktop_app.tools.mcp_host import McpServer
from desktop_app.tools.toolbox import Toolbox

SERVER = str(Path(__file__).parents[1] / "tools" / "mcp_server.py")


def test_servers_builtins_and_permissions_are_kept(store: Store) -> None:
    settings = ToolSettings(store)
    settings.add_server(McpServer("demo", (sys.executable, SERVER)))
    settings.add_server(McpServer("web", url="http://127.0.0.1:9/mcp"))
    with pytest.raises(UserError, match="already"):
        settings.add_server(McpServer("demo", ("other",)))
    assert [(s.name, s.where) for s in ToolSettings(store).servers()] == [
        ("demo", f"{sys.executable} {SERVER}"),
        ("web", "http://127.0.0.1:9/mcp"),
    ]
    assert settings.permission("demo/add") == "ask" and settings.permission("builtin/calculator") == "allow"
    settings.set_permission("demo/add", "allow")
    settings.set_builtin("calculator", True)
    assert settings.permission("demo/add") == "allow" and settings.builtins() == ["calculator"]
    settings.remove_server("demo")
    assert [s.name for s in settings.servers()] == ["web"] and settings.permission("demo/add") == "ask"
    with pytest.raises(UserError, match="no tool server named demo"):
        settings.remove_server("demo")


def test_a_server_that_fails_to_list_is_a_problem_not_a_failure() -> None:
    found = catalog([McpServer("demo", (sys.executable, SERVER)), McpServer("gone", ("/nonexistent",))], ["calculator"])
    assert sorted(t.name for t in found.tools) == ["add", "calculator", "crash", "nap", "refuse"]
    assert len(found.problems) == 1 and "gone could not start" in found.problems[0]


def test_nothing_runs_without_consent_and_a_repeated_call_runs_once() -> None:
    toolbox = Toolbox([CALCULATOR, CURRENT_TIME])
    asked: list[str] = []
    permissions = {"builtin/calculator": "ask", "builtin/current_time": "deny"}

    def consent(entry, call):  # type: ignore[no-untyped-def]
        asked.append(call.arguments)
        return call.arguments != '{"expression": "1 + 1"}'

    runner = ToolRunner(toolbox, permissions.__getitem__, consent)
    calls = [
        ToolCall("a", "calculator", '{"expression": "6 * 7"}'),
        ToolCall("b", "calculator", '{"expression": "6 * 7"}'),
        ToolCall("c", "calculator", '{"expression": "1 + 1"}'),
        ToolCall("d", "current_time", "{}"),
        ToolCall("e", "nowhere", "{}"),
    ]
    uses = runner.run(calls, round_=2)
    assert [(u.call.id, u.result, u.error) for u in uses] == [
        ("a", "42", False),
        ("b", "42", False),
        ("c", "The user did not allow this call.", True),
        ("d", "The user did not allow this call.", True),
        ("e", "There is no tool named nowhere.", True),
    ]
    assert asked == ['{"expression": "6 * 7"}', '{"expression": "1 + 1"}']  # asked once per distinct call
    assert {u.round for u in uses} == {2}
    assert [e.name for e in runner.offered().entries] == ["calculator"]  # a denied tool is not offered


def finished(text: str, calls: tuple[ToolCall, ...] = ()) -> Finished:
    return Finished(0, text, GenerationStats(5, 3, 1.0, 10.0, FinishReason.STOP_TOKEN, seed=1), tool_calls=calls)


def test_rounds_go_on_until_the_model_answers_and_then_calls_stop() -> None:
    toolbox = Toolbox([CALCULATOR])
    runner = ToolRunner(toolbox, lambda _key: "allow")
    seen: list[GenerationRequest] = []

    def generate(request: GenerationRequest) -> list[object]:
        seen.append(request)
        if len(seen) == 1:
            return [finished("Let me work it out.", (ToolCall("c1", "calculator", '{"expression": "6 * 7"}'),))]
        return [finished("It is 42.")]

    request = GenerationRequest(
        messages=(ChatMessage("user", "6 * 7?"),), tools=toolbox.definitions(), tool_choice="required"
    )
    last, uses = answer_with_tools(request, generate, runner)
    assert last is not None and last.text == "It is 42." and [u.result for u in uses] == ["42"]
    follow = seen[1].messages
    assert [m.role for m in follow] == ["user", "assistant", "tool"]
    assert follow[1].tool_calls[0].id == "c1" and (follow[2].content, follow[2].tool_call_id) == ("42", "c1")
    assert seen[1].tool_choice == "auto"  # required once; then the model may answer


def test_a_model_that_keeps_calling_must_answer_after_the_last_round() -> None:
    runner = ToolRunner(Toolbox([CALCULATOR]), lambda _key: "allow")
    seen: list[GenerationRequest] = []

    def generate(request: GenerationRequest) -> list[object]:
        seen.append(request)
        if request.tool_choice == "none":
            return [finished("Done.")]
        return [finished("", (ToolCall(f"c{len(seen)}", "calculator", '{"expression": "1"}'),))]

    request = GenerationRequest(messages=(ChatMessage("user", "?"),), tools=runner.toolbox.definitions())
    last, uses = answer_with_tools(request, generate, runner)
    assert last is not None and last.text == "Done." and len(uses) == MAX_ROUNDS and len(seen) == MAX_ROUNDS + 1


def test_an_api_exchange_with_tool_calls_and_reasoning_is_saved_whole(store: Store) -> None:
    from desktop_app.session.api_history import save_api_request

    call = ToolCall("c1", "get_weather", '{"city": "Paris"}')
    request = GenerationRequest(
        messages=(
            ChatMessage("user", "Weather?"),
            ChatMessage("assistant", "", reasoning="Look it up.", tool_calls=(call,)),
            ChatMessage("tool", "Sunny", tool_call_id="c1", name="get_weather"),
        ),
        tools=({"type": "function", "function": {"name": "get_weather"}},),
    )
    again = ToolCall("c2", "get_weather", '{"city": "Lyon"}')
    stats = GenerationStats(5, 3, 1.0, 10.0, FinishReason.STOP_TOKEN, seed=1, reasoning_tokens=2)
    reply = Finished(0, "And Lyon?", stats, reasoning="Now Lyon.", tool_calls=(again,))
    conversation_id = save_api_request(store, request, "m", "cpu", [reply])
    saved = store.conversations.path(conversation_id)
    assert [m.role for m in saved] == ["user", "assistant", "assistant"]
    assert saved[1].reasoning == "Look it up." and saved[1].tool_uses[0].result == "Sunny"
    assert (saved[2].content, saved[2].reasoning, saved[2].tool_uses[0].call) == ("And Lyon?", "Now Lyon.", again)


def test_a_tool_whose_schema_cannot_be_enforced_is_left_out_with_its_reason() -> None:
    from desktop_app.tools.mcp_host import ToolInfo

    good = ToolInfo("odd", "fine", "", {"type": "object", "properties": {"a": {"type": "integer"}}})
    bad = ToolInfo("odd", "broken", "", {"type": "integer", "minimum": 5, "maximum": 1})
    found = catalog([McpServer("odd", ("x",))], lister=lambda _server: [good, bad])
    assert [t.name for t in found.tools] == ["fine"]
    assert len(found.problems) == 1 and "broken of odd is left out" in found.problems[0]
    # Names a model may not use are made safe, and stay apart.
    toolbox = Toolbox([ToolInfo("a", "x.y", ""), ToolInfo("a", "x_y", "")])
    assert [e.name for e in toolbox.entries] == ["a__x_y", "a__x_y_2"]
