"""Benchmark: Inkwell's engine against transformers and llama.cpp on SmolLM2-135M-Instruct.

Same machine, same prompts, greedy decoding of 128 new tokens. Each contender runs in a
subprocess of its own so that its peak memory (max RSS) is its own. Reported: decode
tokens/s, time to first token for a ~30-token and a ~1,000-token prompt, peak memory,
and our decode speed as a ratio to llama.cpp's. Also: the time to first token of turn 2
and turn 20 of a conversation, with and without reuse of the KV cache prefix.

    python bench/bench_engine.py --write bench/RESULTS.md      (make bench)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NEW_TOKENS = 128
THREADS = 2
REPEATS = 3
PARAGRAPH = (
    "Inkwell is a private assistant for chat and writing. It runs on the user's own computer, "
    "so support agents, writers, students and teachers can draft and rewrite without their text "
    "ever leaving the machine. The quick brown fox jumps over the lazy dog while the model writes. "
)
BENCH_MODELS = ROOT / "bench" / "out" / "models"


@functools.lru_cache(maxsize=4)
def prompt_ids(n: int) -> list[int]:
    from desktop_app.engine.tokenizer import Tokenizer

    tokenizer = Tokenizer(default_model_dir() / "tokenizer.json")
    ids = tokenizer.encode(PARAGRAPH * (n // 40 + 2))
    return ids[:n]


def default_model_dir() -> Path:
    from desktop_app.models.registry import DEFAULT_MODEL_ID, default_registry

    return default_registry().get(DEFAULT_MODEL_ID).directory


def bench_models_dir() -> Path:
    """The default model with every quantization (q8 and fp32 are not part of a normal install)."""
    target = BENCH_MODELS / "smollm2-135m-instruct"
    if not (target / "manifest.json").is_file():
        from desktop_app.models.prepare import prepare_model
        from desktop_app.models.workspace import locate_default_gguf

        BENCH_MODELS.mkdir(parents=True, exist_ok=True)
        prepare_model(
            locate_default_gguf(),
            BENCH_MODELS,
            model_id="smollm2-135m-instruct",
            quantizations=("q4", "q8", "fp16", "fp32"),
        )
    return target


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a worker would
    report its parent's peak (which prepared the model with torch loaded).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_stream(stream, count: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Consume `count` tokens from a stream; return (time to first token s, decode tokens/s)."""
    start = time.perf_counter()
    first = last = 0.0
    seen = 0
    for _ in stream:
        seen += 1
        now = time.perf_counter()
        if seen == 1:
            first = now
        last = now
        if seen >= count:
            break
    return first - start, (seen - 1) / (last - first) if seen > 1 else 0.0


# ---- contenders (each runs inside its own worker process) ----


