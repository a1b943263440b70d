"""Benchmark: does the imported default model keep the GGUF file's quality?

SmolLM2-135M-Instruct is imported from its GGUF with the file's own grids (one variant,
q4). Its reference is llama.cpp on the very same file, reading the very same tokens:
perplexity on Inkwell's held-out texts (resources/eval/held-out.txt: seven texts written
for Inkwell, in no training set) and the share of positions where both pick the same next
token; the same for greedy answers to everyday chat prompts, over their first 32 tokens.
The issue's bar: perplexity within 1% of llama.cpp's, the same next token at 98% or more.

    python bench/bench_quality.py --write bench/RESULTS.md      (part of make bench)
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_engine import THREADS, bench_models_dir, machine, publish  # noqa: E402

from desktop_app.core.chat import ChatMessage  # noqa: E402
from desktop_app.engine import GenerationRequest, load_engine  # noqa: E402
from desktop_app.models.check import engine_scores, held_out_texts, llama_cpp_scores  # noqa: E402
from desktop_app.models.workspace import locate_default_gguf  # noqa: E402

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
NEW_TOKENS = 32


def greedy_ours(engine, prompt_ids: list[int]) -> list[int]:  # type: ignore[no-untyped-def]
    cache = engine.model.empty_cache()
    engine.model.reserve(cache, len(prompt_ids) + NEW_TOKENS)
    logits, cache = engine.model.forward(prompt_ids, cache)
    out: list[int] = []
    for _ in range(NEW_TOKENS):  # stop tokens ignored: always 32 positions to compare
        token = int(np.argmax(logits))
        out.append(token)
        logits, cache = engine.model.forward([token], cache)
    return out


def greedy_llama_cpp(llm, prompt_ids: list[int]) -> list[int]:  # type: ignore[no-untyped-def]
    llm.reset()
    out: list[int] = []
    for token in llm.generate(prompt_ids, temp=0.0, reset=True):
        out.append(int(token))
        if len(out) == NEW_TOKENS:
            break
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    from llama_cpp import Llama

    engine = load_engine(bench_models_dir(), provider="cpu", threads=THREADS)
    gguf = locate_default_gguf()
    texts = [engine.tokenizer.encode(t) for t in held_out_texts()]
    ours, theirs = engine_scores(engine, texts), llama_cpp_scores(gguf, texts, THREADS)
    next_token = float(np.mean(np.array(ours.choices) == np.array(theirs.choices)))
    llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=THREADS, verbose=False)
    agreement = []
    for prompt in PROMPTS:
        ids = engine.build_prompt(GenerationRequest(messages=(ChatMessage("user", prompt),))).token_ids
        mine, peer = greedy_ours(engine, ids), greedy_llama_cpp(llm, ids)
        agreement.append(float(np.mean(np.array(mine) == np.array(peer[: len(mine)]))))
    llm.close()
    change = (ours.perplexity / theirs.perplexity - 1) * 100
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            f"\n## Quality against llama.cpp on the same GGUF, run of {stamp}\n",
            f"Machine: {machine()}. SmolLM2-135M-Instruct imported from {gguf.name} (q4: the file's own grids). "
            f"Perplexity on the {len(texts)} held-out texts ({ours.count} scored tokens), both reading the same "
            f"tokens; greedy answers to {len(PROMPTS)} chat prompts compared over their first {NEW_TOKENS} tokens. "
            "Bar: perplexity within 1%, the same next token at 98% or more.\n",
            "| | perplexity | same next token (held-out) | same greedy tokens (prompts) |",
            "|---|---:|---:|---:|",
            f"| llama.cpp | {theirs.perplexity:.3f} | | |",
            f"| Inkwell q4 | {ours.perplexity:.3f} ({change:+.2f}%) | {next_token * 100:.1f}% | "
            f"{np.mean(agreement) * 100:.1f}% |",
            "",
        ]
    )
    publish(report, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
