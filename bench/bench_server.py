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
ROUNDS = 5
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


def stream_chat(
    port: int, model: str, prompt: str, connection: http.client.HTTPConnection | None = None
) -> dict[str, float]:
    """One streamed, greedy chat completion: TTFT, decode tokens/s, tokens, total seconds. On a
    connection of its own unless one is given (kept alive between requests, as the OpenAI
    SDKs keep theirs)."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": NEW_TOKENS,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=600)
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
            response.read()  # to the end of the body, so that the connection can serve the next request
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


class Alone:
    """The engine alone, in a process of its own (as `inkwell ask`), kept running so that its
    measurements interleave with the server's: a machine that slows down for a while slows
    both sides of a ratio."""

    CODE = """
import json, sys, time
from pathlib import Path
from desktop_app.core.chat import ChatMessage
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import GenerationRequest, TextChunk, Finished, load_engine
engine = load_engine(Path(sys.argv[1]), "cpu", threads=int(sys.argv[2]))
def once(prompt):
    request = GenerationRequest(messages=(ChatMessage("user", prompt),),
        settings=GenerationSettings(temperature=0, max_new_tokens=int(sys.argv[3]), repetition_penalty=1.0))
    started = time.perf_counter(); first = last = None; tokens = 0
    for event in engine.generate(request):
        if isinstance(event, TextChunk):
            last = time.perf_counter(); first = first or last
        elif isinstance(event, Finished):
            tokens = event.stats.generated_tokens
    return {"ttft_s": first - started, "tps": (tokens - 1) / (last - first), "tokens": tokens}
for line in sys.stdin:
    before, prompt = json.loads(line)
    once(before)  # as the servers are measured: another chat between two of this one
    print(json.dumps(once(prompt)), flush=True)
"""

    def __init__(self, model_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.CODE, str(model_dir), str(THREADS), str(NEW_TOKENS)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.measure()  # warm-up

    def measure(self) -> dict[str, float]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps([PROMPTS[1], PROMPTS[0]]) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the engine-alone process exited with {self.process.wait()}")
        return json.loads(line)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def serve(command: list[str], port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), INKWELL_API_KEY=KEY)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, process)
    except Exception:
        process.kill()
        raise
    return process


def measured(port: int, model: str, connection: http.client.HTTPConnection) -> dict[str, float]:
    """The first prompt after another chat: a server that keeps the last prompt's cache reuses
    only what the two share (the chat template's head), as the engine alone does above."""
    stream_chat(port, model, PROMPTS[1], connection)
    return stream_chat(port, model, PROMPTS[0], connection)


def run_against(
    label: str, command: list[str], port: int, model: str, levels: list[int], alone: Alone | None = None
) -> dict[str, Any]:
    """ROUNDS single-stream measurements (each after one of the engine alone, when given),
    then ROUNDS rounds of every concurrency level; the median of each."""
    process = serve(command, port)
    try:
        stream_chat(port, model, PROMPTS[1])  # warm-up
        singles, alones = [], []
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for _ in range(ROUNDS):
            if alone is not None:
                alones.append(alone.measure())
            singles.append(measured(port, model, connection))
        connection.close()
        rounds: dict[int, list[dict[str, float]]] = {n: [] for n in levels}
        for _ in range(ROUNDS):
            for n in levels:
                rounds[n].append(concurrent(port, model, n))
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
    return {
        "label": label,
        "single": {key: median([r[key] for r in singles]) for key in ("ttft_s", "tps")},
        "alone": {key: median([r[key] for r in alones]) for key in ("ttft_s", "tps")} if alones else None,
        "levels": {n: {key: median([r[key] for r in runs]) for key in runs[0]} for n, runs in rounds.items()},
        "all_levels": {n: [r["aggregate_tps"] for r in runs] for n, runs in rounds.items()},
        "errors": {n: [r["errors"] for r in runs] for n, runs in rounds.items()},
    }


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
    alone = Alone(model_dir)
    runs = []
    try:
        port = free_port()
        ours = [sys.executable, "-m", "desktop_app", "serve", "--host", "127.0.0.1", "--port", str(port)]
        runs.append(run_against("Inkwell `inkwell serve`", ours, port, manifest.id, levels, alone))
        source = locate_default_gguf()
        if not args.no_llama_cpp:
            port = free_port()
            theirs = [
                sys.executable, "-m", "llama_cpp.server", "--model", str(source), "--host", "127.0.0.1",
                "--port", str(port), "--n_threads", str(THREADS), "--n_ctx", "4096", "--api_key", KEY,
                "--model_alias", manifest.id, "--interrupt_requests", "False",
            ]  # fmt: skip
            runs.append(run_against("llama.cpp server (llama-cpp-python)", theirs, port, manifest.id, levels, alone))
    finally:
        alone.close()

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## Local API server, run of {stamp}\n",
        f"Machine: {machine()}. Model {manifest.id}; {THREADS} threads; greedy, {NEW_TOKENS} new tokens. "
        f"Single stream: {ROUNDS} rounds after a warm-up, each the engine alone (a process of its own, "
        "as `inkwell ask`) and then the server, each measured chat after another one (so a kept prompt "
        "cache shares only the template's head), on one kept-alive connection as the OpenAI SDKs keep "
        "theirs; the medians, and the server against the engine alone "
        f"measured in the same rounds. Concurrency: {ROUNDS} rounds of every level; the medians, and each "
        "level against one stream. llama-cpp-python's server answers one request at a time (started with "
        "--interrupt_requests False: by default a new request cuts the stream in progress short) and reports "
        "no usage when streaming (its tokens are counted by chunks).\n",
        "| | TTFT | decode tokens/s | vs the engine alone |",
        "|---|---:|---:|---:|",
    ]
    for run in runs:
        single, base = run["single"], run["alone"]
        lines.append(
            f"| engine alone (as `inkwell ask`), beside the next row | {base['ttft_s'] * 1000:.1f} ms | {base['tps']:.1f} | |"
        )
        lines.append(
            f"| {run['label']}, streamed | {single['ttft_s'] * 1000:.1f} ms | {single['tps']:.1f} | "
            f"TTFT {single['ttft_s'] / base['ttft_s']:.2f}x, decode {single['tps'] / base['tps']:.2f}x |"
        )
    lines += ["", "| server | " + " | ".join(f"{n} streams" for n in levels) + " |", "|---|" + "---:|" * len(levels)]
    for run in runs:
        cells = []
        one = run["levels"][levels[0]]["aggregate_tps"]
        for n in levels:
            level = run["levels"][n]
            errors = f", {int(sum(run['errors'][n]))} failed" if sum(run["errors"][n]) else ""
            cells.append(
                f"{level['aggregate_tps']:.1f} tok/s, {level['aggregate_tps'] / one:.2f}x "
                f"(slowest {level['slowest_s']:.1f} s{errors})"
            )
        lines.append(f"| {run['label']} | " + " | ".join(cells) + " |")
    lines += ["", "Each round's aggregate tokens/s:", ""]
    for run in runs:
        for n in levels:
            lines.append(f"- {run['label']}, {n} streams: " + ", ".join(f"{v:.1f}" for v in run["all_levels"][n]))
    publish("\n".join(lines) + "\n", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
