"""Benchmark: importing GGUF files people have, and running them, against llama.cpp.

For each file: the import's peak memory and time (against copying the file and writing the
output once: the issue's bound is the GGUF's size + 1 GB, and 3x that copy), then decode
tokens/s and the first token of a 1,000-token prompt, ours and llama.cpp's on the same file,
2 threads each, each in a process of its own.

The files:
- SmolLM2-135M-Instruct re-quantized to Q4_K_M by llama.cpp (llama_model_quantize);
- synthetic Llama-shaped Q4_K_M files of about 1.5B and 3B parameters: random but valid
  blocks (small finite scales) in llama.cpp's Q4_K_M mix (Q6_K for the output and half of
  attn_v and ffn_down, Q4_K elsewhere), with SmolLM2's tokenizer. Their text is noise; their
  speed and memory are those of a real model of that shape;
- the 1.5B-shaped file re-quantized by llama.cpp to Q5_K_M, Q6_K and Q8_0 (the other types
  people download most);
- a Hugging Face folder of the 1.5B shape in bfloat16 (random weights, one safetensors
  file), imported by the streaming route as q4 (Q4_0 matrices, Q8_0 embedding and output);
  llama.cpp runs the 1.5B-shaped file re-quantized to that same mix of types.

    python bench/bench_import.py --write bench/RESULTS.md [--only smollm2,smollm2-f16,1.5b,3b,1.5b-q8_0,1.5b-hf,...]   (make bench)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_engine import machine, peak_rss_mb, prompt_ids, publish, timed_stream  # noqa: E402

OUT = ROOT / "bench" / "out" / "import"
THREADS = 2
NEW_TOKENS = 64


@dataclass(frozen=True)
class Shape:
    name: str
    hidden: int
    layers: int
    intermediate: int
    heads: int
    kv_heads: int


SHAPES = {
    # Qwen2.5-1.5B's and Llama-3.2-3B's sizes, on a Llama graph with SmolLM2's 49,152-token vocabulary
    "1.5b": Shape("synthetic Llama 1.5B-shaped", 1536, 28, 8960, 12, 2),
    "3b": Shape("synthetic Llama 3B-shaped", 3072, 28, 8192, 24, 8),
}


def random_blocks(qtype, rows: int, k: int, rng: np.random.Generator, step: float = 2e-3) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Valid random Q4_K or Q6_K rows: random quants and scales, small finite fp16 d/dmin (`step`)."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    block, size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, (rows, k // block, size), dtype=np.uint8)
    d = np.full((rows, k // block), step, np.float16).view(np.uint8).reshape(rows, k // block, 2)
    if qtype == GGMLQuantizationType.Q4_K:
        raw[..., 0:2] = d  # d
        raw[..., 2:4] = d  # dmin
    elif qtype == GGMLQuantizationType.Q6_K:
        raw[..., -2:] = d
    else:
        raise ValueError(qtype)
    return raw.reshape(rows, -1)


def synthetic_gguf(shape: Shape, target: Path, tokenizer_from: Path | None = None, step: float = 2e-3) -> Path:
    """A Q4_K_M-mixed Llama GGUF of `shape` with the tokenizer of `tokenizer_from` (a GGUF;
    SmolLM2's by default), written once. `step` scales the blocks: the default's weights are
    far larger than a trained model's (float32 holds their activations, float16 does not)."""
    if target.is_file():
        return target
    import gguf
    from gguf import GGMLQuantizationType as Q

    from desktop_app.models.workspace import locate_default_gguf

    source = gguf.GGUFReader(tokenizer_from or locate_default_gguf())
    vocab = len(source.fields["tokenizer.ggml.tokens"].data)
    writer = gguf.GGUFWriter(str(target) + ".partial", "llama")
    writer.add_name(shape.name)
    writer.add_context_length(4096)
    writer.add_embedding_length(shape.hidden)
    writer.add_block_count(shape.layers)
    writer.add_feed_forward_length(shape.intermediate)
    writer.add_head_count(shape.heads)
    writer.add_head_count_kv(shape.kv_heads)
    writer.add_rope_freq_base(500000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(vocab)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    for key, field in source.fields.items():
        if key.startswith("tokenizer."):
            value = field.contents()
            kind = field.types[0]
            sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
            writer.add_key_value(key, value, kind, sub_type=sub)
    rng = np.random.default_rng(0)
    h, f = shape.hidden, shape.intermediate
    kv = shape.kv_heads * (h // shape.heads)

    def quant(name: str, rows: int, k: int, qtype: Q) -> None:
        raw = random_blocks(qtype, rows, k, rng, step)
        writer.add_tensor(name, raw, raw_dtype=qtype)

    def norm(name: str, n: int) -> None:
        writer.add_tensor(name, np.ones(n, np.float32))

    quant("token_embd.weight", vocab, h, Q.Q4_K)
    for i in range(shape.layers):
        more = i < shape.layers // 8 or i >= 7 * shape.layers // 8 or (i - shape.layers // 8) % 3 == 2
        norm(f"blk.{i}.attn_norm.weight", h)
        quant(f"blk.{i}.attn_q.weight", h, h, Q.Q4_K)
        quant(f"blk.{i}.attn_k.weight", kv, h, Q.Q4_K)
        quant(f"blk.{i}.attn_v.weight", kv, h, Q.Q6_K if more else Q.Q4_K)
        quant(f"blk.{i}.attn_output.weight", h, h, Q.Q4_K)
        norm(f"blk.{i}.ffn_norm.weight", h)
        quant(f"blk.{i}.ffn_gate.weight", f, h, Q.Q4_K)
        quant(f"blk.{i}.ffn_up.weight", f, h, Q.Q4_K)
        quant(f"blk.{i}.ffn_down.weight", h, f, Q.Q6_K if more else Q.Q4_K)
    norm("output_norm.weight", h)
    quant("output.weight", vocab, h, Q.Q6_K)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(str(target) + ".partial", target)
    return target


def synthetic_folder(shape: Shape, target: Path) -> Path:
    """A Hugging Face Llama folder of `shape` in bfloat16 (normal weights, std 0.02; norms 1),
    with the default model's tokenizer.json, written once, a chunk of rows at a time."""
    weights = target / "model.safetensors"
    if weights.is_file():
        return target
    from desktop_app.core.paths import bundled_models_dir

    target.mkdir(parents=True, exist_ok=True)
    tokenizer = next(bundled_models_dir().glob("*/tokenizer.json"))
    vocab = len(json.loads(tokenizer.read_text(encoding="utf-8"))["model"]["vocab"])
    h, f = shape.hidden, shape.intermediate
    kv = shape.kv_heads * (h // shape.heads)
    config = {"model_type": "llama", "hidden_size": h, "intermediate_size": f, "num_hidden_layers": shape.layers,
              "num_attention_heads": shape.heads, "num_key_value_heads": shape.kv_heads, "vocab_size": vocab,
              "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
              "tie_word_embeddings": False}  # fmt: skip
    (target / "config.json").write_text(json.dumps(config))
    shutil.copyfile(tokenizer, target / "tokenizer.json")
    layer = {"input_layernorm.weight": (h,), "self_attn.q_proj.weight": (h, h), "self_attn.k_proj.weight": (kv, h),
             "self_attn.v_proj.weight": (kv, h), "self_attn.o_proj.weight": (h, h),
             "post_attention_layernorm.weight": (h,), "mlp.gate_proj.weight": (f, h), "mlp.up_proj.weight": (f, h),
             "mlp.down_proj.weight": (h, f)}  # fmt: skip
    tensors = {"model.embed_tokens.weight": (vocab, h)}
    tensors |= {f"model.layers.{i}.{name}": dims for i in range(shape.layers) for name, dims in layer.items()}
    tensors |= {"model.norm.weight": (h,), "lm_head.weight": (vocab, h)}
    header, at = {}, 0
    for name, dims in tensors.items():
        size = 2 * int(np.prod(dims))
        header[name] = {"dtype": "BF16", "shape": list(dims), "data_offsets": [at, at + size]}
        at += size
    encoded = json.dumps(header).encode()
    rng = np.random.default_rng(0)
    partial = weights.with_suffix(".partial")
    with partial.open("wb") as out:
        out.write(len(encoded).to_bytes(8, "little") + encoded)
        for dims in tensors.values():
            if len(dims) == 1:
                out.write((np.ones(dims, np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes())
                continue
            for start in range(0, dims[0], 4096):
                rows = rng.standard_normal((min(4096, dims[0] - start), dims[1]), dtype=np.float32) * np.float32(0.02)
                out.write((rows.view(np.uint32) >> 16).astype(np.uint16).tobytes())
    os.replace(partial, weights)
    return target


def requantized(source: Path, file_type: str, target: Path, tables: str | None = None) -> Path:
    """`source` re-quantized by llama.cpp to `file_type` (llama_cpp.LLAMA_FTYPE_MOSTLY_...);
    with `tables`, a pure file whose token embedding and output are of that type instead."""
    if target.is_file():
        return target
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{file_type}")
    params.allow_requantize = True
    params.nthread = THREADS
    if tables is not None:
        params.pure = True
        params.token_embedding_type = params.output_tensor_type = getattr(llama_cpp, f"GGML_TYPE_{tables}")
    partial = target.with_suffix(".partial")
    if llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(), params) != 0:
        raise RuntimeError(f"llama.cpp could not re-quantize {source.name} to {file_type}")
    os.replace(partial, target)
    return target


def smollm2_q4_k_m(target: Path) -> Path:
    from desktop_app.models.workspace import locate_default_gguf

    return requantized(locate_default_gguf(), "Q4_K_M", target)


def bench_file_named(name: str) -> str:
    """A row for `name`: smollm2 (Q4_K_M), smollm2-f16, a shape (1.5b, 3b: Q4_K_M), or
    shape-TYPE: that shape's file re-quantized by llama.cpp to TYPE (q5_k_m, q6_k, q8_0, f16)."""
    if name == "smollm2":
        return bench_file("SmolLM2-135M Q4_K_M", smollm2_q4_k_m(OUT / "smollm2-135m-q4_k_m.gguf"))
    if name == "smollm2-f16":
        from desktop_app.models.workspace import locate_default_gguf

        path = requantized(locate_default_gguf(), "F16", OUT / "smollm2-135m-f16.gguf")
        return bench_file("SmolLM2-135M F16 (re-quantized from Q4_1)", path)
    shape_name, _, file_type = name.partition("-")
    shape = SHAPES[shape_name]
    q4_k_m = synthetic_gguf(shape, OUT / f"llama-{shape_name}-q4_k_m.gguf")
    if not file_type:
        return bench_file(shape.name + " Q4_K_M", q4_k_m)
    if file_type == "hf":
        folder = synthetic_folder(shape, OUT / f"llama-{shape_name}-hf")
        peer = requantized(q4_k_m, "Q4_0", OUT / f"llama-{shape_name}-q4_0-q8_0-tables.gguf", tables="Q8_0")
        label = f"{shape.name} Hugging Face folder, bfloat16, as q4 (llama.cpp: the same types from a GGUF)"
        return bench_file(label, folder, peer)
    path = requantized(q4_k_m, file_type.upper(), OUT / f"llama-{shape_name}-{file_type}.gguf")
    return bench_file(f"{shape.name} {file_type.upper()} (re-quantized from Q4_K_M)", path)


# ---- workers, each in a process of its own ----


def worker_import(source: str, out: str) -> dict[str, object]:
    from desktop_app.models.prepare import prepare_model

    started = time.perf_counter()
    model_dir = prepare_model(Path(source), Path(out), model_id="bench-import", quantizations=("q4",), force=True)
    seconds = time.perf_counter() - started
    written = sum(f.stat().st_size for f in model_dir.iterdir() if f.is_file())
    return {"seconds": seconds, "peak_mb": peak_rss_mb(), "written_bytes": written, "model_dir": str(model_dir)}


def worker_ours(model_dir: str) -> dict[str, object]:
    from desktop_app.core.generation import GenerationSettings
    from desktop_app.engine import Finished, GenerationRequest, TextChunk, load_engine
    from desktop_app.engine.speculation import SpeculationSettings

    engine = load_engine(Path(model_dir), "cpu", threads=THREADS)
    engine.stop_token_ids = frozenset()
    # Plain decoding, as llama.cpp's here: the speed-up (prompt lookup) has its own bench.
    engine.speculation = SpeculationSettings("off")

    def once(n_prompt: int, count: int) -> tuple[float, float]:
        engine.reset_cache()
        text = engine.tokenizer.decode(prompt_ids(n_prompt))
        request = GenerationRequest(prompt=text, settings=GenerationSettings(temperature=0, max_new_tokens=count))
        events = (e for e in engine.generate(request) if isinstance(e, TextChunk | Finished))
        return timed_stream((e for e in events if isinstance(e, TextChunk)), count)

    return measure(once)


def worker_llama_cpp(gguf_path: str) -> dict[str, object]:
    from llama_cpp import Llama

    llm = Llama(
        model_path=gguf_path, n_ctx=2048, n_threads=THREADS, n_threads_batch=THREADS, n_batch=512, verbose=False
    )

    def once(n_prompt: int, count: int) -> tuple[float, float]:
        llm.reset()
        return timed_stream(llm.generate(prompt_ids(n_prompt), temp=0.0, reset=True), count)

    return measure(once)


def measure(once) -> dict[str, object]:  # type: ignore[no-untyped-def]
    once(30, 4)  # warm-up
    decode = [once(30, NEW_TOKENS)[1] for _ in range(2)]
    ttft = once(1000, 1)[0]
    return {
        "decode_tps": float(np.median(decode)),
        "decode_rounds": decode,
        "ttft1000_s": ttft,
        "peak_mb": peak_rss_mb(),
    }


def run(kind: str, *args: str) -> dict[str, object]:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS))
    done = subprocess.run(
        [sys.executable, __file__, "--worker", kind, *args], capture_output=True, text=True, env=env, timeout=5400
    )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def copy_seconds(path: Path, extra_bytes: int) -> float:
    """Copying the file, then writing `extra_bytes` more (the output), each synced to disk."""
    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        started = time.perf_counter()
        copy = Path(folder) / "copy"
        shutil.copyfile(path, copy)
        with open(copy, "rb+") as handle:
            os.fsync(handle.fileno())
        with open(Path(folder) / "out", "wb") as handle:
            chunk = bytes(1 << 24)
            for _ in range(max(1, extra_bytes // len(chunk))):
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        return time.perf_counter() - started


def bench_file(label: str, path: Path, peer: Path | None = None) -> str:
    """A row: importing `path` (a GGUF file or a folder), and running it against llama.cpp on
    `peer` (the same file by default)."""
    imported = run("import", str(path), str(OUT / "models"))
    weights = path / "model.safetensors" if path.is_dir() else path
    size = weights.stat().st_size
    if "error" in imported:
        return f"| {label} | {size / 1e6:,.0f} MB | import failed: {imported['error']} | | | | | |"
    baseline = copy_seconds(weights, int(imported["written_bytes"]))  # type: ignore[call-overload]
    ours = run("ours", str(imported["model_dir"]))
    theirs = run("llama_cpp", str(peer or path))
    bound = size / 2**20 + 1024
    both = "error" not in ours and "error" not in theirs
    ratio = f"{float(ours['decode_tps']) / float(theirs['decode_tps']):.2f}x" if both else "-"  # type: ignore[arg-type]
    first = f"{float(ours['ttft1000_s']) / float(theirs['ttft1000_s']):.2f}x" if both else "-"  # type: ignore[arg-type]

    def speed(result: dict[str, object]) -> str:
        if "error" in result:
            return f"failed: {result['error']}"
        return f"{float(result['decode_tps']):.1f} tok/s, {float(result['ttft1000_s']) * 1000:,.0f} ms"  # type: ignore[arg-type]

    return (
        f"| {label} | {size / 1e6:,.0f} MB | {float(imported['peak_mb']):,.0f} MB (bound {bound:,.0f}) | "  # type: ignore[arg-type]
        f"{float(imported['seconds']):.1f} s (copy {baseline:.1f} s) | {speed(ours)} | {speed(theirs)} | {ratio} | "
        f"{first} |"  # type: ignore[arg-type]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--only", default="smollm2,smollm2-f16,1.5b,3b,1.5b-q5_k_m,1.5b-q6_k,1.5b-q8_0")
    parser.add_argument("--worker", nargs="+")
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        result = {"import": worker_import, "ours": worker_ours, "llama_cpp": worker_llama_cpp}[kind](*rest)
        print(json.dumps(result))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [bench_file_named(name) for name in args.only.split(",")]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            f"\n## GGUF import and speed, run of {stamp}\n",
            f"Machine: {machine()}. {THREADS} threads each; decode = {NEW_TOKENS} greedy tokens after a "
            "30-token prompt (median of 2), first token = a 1,000-token prompt. Import bound: peak at most "
            "the file + 1 GB, time within 3x of copying the file and writing the output.\n",
            "| file | size | import peak memory | import time | Inkwell decode, first token | "
            "llama.cpp decode, first token | decode ratio | first token, x llama.cpp's time |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
        ]
    )
    publish(report, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
