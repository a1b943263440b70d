"""Benchmark: does quantization keep the model's quality? (q4, q8, fp16 against fp32)

Two measures on SmolLM2-135M-Instruct:
- greedy agreement: on a fixed set of chat prompts, the share of the first 32 generated
  tokens that are the same token at the same position as the fp32 model's;
- perplexity on a held-out text (written for this benchmark, so in no training set),
  computed token by token through the engine's KV-cache path.

    python bench/bench_quality.py --write bench/RESULTS.md      (part of make bench)
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_engine import bench_models_dir, machine, publish  # noqa: E402

from desktop_app.core.chat import ChatMessage  # noqa: E402
from desktop_app.core.generation import GenerationSettings  # noqa: E402
from desktop_app.engine import load_engine  # noqa: E402

PROMPTS = [
    "What is the capital of France?",
    "Write a polite reply to a customer whose parcel arrived late.",
    "Explain photosynthesis to a ten-year-old.",
    "Give me three tips for writing a clear email.",
    "Summarise the plot of Romeo and Juliet in two sentences.",
    "How do I convert a fraction to a percentage?",
    "Suggest a title for a blog post about learning to bake bread.",
    "What should a lesson plan on the water cycle include?",
    "Rewrite this more formally: hey, can u send me the report asap?",
    "List the planets of the solar system in order.",
]
HELD_OUT = (
    "The library on Mercer Street opens at nine, but the regulars arrive earlier. Mrs. Okafor brings a thermos "
    "of tea and a crossword folded into quarters; the two students from the college across the road wait with "
    "their laptops balanced on their knees, sharing a charger between them. When the doors finally open, each "
    "goes to the same table as yesterday, as if the chairs remembered them. The librarian, a tall man who speaks "
    "very quietly, has learned their habits. He puts the morning newspapers on the left side of the counter for "
    "Mrs. Okafor, and he leaves the study room unlocked for the students, although the sign says it must be "
    "booked in advance. Nobody has ever complained. In the afternoon the children come, and the building changes "
    "its voice: chairs scrape, someone laughs too loudly, a book about volcanoes is argued over and finally "
    "shared. By six o'clock the tables are empty again, the lights in the reading room hum, and the librarian "
    "walks between the shelves, pushing back the books that have drifted forward, ready for the next morning."
)
NEW_TOKENS = 32


def greedy_tokens(engine, prompt: str) -> list[int]:  # type: ignore[no-untyped-def]
    from desktop_app.engine import GenerationRequest

    plan = engine.build_prompt(GenerationRequest(messages=(ChatMessage("user", prompt),)))
    settings = GenerationSettings(temperature=0.0, repetition_penalty=1.0)
    from desktop_app.engine.sampling import Sampler

    sampler = Sampler(settings, 0)
    cache = engine.model.empty_cache()
    logits, cache = engine.model.forward(plan.token_ids, cache)
    out: list[int] = []
    for _ in range(NEW_TOKENS):  # stop tokens ignored: always 32 positions to compare
        token = sampler(logits, out)
        out.append(token)
        logits, cache = engine.model.forward([token], cache)
    return out


def perplexity(engine) -> float:  # type: ignore[no-untyped-def]
    ids = engine.tokenizer.encode(HELD_OUT)
    cache = engine.model.empty_cache()
    logits, cache = engine.model.forward(ids[:1], cache)
    nll = 0.0
    for token in ids[1:]:
        shifted = logits.astype(np.float64) - logits.max()
        nll -= shifted[token] - math.log(np.exp(shifted).sum())
        logits, cache = engine.model.forward([token], cache)
    return math.exp(nll / (len(ids) - 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    model_dir = bench_models_dir()
    engines = {
        q: load_engine(model_dir, provider="cpu", quantization=q, threads=2) for q in ("fp32", "fp16", "q8", "q4")
    }
    reference = {p: greedy_tokens(engines["fp32"], p) for p in PROMPTS}
    reference_ppl = perplexity(engines["fp32"])
    rows = []
    for name, engine in engines.items():
        agreement = np.mean([np.mean(np.array(greedy_tokens(engine, p)) == np.array(reference[p])) for p in PROMPTS])
        ppl = reference_ppl if name == "fp32" else perplexity(engine)
        rows.append((name, agreement, ppl, (ppl / reference_ppl - 1) * 100))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tokens = len(engines["fp32"].tokenizer.encode(HELD_OUT))
    lines = [
        f"\n## Quality, run of {stamp}\n",
        f"Machine: {machine()}. Greedy agreement with fp32 over the first {NEW_TOKENS} tokens of "
        f"{len(PROMPTS)} chat prompts; perplexity on a {tokens}-token held-out text. "
        "Targets: agreement of at least 90%, or perplexity up by less than 5%.\n",
        "| variant | greedy agreement with fp32 | perplexity | change |",
        "|---|---:|---:|---:|",
        *[f"| {n} | {a * 100:.1f}% | {p:.2f} | {d:+.1f}% |" for n, a, p, d in rows],
        "",
    ]
    report = "\n".join(lines)
    publish(report, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