def standard_workload(name: str, once) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The same measurements for every engine; `once(prompt_tokens, new_tokens)` returns
    (time to first token s, decode tokens/s)."""
    once(30, 8)  # warm-up
    decode = [once(30, NEW_TOKENS)[1] for _ in range(REPEATS)]
    ttft30 = [once(30, 1)[0] for _ in range(REPEATS)]
    ttft1000 = [once(1000, 1)[0] for _ in range(REPEATS)]
    return {
        "name": name,
        "decode_tps": statistics.median(decode),
        "ttft30_s": statistics.median(ttft30),
        "ttft1000_s": statistics.median(ttft1000),
        "peak_mb": peak_rss_mb(),  # taken here, before any engine-specific extra
    }


def run_ours(quantization: str) -> dict[str, object]:
    from desktop_app.core.chat import ChatMessage
    from desktop_app.core.generation import GenerationSettings
    from desktop_app.engine import Finished, GenerationRequest, load_engine
    from desktop_app.engine.speculation import SpeculationSettings
    from desktop_app.engine.tokenizer import Tokenizer

    model_dir = bench_models_dir()
    engine = load_engine(model_dir, provider="cpu", quantization=quantization, threads=THREADS)
    engine.stop_token_ids = frozenset()  # always 128 tokens
    engine.speculation = SpeculationSettings("off")  # plain decoding; the speed-up has bench_speculation.py
    tokenizer = Tokenizer(model_dir / "tokenizer.json")

    def once(n_prompt: int, new_tokens: int) -> tuple[float, float]:
        engine.reset_cache()
        text = tokenizer.decode(prompt_ids(n_prompt))
        settings = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=new_tokens)
        request = GenerationRequest(prompt=text, settings=settings)
        for event in engine.generate(request):
            if isinstance(event, Finished):
                return event.stats.ttft_ms / 1000, event.stats.tokens_per_s
        raise AssertionError

    result = standard_workload(f"Inkwell engine ({quantization}, ONNX Runtime {ort_version()})", once)

    # Conversation: the time to first token at turn 2 and turn 20, warm (prefix reuse) and cold.
    turns: list[ChatMessage] = []
    multi = {}
    short = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=24)
    engine.reset_cache()
    for turn in range(1, 21):
        turns.append(ChatMessage("user", f"Question {turn}: {PARAGRAPH}"))
        reply = ""
        for event in engine.generate(GenerationRequest(messages=tuple(turns), settings=short)):
            if isinstance(event, Finished):
                reply, stats = event.text, event.stats
        if turn in (2, 20):
            multi[f"turn{turn}_warm_ttft_s"] = stats.ttft_ms / 1000
            multi[f"turn{turn}_prompt_tokens"] = stats.prompt_tokens
            multi[f"turn{turn}_reused_tokens"] = stats.reused_prompt_tokens
            saved = engine._cache
            engine.reset_cache()
            cold = next(
                e
                for e in engine.generate(GenerationRequest(messages=tuple(turns), settings=short))
                if isinstance(e, Finished)
            )
            multi[f"turn{turn}_cold_ttft_s"] = cold.stats.ttft_ms / 1000
            engine._cache = saved
        turns.append(ChatMessage("assistant", reply))
    return result | {"multi_turn": multi}


def ort_version() -> str:
    for dist in ("onnxruntime-gpu", "onnxruntime"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "?"


def run_llama_cpp() -> dict[str, object]:
    from llama_cpp import Llama

    from desktop_app.models.workspace import locate_default_gguf

    llm = Llama(
        model_path=str(locate_default_gguf()),
        n_ctx=2048,
        n_threads=THREADS,
        n_threads_batch=THREADS,
        n_batch=1024,
        verbose=False,
    )

    def once(n_prompt: int, count: int) -> tuple[float, float]:
        llm.reset()
        return timed_stream(llm.generate(prompt_ids(n_prompt), temp=0.0, reset=True), count)

    return standard_workload(f"llama.cpp (llama-cpp-python {metadata.version('llama-cpp-python')}, Q4_1 GGUF)", once)


def run_transformers() -> dict[str, object]:
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as tlog

    from desktop_app.models.workspace import locate_default_gguf

    tlog.set_verbosity_error()
    torch.set_num_threads(THREADS)
    gguf = locate_default_gguf()
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name).eval()

    def once(n_prompt: int, new_tokens: int) -> tuple[float, float]:
        ids = torch.tensor([prompt_ids(n_prompt)])
        with torch.inference_mode():
            start = time.perf_counter()
            model.generate(ids, max_new_tokens=1, min_new_tokens=1, do_sample=False)
            ttft = time.perf_counter() - start
            if new_tokens == 1:
                return ttft, 0.0
            start = time.perf_counter()
            model.generate(ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
            total = time.perf_counter() - start
        return ttft, (new_tokens - 1) / max(total - ttft, 1e-9)

    return standard_workload(f"transformers generate (PyTorch {torch.__version__}, fp32 from GGUF)", once)


WORKERS = {
    "ours:q4": lambda: run_ours("q4"),
    "ours:q8": lambda: run_ours("q8"),
    "ours:fp16": lambda: run_ours("fp16"),
    "ours:fp32": lambda: run_ours("fp32"),
    "llama.cpp": run_llama_cpp,
    "transformers": run_transformers,
}


ROUNDS = 2


def run_worker(name: str) -> dict[str, object]:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS))
    done = subprocess.run(
        [sys.executable, __file__, "--worker", name], capture_output=True, text=True, env=env, timeout=1800
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return {"name": name, "error": tail}
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def combine(runs: list[dict[str, object]]) -> dict[str, object]:
    """One contender's rounds: the median of each timing, the largest peak memory, the
    first round's conversation; a failed round makes the whole contender failed."""
    failed = next((r for r in runs if "error" in r), None)
    if failed is not None:
        return failed
    combined = dict(runs[0])
    for key in ("decode_tps", "ttft30_s", "ttft1000_s"):
        combined[key] = statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]
    combined["peak_mb"] = max(float(r["peak_mb"]) for r in runs)  # type: ignore[arg-type]
    combined["decode_rounds"] = [round(float(r["decode_tps"]), 1) for r in runs]  # type: ignore[arg-type]
    return combined


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
        kb = int(next(line for line in lines if line.startswith("MemTotal")).split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} cores{cache_sizes()}{memory}, {system}"


