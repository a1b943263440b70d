"""Benchmark: aggregate decode speed of concurrent API streams through the scheduler.

1, 2, 4 and 8 clients each submit one request at the same moment (Source.API, greedy, a
different question each, NEW_TOKENS new tokens with the stop token ignored so that every
stream writes the same length); the scheduler batches them (engine/batch.py). Reported per
concurrency: aggregate tokens/s (all generated tokens over the wall time from submission
to the last Completed), each stream's own tokens/s (median), the time to its first text
(median and worst), and, for comparison, the same streams one by one (batching off).

    python bench/bench_concurrency.py [--streams 1 2 4 8] [--tokens 128] [--model-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.core.chat import ChatMessage  # noqa: E402
from desktop_app.core.generation import GenerationSettings  # noqa: E402
from desktop_app.engine import Engine, GenerationRequest, TextChunk, load_engine  # noqa: E402
from desktop_app.session.scheduler import Completed, HandleEvent, Scheduler, Source  # noqa: E402

NEW_TOKENS = 128
THREADS = 2
QUESTIONS = [
    "Write a short story about a lighthouse keeper.",
    "Explain how a bicycle gear works.",
    "What should I pack for a week of hiking?",
    "Describe the water cycle for a ten-year-old.",
    "Give me three ideas for a birthday dinner.",
    "Why do cats purr?",
    "Summarise the plot of a detective novel you invent.",
    "How do I make a good cup of tea?",
]


def default_model_dir() -> Path:
    from desktop_app.models.registry import DEFAULT_MODEL_ID, default_registry

    return default_registry().get(DEFAULT_MODEL_ID).directory


def run_streams(engine: Engine, streams: int, tokens: int, batched: bool) -> dict[str, float]:
    scheduler = Scheduler(lambda: engine, batch_rows=max(streams, 1) if batched else 0)
    scheduler.start()
    scheduler.wait_until_loaded(60)
    settings = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=tokens)
    first_text: dict[int, float] = {}
    done: dict[int, Completed] = {}

    def listener(index: int):  # type: ignore[no-untyped-def]
        def hear(event: HandleEvent) -> None:
            if isinstance(event, TextChunk) and index not in first_text:
                first_text[index] = time.perf_counter()
            elif isinstance(event, Completed):
                done[index] = event

        return hear

    try:
        with scheduler._lock:  # every client's request arrives at once
            started = time.perf_counter()
            handles = [
                scheduler.submit(
                    GenerationRequest((ChatMessage("user", QUESTIONS[i % len(QUESTIONS)]),), settings),
                    Source.API,
                    listener(i),
                )
                for i in range(streams)
            ]
        for handle in handles:
            handle.done.wait()
        wall = time.perf_counter() - started
    finally:
        scheduler.shutdown()
    generated = sum(c.first.stats.generated_tokens for c in done.values())
    ttft = [first_text[i] - started for i in range(streams)]
    return {
        "streams": streams,
        "aggregate_tokens_per_s": generated / wall,
        "stream_tokens_per_s_median": statistics.median(c.first.stats.tokens_per_s for c in done.values()),
        "ttft_ms_median": statistics.median(ttft) * 1000,
        "ttft_ms_worst": max(ttft) * 1000,
        "generated_tokens": generated,
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--tokens", type=int, default=NEW_TOKENS)
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--no-sequential", action="store_true", help="skip the one-by-one comparison")
    args = parser.parse_args()
    engine = load_engine(args.model_dir or default_model_dir(), "cpu", threads=THREADS)
    engine.stop_token_ids = frozenset()  # every stream writes --tokens tokens
    run_streams(engine, 1, 16, True)  # warm up: the batch buffers, ONNX Runtime's first runs
    results = []
    for streams in args.streams:
        row = run_streams(engine, streams, args.tokens, True)
        if not args.no_sequential and streams > 1:
            row["sequential_aggregate_tokens_per_s"] = run_streams(engine, streams, args.tokens, False)[
                "aggregate_tokens_per_s"
            ]
        results.append(row)
        print(json.dumps(row), flush=True)
    single = results[0]["aggregate_tokens_per_s"] if results and results[0]["streams"] == 1 else None
    print("\nstreams  aggregate tok/s  x one stream  per stream tok/s  TTFT median/worst ms  one by one tok/s")
    for row in results:
        ratio = f"{row['aggregate_tokens_per_s'] / single:.2f}" if single else "-"
        sequential = row.get("sequential_aggregate_tokens_per_s")
        print(
            f"{row['streams']:>7}  {row['aggregate_tokens_per_s']:>15.1f}  {ratio:>12}  "
            f"{row['stream_tokens_per_s_median']:>16.1f}  {row['ttft_ms_median']:>8.0f} / {row['ttft_ms_worst']:<8.0f}  "
            f"{sequential if sequential is None else round(sequential, 1)!s:>16}"
        )


if __name__ == "__main__":
    main()
