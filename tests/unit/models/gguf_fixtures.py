"""Tiny GGUF files with random weights, and a numpy forward pass over their dequantized tensors.

The reference follows llama.cpp's computation (RMSNorm, rope on the file's layout, grouped
attention with a causal and optional sliding-window mask, soft-capping, SwiGLU/GeGLU),
written independently of the ONNX builder; only the architecture's declared settings
(architectures.py) are shared with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.models.architectures import Architecture, architecture_of, is_local_layer, shape_of

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Paris is the capital of France, and Berlin is the capital of Germany.",
    "Hello world! Writers continue, rewrite, shorten and summarise their drafts.",
] * 20


def tiny_vocabulary() -> tuple[list[str], list[str]]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    data = json.loads(tokenizer.to_str())
    vocab = sorted(data["model"]["vocab"].items(), key=lambda item: item[1])
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]]
    return [token for token, _ in vocab], merges


def tiny_spm_vocabulary() -> tuple[list[str], list[float], list[int]]:
    """A SentencePiece-style vocabulary (llama.cpp's "llama" tokenizer model): special
    tokens, the 256 byte tokens, then the corpus's characters and words with ▁ for spaces."""
    special = ["<unk>", "<s>", "</s>", *SPECIAL]
    bytes_ = [f"<0x{b:02X}>" for b in range(256)]
    words = sorted({w for line in CORPUS for w in line.split()})
    pieces = sorted({c for line in CORPUS for c in line if c != " "} | {"▁"})
    pieces += [p for p in ("▁" + w for w in words) if p not in pieces]
    tokens = special + bytes_ + pieces
    scores = [0.0] * (len(special) + len(bytes_)) + [-float(i) for i in range(len(pieces))]
    types = [2] + [3] * (len(special) - 1) + [6] * 256 + [1] * len(pieces)
    return tokens, scores, types


# Types gguf-py cannot quantize: random blocks, with their fp16 scales set to sizes that give
# weights of about 2/sqrt(K). (byte offset of d, of dmin or None, d for K = 256)
_RANDOM_BLOCKS: dict[str, tuple[int, int | None, float]] = {
    "Q2_K": (80, 82, 8e-3),
    "Q3_K": (108, None, 3e-3),
    "Q4_K": (0, 2, 4e-4),
    "Q5_K": (0, 2, 2e-4),
    "Q6_K": (208, None, 1e-4),
}


def random_blocks(qtype: Any, rows: int, columns: int, rng: np.random.Generator) -> np.ndarray:
    """Raw bytes [rows, bytes a row] of random K-quant blocks with sensible scales."""
    from gguf import GGML_QUANT_SIZES

    block, size = GGML_QUANT_SIZES[qtype]
    d_at, dmin_at, d = _RANDOM_BLOCKS[qtype.name]
    raw = rng.integers(0, 256, (rows, columns // block, size), dtype=np.uint8)
    scale = d * np.sqrt(256 / columns)
    raw[:, :, d_at : d_at + 2] = np.full((rows, columns // block, 1), scale, np.float16).view(np.uint8)
    if dmin_at is not None:
        # Real blocks straddle zero: the minimum is within the 2**bits levels above it. A
        # random 6-bit min with a random 6-bit scale can exceed that, so dmin stays small.
        mins = rng.uniform(0.1, 0.3, (rows, columns // block, 1)) * scale
        raw[:, :, dmin_at : dmin_at + 2] = mins.astype(np.float16).view(np.uint8)
    return raw.reshape(rows, -1)


DEFAULTS: dict[str, Any] = dict(
    hidden=64, ffn=128, layers=2, heads=4, kv_heads=2, head_dim=16, context=256, rope_base=10_000.0
)


def write_gguf(
    path: Path,
    arch_name: str = "llama",
    qtype: Any = None,
    seed: int = 0,
    tied: bool = True,
    types: dict[str, Any] | None = None,
    extra_metadata: dict[str, Any] | None = None,
    template: str | None = CHATML,
    **sizes: Any,
) -> Path:
    """A random model of `arch_name`; matrices quantized to `qtype` (default Q8_0),
    `types` overriding it by role (e.g. {"ffn_down": Q4_1, "output": Q6_K})."""
    from gguf import GGMLQuantizationType as T
    from gguf import GGUFWriter
    from gguf.quants import quantize

    qtype = T.Q8_0 if qtype is None else qtype
    p = {**DEFAULTS, **sizes}
    arch = architecture_of(arch_name)
    tokens, merges = tiny_vocabulary()
    rng = np.random.default_rng(seed)
    writer = GGUFWriter(str(path), arch_name)
    a = arch_name
    writer.add_uint32(f"{a}.block_count", p["layers"])
    writer.add_uint32(f"{a}.context_length", p["context"])
    writer.add_uint32(f"{a}.embedding_length", p["hidden"])
    writer.add_uint32(f"{a}.feed_forward_length", p["ffn"])
    writer.add_uint32(f"{a}.attention.head_count", p["heads"])
    writer.add_uint32(f"{a}.attention.head_count_kv", p["kv_heads"])
    writer.add_uint32(f"{a}.attention.key_length", p["head_dim"])
    writer.add_uint32(f"{a}.attention.value_length", p["head_dim"])
    writer.add_uint32(f"{a}.rope.dimension_count", p["head_dim"])
    writer.add_float32(f"{a}.rope.freq_base", p["rope_base"])
    writer.add_float32(f"{a}.attention.layer_norm_rms_epsilon", 1e-5)
    for key, value in (extra_metadata or {}).items():
        if isinstance(value, float):
            writer.add_float32(key, value)
        elif isinstance(value, str):
            writer.add_string(key, value)
        else:
            writer.add_uint32(key, value)
    if arch.tokenizer in ("gemma2", "gemma3_text", "phi3"):  # SentencePiece vocabularies
        tokens, scores, token_types = tiny_spm_vocabulary()
        writer.add_string("tokenizer.ggml.model", "llama")
        writer.add_array("tokenizer.ggml.tokens", tokens)
        writer.add_array("tokenizer.ggml.scores", scores)
        writer.add_array("tokenizer.ggml.token_type", token_types)
        writer.add_uint32("tokenizer.ggml.unknown_token_id", 0)
        writer.add_uint32("tokenizer.ggml.padding_token_id", 0)
        writer.add_uint32("tokenizer.ggml.bos_token_id", 1)
        writer.add_uint32("tokenizer.ggml.eos_token_id", 2)
        writer.add_uint32("tokenizer.ggml.eot_token_id", tokens.index("<|im_end|>"))
    else:
        writer.add_string("tokenizer.ggml.model", "gpt2")
        writer.add_string("tokenizer.ggml.pre", "default")
        writer.add_array("tokenizer.ggml.tokens", tokens)
        writer.add_array("tokenizer.ggml.token_type", [3 if t in SPECIAL else 1 for t in tokens])
        writer.add_array("tokenizer.ggml.merges", merges)
        writer.add_uint32("tokenizer.ggml.bos_token_id", 1)
        writer.add_uint32("tokenizer.ggml.eos_token_id", 2)
    writer.add_bool("tokenizer.ggml.add_bos_token", False)
    if template is not None:
        writer.add_string("tokenizer.chat_template", template)

    hidden, ffn, hd = p["hidden"], p["ffn"], p["head_dim"]
    q_size, kv_size = p["heads"] * hd, p["kv_heads"] * hd

    def matrix(name: str, rows: int, columns: int, scale: float = 0.5) -> None:
        values = rng.normal(0, scale / np.sqrt(columns) * 4, (rows, columns)).astype(np.float32)
        chosen = qtype
        chosen = (types or {}).get(name.split(".")[-2], chosen)  # by role: attn_v, ffn_down, output, ...
        if chosen == T.F32:
            writer.add_tensor(name, values)
        elif chosen == T.F16:
            writer.add_tensor(name, values.astype(np.float16))
        elif chosen.name in _RANDOM_BLOCKS:
            writer.add_tensor(name, random_blocks(chosen, rows, columns, rng), raw_dtype=chosen)
        else:
            writer.add_tensor(name, quantize(values, chosen), raw_dtype=chosen)

    def vector(name: str, size: int, around: float = 1.0) -> None:
        writer.add_tensor(name, (around + rng.normal(0, 0.2, size)).astype(np.float32))

    matrix("token_embd.weight", len(tokens), hidden, scale=2.0)
    for i in range(p["layers"]):
        b = f"blk.{i}"
        vector(f"{b}.attn_norm.weight", hidden)
        if arch.fused_gate_up:
            matrix(f"{b}.attn_qkv.weight", q_size + 2 * kv_size, hidden)
        else:
            matrix(f"{b}.attn_q.weight", q_size, hidden)
            matrix(f"{b}.attn_k.weight", kv_size, hidden)
            matrix(f"{b}.attn_v.weight", kv_size, hidden)
        if arch_name == "qwen2":
            for name, size in (("q", q_size), ("k", kv_size), ("v", kv_size)):
                vector(f"{b}.attn_{name}.bias", size, around=0.0)
        if arch.qk_norm:
            vector(f"{b}.attn_q_norm.weight", hd)
            vector(f"{b}.attn_k_norm.weight", hd)
        matrix(f"{b}.attn_output.weight", hidden, q_size)
        if arch.post_norms:
            vector(f"{b}.post_attention_norm.weight", hidden)
            vector(f"{b}.post_ffw_norm.weight", hidden)
        vector(f"{b}.ffn_norm.weight", hidden)
        if arch.fused_gate_up:
            matrix(f"{b}.ffn_up.weight", 2 * ffn, hidden)
        else:
            matrix(f"{b}.ffn_gate.weight", ffn, hidden)
            matrix(f"{b}.ffn_up.weight", ffn, hidden)
        matrix(f"{b}.ffn_down.weight", hidden, ffn)
    vector("output_norm.weight", hidden)
    if not tied:
        matrix("output.weight", len(tokens), hidden, scale=2.0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _rms(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def _rope(x: np.ndarray, positions: np.ndarray, base: float, dims: int, interleaved: bool, factor: float) -> np.ndarray:
    """x [S, heads, head_dim] rotated by position: pairs (2i, 2i+1) or halves (i, i + dims/2)."""
    inv = base ** (-np.arange(0, dims, 2, dtype=np.float64) / dims)
    angles = np.outer(positions / factor, inv)[:, None, :]
    cos, sin = np.cos(angles), np.sin(angles)
    out = x.astype(np.float64).copy()
    if interleaved:
        a, b = x[..., 0:dims:2], x[..., 1:dims:2]
        out[..., 0:dims:2], out[..., 1:dims:2] = a * cos - b * sin, a * sin + b * cos
    else:
        half = dims // 2
        a, b = x[..., :half], x[..., half:dims]
        out[..., :half], out[..., half:dims] = a * cos - b * sin, a * sin + b * cos
    return out


def reference_logits(path: Path, ids: list[int]) -> np.ndarray:
    """Logits [len(ids), vocab] of the whole sequence, in float64."""
    from gguf import GGUFReader
    from gguf.quants import dequantize

    reader = GGUFReader(str(path))
    fields = {k: f.contents() for k, f in reader.fields.items() if not k.startswith(("tokenizer", "GGUF"))}
    arch: Architecture = architecture_of(fields["general.architecture"])
    w = {t.name: dequantize(t.data, t.tensor_type).astype(np.float64) for t in reader.tensors}
    s = shape_of(arch, fields, w["token_embd.weight"].shape[0])
    eps, hd = s.rms_epsilon, s.head_dim
    x = w["token_embd.weight"][ids]
    if arch.scale_embedding:
        x = x * np.sqrt(s.hidden)
    n = len(ids)
    positions = np.arange(n, dtype=np.float64)
    for i in range(s.layers):
        b = f"blk.{i}"
        h = _rms(x, w[f"{b}.attn_norm.weight"], eps)
        if f"{b}.attn_qkv.weight" in w:
            qkv = h @ w[f"{b}.attn_qkv.weight"].T
            q, k, v = np.split(qkv, [s.q_size, s.q_size + s.kv_size], axis=-1)
        else:
            q, k, v = (h @ w[f"{b}.attn_{p}.weight"].T + w.get(f"{b}.attn_{p}.bias", 0.0) for p in "qkv")
        q, k, v = q.reshape(n, s.heads, hd), k.reshape(n, s.kv_heads, hd), v.reshape(n, s.kv_heads, hd)
        if arch.qk_norm:
            q, k = _rms(q, w[f"{b}.attn_q_norm.weight"], eps), _rms(k, w[f"{b}.attn_k_norm.weight"], eps)
        local = is_local_layer(arch, s, i)
        base = s.local_rope_base if local and s.local_rope_base else s.rope_base
        factor = 1.0 if local and s.local_rope_base else s.rope_linear_factor
        q = _rope(q, positions, base, s.rotary_dim, arch.rope_interleaved, factor)
        k = _rope(k, positions, base, s.rotary_dim, arch.rope_interleaved, factor)
        group = s.heads // s.kv_heads
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) * s.attention_scale
        if s.attention_softcap:
            scores = np.tanh(scores / s.attention_softcap) * s.attention_softcap
        distance = positions[:, None] - positions[None, :]
        allowed = distance >= 0
        if local:
            allowed &= distance < s.sliding_window
        scores = np.where(allowed[None], scores, -np.inf)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        attended = np.einsum("hqk,khd->qhd", probs, v).reshape(n, s.q_size) @ w[f"{b}.attn_output.weight"].T
        if arch.post_norms:
            attended = _rms(attended, w[f"{b}.post_attention_norm.weight"], eps)
        x = x + attended
        h = _rms(x, w[f"{b}.ffn_norm.weight"], eps)
        if arch.fused_gate_up:
            gate, up = np.split(h @ w[f"{b}.ffn_up.weight"].T, 2, axis=-1)
        else:
            gate, up = h @ w[f"{b}.ffn_gate.weight"].T, h @ w[f"{b}.ffn_up.weight"].T
        if arch.activation == "gelu_tanh":
            act = 0.5 * gate * (1 + np.tanh(np.sqrt(2 / np.pi) * (gate + 0.044715 * gate**3)))
        else:
            act = gate / (1 + np.exp(-gate))
        mlp = (act * up) @ w[f"{b}.ffn_down.weight"].T
        if arch.post_norms:
            mlp = _rms(mlp, w[f"{b}.post_ffw_norm.weight"], eps)
        x = x + mlp
    x = _rms(x, w["output_norm.weight"], eps)
    logits = x @ w.get("output.weight", w["token_embd.weight"]).T
    if s.final_softcap:
        logits = np.tanh(logits / s.final_softcap) * s.final_softcap
    return logits
