"""A Hugging Face model folder read as the GGUF route reads a file: metadata, names and rows.

A folder of config.json and *.safetensors (one file, or shards named by
model.safetensors.index.json) is mapped, never loaded, and shown to the one graph builder
(gguf_graph.py) and weight writer (gguf_weights.py) as a GGUF file would be, in the
names, layout and metadata keys that llama.cpp's converter (convert_hf_to_gguf.py) gives
the same model:
- tensors renamed (model.layers.3.self_attn.q_proj.weight -> blk.3.attn_q.weight);
- where the architecture's rope turns adjacent pairs (llama, mistral), q and k rows
  permuted as the converter permutes them, a chunk at a time;
- where an RMSNorm scales by (1 + w) (Gemma), the 1 added to its weight;
- config.json's sizes and rope scaling as the converter's metadata keys, and the tensors
  it makes from them (Llama 3's rope_freqs; Phi-3's LongRoPE factors).
With `rounding` ("q4" or "q8", see ROUNDING) the float matrices are rounded to Q4_0/Q8_0
blocks as they are read (ggml_quantize.py), so they take the blocks' home; without, they
are shown as stored (F32, F16 or BF16), for the float variants.

Safetensors layout: an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte span, then the data (github.com/huggingface/safetensors).
"""

from __future__ import annotations

import contextlib
import json
import math
import mmap
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.models import ggml_quantize
from desktop_app.models.architectures import ARCHITECTURES, Architecture
from desktop_app.models.ggml_types import GGMLQuantizationType as Q
from desktop_app.models.gguf_blocks import floats_of
from desktop_app.models.gguf_file import CHUNK_BYTES, TensorInfo

STORED_TYPES = {"F32": Q.F32, "F16": Q.F16, "BF16": Q.BF16}
ITEM_BYTES = {"F32": 4, "F16": 2, "BF16": 2}
# What a rounding gives (matrices, the token embedding and output projection): llama.cpp's
# own Q4_0 recipe keeps the output in a finer type, and a table read once a token costs
# little at 8 bits.
ROUNDING = {"q4": ("Q4_0", "Q8_0"), "q8": ("Q8_0", "Q8_0")}
TABLES = ("token_embd.weight", "output.weight")
TOP_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.qkv_proj.weight": "attn_qkv.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "mlp.gate_up_proj.weight": "ffn_up.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
}
IGNORED = re.compile(r".*rotary_emb\.inv_freq$")  # a cached table some old checkpoints carry
_LAYER = re.compile(r"model\.layers\.(\d+)\.(.+)")


def hf_architecture(model_type: object) -> Architecture | None:
    return next((a for a in ARCHITECTURES.values() if model_type in a.hf_model_types), None)


