"""What differs between the decoder architectures a GGUF file may hold: one declared table.

Each entry says how llama.cpp runs that architecture (llama.cpp's llama-arch.cpp and
llama-model.cpp, and its converter convert_hf_to_gguf.py, are the references), so that
the one graph builder (gguf_graph.py) reads the table and never asks which architecture
it is building. `Shape` holds the sizes and settings read from the file's metadata.

Facts the table encodes, checked against llama.cpp:
- llama's converter permutes the q and k rows so that rotary pairs are adjacent
  (llama.cpp's "normal" rope); qwen2, qwen3, gemma and phi3 keep the halves layout ("neox").
- Gemma's converter bakes the 1 of its (1 + w) RMSNorm into every norm weight, so the
  file's norms are used as they are; the embedding is scaled by sqrt(hidden) at run time.
- Gemma 2 alternates local (sliding-window) and global layers, starting local; Gemma 3
  has five local layers to one global, and its local layers use their own rope base
  (the file's {arch}.rope.freq_base_swa, else 10,000; Gemma 2's, else the global base).
- Gemma 2 soft-caps attention scores and final logits; Gemma 3 only the final logits,
  and only where its file names a cap. A Gemma 2 file that names no window gets 4096.
- Gemma 2 and 3 at 27B (46 and 62 layers) scale queries by 1/sqrt(hidden / heads), not
  1/sqrt(head_dim) (llama.cpp's models/gemma2.cpp and gemma3.cpp, after gemma_pytorch).

Pure Python, nothing of Inkwell's but its errors: a leaf of models/.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

# llama.cpp's default context when a file does not say, and the cap Inkwell puts on what a
# file allows: the KV cache of a long context costs memory that a desktop rarely has to spare.
CONTEXT_CAP = 8192


@dataclass(frozen=True)
class Architecture:
    name: str
    tokenizer: str  # its usual vocabulary, by transformers' name (the file's own metadata is what is read)
    rope_interleaved: bool  # rotary pairs (2i, 2i+1), llama.cpp's "normal" rope; else halves
    qk_norm: bool = False  # an RMSNorm over each head of q and of k, before rope
    post_norms: bool = False  # an RMSNorm after attention and after the MLP, before each residual add
    scale_embedding: bool = False  # token embeddings times sqrt(hidden)
    activation: str = "silu"  # of the gate: silu or gelu_tanh
    fused_gate_up: bool = False  # ffn_up holds gate and up rows, gate first
    attention_softcapping: bool = False  # attention scores soft-capped as metadata says
    final_softcapping: bool = False  # final logits soft-capped as metadata says
    sliding_window_period: int = 0  # layers i with i % period != period - 1 attend locally
    default_sliding_window: int = 0  # the window where the file names none (0: no window)
    local_rope_base: float | None = None  # local layers' rope base where the file names none
    # Depths (layer counts) at which queries are scaled by 1/sqrt(hidden / heads) instead
    # of 1/sqrt(head_dim): llama.cpp knows these models by their depth alone.
    width_scaled_query_layers: tuple[int, ...] = ()
    # Hugging Face folders (hf_source.py): the config's model_type(s), and what their RMSNorm
    # weights lack of GGUF's (Gemma stores w of its (1 + w): the converter adds the 1).
    hf_model_types: tuple[str, ...] = ()
    hf_norm_offset: float = 0.0


ARCHITECTURES: Mapping[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("llama", tokenizer="llama", rope_interleaved=True, hf_model_types=("llama",)),
        Architecture("mistral", tokenizer="llama", rope_interleaved=True, hf_model_types=("mistral",)),
        Architecture("qwen2", tokenizer="qwen2", rope_interleaved=False, hf_model_types=("qwen2",)),
        Architecture("qwen3", tokenizer="qwen3", rope_interleaved=False, qk_norm=True, hf_model_types=("qwen3",)),
        Architecture(
            "gemma2",
            tokenizer="gemma2",
            rope_interleaved=False,
            post_norms=True,
            scale_embedding=True,
            activation="gelu_tanh",
            attention_softcapping=True,
            final_softcapping=True,
            sliding_window_period=2,
            default_sliding_window=4096,
            width_scaled_query_layers=(46,),
            hf_model_types=("gemma2",),
            hf_norm_offset=1.0,
        ),
        Architecture(
            "gemma3",
            tokenizer="gemma3_text",
            rope_interleaved=False,
            qk_norm=True,
            post_norms=True,
            scale_embedding=True,
            activation="gelu_tanh",
            final_softcapping=True,
            sliding_window_period=6,
            local_rope_base=10_000.0,
            width_scaled_query_layers=(62,),
            hf_model_types=("gemma3_text",),
            hf_norm_offset=1.0,
        ),
        Architecture("phi3", tokenizer="phi3", rope_interleaved=False, fused_gate_up=True, hf_model_types=("phi3",)),
    )
}


def architecture_of(name: str) -> Architecture:
    found = ARCHITECTURES.get(name)
    if found is None:
        raise UserError(
            translate("Errors", "Inkwell cannot import GGUF models of the {name} architecture yet.").format(
                name=repr(name)
            ),
            hint=translate("Errors", "Supported: {names}.").format(names=", ".join(sorted(ARCHITECTURES))),
        )
    return found


@dataclass(frozen=True)
class Shape:
    """The sizes and settings of one model, from its GGUF metadata."""

    layers: int
    hidden: int
    ffn: int
    heads: int
    kv_heads: int
    head_dim: int
    rotary_dim: int
    vocab: int
    rms_epsilon: float
    rope_base: float
    rope_linear_factor: float  # positions are divided by this (rope scaling "linear")
    rope_yarn_factor: float  # rope scaling "yarn"'s factor (1: none), see rope_tables
    file_context: int
    context: int  # what Inkwell runs: the file's context, at most CONTEXT_CAP
    sliding_window: int  # 0: none
    local_rope_base: float | None  # the rope base of local layers; None: the global one
    attention_softcap: float  # 0: none
    final_softcap: float  # 0: none
    query_width: float  # q·k is scaled by 1/sqrt(this): head_dim, or hidden / heads
    rope_attn_factor: float  # cos and sin are scaled by this (LongRoPE's and YaRN's attention factor)
    original_context: int  # the context before long-context scaling (the file's, when unsaid)

    @property
    def q_size(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_size(self) -> int:
        return self.kv_heads * self.head_dim

    @property
    def attention_scale(self) -> float:
        return 1.0 / math.sqrt(self.query_width)


def shape_of(arch: Architecture, fields: Mapping[str, Any], vocab: int) -> Shape:
    """Read `arch`'s keys ({name}.block_count, ...) from the metadata `fields`."""
    prefix = arch.name

    def get(key: str, default: Any = None) -> Any:
        value = fields.get(f"{prefix}.{key}", default)
        if value is None:
            raise UserError(
                translate("Errors", "The GGUF file lacks the metadata {prefix}.{key}, which the model needs.").format(
                    prefix=prefix, key=key
                )
            )
        return value

    heads = _first(get("attention.head_count"))
    hidden = int(get("embedding_length"))
    head_dim = int(get("attention.key_length", hidden // max(heads, 1)))
    scaling = str(fields.get(f"{prefix}.rope.scaling.type", "none"))
    if scaling not in ("none", "linear", "yarn"):
        raise UserError(
            translate(
                "Errors", "This model's rope scaling ({scaling}) is not supported by Inkwell's GGUF import yet."
            ).format(scaling=scaling)
        )
    factor = float(fields.get(f"{prefix}.rope.scaling.factor", 1.0) or 1.0)
    file_context = int(fields.get(f"{prefix}.context_length", 4096))
    window, local_base = 0, None
    if arch.sliding_window_period:
        window = int(fields.get(f"{prefix}.attention.sliding_window", arch.default_sliding_window) or 0)
        local_base = fields.get(f"{prefix}.rope.freq_base_swa", arch.local_rope_base)

    def cap(key: str, applies: bool) -> float:
        return float(fields.get(f"{prefix}.{key}", 0.0) or 0.0) if applies else 0.0

    layers = int(get("block_count"))
    query_width = hidden / max(heads, 1) if layers in arch.width_scaled_query_layers else head_dim
    shape = Shape(
        layers=layers,
        hidden=hidden,
        ffn=_first(get("feed_forward_length")),
        heads=heads,
        kv_heads=_first(get("attention.head_count_kv", heads)),
        head_dim=head_dim,
        rotary_dim=int(get("rope.dimension_count", head_dim)),
        vocab=vocab,
        rms_epsilon=float(get("attention.layer_norm_rms_epsilon", 1e-6)),
        rope_base=float(get("rope.freq_base", 10_000.0)),
        rope_linear_factor=factor if scaling == "linear" else 1.0,
        rope_yarn_factor=factor if scaling == "yarn" else 1.0,
        file_context=file_context,
        context=min(file_context, CONTEXT_CAP),
        sliding_window=window,
        local_rope_base=None if local_base is None else float(local_base),
        attention_softcap=cap("attn_logit_softcapping", arch.attention_softcapping),
        final_softcap=cap("final_logit_softcapping", arch.final_softcapping),
        query_width=query_width,
        rope_attn_factor=float(fields.get(f"{prefix}.rope.scaling.attn_factor", 1.0) or 1.0),
        original_context=int(fields.get(f"{prefix}.rope.scaling.original_context_length", 0) or 0) or file_context,
    )
    if min(shape.layers, shape.hidden, shape.heads, shape.kv_heads, shape.head_dim, shape.vocab) <= 0:
        raise UserError(
            translate("Errors", "The GGUF file's metadata gives impossible sizes: {shape}.").format(shape=shape)
        )
    if shape.heads % shape.kv_heads or shape.rotary_dim > shape.head_dim or shape.rotary_dim % 2:
        raise UserError(
            translate("Errors", "The GGUF file's attention sizes do not fit together: {shape}.").format(shape=shape)
        )
    return shape


# YaRN's correction range, as llama.cpp sets it for these architectures (yarn_beta_fast and
# yarn_beta_slow): frequencies turning more than 32 times within the original context keep
# their angle, those turning less than once are interpolated, the ones between are blended.
YARN_BETA_FAST, YARN_BETA_SLOW = 32.0, 1.0


def rope_tables(
    s: Shape, base: float, factor: float, divisors: np.ndarray | None, yarn: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin [context, rotary_dim / 2] as llama.cpp rotates: positions divided by the
    linear factor, frequencies by the per-frequency divisors, both scaled by the attention
    factor; with `yarn` (the global layers' table), YaRN's blend of each frequency with its
    interpolation by the factor, and its magnitude correction 1 + 0.1 ln(factor) (ggml's
    rope_yarn, with llama.cpp's ext_factor 1 and attention factor for these architectures)."""
    inv = base ** (-np.arange(0, s.rotary_dim, 2, dtype=np.float64) / s.rotary_dim)
    if divisors is not None:
        inv = inv / divisors
    scale = s.rope_attn_factor
    if yarn and s.rope_yarn_factor != 1.0:
        yarn_factor = s.rope_yarn_factor

        def corrected(turns: float) -> float:
            return s.rotary_dim * math.log(s.original_context / (turns * 2 * math.pi)) / (2 * math.log(base))

        low = max(0.0, math.floor(corrected(YARN_BETA_FAST)))
        high = min(s.rotary_dim - 1.0, math.ceil(corrected(YARN_BETA_SLOW)))
        index = np.arange(s.rotary_dim // 2, dtype=np.float64)
        keep = 1 - np.clip((index - low) / max(0.001, high - low), 0, 1)  # 1: extrapolate, 0: interpolate
        inv = inv * (keep + (1 - keep) / yarn_factor)
        scale *= 1 + 0.1 * math.log(yarn_factor)
    angles = np.outer(np.arange(s.context, dtype=np.float64) / factor, inv)
    return (scale * np.cos(angles)).astype(np.float32), (scale * np.sin(angles)).astype(np.float32)


def is_local_layer(arch: Architecture, shape: Shape, layer: int) -> bool:
    period = arch.sliding_window_period
    return bool(period and shape.sliding_window and layer % period != period - 1)


def _first(value: Any) -> int:
    """A per-layer array (some files give one value a layer) or a plain number."""
    if isinstance(value, list | tuple):
        if len(set(value)) != 1:
            raise UserError(
                translate(
                    "Errors", "Models whose layers differ in size are not supported by Inkwell's GGUF import yet."
                )
            )
        value = value[0]
    return int(value)
