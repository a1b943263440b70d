"""The MCP host against a real stdio server written with the official SDK (mcp_server.py),
and the built-in tools."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.tools.builtin import calculate, run_builtin
from desktop_app.tools.mcp_host import McpServer, call_tool, list_tools

SERVER = str(Path(__file__).with_name("mcp_server.py"))
DEMO = McpServer("demo", (sys.executable, SERVER))


def test_a_stdio_server_lists_its_tools_and_answers_calls() -> None:
    tools = {tool.name: tool for tool in list_tools(DEMO)}
    assert set(tools) == {"add", "refuse", "nap", "crash"}
    assert tools["add"].description == "Add two integers." and tools["add"].schema["required"] == ["a", "b"]
    assert tools["add"].definition("demo__add")["function"]["name"] == "demo__add"
    result = call_tool(DEMO, "add", {"a": 2, "b": 3})
    assert (result.text, result.error) == ("5", False)


@pytest.mark.parametrize(
    ("server", "tool", "arguments", "timeout", "words"),
    [
        (DEMO, "refuse", {"reason": "not today"}, 30, "refused: not today"),
        (DEMO, "nap", {"seconds": 30}, 1, "did not answer within 1 s"),
        (DEMO, "crash", {}, 30, "stopped unexpectedly"),
        (DEMO, "no_such_tool", {}, 30, "Unknown tool"),
        (McpServer("gone", ("/nonexistent/server",)), "add", {}, 30, "could not start: /nonexistent/server"),
        (McpServer("broken", (sys.executable, SERVER, "--broken")), "add", {}, 30, "broken on purpose"),
        (
            McpServer("web", url="http://127.0.0.1:9/mcp"),
            "add",
            {},
            5,
            "could not be reached at http://127.0.0.1:9/mcp",
        ),
    ],
)
def test_every_failure_is_an_error_result_with_its_reason(
    server: McpServer, tool: str, arguments: dict, timeout: float, words: str
) -> None:
    result = call_tool(server, tool, arguments, timeout_s=timeout)
    assert result.error and words in result.text, result.text


def test_a_server_that_cannot_be_listed_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="could not start"):
        list_tools(McpServer("gone", ("/nonexistent/server",)))


@pytest.mark.parametrize(
    ("name", "command", "url", "words"),
    [
        ("has space", ("x",), None, "letters, digits"),
        ("both", ("x",), "http://h/mcp", "either a command or a URL"),
        ("neither", (), None, "either a command or a URL"),
        ("ftp", (), "ftp://h/mcp", "http:// or https://"),
    ],
)
def test_a_server_is_named_and_is_a_command_or_a_url(name: str, command: tuple, url: str | None, words: str) -> None:
    with pytest.raises(UserError, match=words):
        McpServer(name, command, url)


def test_the_calculator_does_arithmetic_and_nothing_else() -> None:
    assert calculate("(17 * 3) / 4") == 12.75 and calculate("2 ** 10 - sqrt(16)") == 1020
    assert run_builtin("calculator", {"expression": "6 * 7"}).text == "42"
    for bad in ("__import__('os').system('true')", "9 ** 9 ** 9", "1 / 0", "open('x')", "[1, 2]"):
        result = run_builtin("calculator", {"expression": bad})
        assert result.error and result.text.startswith("Cannot calculate"), bad


def test_the_other_built_ins() -> None:
    now = run_builtin("current_time", {})
    assert (
        not now.error
        and "UTC" in now.text
        and any(
            day in now.text for day in ("Monday", "Thursday", "Sunday", "Tuesday", "Wednesday", "Friday", "Saturday")
        )
    )
    assert run_builtin("search_documents", {"query": "refunds"}, lambda q: f"[1] policy.md\nAbout {q}").text.endswith(
        "About refunds"
    )
    assert run_builtin("search_documents", {"query": "x"}).error  # no library given


def test_a_server_started_by_the_installed_app_gets_the_users_library_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.tools.mcp_host import user_environment

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/Inkwell/_internal")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/usr/local/lib")
    monkeypatch.setenv("DYLD_LIBRARY_PATH", "/Applications/Inkwell.app")
    monkeypatch.delenv("DYLD_LIBRARY_PATH_ORIG", raising=False)
    environment = user_environment()
    assert environment["LD_LIBRARY_PATH"] == "/usr/local/lib" and "LD_LIBRARY_PATH_ORIG" not in environment
    assert "DYLD_LIBRARY_PATH" not in environment


@pytest.fixture
def http_server():  # type: ignore[no-untyped-def]
    """The test server over streamable HTTP on loopback, stopped at the end."""
    import socket
    import subprocess
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, SERVER, "--http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as attempt:
                if attempt.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield McpServer("web", url=f"http://127.0.0.1:{port}/mcp")
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # still in the sleeping tool: no graceful end to wait for
            process.kill()
            process.wait(timeout=10)


def test_a_streamable_http_server_lists_and_answers_too(http_server: McpServer) -> None:
    assert [tool.name for tool in list_tools(http_server)] == ["add", "refuse", "nap", "crash"]
    assert call_tool(http_server, "add", {"a": 40, "b": 2}).text == "42"
    refused = call_tool(http_server, "refuse", {"reason": "over HTTP"})
    assert refused.error and "refused: over HTTP" in refused.text
    slow = call_tool(http_server, "nap", {"seconds": 30}, timeout_s=1)
    assert slow.error and "did not answer within 1 s" in slow.text
