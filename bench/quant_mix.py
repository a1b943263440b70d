"""Experiment: which weights of the q4 variant to keep at 8 bits (issue 7's quality target).

Builds mixed-precision variants from the bench model's fp32 graph (the GGUF dequantized),
then measures each like bench_quality.py (greedy agreement with fp32 on its prompts,
perplexity on its held-out text) plus a quick decode speed (128 tokens, 2 threads).

    python bench/quant_mix.py            (results are copied into bench/RESULTS.md by hand)
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import bench_models_dir  # noqa: E402
from bench_quality import PROMPTS, greedy_tokens, perplexity  # noqa: E402

from desktop_app.core.manifest import ModelManifest, ModelVariant  # noqa: E402
from desktop_app.engine import load_engine  # noqa: E402
from desktop_app.models.onnx_tools import ACCURACY_LEVEL, BLOCK_SIZE, remove_unused  # noqa: E402

VARIANTS = {  # name: (MatMuls kept at 8 bits, embedding quantized to 4 bits)
    "all 4-bit (the shipped q4)": ((), True),
    "embedding left fp32": ((), False),
    "output 8-bit": (("lm_head",), True),
    "down_proj 8-bit": (("down_proj",), True),
    "attention q/k/v/o 8-bit": (("self_attn",), True),
    "output + down_proj 8-bit, embedding fp32": (("lm_head", "down_proj"), False),
}


def mixed_quantize(model: Any, eight_bit: tuple[str, ...], quantize_embedding: bool = True) -> Any:
    """4-bit weights, except the MatMul nodes whose names contain one of `eight_bit`, which
    get 8 bits (both symmetric, block 32); the embedding table (Gather) 4-bit, or left as it
    is. The input is not modified."""
    import copy

    from onnxruntime.quantization import matmul_nbits_quantizer as nbits

    model = copy.deepcopy(model)
    kinds = ("MatMul", "Gather") if quantize_embedding else ("MatMul",)
    weights = [n.name for n in model.graph.node if n.op_type in kinds]
    others = [name for name in weights if not any(k in name for k in eight_bit)]
    # The quantizer takes every node of the listed types unless excluded (nodes_to_include
    # only adds to them), so the 8-bit pass excludes the rest; the 4-bit pass then finds
    # only what is left unquantized.
    for bits, exclude in ((8, others), (4, [])):
        if bits == 8 and len(others) == len(weights):
            continue
        quantizer = nbits.MatMulNBitsQuantizer(
            model,
            bits=bits,
            block_size=BLOCK_SIZE,
            is_symmetric=True,
            accuracy_level=ACCURACY_LEVEL,
            nodes_to_exclude=exclude,
            op_types_to_quantize=kinds,
            quant_axes=(("MatMul", 0), ("Gather", 1)),
        )
        quantizer.process()
        model = quantizer.model.model
    remove_unused(model)
    return model


def decode_speed(engine) -> float:  # type: ignore[no-untyped-def]
    cache = engine.model.empty_cache()
    logits, cache = engine.model.forward(engine.tokenizer.encode("Once upon a time"), cache)
    token = int(np.argmax(logits))
    for _ in range(8):
        logits, cache = engine.model.forward([token], cache)
    started = time.perf_counter()
    for _ in range(128):
        logits, cache = engine.model.forward([int(np.argmax(logits))], cache)
    return 128 / (time.perf_counter() - started)


@dataclasses.dataclass
class Reference:
    """The fp32 graph's greedy tokens and perplexity, which every variant is measured against."""

    source: Path
    tokens: dict[str, list[int]]
    perplexity: float

    @classmethod
    def measure(cls, source: Path) -> Reference:
        engine = load_engine(source, provider="cpu", quantization="fp32", threads=2)
        return cls(source, {p: greedy_tokens(engine, p) for p in PROMPTS}, perplexity(engine))


def one_variant_engine(model: Any, source: Path, target: Path):  # type: ignore[no-untyped-def]
    """Save `model` in `target` as the only (q4) variant of the model in `source`; load it."""
    import onnx

    for extra in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        shutil.copy2(source / extra, target / extra)
    onnx.save(model, str(target / "model.q4.onnx"))
    size = (target / "model.q4.onnx").stat().st_size
    variant = ModelVariant("model.q4.onnx", "q4", ("cpu",), size, "")
    dataclasses.replace(ModelManifest.read(source), variants=(variant,)).write(target)
    return load_engine(target, provider="cpu", quantization="q4", threads=2)


def measure_variant(name: str, model: Any, reference: Reference) -> str:
    """Save `model` as a one-variant copy of the reference model; its results table row."""
    with tempfile.TemporaryDirectory() as folder:
        engine = one_variant_engine(model, reference.source, Path(folder))
        size = (Path(folder) / "model.q4.onnx").stat().st_size
        agreement = float(
            np.mean([np.mean(np.array(greedy_tokens(engine, p)) == np.array(reference.tokens[p])) for p in PROMPTS])
        )
        change = perplexity(engine) / reference.perplexity - 1
        speed = max(decode_speed(engine) for _ in range(3))
    return f"| {name} | {agreement:.1%} | {change:+.1%} | {speed:.0f} | {size / 1e6:.0f} MB |"


def main() -> int:
    import onnx

    source = bench_models_dir()
    fp32 = onnx.load(str(source / "model.fp32.onnx"))
    reference = Reference.measure(source)
    print(f"fp32 perplexity {reference.perplexity:.3f}")
    for name, (eight_bit, quantize_embedding) in VARIANTS.items():
        print(measure_variant(name, mixed_quantize(fp32, eight_bit, quantize_embedding), reference), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
