"""Benchmark: one model under the CPU and the CUDA provider, and what "auto" picks.

For each model folder, decode tokens/s and the first token of a 1,000-token prompt (shorter
where the model's context is):
- `cpu`: the CPU provider, with the app's own thread count;
- `auto`: as the app opens it (load_engine), with the provider it chose and why;
- `cuda-copied-kv`: the GPU variant with its KV cache sent to the GPU and back every token,
  as it ran before the cache's buffers were kept in the GPU's memory;
- `cuda-forced`: a variant made for the CPU, opened with CUDA first anyway. That is what
  "auto" did before such models were kept on the CPU: the nodes CUDA has no kernel for
  (Inkwell's GGUF operators, fp32 GroupQueryAttention) run on the CPU, with the activations
  copied between the two around each of them.

The models: folders named on the command line, and synthetic Llama-shaped Q4_K_M GGUF files
(bench_import's, random weights of a trained model's size) imported with their GPU variant. Each measurement runs in a process of its
own. Needs an NVIDIA GPU and onnxruntime-gpu to say anything about CUDA; elsewhere the CUDA
rows say why they could not run. Not part of `make bench` (no GPU there).

    python bench/bench_providers.py [--synthetic 150m,1.5b] [--tokenizer-from GGUF] [MODEL_DIR ...]
                                    [--write bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import PARAGRAPH, machine, publish, timed_stream
from bench_import import SHAPES, Shape, synthetic_gguf

OUT = Path(__file__).resolve().parent / "out" / "providers"
NEW_TOKENS = 64
SHAPES_HERE = SHAPES | {"150m": Shape("synthetic Llama 150M-shaped", 768, 12, 2048, 12, 4)}  # K-quant rows: 256s
MODES = ("cpu", "auto", "cuda-copied-kv", "cuda-forced")
# Block scales that give weights of a trained model's size (~0.02): activations then stay
# within float16's range, as the GPU variant needs.
TRAINED_STEP = 2e-5


def open_engine(model_dir: Path, mode: str):  # type: ignore[no-untyped-def]
    from desktop_app.core.manifest import ModelManifest
    from desktop_app.engine import load_engine
    from desktop_app.engine.generate import Engine
    from desktop_app.engine.loading import choose_variant
    from desktop_app.engine.onnx_model import OnnxCausalLM
    from desktop_app.engine.tokenizer import Tokenizer

    if mode in ("cpu", "auto"):
        return load_engine(model_dir, mode)
    manifest = ModelManifest.read(model_dir)
    copied = mode == "cuda-copied-kv"
    variant = choose_variant(manifest, "cuda" if copied else "cpu")
    in_place = not copied and manifest.extra.get("attention") == "GroupQueryAttention"
    model = OnnxCausalLM(model_dir / variant.file, "cuda", None, in_place, manifest.context_length)
    return Engine(model, Tokenizer(model_dir / "tokenizer.json"), manifest, variant)


def worker(model_dir: str, mode: str) -> dict[str, object]:
    from desktop_app.core.generation import GenerationSettings
    from desktop_app.engine import GenerationRequest, TextChunk
    from desktop_app.engine.speculation import SpeculationSettings

    engine = open_engine(Path(model_dir), mode)
    engine.stop_token_ids = frozenset()
    engine.speculation = SpeculationSettings("off")  # plain decoding: the providers, not the speed-up
    ids = engine.tokenizer.encode(PARAGRAPH * 40)

    def once(n_prompt: int, count: int, texts: list[str] | None = None) -> tuple[float, float]:
        engine.reset_cache()
        prompt = engine.tokenizer.decode(ids[:n_prompt])
        request = GenerationRequest(prompt=prompt, settings=GenerationSettings(temperature=0, max_new_tokens=count))
        chunks = (e for e in engine.generate(request) if isinstance(e, TextChunk))
        if texts is not None:
            chunks = (texts.append(c.text) or c for c in chunks)  # type: ignore[func-returns-value]
        return timed_stream(chunks, count)

    long_prompt = min(1000, engine.context_length - 8)  # a tiny test model's context is shorter
    once(30, 4)  # warm-up
    texts: list[str] = []
    decode = [once(30, NEW_TOKENS, texts if not i else None)[1] for i in range(2)]
    return {
        "provider": engine.provider.label,
        "reason": engine.provider.reason,
        "session": engine.model.session.get_providers(),
        "variant": engine.variant.quantization,
        "decode_tps": float(np.median(decode)),
        "long_prompt": long_prompt,
        "ttft_long_s": once(long_prompt, 1)[0],
        "text": "".join(texts)[:80],
    }


def run(model_dir: Path, mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", str(model_dir), mode], capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        return {"error": " ".join((done.stderr.strip().splitlines() or ["no output"])[-2:])[:300]}
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def imported(name: str, tokenizer_from: Path | None) -> Path:
    from desktop_app.models.prepare import prepare_model

    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"bench-{name.replace('.', '')}"  # a model id: letters, digits and dashes
    if not (target / "manifest.json").is_file():
        source = synthetic_gguf(SHAPES_HERE[name], OUT / f"synthetic-{name}.gguf", tokenizer_from, TRAINED_STEP)
        prepare_model(source, OUT, model_id=target.name, force=True, gpu_variant=True)
    return target


def gpu_name() -> str:
    try:
        query = ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"]
        return subprocess.run(query, capture_output=True, text=True, timeout=30).stdout.strip() or "none found"
    except (OSError, subprocess.SubprocessError):
        return "none found (no nvidia-smi)"


def report(rows: list[tuple[str, str, dict[str, object]]]) -> str:
    import onnxruntime as ort

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Providers, run of {when}",
        "",
        f"Machine: {machine()}; GPU: {gpu_name()}; onnxruntime {ort.__version__} "
        f"({', '.join(ort.get_available_providers())}). Greedy, plain decoding, the app's thread count.",
        "",
        "| Model | Mode | Runs on (session providers) | Variant | Decode | First token of a long prompt |",
        "|---|---|---|---|---|---|",
    ]
    for model, mode, r in rows:
        if "error" in r:
            lines.append(f"| {model} | {mode} | failed: {r['error']} | | | |")
            continue
        session = ", ".join(str(p).removesuffix("ExecutionProvider") for p in r["session"])  # type: ignore[attr-defined]
        lines.append(
            f"| {model} | {mode} | {r['provider']} ({session}) | {r['variant']} | "
            f"{r['decode_tps']:.1f} tok/s | {r['ttft_long_s'] * 1000:,.0f} ms ({r['long_prompt']:,} tokens) |"
        )
    reasons = {f"{model}: {r['reason']}" for model, mode, r in rows if mode == "auto" and "reason" in r}
    lines += ["", *(f"- auto's reason, {line}" for line in sorted(reasons))]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--synthetic", default="", help="comma-separated: " + ", ".join(SHAPES_HERE))
    parser.add_argument("--tokenizer-from", type=Path, help="a GGUF whose tokenizer the synthetic files take")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: " + ", ".join(MODES))
    parser.add_argument("--write", type=Path)
    parser.add_argument("--worker", nargs=2)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    folders = [(m.name, m) for m in args.models]
    for name in filter(None, args.synthetic.split(",")):
        started = time.perf_counter()
        folders.append((SHAPES_HERE[name].name, imported(name, args.tokenizer_from)))
        print(f"{name}: written and imported in {time.perf_counter() - started:.1f} s", flush=True)
    rows = []
    for label, folder in folders:
        for mode in args.modes.split(","):
            rows.append((label, mode, run(folder, mode)))
            print(label, mode, json.dumps(rows[-1][2]), flush=True)
    publish(report(rows), args.write)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
