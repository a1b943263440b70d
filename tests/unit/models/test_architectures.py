"""Importing other architectures the exporter handles: Qwen2 (attention with biases) and Phi-3."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.manifest import ModelManifest
from desktop_app.engine import load_engine
from desktop_app.engine.onnx_model import KVCache
from desktop_app.models.prepare import prepare_model


def tiny_model_of(kind: str, tokenizer_from: Path, folder: Path) -> Path:
    import torch
    from transformers import Phi3Config, Phi3ForCausalLM, Qwen2Config, Qwen2ForCausalLM

    folder.mkdir(parents=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tokenizer_from / name, folder / name)
    vocab = len(json.loads((folder / "tokenizer.json").read_text())["model"]["vocab"]) + 3
    common = dict(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        initializer_range=0.5,
    )
    torch.manual_seed(0)
    if kind == "qwen2":
        model = Qwen2ForCausalLM(Qwen2Config(**common, tie_word_embeddings=True))
        with torch.no_grad():  # random, non-zero biases, so the fusion must carry them
            for layer in model.model.layers:
                for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                    proj.bias.normal_(0, 0.5)
    else:
        model = Phi3ForCausalLM(Phi3Config(**common, original_max_position_embeddings=128))
    model.save_pretrained(folder)
    return folder


@pytest.mark.parametrize(("kind", "attention"), [("qwen2", "GroupQueryAttention"), ("phi3", "unfused")])
def test_import_and_generate_matches_recomputation(
    kind: str, attention: str, tiny_hf_model: Path, tmp_path: Path
) -> None:
    source = tiny_model_of(kind, tiny_hf_model, tmp_path / f"tiny-{kind}")
    directory = prepare_model(source, tmp_path / "models", quantizations=("fp32", "q4"))
    manifest = ModelManifest.read(directory)
    assert manifest.architecture == kind
    assert manifest.extra["attention"] == attention

    engine = load_engine(directory, provider="cpu", quantization="fp32", threads=1)
    ids = engine.tokenizer.encode("The quick brown fox")
    cache = KVCache.empty(engine.model.kv)
    logits, cache = engine.model.forward(ids, cache)
    for _ in range(6):  # cached decoding agrees with a full recomputation
        token = int(np.argmax(logits))
        ids.append(token)
        logits, cache = engine.model.forward([token], cache)
        full, _ = engine.model.forward(ids, KVCache.empty(engine.model.kv))
        np.testing.assert_allclose(logits, full, atol=1e-3 * float(np.abs(full).max()))
    q4 = load_engine(directory, provider="cpu", quantization="q4", threads=1)
    assert q4.count_tokens("hello") > 0
