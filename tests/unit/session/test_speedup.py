"""Settings › Speed-up in the session layer: which installed models can be a draft for
which, and the speculation a loaded engine gets from the settings."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from desktop_app.engine import load_engine
from desktop_app.models.prepare import prepare_model
from desktop_app.models.registry import ModelRegistry
from desktop_app.session.speedup import apply_speedup, draft_choices


@pytest.fixture(scope="module")
def registry(tiny_gguf, default_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("speedup-models")
    prepare_model(tiny_gguf("llama", "Q8_0"), root, model_id="tiny-q8")
    prepare_model(tiny_gguf("llama", "Q2_K"), root, model_id="tiny-q2")  # the same model, smaller
    shutil.copytree(default_model_dir, root / "smollm2")  # another vocabulary
    return ModelRegistry([root])


def test_drafts_are_smaller_models_with_the_same_vocabulary(registry: ModelRegistry) -> None:
    assert [c.id for c in draft_choices(registry, "tiny-q8")] == ["tiny-q2"]
    assert draft_choices(registry, "tiny-q2") == []  # the larger one saves nothing
    assert draft_choices(registry, "smollm2-135m-instruct") == []
    assert draft_choices(registry, "no-such-model") == []


def test_the_settings_set_the_engines_speculation(registry: ModelRegistry) -> None:
    engine = load_engine(registry.get("tiny-q8").directory, "cpu", threads=1)
    note = apply_speedup(engine, "auto", "tiny-q2", registry, threads=1)
    assert engine.speculation.mode == "auto" and engine.speculation.draft is not None
    assert "draft" in note
    note = apply_speedup(engine, "auto", "smollm2-135m-instruct", registry, threads=1)
    assert engine.speculation.mode == "auto" and engine.speculation.draft is None  # refused: lookup goes on
    assert "different vocabularies" in note
    apply_speedup(engine, "lookup", "tiny-q2", registry)
    assert (engine.speculation.mode, engine.speculation.draft) == ("lookup", None)
    assert "off" in apply_speedup(engine, "off", "", registry)
    assert engine.speculation.mode == "off"
    assert apply_speedup(object(), "auto", "", registry) == ""  # a model server's engine: left alone


def test_a_model_whose_checked_tokens_are_not_exact_gets_no_speed_up(registry: ModelRegistry) -> None:
    engine = load_engine(registry.get("tiny-q2").directory, "cpu", threads=1)
    assert not engine.checks_exactly  # its Q2_K products run on MatMulNBits
    note = apply_speedup(engine, "auto", "", registry)
    assert engine.speculation.mode == "off" and "off" in note
    engine.speculation = replace(engine.speculation, mode="lookup")  # even when asked directly
    assert engine.speculator([1, 2, 3]) is None
    assert load_engine(registry.get("tiny-q8").directory, "cpu", threads=1).checks_exactly
