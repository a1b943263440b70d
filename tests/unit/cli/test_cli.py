"""The `inkwell` command: ask (streamed and --json), models list, and clean errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.cli import main


@pytest.fixture
def installed(tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "models"
    shutil.copytree(tiny_model_dir, root / "tiny-llama")
    monkeypatch.setenv("INKWELL_MODELS_DIR", str(root))
    return root


def test_ask_json_reports_text_and_stats(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", "Hello", "--json", "--max-new-tokens", "5", "--seed", "3", "--provider", "cpu"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {
        "text",
        "model",
        "provider",
        "prompt_tokens",
        "generated_tokens",
        "ttft_ms",
        "tokens_per_s",
        "finish_reason",
    }
    assert result["model"] == "tiny-llama" and result["provider"] == "cpu" and result["seed"] == 3
    assert result["generated_tokens"] <= 5


def test_ask_with_beams_reports_the_best_texts(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["ask", "Hello", "--json", "--max-new-tokens", "6", "--provider", "cpu", "--num-beams", "3"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["num_beams"] == 3 and isinstance(result["beam_score"], float)
    assert main([*args, "--repetition-penalty", "1.0"]) == 0  # deterministic: the same text twice
    again = json.loads(capsys.readouterr().out)
    assert main([*args, "--repetition-penalty", "1.0"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == again["text"]
    assert main([*args[:-1], "2", "--num-return-sequences", "3"]) == 2  # more texts than beams
    assert "beam" in capsys.readouterr().err


def test_ask_streams_text_and_prints_stats_to_stderr(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Hello", "--max-new-tokens", "4", "--temperature", "0", "--provider", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert out.endswith("\n")
    assert "tokens/s" in err and "CPU" in err


def test_alternatives_are_printed_as_versions(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Hi", "-n", "2", "--max-new-tokens", "4", "--seed", "1", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["alternatives"]) == 2


def test_models_list_json(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list", "--json"]) == 0
    [model] = json.loads(capsys.readouterr().out)
    assert model["id"] == "tiny-llama" and model["default"] is True
    assert model["quantizations"] == ["fp32", "q4", "fp16"] and model["size_bytes"] > 0


def test_no_model_is_a_message_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Hello"]) == 2
    err = capsys.readouterr().err
    assert "No model is prepared yet" in err and "Traceback" not in err


def test_bad_setting_is_a_message(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Hello", "--top-p", "0"]) == 2
    assert "top-p" in capsys.readouterr().err


def test_import_of_a_non_model_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("hello")
    assert main(["models", "import", str(bogus)]) == 2
    assert "not a GGUF file" in capsys.readouterr().err


def test_models_import_then_ask_in_a_subprocess(tiny_hf_model: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items()}
    env["INKWELL_MODELS_DIR"] = str(tmp_path / "models")
    run = [sys.executable, "-m", "desktop_app"]
    done = subprocess.run(
        [*run, "models", "import", str(tiny_hf_model), "--quantizations", "q4"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    # A Llama folder in safetensors streams tensor by tensor (hf_import.py)
    assert "[1/22] Read the tokenizer" in done.stdout and "Converted tensor 20 of 20" in done.stdout
    assert "Prepared tiny-llama" in done.stdout
    answer = subprocess.run(
        [*run, "ask", "Hi", "--json", "--max-new-tokens", "3"], env=env, capture_output=True, text=True, timeout=120
    )
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["model"] == "tiny-llama"


def test_terminal_chat_keeps_the_conversation(installed: Path, tmp_path: Path) -> None:
    import argparse
    import io

    from desktop_app.cli import _chat, build_parser

    args: argparse.Namespace = build_parser().parse_args(["chat", "--max-new-tokens", "3", "--provider", "cpu"])
    out = io.StringIO()
    assert _chat(args, io.StringIO("Hello\n/new\nAgain\n/quit\n"), out) == 0
    text = out.getvalue()
    assert text.count("inkwell> ") == 2 and "(a new conversation)" in text
    from desktop_app.store import open_store

    store = open_store()  # both conversations were saved, replies complete with their stats
    conversations = store.conversations.all()
    assert len(conversations) == 2
    for conversation in conversations:
        _user, reply = store.conversations.path(conversation.id)
        assert reply.role == "assistant" and reply.status == "complete" and reply.provider == "cpu"
        assert reply.generated_tokens is not None and reply.generated_tokens <= 3
    store.close()


def test_models_prepare_passes_the_chosen_quantizations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.models import prepare

    seen = {}

    def fake_prepare_model(
        source,
        out,
        model_id=None,
        name=None,
        quantizations=(),
        force=False,
        progress=None,
        cancel=None,
        gpu_variant=None,
    ):  # type: ignore[no-untyped-def]
        seen.update(source=source, out=out, model_id=model_id, quantizations=quantizations, gpu_variant=gpu_variant)
        return out / str(model_id)

    monkeypatch.setattr(prepare, "prepare_model", fake_prepare_model)
    assert main(["models", "prepare", "--quantizations", "q4,q8", "--out", str(tmp_path)]) == 0
    assert seen["quantizations"] == ("q4", "q8") and seen["model_id"] == "smollm2-135m-instruct"
    assert seen["source"].suffix == ".gguf"
    assert seen["gpu_variant"] is None  # auto: where the GPU can run it
    assert main(["models", "prepare", "--gpu-variant", "yes", "--out", str(tmp_path)]) == 0
    assert seen["gpu_variant"] is True


def test_an_unexpected_error_shows_no_traceback_and_logs_one(
    monkeypatch: pytest.MonkeyPatch, private_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import desktop_app.cli as cli

    def broken(args):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "_models", broken)
    assert main(["models", "list"]) == 1
    err = capsys.readouterr().err
    assert "something went wrong" in err and "Traceback" not in err
    assert "Traceback" in (private_dirs / "logs" / "inkwell.log").read_text()


def test_ask_raw_continues_the_text_without_a_template(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["ask", "The quick brown fox", "--json", "--max-new-tokens", "3", "--temperature", "0", "--provider", "cpu"]
    assert main([*args, "--raw"]) == 0
    raw = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    chat = json.loads(capsys.readouterr().out)
    assert raw["prompt_tokens"] < chat["prompt_tokens"]  # no template around the text
    assert main([*args, "--raw", "--system", "Be brief."]) == 2
    assert "no --system" in capsys.readouterr().err


def test_models_check_reports_the_perplexity_and_why_llama_cpp_was_not_run(
    installed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "text.txt"
    text.write_text("The quick brown fox jumps over the lazy dog. Paris is the capital of France.", encoding="utf-8")
    assert main(["models", "check", "tiny-llama", "--text", str(text), "--quantization", "fp32", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "tiny-llama" and report["quantization"] == "fp32" and report["tokens"] > 5
    assert 1.0 < report["perplexity"] < float("inf")  # a random tiny model: confident and wrong
    assert report["llama_cpp_perplexity"] is None and "not made from a GGUF" in report["note"]
    assert main(["models", "check", "tiny-llama", "--text", str(tmp_path / "missing.txt")]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_models_default_and_delete(installed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    copy = installed / "spare"
    shutil.copytree(installed / "tiny-llama", copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps(manifest | {"id": "spare", "name": "Spare"}))
    assert main(["models", "default", "spare"]) == 0
    assert main(["models", "list", "--json"]) == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out.split("\n", 1)[1])}
    assert listed["spare"]["default"] and not listed["tiny-llama"]["default"]
    assert listed["spare"]["details"]["Architecture"] == "llama"
    assert main(["models", "delete", "spare"]) == 0
    assert not copy.exists() and not any(p.name.startswith(".deleting") for p in installed.iterdir())
    capsys.readouterr()
    assert main(["models", "list", "--json"]) == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"tiny-llama"} and listed["tiny-llama"]["default"]
