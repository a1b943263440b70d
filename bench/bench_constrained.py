"""Benchmark: what constrained decoding costs per token, against free decoding of the same model.

The default model (q4) writes up to 96 tokens greedily for each prompt four ways: free,
held to a JSON Schema (response_format; the reply is one long string field, so most of it
is free text under the grammar, the common case), with a tool offered and free to answer
(tool_choice auto: the same longer prompt as a call, the tools described in it), and as a
required call (the calls' grammar). Time per token is decode time over decoded tokens
(prefill left out), in rounds that interleave the four; each round's ratio is against its
own free figure with the same prompt (the JSON reply against free, the required call
against auto). The grammar's own cost per token (the mask and the step, without the
model) is timed apart. The issue's bar: constrained decoding costs at most 10% of
tokens/s (0.91x free or better).

    python bench/bench_constrained.py --write bench/RESULTS.md      (part of make bench)
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_engine import THREADS, bench_models_dir, machine, publish  # noqa: E402

from desktop_app.core.chat import ChatMessage  # noqa: E402
from desktop_app.core.generation import GenerationSettings  # noqa: E402
from desktop_app.engine import Finished, GenerationRequest, load_engine  # noqa: E402

PROMPTS = [
    "Write a short story about a cat who learns to fly.",
    "Describe your ideal weekend in detail.",
    "Explain how a bicycle works.",
    "Write a friendly note to a neighbour about a lost parcel.",
]
NEW_TOKENS = 96
ROUNDS = 5
GREEDY = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=NEW_TOKENS)
STORY = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "schema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    },
}
NOTE_TOOL = {
    "type": "function",
    "function": {
        "name": "save_note",
        "description": "Save the answer as a note",
        "parameters": {
            "type": "object",
            "properties": {"title": {"type": "string"}, "text": {"type": "string"}},
            "required": ["title", "text"],
        },
    },
}


def request(prompt: str, kind: str) -> GenerationRequest:
    messages = (ChatMessage("user", prompt),)
    if kind == "JSON schema":
        return GenerationRequest(messages=messages, settings=GREEDY, response_format=STORY)
    if kind == "tool call (required)":
        return GenerationRequest(messages=messages, settings=GREEDY, tools=(NOTE_TOOL,), tool_choice="required")
    if kind == "tool offered, free (auto)":
        return GenerationRequest(messages=messages, settings=GREEDY, tools=(NOTE_TOOL,), tool_choice="auto")
    return GenerationRequest(messages=messages, settings=GREEDY)


def ms_per_token(engine, kind: str) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    spent, tokens = 0.0, 0
    for prompt in PROMPTS:
        engine.reset_cache()
        done = next(e for e in engine.generate(request(prompt, kind)) if isinstance(e, Finished))
        if done.stats.tokens_per_s > 0 and done.stats.generated_tokens > 1:
            spent += (done.stats.generated_tokens - 1) / done.stats.tokens_per_s
            tokens += done.stats.generated_tokens - 1
    return spent * 1000 / max(tokens, 1), tokens


def grammar_samples(engine):  # type: ignore[no-untyped-def]
    from desktop_app.engine.response_format import response_format_grammar
    from desktop_app.engine.tool_calls import call_grammar

    story = "the cat sat on the mat and looked at the sky " * 6
    arguments = f'{{"title": "Cat", "text": "{story}"}}'
    call = f'<tool_call>\n{{"name": "save_note", "arguments": {arguments}}}\n</tool_call>'
    fmt = engine.tool_format[0]
    return [
        ("JSON schema", response_format_grammar(STORY), f'{{"text": "{story}"}}'),
        ("a required call", call_grammar(fmt, (NOTE_TOOL,), "required"), call),
    ]


def mask_ms(engine, grammar: str, text: str) -> float:  # type: ignore[no-untyped-def]
    """The constraint's own time per token (the allowed-token mask and the step) over `text`."""
    import numpy as np

    constraint = engine.compile(grammar)()
    logits = np.zeros(engine.tokenizer.vocab_size, dtype=np.float32)
    tokens = engine.tokenizer.encode(text)
    started = perf_counter()
    for token in tokens:
        constraint.allowed(logits)
        constraint.advance(token)
    return (perf_counter() - started) * 1000 / len(tokens)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    engine = load_engine(bench_models_dir(), provider="cpu", quantization="q4", threads=THREADS)
    kinds = ["free", "JSON schema", "tool offered, free (auto)", "tool call (required)"]
    baseline = {"free": "free", "JSON schema": "free"}  # the rest: against the same prompt, free
    for kind in kinds:  # warm up (the grammar library's view of the vocabulary is built once)
        short = replace(request(PROMPTS[0], kind), settings=replace(GREEDY, max_new_tokens=8))
        next(e for e in engine.generate(short) if isinstance(e, Finished))
    costs: dict[str, list[float]] = {kind: [] for kind in kinds}
    counted: dict[str, int] = {}
    for _ in range(ROUNDS):
        for kind in kinds:
            cost, counted[kind] = ms_per_token(engine, kind)
            costs[kind].append(cost)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## Constrained decoding cost, run of {stamp}\n",
        f"Machine: {machine()}. SmolLM2-135M-Instruct q4, {THREADS} threads, {len(PROMPTS)} chat prompts, up to "
        f"{NEW_TOKENS} new tokens, greedy; decode time per token in {ROUNDS} rounds that interleave the four; "
        "tokens/s relative to each round's own free figure with the same prompt (median, and the lowest and "
        "highest round). Bar: at least 0.91x (at most 10% of tokens/s).\n",
        "| decoding | against | ms per token (median) | tokens/s x free (median) | rounds' range | tokens timed |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for kind, values in costs.items():
        against = baseline.get(kind, "tool offered, free (auto)")
        ratios = [f / v for v, f in zip(values, costs[against], strict=True)]
        lines.append(
            f"| {kind} | {against} | {statistics.median(values):.2f} | {statistics.median(ratios):.2f}x | "
            f"{min(ratios):.2f}-{max(ratios):.2f}x | {counted[kind]} |"
        )
    for name, grammar, text in grammar_samples(engine):
        lines.append(f"\nThe grammar alone ({name}): {mask_ms(engine, grammar, text):.3f} ms per token.")
    publish("\n".join([*lines, ""]), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
