"""Benchmark: the local OpenAI-compatible server, against the engine alone and llama.cpp's server.

- Overhead: one streamed /v1/chat/completions against the same chat answered in-process by
  the engine (what `inkwell ask` runs): time to first token and decode tokens/s, greedy,
  the same prompt and length. The issue's bound: within 5%.
- Concurrency: 1, 2, 4 and 8 clients each streaming their own request at once; aggregate
  completion tokens/s over the wall time, and the slowest client's time.
- The same workload against llama.cpp's server (`python -m llama_cpp.server`, from
  llama-cpp-python) on the GGUF file the default model was prepared from, in the same run.

Every server binds 127.0.0.1 on a free port and is stopped at the end; 2 threads each.

    python bench/bench_server.py --write bench/RESULTS.md        (make bench)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_engine import default_model_dir, machine, publish  # noqa: E402

THREADS = 2
NEW_TOKENS = 96
KEY = "bench-key"
PROMPTS = [
    "Write a short paragraph about the history of bridges.",
    "Explain how a refrigerator keeps food cold.",
    "Describe a walk through a forest in autumn.",
    "Give advice to someone starting to learn the piano.",
    "Summarise why sleep matters for memory.",
    "Tell a short story about a lighthouse keeper.",
    "Explain what a budget is to a teenager.",
    "Describe the water cycle in simple words.",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/v1/models", headers={"Authorization": f"Bearer {KEY}"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not answer in time")


def stream_chat(port: int, model: str, prompt: str) -> dict[str, float]:
    """One streamed, greedy chat completion: TTFT, decode tokens/s, tokens, total seconds."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": NEW_TOKENS,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request(
        "POST",
        "/v1/chat/completions",
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:300]!r}")
    first = last = None
    tokens = chunks = 0
    for raw in response:
        line = raw.decode("utf-8").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        if chunk.get("usage"):
            tokens = int(chunk["usage"]["completion_tokens"])
        for choice in chunk.get("choices", []):
            if choice.get("delta", {}).get("content"):
                last = time.perf_counter()
                first = first or last
                chunks += 1
    ended = time.perf_counter()
    tokens = tokens or chunks  # llama-cpp-python's server sends no usage: one chunk a token
    ttft = (first or ended) - started
    decode = (last - first) if first and last and last > first else 0.0
    return {
        "ttft_s": ttft,
        "tps": (tokens - 1) / decode if decode and tokens > 1 else 0.0,
        "tokens": tokens,
        "seconds": ended - started,
    }


def concurrent(port: int, model: str, clients: int) -> dict[str, float]:
    results: list[dict[str, float]] = []
    errors: list[str] = []

    def client(index: int) -> None:
        try:
            results.append(stream_chat(port, model, PROMPTS[index % len(PROMPTS)]))
        except Exception as exc:  # reported in the table
            errors.append(str(exc)[:200])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    tokens = sum(r["tokens"] for r in results)
    return {
        "aggregate_tps": tokens / wall if wall else 0.0,
        "slowest_s": max((r["seconds"] for r in results), default=0.0),
        "errors": float(len(errors)),
    }


