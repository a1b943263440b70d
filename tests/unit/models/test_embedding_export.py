"""Importing a sentence-embedding model folder: recognised, exported for feature extraction,
its MatMuls in 8 bits, pooled as the folder says, and installed as an embedding model that
the chat model pickers never offer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.errors import ModelNotFoundError, UserError
from desktop_app.core.manifest import ModelManifest
from desktop_app.engine.embeddings import Embedder
from desktop_app.models.embedding_export import is_embedding_folder, sentence_settings
from desktop_app.models.registry import EMBEDDING, ModelRegistry

SENTENCES = ["How long does a refund take?", "Hold the reset button for fifteen seconds.", "orders and purchases"]


def _folder(tmp_path: Path, config: dict, files: dict[str, object] | None = None) -> Path:
    folder = tmp_path / "model"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    for name, content in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(content))
    return folder


def test_which_folders_are_embedding_models(tmp_path: Path) -> None:
    assert is_embedding_folder(_folder(tmp_path / "a", {"model_type": "bert", "architectures": ["BertModel"]}))
    modules = {"modules.json": [{"type": "sentence_transformers.models.Pooling", "path": "1_Pooling"}]}
    assert is_embedding_folder(_folder(tmp_path / "b", {"model_type": "xlm-roberta"}, modules))
    assert not is_embedding_folder(
        _folder(tmp_path / "c", {"model_type": "bert", "architectures": ["BertForMaskedLM"]})
    )
    assert not is_embedding_folder(_folder(tmp_path / "d", {"model_type": "llama", "architectures": ["LlamaModel"]}))


def test_pooling_length_and_prefixes_come_from_the_sentence_transformers_files(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {"model_type": "bert", "hidden_size": 384, "max_position_embeddings": 512},
        {
            "modules.json": [{"type": "sentence_transformers.models.Pooling", "path": "1_Pooling"}],
            "1_Pooling/config.json": {"pooling_mode_cls_token": True},
            "sentence_bert_config.json": {"max_seq_length": 256},
            "config_sentence_transformers.json": {"prompts": {"query": "query: ", "document": "passage: "}},
        },
    )
    settings = sentence_settings(folder)
    assert (settings["pooling"], settings["max_tokens"], settings["dimensions"]) == ("cls", 256, 384)
    assert (settings["query_prefix"], settings["passage_prefix"]) == ("query: ", "passage: ")
    dense = _folder(
        tmp_path / "dense",
        {"model_type": "bert"},
        {"modules.json": [{"type": "sentence_transformers.models.Dense", "path": "2_Dense"}]},
    )
    with pytest.raises(UserError, match="dense layer"):
        sentence_settings(dense)


def test_the_imported_model_gives_the_vectors_of_the_original(
    tiny_embedding_dir: Path, tiny_embedding_source: Path
) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = ModelRegistry([tiny_embedding_dir]).get("tiny-minilm", kind=EMBEDDING)
    manifest = model.manifest
    assert manifest.kind == EMBEDDING and manifest.extra["pooling"] == "mean" and manifest.context_length == 128
    assert [v.quantization for v in manifest.variants] == ["q8"] and manifest.extra["agreement"] >= 0.99
    assert manifest.source["kind"] == "hf" and manifest.extra["dimensions"] == 256
    source = tiny_embedding_source
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    reference = AutoModel.from_pretrained(str(source)).eval()
    with torch.no_grad():
        batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
        hidden = reference(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        expected = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    got = Embedder(model.directory, manifest, threads=1).embed(SENTENCES)
    assert got.shape == (3, 256) and np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(got * expected, axis=1)) > 0.99


def test_long_texts_are_cut_to_the_models_length_and_batches_keep_their_order(tiny_embedding_dir: Path) -> None:
    model = ModelRegistry([tiny_embedding_dir]).get("tiny-minilm", kind=EMBEDDING)
    embedder = Embedder(model.directory, model.manifest, threads=1)
    texts = ["refund " * 500, "router", "express shipping", "warranty router refund"] * 40
    vectors = embedder.embed(texts)
    assert np.isfinite(embedder.embed(["", "the"])).all()  # nothing telling: no vector to speak of, no error
    one_by_one = np.stack([embedder.embed([t])[0] for t in texts[:4]])
    # 8-bit activations are scaled per batch, so a batch moves its rows a little, no more
    for rows in (vectors[:4], vectors[4:8]):
        assert np.min(np.sum(rows * one_by_one, axis=1)) > 0.999


def test_embedding_models_are_listed_apart_from_chat_models(tiny_embedding_dir: Path) -> None:
    registry = ModelRegistry([tiny_embedding_dir])
    assert registry.list() == [] and registry.default_id() is None
    assert [m.id for m in registry.list(kind=None)] == ["tiny-minilm"]
    with pytest.raises(ModelNotFoundError, match="embedding model: it searches your documents"):
        registry.get("tiny-minilm")
    details = dict(registry.list(kind=EMBEDDING)[0].details())
    assert details["Used for"].startswith("searching your documents by meaning") and details["Vector size"] == "256"


def test_a_manifest_without_a_kind_is_a_chat_model() -> None:
    data = {"id": "m", "architecture": "llama", "context_length": 8, "variants": []}
    assert ModelManifest.from_dict(data).kind == "chat"


def test_where_8_bits_would_move_the_vectors_the_exported_graph_is_installed(
    tiny_embedding_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.models import embedding_export
    from desktop_app.models.prepare import prepare_model

    monkeypatch.setattr(embedding_export, "MIN_AGREEMENT", 1.01)  # no 8-bit graph can agree this well
    installed = prepare_model(tiny_embedding_source, tmp_path / "models", model_id="exact")
    model = ModelRegistry([tmp_path / "models"]).get("exact", kind=EMBEDDING)
    assert installed == model.directory
    assert [v.quantization for v in model.manifest.variants] == ["fp32"]
    assert sorted(p.name for p in installed.glob("model*")) == ["model.fp32.onnx"]
    vectors = Embedder(model.directory, model.manifest, threads=1).embed(SENTENCES)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
