"""Benchmark: what beam search costs per token, against greedy decoding of the same model.

The default model (q4, the file's own grids) answers everyday prompts greedily and with 2
and 4 beams, up to 64 new tokens; what counts is the time per token, decode time over
decoded tokens (the prompt's prefill left out). A beam step is one
batched forward pass of the 4 rows plus the search's own work (log-softmax over 4 x 49,152,
top-k, the KV rows of beams that change parent). The issue's bar: at most 2x greedy.

    python bench/bench_beams.py --write bench/RESULTS.md      (part of make bench)
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_engine import THREADS, bench_models_dir, machine, publish  # noqa: E402

from desktop_app.core.chat import ChatMessage  # noqa: E402
from desktop_app.core.generation import GenerationSettings  # noqa: E402
from desktop_app.engine import Finished, GenerationRequest, load_engine  # noqa: E402

PROMPTS = [
    "Write a polite reply to a customer whose parcel arrived late.",
    "Explain photosynthesis to a ten-year-old.",
    "Give me three tips for writing a clear email.",
    "Summarise the plot of Romeo and Juliet in two sentences.",
    "Rewrite this more formally: hey, can u send me the report asap?",
]
NEW_TOKENS = 64
ROUNDS = 5
GREEDY = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=NEW_TOKENS)


def ms_per_token(engine, settings: GenerationSettings) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Decode milliseconds per token over all prompts (prefill left out), and the tokens."""
    spent, tokens = 0.0, 0
    for prompt in PROMPTS:
        request = GenerationRequest(messages=(ChatMessage("user", prompt),), settings=settings)
        engine.reset_cache()  # every run prefills its prompt alike
        done = next(e for e in engine.generate(request) if isinstance(e, Finished) and e.index == 0)
        steps = done.stats.extra.get("beam_steps", done.stats.generated_tokens)
        if done.stats.tokens_per_s > 0 and steps > 1:
            spent += (steps - 1) / done.stats.tokens_per_s
            tokens += steps - 1
    return spent * 1000 / max(tokens, 1), tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    engine = load_engine(bench_models_dir(), provider="cpu", quantization="q4", threads=THREADS)
    ms_per_token(engine, replace(GREEDY, max_new_tokens=8))  # warm up
    kinds = {"greedy": GREEDY, **{f"{b} beams": replace(GREEDY, num_beams=b, early_stopping="never") for b in (2, 4)}}
    # Rounds interleave the kinds, so that a machine that speeds up or slows down during the
    # run (other work, the clock) shifts all of them alike; each round gives its own ratios.
    costs: dict[str, list[float]] = {name: [] for name in kinds}
    counted: dict[str, int] = {}
    for _ in range(ROUNDS):
        for name, settings in kinds.items():
            cost, counted[name] = ms_per_token(engine, settings)
            costs[name].append(cost)
    greedy = costs["greedy"]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## Beam search cost, run of {stamp}\n",
        f"Machine: {machine()}. SmolLM2-135M-Instruct q4, {THREADS} threads, {len(PROMPTS)} chat prompts, up to "
        f"{NEW_TOKENS} new tokens; decode time per token (a beam step advances every beam by one token), in "
        f"{ROUNDS} rounds that interleave the three; the ratio is each round's against its own greedy figure "
        "(median, and the lowest and highest round). Bar: 4 beams at most 2x greedy.\n",
        "| decoding | ms per token (median) | x greedy (median) | x greedy (rounds' range) | tokens timed |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, values in costs.items():
        ratios = [v / g for v, g in zip(values, greedy, strict=True)]
        lines.append(
            f"| {name} | {statistics.median(values):.2f} | {statistics.median(ratios):.2f}x | "
            f"{min(ratios):.2f}-{max(ratios):.2f}x | {counted[name]} |"
        )
    publish("\n".join([*lines, ""]), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