def cache_sizes() -> str:
    """The CPU's cache sizes as lscpu reports them: whether a model's weights fit decides speed."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    caches = []
    for line in out.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("L1d cache", "L2 cache", "L3 cache"):
            caches.append(f"{name.strip().split()[0]} {value.strip()}")
    return f" ({', '.join(caches)})" if caches else ""


def publish(report: str, path: Path | None) -> None:
    """Print a run's report, and add it to the results file when one is given."""
    print(report)
    if path is not None:
        append_report(path, report)


def append_report(path: Path, report: str) -> None:
    """Add a run to the results file (created with its heading the first time)."""
    if not path.exists():
        path.write_text("# Benchmark results\n\nWritten by `make bench`; newest run last.\n", encoding="utf-8")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(report)


def table(results: list[dict[str, object]]) -> str:
    llama = next((r for r in results if r["name"].startswith("llama.cpp") and "error" not in r), None)  # type: ignore[union-attr]
    lines = [
        "| engine | decode tokens/s (each round) | x llama.cpp | TTFT 30-token prompt | TTFT 1,000-token prompt "
        "| peak memory |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['name']} | failed: {r['error']} | | | | |")
            continue
        ratio = f"{r['decode_tps'] / llama['decode_tps']:.2f}x" if llama else "n/a"  # type: ignore[operator]
        each = r.get("decode_rounds")
        rounds = f" ({', '.join(str(x) for x in each)})" if isinstance(each, list) and len(each) > 1 else ""
        lines.append(
            f"| {r['name']} | {r['decode_tps']:.1f}{rounds} | {ratio} | {r['ttft30_s'] * 1000:.0f} ms | "
            f"{r['ttft1000_s'] * 1000:.0f} ms | {r['peak_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def multi_turn_table(results: list[dict[str, object]]) -> str:
    lines = [
        "| engine | turn | prompt tokens | reused | TTFT with reuse | TTFT cold |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        multi = r.get("multi_turn")
        if not multi:
            continue
        for turn in (2, 20):
            m = multi  # type: ignore[assignment]
            lines.append(
                f"| {r['name']} | {turn} | {m[f'turn{turn}_prompt_tokens']} | {m[f'turn{turn}_reused_tokens']} | "
                f"{m[f'turn{turn}_warm_ttft_s'] * 1000:.0f} ms | {m[f'turn{turn}_cold_ttft_s'] * 1000:.0f} ms |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--only", help="comma-separated subset of: " + ", ".join(WORKERS))
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker]()))
        return 0

    from desktop_app.core.manifest import ModelManifest

    have = {v.quantization for v in ModelManifest.read(bench_models_dir()).variants}  # prepared outside the timings
    # A GGUF file is imported as one variant (its own grids): the others are not contenders.
    default = [n for n in WORKERS if not n.startswith("ours:") or n.split(":", 1)[1] in have]
    chosen = args.only.split(",") if args.only else default
    # This machine's speed drifts over minutes (RESULTS.md), so every contender runs once
    # per round, the rounds one after another, and each keeps its median over the rounds.
    rounds: dict[str, list[dict[str, object]]] = {name: [] for name in chosen}
    for round_number in range(1, ROUNDS + 1):
        for name in chosen:
            print(f"round {round_number}: running {name} ...", file=sys.stderr, flush=True)
            rounds[name].append(run_worker(name))
            print(f"  {rounds[name][-1]}", file=sys.stderr)
    results = [combine(runs) for runs in rounds.values()]

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = (
        f"\n## Run of {stamp}\n\nMachine: {machine()}. {THREADS} threads for every engine; greedy; "
        f"{NEW_TOKENS} new tokens; median of {REPEATS} runs after a warm-up, in each of {ROUNDS} rounds (every "
        f"contender once per round); the median over the rounds. TTFT = time to first token. "
        f"Peak memory = the worker process's max RSS (Python and libraries included).\n\n"
        f"{table(results)}\n\nConversation of 20 turns (our engine, 24-token replies):\n\n{multi_turn_table(results)}\n"
    )
    publish(report, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
