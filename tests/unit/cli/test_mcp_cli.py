"""`inkwell mcp add | list | remove` and `inkwell ask --tools` (with the real default model)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from desktop_app.cli import main

SERVER = str(Path(__file__).parents[1] / "tools" / "mcp_server.py")


def test_servers_are_added_listed_and_removed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mcp", "add", "demo", "--", sys.executable, SERVER]) == 0
    assert main(["mcp", "add", "web", "--url", "http://127.0.0.1:9/mcp"]) == 0
    assert main(["mcp", "add", "demo", "--", "other"]) == 2  # the name is taken
    assert main(["mcp", "add", "nothing"]) == 2  # neither a command nor a URL
    capsys.readouterr()
    assert main(["mcp", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    servers = {s["name"]: s for s in listed["servers"]}
    assert [t["name"] for t in servers["demo"]["tools"]] == ["add", "refuse", "nap", "crash"]
    assert servers["demo"]["command"] == [sys.executable, SERVER] and servers["demo"]["problem"] is None
    assert servers["web"]["tools"] == [] and "could not be reached" in servers["web"]["problem"]
    assert {t["name"]: t["on"] for t in listed["builtin"]} == {
        "current_time": False,
        "calculator": False,
        "search_documents": False,
    }
    assert main(["mcp", "remove", "web"]) == 0 and main(["mcp", "remove", "web"]) == 2
    assert main(["mcp", "list"]) == 0
    assert "demo" in capsys.readouterr().out


@pytest.mark.slow
def test_ask_calls_a_named_servers_tool_and_reports_it(
    default_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / default_model_dir.name).symlink_to(default_model_dir)
    monkeypatch.setenv("INKWELL_MODELS_DIR", str(models))
    assert main(["mcp", "add", "demo", "--", sys.executable, SERVER]) == 0
    ask = ["ask", "What is 1234 plus 5678?", "--temperature", "0", "--max-new-tokens", "60", "--provider", "cpu"]
    assert main([*ask, "--tools", "nowhere"]) == 2  # an unknown name
    capsys.readouterr()
    assert main([*ask, "--tools", "demo", "--tool-choice", "required", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    uses = [use for use in result["tool_calls"] if use["name"] == "add"]
    assert uses and all(not use["error"] and use["server"] == "demo" for use in uses)
    for use in uses:  # the tool really ran on the model's arguments
        arguments = json.loads(use["arguments"])
        assert use["result"] == str(arguments["a"] + arguments["b"])
    assert result["text"] and result["finish_reason"] in ("stop_token", "length")
