"""Tiny random GGUF files of each architecture, made the way llama.cpp's users make them.

A small Hugging Face model with random weights is saved with its tokenizer, converted by
the convert_hf_to_gguf.py of the llama-cpp-python sdist (unpacked by
`packaging/llama_cpp.py install`) to F32, then quantized by llama.cpp itself
(oracle.quantize). The dimensions are multiples of 256 so every K-quant applies to every
matrix (a row that is not falls back to another type), and the weights are drawn wide
enough that greedy choices are not near-ties.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRAINING_TEXT = [
    "The quick brown fox jumps over the lazy dog.",
    "Paris is the capital of France, and Berlin is the capital of Germany.",
    "Hello world! Café, naïve, 日本語, emoji 👋🙂 and more text for the tokenizer.",
    "Customer service replies should be friendly, clear and short.",
    "Writers continue, rewrite, shorten and summarise their drafts.",
    "A river runs through the old town, past the mill and under seven stone bridges.",
    "She counted 1, 2, 3, 42 and 1000 sheep before the clock struck midnight.",
    "def main(): return sum(x * x for x in range(10))  # code is text too",
    "Rain fell all night; by morning the garden smelled of wet earth and thyme.",
    "The committee will meet on Tuesday to review the budget and the new proposals.",
]
# Never seen by the tokenizers' training: what the faithfulness checks score.
HELD_OUT_TEXT = (
    "On a cold morning in early spring, the baker opened her shop before sunrise and set out "
    "fresh bread, while the first customers, still half asleep, talked about the weather, the "
    "price of flour and the long road north that would be repaired, they said, before summer. "
    "Her son, who was nine, carried trays of rolls to the window and counted the coins twice; "
    "at noon the street filled with students, a postman on a yellow bicycle and two dogs that "
    "waited, very politely, by the door for whatever fell from the counter."
)

COMMON: dict[str, Any] = {
    "hidden_size": 256,
    "intermediate_size": 512,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 64,
    "max_position_embeddings": 512,
    "rms_norm_eps": 1e-6,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 0,
    # About 1/sqrt(hidden): each matrix keeps the scale of what it reads, so llama.cpp's
    # rounding of activations does not snowball (wider layers turn the model chaotic).
    "initializer_range": 0.0625,
}


@dataclass(frozen=True)
class TinyArch:
    """One architecture as its tiny model is built: the transformers model type, the
    tokenizer kind its real models ship (SentencePiece or byte-level BPE), and what differs."""

    model_type: str
    tokenizer: str  # "spm" or "bpe"
    config: dict[str, Any] = field(default_factory=dict)
    # A BPE vocabulary's pre-tokenizer as llama.cpp names it. convert_hf_to_gguf.py knows
    # real tokenizers by a hash of their output; a tiny one is never in its table, and the
    # oracle feeds token ids, so only the name recorded in the file depends on this.
    pre_tokenizer: str = "gpt2"
    tokenizer_class: str = "LlamaTokenizer"
    norm_offset: float = 0.0  # 1.0 where an RMSNorm scales by (1 + weight)
    # What each attention and MLP block ends with, scaled by layer_gain: the layers' share of
    # the residual stream, so of the positions where they overturn the embedding's favourite.
    layer_outputs: tuple[str, ...] = ("o_proj.weight", "down_proj.weight")
    layer_gain: float = 0.5
    embedding_std: float = 0.25
    output_scale: float = 0.3  # the final norm's scale: the logits' temperature


# Gemma scales its input embeddings by sqrt(hidden) and normalizes each block's output.
GEMMA_SCALES: dict[str, Any] = {
    "layer_outputs": ("post_attention_layernorm.weight", "post_feedforward_layernorm.weight"),
    "layer_gain": 0.4,
    "embedding_std": 0.25 / 16,
    "output_scale": 4.8,
}
ARCHS: dict[str, TinyArch] = {
    # TinyLlama-style: SentencePiece, untied output.
    "llama": TinyArch("llama", "spm", {"tie_word_embeddings": False}),
    # SmolLM-style: a Llama with a byte-level BPE and tied embeddings.
    "smollm": TinyArch("llama", "bpe", {"tie_word_embeddings": True}, pre_tokenizer="smollm"),
    "mistral": TinyArch("mistral", "spm", {"tie_word_embeddings": False, "sliding_window": None}),
    # Biases on q, k and v.
    "qwen2": TinyArch("qwen2", "bpe", {"tie_word_embeddings": True, "use_sliding_window": False}, "qwen2"),
    # q/k norm. No biases, as in Qwen3's releases: transformers' attention_bias puts one on
    # o_proj too, which llama.cpp's qwen3 does not load (it refuses the file).
    "qwen3": TinyArch("qwen3", "bpe", {"tie_word_embeddings": True, "attention_bias": False}, "qwen2"),
    # Soft-capping of attention and logits, sliding window on alternate layers, (1 + w) norms,
    # embeddings scaled by sqrt(hidden). A window shorter than the held-out text, so it acts.
    "gemma2": TinyArch(
        "gemma2",
        "spm",
        {
            "query_pre_attn_scalar": 64,
            "sliding_window": 32,
            "attn_logit_softcapping": 50.0,
            "final_logit_softcapping": 30.0,
            "hidden_activation": "gelu_pytorch_tanh",
        },
        tokenizer_class="GemmaTokenizer",
        norm_offset=1.0,
        **GEMMA_SCALES,
    ),
    # q/k norm, local layers with their own rope base; sliding window as gemma2.
    "gemma3": TinyArch(
        "gemma3_text",
        "spm",
        {
            "query_pre_attn_scalar": 64,
            "sliding_window": 32,
            "rope_local_base_freq": 10000.0,
            "rope_theta": 1000000.0,
            "hidden_activation": "gelu_pytorch_tanh",
        },
        tokenizer_class="GemmaTokenizer",
        norm_offset=1.0,
        **GEMMA_SCALES,
    ),
    # Fused qkv and gate/up. The converter writes as many kv heads as heads, so no GQA.
    "phi3": TinyArch(
        "phi3",
        "spm",
        {
            "num_key_value_heads": 4,
            "tie_word_embeddings": False,
            "sliding_window": None,
            "original_max_position_embeddings": 512,
        },
    ),
}


def train_spm(folder: Path) -> int:
    """A byte-fallback BPE SentencePiece model, as Llama, Mistral, Gemma and Phi-3 ship."""
    import io

    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TRAINING_TEXT * 4),
        model_writer=model,
        model_type="bpe",
        vocab_size=400,
        hard_vocab_limit=False,
        byte_fallback=True,
        character_coverage=1.0,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        minloglevel=2,
    )
    (folder / "tokenizer.model").write_bytes(model.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    return int(processor.vocab_size())


def train_bpe(folder: Path) -> int:
    """A byte-level BPE tokenizer.json, as SmolLM and Qwen ship."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(TRAINING_TEXT * 4, trainer)
    tokenizer.save(str(folder / "tokenizer.json"))
    return int(tokenizer.get_vocab_size())


