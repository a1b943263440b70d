from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_app.core.errors import ModelNotFoundError
from desktop_app.models.registry import (
    DEFAULT_MODEL_ID,
    ModelRegistry,
    default_output_dir,
    default_registry,
    model_options,
    split_model_setting,
)


def test_lists_complete_models_and_skips_the_rest(tiny_model_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(tiny_model_dir, root / "good")
    shutil.copytree(tiny_model_dir, root / ".partial-good-1-2")
    incomplete = root / "incomplete"
    shutil.copytree(tiny_model_dir, incomplete)
    (incomplete / "model.q4.onnx").unlink()
    without_weights = root / "without-weights"
    shutil.copytree(tiny_model_dir, without_weights)
    (without_weights / "model.fp32.onnx.data").unlink()
    (root / "empty").mkdir()
    models = ModelRegistry([root]).list()
    assert [m.directory.name for m in models] == ["good"]
    assert models[0].size_bytes > 0
    assert models[0].as_dict("tiny-llama")["default"] is True


def test_get_without_models_says_how_to_prepare(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="No model is prepared") as info:
        ModelRegistry([tmp_path]).get()
    assert "inkwell models prepare" in str(info.value.hint)


def test_get_unknown_id_lists_installed(tiny_model_dir: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not installed") as info:
        ModelRegistry([tiny_model_dir.parent]).get("nope")
    assert "tiny-llama" in str(info.value.hint)


def test_default_prefers_the_default_model_id(tiny_model_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(tiny_model_dir, tmp_path / "a")
    registry = ModelRegistry([tmp_path])
    assert registry.default_id() == "tiny-llama"
    assert registry.default_id(preferred="tiny-llama") == "tiny-llama"
    assert DEFAULT_MODEL_ID != "tiny-llama"


def test_models_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INKWELL_MODELS_DIR", str(tmp_path))
    assert default_registry().roots == [tmp_path]
    assert default_output_dir() == tmp_path


def test_model_setting_names_a_model_and_optionally_its_weights() -> None:
    assert split_model_setting("") == (None, None)
    assert split_model_setting(None) == (None, None)
    assert split_model_setting("tiny-llama") == ("tiny-llama", None)
    assert split_model_setting("tiny-llama:q8") == ("tiny-llama", "q8")


def test_weights_are_offered_only_when_there_is_a_choice_on_the_cpu(tiny_model_dir: Path) -> None:
    import dataclasses

    from desktop_app.core.manifest import ModelVariant

    model = ModelRegistry([tiny_model_dir.parent]).get("tiny-llama")  # fp32, q4 (CPU), fp16 (CUDA)
    assert [setting for setting, _ in model_options([model])] == ["tiny-llama"]
    q8 = ModelVariant("model.q8.onnx", "q8", ("cpu",), 1, "")
    both = dataclasses.replace(
        model, manifest=dataclasses.replace(model.manifest, variants=(*model.manifest.variants, q8))
    )
    options = dict(model_options([both]))
    assert list(options) == ["tiny-llama", "tiny-llama:q4", "tiny-llama:q8"]
    assert options["tiny-llama:q4"].endswith("q4 weights, fastest")
    assert options["tiny-llama:q8"].endswith("q8 weights, closest to the original weights")
    for setting in options:  # every offered setting names an installed model and one of its variants
        model_id, quantization = split_model_setting(setting)
        assert model_id == "tiny-llama"
        assert quantization is None or both.manifest.variant(quantization) is not None