def direct(model_dir: Path) -> dict[str, float]:
    """The engine alone, in a process of its own, on the first prompt (as `inkwell ask`)."""
    code = f"""
import json, time
from pathlib import Path
from desktop_app.core.chat import ChatMessage
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import GenerationRequest, TextChunk, Finished, load_engine
engine = load_engine(Path({str(model_dir)!r}), "cpu", threads={THREADS})
def once(prompt):
    request = GenerationRequest(messages=(ChatMessage("user", prompt),),
        settings=GenerationSettings(temperature=0, max_new_tokens={NEW_TOKENS}, repetition_penalty=1.0))
    started = time.perf_counter(); first = last = None; tokens = 0
    for event in engine.generate(request):
        if isinstance(event, TextChunk):
            last = time.perf_counter(); first = first or last
        elif isinstance(event, Finished):
            tokens = event.stats.generated_tokens
    return {{"ttft_s": first - started, "tps": (tokens - 1) / (last - first), "tokens": tokens}}
def measured():
    once({PROMPTS[1]!r})  # as the servers are measured: another chat between two of this one
    return once({PROMPTS[0]!r})
once({PROMPTS[1]!r})
runs = sorted((measured() for _ in range(3)), key=lambda r: r["tps"])
print(json.dumps(runs[1]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def serve(command: list[str], port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), INKWELL_API_KEY=KEY)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, process)
    except Exception:
        process.kill()
        raise
    return process


def measured(port: int, model: str) -> dict[str, float]:
    """The first prompt after another chat: a server that keeps the last prompt's cache reuses
    only what the two share (the chat template's head), as the engine alone does above."""
    stream_chat(port, model, PROMPTS[1])
    return stream_chat(port, model, PROMPTS[0])


def run_against(label: str, command: list[str], port: int, model: str, levels: list[int]) -> dict[str, Any]:
    process = serve(command, port)
    try:
        stream_chat(port, model, PROMPTS[1])  # warm-up
        single = sorted((measured(port, model) for _ in range(3)), key=lambda r: r["tps"])[1]
        return {"label": label, "single": single, "levels": {n: concurrent(port, model, n) for n in levels}}
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--levels", default="1,2,4,8")
    parser.add_argument("--no-llama-cpp", action="store_true")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]

    from desktop_app.core.manifest import ModelManifest
    from desktop_app.models.workspace import locate_default_gguf

    model_dir = default_model_dir()
    manifest = ModelManifest.read(model_dir)
    alone = direct(model_dir)
    runs = []
    port = free_port()
    ours = [sys.executable, "-m", "desktop_app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    runs.append(run_against("Inkwell `inkwell serve`", ours, port, manifest.id, levels))
    source = locate_default_gguf()
    if not args.no_llama_cpp:
        port = free_port()
        theirs = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(source), "--host", "127.0.0.1",
            "--port", str(port), "--n_threads", str(THREADS), "--n_ctx", "4096", "--api_key", KEY,
            "--model_alias", manifest.id, "--interrupt_requests", "False",
        ]  # fmt: skip
        runs.append(run_against("llama.cpp server (llama-cpp-python)", theirs, port, manifest.id, levels))

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## Local API server, run of {stamp}\n",
        f"Machine: {machine()}. Model {manifest.id}; {THREADS} threads; greedy, {NEW_TOKENS} new tokens; "
        "single-stream figures are the median of 3 after a warm-up, each measured chat after another "
        "one (the engine alone the same way), so a kept prompt cache shares only the template's head. "
        "llama-cpp-python's server answers one request at a time (started with --interrupt_requests False: "
        "by default a new request cuts the stream in progress short) and reports no usage when streaming "
        "(its tokens are counted by chunks).\n",
        "| | TTFT | decode tokens/s | vs the engine alone |",
        "|---|---:|---:|---:|",
        f"| engine alone (as `inkwell ask`) | {alone['ttft_s'] * 1000:.0f} ms | {alone['tps']:.1f} | |",
    ]
    for run in runs:
        single = run["single"]
        lines.append(
            f"| {run['label']}, streamed | {single['ttft_s'] * 1000:.0f} ms | {single['tps']:.1f} | "
            f"TTFT {single['ttft_s'] / alone['ttft_s']:.2f}x, decode {single['tps'] / alone['tps']:.2f}x |"
        )
    lines += ["", "| server | " + " | ".join(f"{n} streams" for n in levels) + " |", "|---|" + "---:|" * len(levels)]
    for run in runs:
        cells = []
        for n in levels:
            level = run["levels"][n]
            errors = f", {int(level['errors'])} failed" if level["errors"] else ""
            cells.append(f"{level['aggregate_tps']:.1f} tok/s (slowest {level['slowest_s']:.1f} s{errors})")
        lines.append(f"| {run['label']} | " + " | ".join(cells) + " |")
    publish("\n".join(lines) + "\n", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