def read_config(folder: Path) -> dict[str, Any]:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def safetensors_files(folder: Path) -> list[Path]:
    """The folder's weight files: those its index names, else every *.safetensors."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map", {})
        except (OSError, ValueError, AttributeError):
            raise UserError(
                translate("Errors", "{file} is not a readable safetensors index.").format(file=index.name)
            ) from None
        return [folder / name for name in sorted(set(weight_map.values()))]
    return sorted(folder.glob("*.safetensors"))


def streams(folder: Path) -> bool:
    """Whether this folder takes the streaming route: a decoder the table knows, in safetensors."""
    return hf_architecture(read_config(folder).get("model_type")) is not None and bool(safetensors_files(folder))


@dataclass(frozen=True)
class _Stored:
    raw: np.ndarray  # uint8 [rows, bytes a row], a view of the mapped file (or of `memory`)
    qtype: Q  # as stored
    perm: np.ndarray | None  # rows in this order (llama's q/k permutation)
    span: tuple[mmap.mmap, int, int] | None  # the mapping, offset and length, to let go of


class HFFolder:
    """`.fields`, `.tensors`, `.chunks(tensor)` and `.release(tensor)` as GGUFFile has them."""

    def __init__(self, folder: Path, rounding: str | None = None) -> None:
        self.path = folder
        self.config = read_config(folder)
        arch = hf_architecture(self.config.get("model_type"))
        if arch is None:
            raise UserError(
                translate("Errors", "Inkwell cannot read {model_type} models from Hugging Face folders yet.").format(
                    model_type=repr(self.config.get("model_type"))
                )
            )
        self.arch, self.rounding = arch, rounding
        self._maps: list[mmap.mmap] = []
        self._stored: dict[str, _Stored] = {}
        self.tensors: dict[str, TensorInfo] = {}
        self.fields = config_fields(arch, self.config)
        self.stored_types: dict[str, int] = {}
        for path in safetensors_files(folder):
            for name, (dtype, dims, raw, span) in self._read(path).items():
                self._add(name, dtype, dims, raw, span)
        for name, values in extra_tensors(arch, self.config).items():
            self._memory(name, values)
        if "token_embd.weight" not in self.tensors:
            raise UserError(
                translate("Errors", "{folder} has no token embedding (model.embed_tokens.weight).").format(
                    folder=folder.name
                )
            )

    # -- reading ---------------------------------------------------------------------------

    def _read(self, path: Path) -> dict[str, tuple[str, tuple[int, ...], np.ndarray, tuple[mmap.mmap, int, int]]]:
        damaged = translate("Errors", "The file may be incomplete (download it again) or damaged.")
        try:
            with path.open("rb") as handle:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            raise UserError(
                translate("Errors", "{file} cannot be read.").format(file=path.name), hint=damaged
            ) from None
        self._maps.append(mapped)
        try:
            (length,) = struct.unpack_from("<Q", mapped, 0)
            header = json.loads(bytes(mapped[8 : 8 + length]).decode("utf-8"))
            if not isinstance(header, dict) or 8 + length > len(mapped):
                raise ValueError
        except (struct.error, ValueError):
            raise UserError(
                translate("Errors", "{file} is not a safetensors file, or is truncated.").format(file=path.name),
                hint=damaged,
            ) from None
        data = np.frombuffer(mapped, np.uint8)
        found = {}
        for name, entry in header.items():
            if name == "__metadata__" or IGNORED.match(name):
                continue
            dtype, dims = entry.get("dtype"), tuple(int(d) for d in entry.get("shape", ()))
            if dtype not in STORED_TYPES:
                raise UserError(
                    translate(
                        "Errors", "{file} holds {name} as {dtype}; Inkwell reads float32, float16 and bfloat16 weights."
                    ).format(file=path.name, name=name, dtype=dtype),
                    hint=translate("Errors", "Choose the model's unquantized release, or a GGUF file of it."),
                )
            begin, end = (8 + length + int(at) for at in entry.get("data_offsets", (0, -1)))
            count = int(np.prod(dims, dtype=np.int64)) if dims else 1
            if end - begin != count * ITEM_BYTES[dtype] or end > len(mapped) or not dims or min(dims) <= 0:
                raise UserError(
                    translate(
                        "Errors", "{file} is inconsistent: tensor {name}'s size disagrees with its shape."
                    ).format(file=path.name, name=name),
                    hint=damaged,
                )
            raw = data[begin:end].reshape(max(1, count // dims[-1]), -1)
            found[name] = (dtype, dims, raw, (mapped, begin, end - begin))
        return found

    def gguf_name(self, name: str) -> str | None:
        """The GGUF name of a Hugging Face tensor (None: one the converter drops)."""
        if name == "lm_head.weight" and self.config.get("tie_word_embeddings") is True:
            return None  # tied: the output is the embedding, as transformers runs it
        if name in TOP_NAMES:
            return TOP_NAMES[name]
        layer = _LAYER.fullmatch(name)
        if layer is not None:
            rest = layer.group(2)
            if rest == "post_attention_layernorm.weight":  # after attention in Gemma, before the MLP elsewhere
                return f"blk.{layer.group(1)}." + (
                    "post_attention_norm.weight" if self.arch.post_norms else "ffn_norm.weight"
                )
            if rest in LAYER_NAMES:
                return f"blk.{layer.group(1)}.{LAYER_NAMES[rest]}"
        raise UserError(
            translate("Errors", "{folder} has a tensor Inkwell does not know for a {model_type} model: {name}.").format(
                folder=self.path.name, model_type=self.config.get("model_type"), name=name
            )
        )

    def _add(
        self, hf_name: str, dtype: str, dims: tuple[int, ...], raw: np.ndarray, span: tuple[mmap.mmap, int, int]
    ) -> None:
        name = self.gguf_name(hf_name)
        if name is None:
            return
        qtype = STORED_TYPES[dtype]
        self.stored_types[dtype] = self.stored_types.get(dtype, 0) + 1
        perm = self._permutation(name, dims[0])
        if len(dims) == 1:  # norms and biases: small, read now (and changed where they must be)
            values = floats_of(qtype, raw.reshape(1, -1), dims[0]).reshape(-1)
            if name.endswith("norm.weight"):
                values = values + np.float32(self.arch.hf_norm_offset)
            self._memory(name, values if perm is None else values[perm])
            return
        if len(dims) != 2:
            raise UserError(
                translate("Errors", "Tensor {name} of {folder} has an impossible shape {shape}.").format(
                    name=hf_name, folder=self.path.name, shape=list(dims)
                )
            )
        self._stored[name] = _Stored(raw, qtype, perm, span)
        target = self._rounded_type(name, dims[1])
        if target is None:
            self.tensors[name] = TensorInfo(name, qtype, dims, raw.nbytes, span[1], raw)
        else:
            n_bytes = dims[0] * ggml_quantize.row_bytes(target, dims[1])
            self.tensors[name] = TensorInfo(name, Q[target], dims, n_bytes, span[1], raw)

    def _memory(self, name: str, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=np.float32)
        raw = values.view(np.uint8).reshape(1, -1)
        self._stored[name] = _Stored(raw, Q.F32, None, None)
        self.tensors[name] = TensorInfo(name, Q.F32, values.shape, values.nbytes, 0, raw)

    def _permutation(self, name: str, rows: int) -> np.ndarray | None:
        """llama's converter reorders each head's q and k rows so rotary pairs are adjacent."""
        if (
            not self.arch.rope_interleaved
            or not name.startswith("blk.")
            or not name.endswith(("attn_q.weight", "attn_q.bias", "attn_k.weight", "attn_k.bias"))
        ):
            return None
        key = "attention.head_count" if ".attn_q." in name else "attention.head_count_kv"
        heads = int(self.fields[f"{self.arch.name}.{key}"])
        return np.arange(rows).reshape(heads, 2, rows // heads // 2).swapaxes(1, 2).reshape(-1)

    def _rounded_type(self, name: str, columns: int) -> str | None:
        if self.rounding is None or columns % ggml_quantize.BLOCK:
            return None
        matrices, tables = ROUNDING[self.rounding]
        return tables if name in TABLES else matrices

    # -- as GGUFFile -----------------------------------------------------------------------

    def field(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    def scalar_fields(self) -> dict[str, Any]:
        return dict(self.fields)

    @property
    def total_tensor_bytes(self) -> int:
        return sum(t.n_bytes for t in self.tensors.values())

    def chunks(self, tensor: TensorInfo):  # type: ignore[no-untyped-def]
        """(first row, the rows as `tensor.qtype` holds them, uint8 [rows, bytes a row])."""
        stored = self._stored[tensor.name]
        step = max(1, CHUNK_BYTES // max(1, stored.raw.shape[1]))
        for start in range(0, tensor.rows, step):
            part = (
                stored.raw[start : start + step]
                if stored.perm is None
                else stored.raw[stored.perm[start : start + step]]
            )
            if tensor.qtype != stored.qtype:
                part = ggml_quantize.quantize(tensor.type_name, floats_of(stored.qtype, part, tensor.columns))
            yield start, part
        self.release(tensor)

    def release(self, tensor: TensorInfo) -> None:
        span = self._stored[tensor.name].span
        if span is None:
            return
        mapped, offset, length = span
        start = offset - offset % mmap.PAGESIZE
        with contextlib.suppress(OSError, ValueError, AttributeError):
            mapped.madvise(mmap.MADV_DONTNEED, start, offset + length - start)


def config_fields(arch: Architecture, config: dict[str, Any]) -> dict[str, Any]:
    """config.json as the GGUF metadata keys llama.cpp's converter writes for it."""
    p = arch.name

    def need(key: str) -> Any:
        value = config.get(key)
        if value is None:
            raise UserError(
                translate("Errors", "The model's config.json lacks {key}, which the model needs.").format(key=key)
            )
        return value

    heads, hidden = int(need("num_attention_heads")), int(need("hidden_size"))
    head_dim = int(config.get("head_dim") or hidden // heads)
    fields: dict[str, Any] = {
        "general.architecture": p,
        f"{p}.block_count": int(need("num_hidden_layers")),
        f"{p}.embedding_length": hidden,
        f"{p}.feed_forward_length": int(need("intermediate_size")),
        f"{p}.attention.head_count": heads,
        f"{p}.attention.head_count_kv": int(config.get("num_key_value_heads") or heads),
        f"{p}.attention.key_length": head_dim,
        f"{p}.rope.dimension_count": int(head_dim * float(config.get("partial_rotary_factor") or 1.0)),
        f"{p}.attention.layer_norm_rms_epsilon": float(config.get("rms_norm_eps") or 1e-6),
        f"{p}.rope.freq_base": float(config.get("rope_theta") or 10_000.0),
        f"{p}.context_length": int(config.get("max_position_embeddings") or 4096),
    }
    optional = {
        "sliding_window": "attention.sliding_window",
        "attn_logit_softcapping": "attn_logit_softcapping",
        "final_logit_softcapping": "final_logit_softcapping",
        "rope_local_base_freq": "rope.freq_base_swa",
    }
    for key, gguf_key in optional.items():
        if config.get(key) is not None:
            fields[f"{p}.{gguf_key}"] = config[key]
    scaling = config.get("rope_scaling") or {}
    kind = str(scaling.get("rope_type") or scaling.get("type") or "default")
    if kind in ("linear", "yarn"):
        fields[f"{p}.rope.scaling.type"] = kind
        fields[f"{p}.rope.scaling.factor"] = float(scaling.get("factor") or 1.0)
        if kind == "yarn" and scaling.get("original_max_position_embeddings"):
            fields[f"{p}.rope.scaling.original_context_length"] = int(scaling["original_max_position_embeddings"])
    elif kind in ("longrope", "su"):
        original = int(config.get("original_max_position_embeddings") or fields[f"{p}.context_length"])
        scale = fields[f"{p}.context_length"] / original
        fields[f"{p}.rope.scaling.original_context_length"] = original
        fields[f"{p}.rope.scaling.attn_factor"] = (
            math.sqrt(1 + math.log(scale) / math.log(original)) if scale > 1 else 1.0
        )
    elif kind not in ("default", "llama3"):
        raise UserError(
            translate(
                "Errors", "This model's rope scaling ({scaling}) is not supported by Inkwell's import yet."
            ).format(scaling=kind)
        )
    return fields


def extra_tensors(arch: Architecture, config: dict[str, Any]) -> dict[str, np.ndarray]:
    """The tensors the converter makes from config.json: Llama 3's per-frequency divisors
    (rope_freqs), Phi-3's LongRoPE factors (rope_factors_short/long)."""
    scaling = config.get("rope_scaling") or {}
    kind = str(scaling.get("rope_type") or scaling.get("type") or "default")
    if kind in ("longrope", "su"):
        return {
            "rope_factors_short.weight": np.asarray(scaling["short_factor"], np.float32),
            "rope_factors_long.weight": np.asarray(scaling["long_factor"], np.float32),
        }
    if kind != "llama3":
        return {}
    fields = config_fields(arch, config)
    dims = int(fields[f"{arch.name}.rope.dimension_count"])
    base = float(fields[f"{arch.name}.rope.freq_base"])
    factor = float(scaling.get("factor") or 8.0)
    low, high = float(scaling.get("low_freq_factor") or 1.0), float(scaling.get("high_freq_factor") or 4.0)
    original = float(scaling.get("original_max_position_embeddings") or 8192)
    divisors = []
    for frequency in base ** (-np.arange(0, dims, 2, dtype=np.float64) / dims):
        wavelength = 2 * math.pi / frequency
        if wavelength < original / high:  # fast turns keep their frequency
            divisors.append(1.0)
        elif wavelength > original / low:  # slow ones are slowed by the whole factor
            divisors.append(factor)
        else:  # between, a blend
            smooth = (original / wavelength - low) / (high - low)
            divisors.append(1 / ((1 - smooth) / factor + smooth))
    return {"rope_freqs.weight": np.asarray(divisors, np.float32)}
