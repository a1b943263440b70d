"""Importing other architectures from Hugging Face folders: Qwen2 (attention with biases) and
Phi-3, by the streaming route and (Phi-3, unfused) by optimum's exporter;
and the GGUF route's table (architectures.py) reading a file's metadata as llama.cpp does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.manifest import ModelManifest
from desktop_app.engine import load_engine
from desktop_app.engine.onnx_model import KVCache
from desktop_app.models.architectures import architecture_of, is_local_layer, shape_of
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


@pytest.mark.parametrize(
    ("kind", "route", "attention"),
    [("qwen2", "auto", "GroupQueryAttention"), ("phi3", "auto", "GroupQueryAttention"), ("phi3", "export", "unfused")],
)
def test_import_and_generate_matches_recomputation(
    kind: str, route: str, attention: str, tiny_hf_model: Path, tmp_path: Path
) -> None:
    source = tiny_model_of(kind, tiny_hf_model, tmp_path / f"tiny-{kind}")
    directory = prepare_model(source, tmp_path / "models", quantizations=("fp32", "q4"), route=route)
    manifest = ModelManifest.read(directory)
    assert manifest.architecture == kind
    assert manifest.extra["attention"] == attention
    assert manifest.extra.get("route") == ("hf" if route == "auto" else None)

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


def gemma_fields(arch: str, layers: int = 2, **extra: float) -> dict[str, float]:
    """A Gemma file's metadata whose queries (4 heads of 128) are wider than hidden / heads (64)."""
    sizes = {"block_count": layers, "embedding_length": 256, "feed_forward_length": 512}
    heads = {"attention.head_count": 4, "attention.head_count_kv": 2, "attention.key_length": 128}
    return {f"{arch}.{key}": value for key, value in {**sizes, **heads}.items()} | extra


def test_gemma_metadata_is_read_as_llama_cpp_reads_it() -> None:
    gemma2, gemma3 = architecture_of("gemma2"), architecture_of("gemma3")
    # Gemma 2: both caps; a window of 4096 where the file names none; local layers share the
    # global rope base unless the file names theirs.
    caps = {"gemma2.attn_logit_softcapping": 50.0, "gemma2.final_logit_softcapping": 30.0}
    shape = shape_of(gemma2, gemma_fields("gemma2") | caps, 400)
    assert (shape.attention_softcap, shape.final_softcap) == (50.0, 30.0)
    assert shape.sliding_window == 4096 and shape.local_rope_base is None
    assert is_local_layer(gemma2, shape, 0) and not is_local_layer(gemma2, shape, 1)
    shape = shape_of(gemma2, gemma_fields("gemma2", **{"gemma2.rope.freq_base_swa": 500.0}), 400)
    assert shape.local_rope_base == 500.0
    # Gemma 3: no window unless named, the final cap only where named, local base 10,000.
    shape = shape_of(gemma3, gemma_fields("gemma3"), 400)
    assert shape.sliding_window == 0 and shape.final_softcap == 0.0 and shape.local_rope_base == 10_000.0
    assert not is_local_layer(gemma3, shape, 0)
    named = {"gemma3.final_logit_softcapping": 30.0, "gemma3.attn_logit_softcapping": 50.0}
    named |= {"gemma3.attention.sliding_window": 512, "gemma3.rope.freq_base_swa": 20_000.0}
    shape = shape_of(gemma3, gemma_fields("gemma3", **named), 400)
    assert (shape.final_softcap, shape.attention_softcap) == (30.0, 0.0)  # Gemma 3 has no attention cap
    assert shape.sliding_window == 512 and shape.local_rope_base == 20_000.0
    assert [is_local_layer(gemma3, shape, i) for i in range(6)] == [True] * 5 + [False]


@pytest.mark.parametrize(("arch", "deep"), [("gemma2", 46), ("gemma3", 62)])
def test_gemma_27b_scales_queries_by_hidden_per_head(arch: str, deep: int) -> None:
    """llama.cpp knows the 27B models by their depth: 1/sqrt(hidden / heads), elsewhere 1/sqrt(head_dim)."""
    table = architecture_of(arch)
    assert shape_of(table, gemma_fields(arch), 400).attention_scale == pytest.approx(128**-0.5)
    assert shape_of(table, gemma_fields(arch, layers=deep), 400).attention_scale == pytest.approx(64**-0.5)
    llama = {k.replace(arch, "llama"): v for k, v in gemma_fields(arch, layers=deep).items()}
    assert shape_of(architecture_of("llama"), llama, 400).attention_scale == pytest.approx(128**-0.5)


def test_rope_scaling_is_read_by_its_type_and_an_unknown_one_refused_by_name() -> None:
    llama = architecture_of("llama")
    fields = {k.replace("gemma2", "llama"): v for k, v in gemma_fields("gemma2").items()}
    linear = shape_of(llama, fields | {"llama.rope.scaling.type": "linear", "llama.rope.scaling.factor": 4.0}, 400)
    assert (linear.rope_linear_factor, linear.rope_yarn_factor) == (4.0, 1.0)
    yarn = shape_of(llama, fields | {"llama.rope.scaling.type": "yarn", "llama.rope.scaling.factor": 4.0}, 400)
    assert (yarn.rope_linear_factor, yarn.rope_yarn_factor) == (1.0, 4.0)
    with pytest.raises(UserError, match="rope scaling \\(dynamic\\)"):
        shape_of(llama, fields | {"llama.rope.scaling.type": "dynamic"}, 400)
