"""Reading a Hugging Face folder as the GGUF route reads a file (hf_source.py), and its bad input.

The folders here are written by hand (a safetensors header and numpy bytes), so each
damage can be made exactly; tests/models/test_hf_route.py runs real tiny models.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from desktop_app.core.errors import UserError
from desktop_app.models.hf_source import HFFolder, config_fields, extra_tensors, streams
from desktop_app.models.prepare import prepare_model

CONFIG: dict[str, Any] = {
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 1,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 128,
    "rms_norm_eps": 1e-5,
    "vocab_size": 32,
}


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], dtypes: dict[str, str] | None = None) -> None:
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    at, blobs = 0, []
    for name, value in tensors.items():
        blob = np.ascontiguousarray(value).tobytes()
        dtype = (dtypes or {}).get(name) or {"float32": "F32", "float16": "F16"}[str(value.dtype)]
        header[name] = {"dtype": dtype, "shape": list(value.shape), "data_offsets": [at, at + len(blob)]}
        at += len(blob)
        blobs.append(blob)
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def llama_tensors(rng: np.random.Generator) -> dict[str, np.ndarray]:
    def w(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.1, shape).astype(np.float32)

    prefix = "model.layers.0."
    return {
        "model.embed_tokens.weight": w(32, 64),
        "model.norm.weight": w(64),
        prefix + "input_layernorm.weight": w(64),
        prefix + "post_attention_layernorm.weight": w(64),
        prefix + "self_attn.q_proj.weight": w(64, 64),
        prefix + "self_attn.k_proj.weight": w(32, 64),
        prefix + "self_attn.v_proj.weight": w(32, 64),
        prefix + "self_attn.o_proj.weight": w(64, 64),
        prefix + "mlp.gate_proj.weight": w(128, 64),
        prefix + "mlp.up_proj.weight": w(128, 64),
        prefix + "mlp.down_proj.weight": w(64, 128),
    }


def make_folder(folder: Path, config: dict[str, Any] | None = None, **changes: Any) -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({**CONFIG, **(config or {})}))
    tensors = llama_tensors(np.random.default_rng(0))
    tensors.update(changes.pop("extra", {}))
    write_safetensors(folder / "model.safetensors", tensors, changes.pop("dtypes", None))
    return tensors


def rows(source: HFFolder, name: str) -> np.ndarray:
    tensor = source.tensors[name]
    return np.concatenate([part for _, part in source.chunks(tensor)])


def test_names_layout_and_metadata_are_the_converters(tmp_path: Path) -> None:
    tensors = make_folder(tmp_path / "m")
    source = HFFolder(tmp_path / "m")
    assert sorted(source.tensors) == sorted(
        ["token_embd.weight", "output_norm.weight"]
        + [f"blk.0.{n}.weight" for n in ("attn_norm", "ffn_norm", "attn_q", "attn_k", "attn_v", "attn_output")]
        + [f"blk.0.{n}.weight" for n in ("ffn_gate", "ffn_up", "ffn_down")]
    )
    assert source.fields["llama.attention.head_count_kv"] == 2 and source.fields["llama.attention.key_length"] == 16
    # llama's rope turns adjacent pairs: each head's q rows are interleaved from its two halves
    q = rows(source, "blk.0.attn_q.weight").view(np.float32)
    original = tensors["model.layers.0.self_attn.q_proj.weight"]
    np.testing.assert_array_equal(q[0], original[0])
    np.testing.assert_array_equal(q[1], original[8])  # head 0's second half starts at row 16 / 2
    np.testing.assert_array_equal(q[16 + 3], original[16 + 8 + 1])
    k = rows(source, "blk.0.attn_k.weight").view(np.float32)
    np.testing.assert_array_equal(
        np.sort(k, axis=0), np.sort(tensors["model.layers.0.self_attn.k_proj.weight"], axis=0)
    )


def test_rounding_gives_q4_0_matrices_and_q8_0_tables(tmp_path: Path) -> None:
    make_folder(tmp_path / "m")
    source = HFFolder(tmp_path / "m", "q4")
    assert source.tensors["blk.0.ffn_down.weight"].type_name == "Q4_0"
    assert source.tensors["token_embd.weight"].type_name == "Q8_0"
    assert source.tensors["blk.0.attn_norm.weight"].type_name == "F32"
    down = rows(source, "blk.0.ffn_down.weight")
    assert (
        down.shape == (64, 128 // 32 * 18)
        and down.shape[0] * down.shape[1] == source.tensors["blk.0.ffn_down.weight"].n_bytes
    )


def test_gemma_norms_get_the_one_the_converter_adds(tmp_path: Path) -> None:
    tensors = make_folder(tmp_path / "g", {"model_type": "gemma2", "head_dim": 16, "query_pre_attn_scalar": 16})
    tensors_g = HFFolder(tmp_path / "g").tensors
    for hf, gguf in (
        ("model.norm.weight", "output_norm.weight"),
        ("model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"),
    ):
        np.testing.assert_allclose(tensors_g[gguf].data.view(np.float32).reshape(-1), tensors[hf] + 1)
    # Gemma's post-attention norm is after attention, not before the MLP
    assert "blk.0.post_attention_norm.weight" in tensors_g and "blk.0.ffn_norm.weight" not in tensors_g


def test_llama3_rope_divisors_are_transformers(tmp_path: Path) -> None:
    from transformers import LlamaConfig
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    scaling = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 64}  # fmt: skip
    config = {**CONFIG, "rope_theta": 500_000.0, "rope_scaling": scaling}
    divisors = extra_tensors(_llama(), config)["rope_freqs.weight"]
    hf_config = LlamaConfig(**{k: v for k, v in config.items() if k != "model_type"})
    scaled, _ = ROPE_INIT_FUNCTIONS["llama3"](hf_config, "cpu")
    plain = 500_000.0 ** (-np.arange(0, 16, 2, dtype=np.float64) / 16)
    np.testing.assert_allclose(plain / divisors, scaled.numpy(), rtol=1e-5)


def _llama() -> Any:
    from desktop_app.models.architectures import ARCHITECTURES

    return ARCHITECTURES["llama"]


def test_phi3_longrope_becomes_factors_and_an_attention_factor() -> None:
    from desktop_app.models.architectures import ARCHITECTURES

    config = {**CONFIG, "model_type": "phi3", "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
              "rope_scaling": {"type": "longrope", "short_factor": [1.0] * 8, "long_factor": [2.0] * 8}}  # fmt: skip
    fields = config_fields(ARCHITECTURES["phi3"], config)
    assert fields["phi3.rope.scaling.original_context_length"] == 4096
    assert fields["phi3.rope.scaling.attn_factor"] == pytest.approx((1 + np.log(32) / np.log(4096)) ** 0.5)
    assert set(extra_tensors(ARCHITECTURES["phi3"], config)) == {
        "rope_factors_short.weight",
        "rope_factors_long.weight",
    }


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncated", "is not a safetensors file, or is truncated"),
        ("int8", "holds model.layers.0.mlp.down_proj.weight as I8"),
        ("unknown tensor", "does not know for a llama model: model.layers.0.mlp.extra.weight"),
        ("size", "size disagrees with its shape"),
        ("rope", "rope scaling (dynamic) is not supported"),
        ("config", "lacks num_attention_heads"),
        ("tokenizer", "has no fast tokenizer"),
    ],
)
def test_bad_folders_get_a_clear_message_and_no_model(
    damage: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bad"
    if damage == "int8":
        make_folder(folder, dtypes={"model.layers.0.mlp.down_proj.weight": "I8"})
    elif damage == "unknown tensor":
        make_folder(folder, extra={"model.layers.0.mlp.extra.weight": np.zeros((4, 4), np.float32)})
    elif damage == "rope":
        make_folder(folder, {"rope_scaling": {"type": "dynamic", "factor": 2.0}})
    elif damage == "config":
        make_folder(folder, {"num_attention_heads": None})
    else:
        make_folder(folder)
    weights = folder / "model.safetensors"
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:100])
    elif damage == "size":
        header_length = struct.unpack("<Q", weights.read_bytes()[:8])[0]
        weights.write_bytes(weights.read_bytes()[: 8 + header_length + 1000])
    if damage == "tokenizer":
        import desktop_app.models.hf_import as hf_import

        monkeypatch.setattr(hf_import, "_converted_tokenizer", lambda source, folder: False)
    else:
        (folder / "tokenizer.json").write_text("{}")
    assert streams(folder)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        prepare_model(folder, tmp_path / "models", model_id="m", quantizations=("q4",), gpu_variant=False)
    assert not (tmp_path / "models").exists() or not list((tmp_path / "models").iterdir())


def test_only_known_decoders_in_safetensors_stream(tmp_path: Path) -> None:
    make_folder(tmp_path / "a")
    assert streams(tmp_path / "a")
    make_folder(tmp_path / "b", {"model_type": "gpt2"})
    assert not streams(tmp_path / "b")  # optimum's exporter takes it
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "config.json").write_text(json.dumps(CONFIG))
    (tmp_path / "c" / "pytorch_model.bin").write_bytes(b"")
    assert not streams(tmp_path / "c")


def bfloat16_bits(values: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bits, rounded to nearest even (as torch rounds)."""
    bits = values.astype(np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def test_sharded_bfloat16_folders_read_as_their_values(tmp_path: Path) -> None:
    """Releases ship bfloat16 in shards named by an index; they read as the float32 folder
    of the same (bfloat16-rounded) values does, and import to the same model."""
    rounded = {
        n: (bfloat16_bits(v).astype(np.uint32) << 16).view(np.float32)
        for n, v in llama_tensors(np.random.default_rng(0)).items()
    }
    wide, narrow = tmp_path / "f32", tmp_path / "bf16"
    for folder in (wide, narrow):
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(CONFIG))
        (folder / "tokenizer.json").write_text(_tokenizer_json())
    write_safetensors(wide / "model.safetensors", rounded)
    names = sorted(rounded)
    shards = {"model-00001-of-00002.safetensors": names[:5], "model-00002-of-00002.safetensors": names[5:]}
    for shard, members in shards.items():
        write_safetensors(narrow / shard, {n: bfloat16_bits(rounded[n]) for n in members}, {n: "BF16" for n in members})
    index = {"weight_map": {n: shard for shard, members in shards.items() for n in members}}
    (narrow / "model.safetensors.index.json").write_text(json.dumps(index))
    a, b = HFFolder(wide, "q4"), HFFolder(narrow, "q4")
    assert b.stored_types == {"BF16": 11}
    for name in a.tensors:
        np.testing.assert_array_equal(rows(a, name), rows(b, name))
    made = [
        prepare_model(f, tmp_path / "out", model_id=f.name, quantizations=("q4",), gpu_variant=False)
        for f in (wide, narrow)
    ]
    from desktop_app.engine import load_engine

    logits = []
    for folder in made:
        engine = load_engine(folder, "cpu", threads=1)
        logits.append(engine.model.forward([1, 2, 3], engine.model.empty_cache())[0])
    np.testing.assert_array_equal(*logits)


def _tokenizer_json() -> str:
    from tokenizers import Tokenizer, models

    return Tokenizer(models.WordLevel({f"t{i}": i for i in range(32)}, unk_token="t0")).to_str()