def build_hf_model(arch: str, folder: Path) -> Path:
    """Save the tiny random model of `arch` with its tokenizer in `folder`."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    spec = ARCHS[arch]
    folder.mkdir(parents=True, exist_ok=True)
    vocab_size = train_spm(folder) if spec.tokenizer == "spm" else train_bpe(folder)
    tokenizer_class = spec.tokenizer_class if spec.tokenizer == "spm" else "PreTrainedTokenizerFast"
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": tokenizer_class,
                "bos_token": "<s>",
                "eos_token": "</s>",
                "unk_token": "<unk>",
                "add_bos_token": True,
                "model_max_length": COMMON["max_position_embeddings"],
            }
        )
    )
    config = AutoConfig.for_model(spec.model_type, vocab_size=vocab_size, **{**COMMON, **spec.config})
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plant_peaked_logits(model, arch)
    model.save_pretrained(folder, safe_serialization=True)
    return folder


def plant_peaked_logits(model: Any, arch: str) -> None:
    """Give the random model a clear favourite at most positions.

    A model with Gaussian logits has near-ties everywhere: llama.cpp rounds activations to
    8 bits for its quantized matmuls, and an exact fp32 computation of the same GGUF then
    disagrees on 3-8% of the argmaxes. Here the residual stream carries the current token's
    embedding and the output rows are those embeddings (permuted where the output is its
    own matrix, so a route that reads the wrong one fails), so one logit stands out; the
    layers add enough to overturn it at some positions, and they set the perplexity."""
    import torch

    spec = ARCHS[arch]
    embed = model.get_input_embeddings().weight
    with torch.no_grad():
        embed.normal_(0.0, spec.embedding_std)
        output = model.get_output_embeddings().weight
        if output.data_ptr() != embed.data_ptr():
            output.copy_(embed[torch.randperm(embed.shape[0])])
        for name, parameter in model.named_parameters():
            # Random biases and norm weights too, so a route that drops one is caught.
            # (Added to the initial ones, or zeros where the norm is 1 + w as in Gemma.)
            if name.endswith(".bias") or name.endswith("norm.weight"):
                parameter.add_(torch.randn_like(parameter) * 0.1)
            if name.endswith(spec.layer_outputs):
                # Where the output is a norm with (1 + w), scale the (1 + w).
                offset = spec.norm_offset if name.endswith("norm.weight") else 0.0
                parameter.copy_((parameter + offset) * spec.layer_gain - offset)
        # The final norm sets the logits' temperature, hence the perplexity.
        final = model.model.norm.weight
        final.copy_((final + spec.norm_offset) * spec.output_scale - spec.norm_offset)


def llama_cpp_sources() -> Path:
    """convert_hf_to_gguf.py and its packages, as `packaging/llama_cpp.py install` unpacked them."""
    return Path(sys.prefix) / "share" / "llama-cpp-python"


# Run in a child process: the converter puts the sdist's own gguf-py first on sys.path.
CONVERT = """
import runpy, sys
sources, pre_tokenizer = sys.argv[1], sys.argv[2]
sys.path[:0] = [sources, sources + "/gguf-py"]
import conversion.base
conversion.base.TextModel.get_vocab_base_pre = lambda self, tokenizer: pre_tokenizer
sys.argv = [sources + "/convert_hf_to_gguf.py", *sys.argv[3:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def convert_to_gguf(arch: str, hf_folder: Path, out: Path, outtype: str = "f32") -> Path:
    sources = llama_cpp_sources()
    env = dict(os.environ, NO_LOCAL_GGUF="1")  # the wrapper has already put gguf-py first
    done = subprocess.run(
        [sys.executable, "-c", CONVERT, str(sources), ARCHS[arch].pre_tokenizer,
         str(hf_folder), "--outfile", str(out), "--outtype", outtype],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"convert_hf_to_gguf.py failed for {arch}:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
    return out


def build_f32_gguf(arch: str, folder: Path) -> Path:
    """The HF model of `arch` in folder/hf and its F32 GGUF at folder/<arch>-F32.gguf."""
    target = folder / f"{arch}-F32.gguf"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        hf = build_hf_model(arch, Path(scratch) / "hf")
        convert_to_gguf(arch, hf, Path(scratch) / target.name)
        shutil.rmtree(folder / "hf", ignore_errors=True)
        hf.rename(folder / "hf")
        (Path(scratch) / target.name).rename(target)  # last: its presence says all is there
    return target


class TinyGGUFs:
    """`tiny_gguf(arch, qtype) -> Path`: the tiny model of `arch` (see ARCHS) quantized to
    `qtype` (see oracle.QTYPES: a bare type is a pure file, a recipe like Q4_K_M a mix).

    Files live in `root`, a folder keyed by everything that makes them (the versions of
    llama.cpp, transformers, torch and gguf, and this module's and oracle.py's source), so
    a cache kept between sessions is never stale. `hf_folder(arch)` is the source model."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def hf_folder(self, arch: str) -> Path:
        build_f32_gguf(arch, self.root / arch)
        return self.root / arch / "hf"

    def __call__(self, arch: str, qtype: str) -> Path:
        from tests.models.oracle import quantize

        if arch not in ARCHS:
            raise ValueError(f"no tiny model of {arch!r}; there are: {', '.join(ARCHS)}")
        f32 = build_f32_gguf(arch, self.root / arch)
        if qtype == "F32":
            return f32
        target = self.root / arch / f"{arch}-{qtype}.gguf"
        if not target.exists():
            quantize(f32, target, qtype)
        return target


def cache_key() -> str:
    import hashlib
    from importlib import metadata

    parts = [metadata.version(name) for name in ("llama_cpp_python", "transformers", "torch", "gguf")]
    here = Path(__file__).parent
    parts += [(here / name).read_text(encoding="utf-8") for name in ("tiny_gguf.py", "oracle.py")]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def cached_root(cache_dir: Path) -> Path:
    """This key's folder under `cache_dir`; folders of other keys are removed."""
    key = cache_key()
    if cache_dir.exists():
        for old in cache_dir.iterdir():
            if old.name != key:
                shutil.rmtree(old, ignore_errors=True)
    (cache_dir / key).mkdir(parents=True, exist_ok=True)
    return cache_dir / key
