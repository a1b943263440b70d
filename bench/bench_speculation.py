"""Benchmark: speculative decoding (prompt lookup, a draft model) against plain decoding.

The co-writer's Fix grammar, Shorten and Translate (into French) run greedily on 20
passages of 80-200 words (resources/eval: the held-out texts and the summary passages,
plus one written here; Fix grammar gets each with a few common mistakes put in), as the
co-writer asks them (its prompts, no repetition penalty), with at most 1.5 times the
passage's tokens (+ 20) as the reply.
Each request runs four ways in turn: Inkwell with speculation off and with lookup, and
llama.cpp (llama-cpp-python, the same GGUF) plain and with its own prompt lookup
(LlamaPromptLookupDecoding, 10 tokens). Effective decode speed = the reply's tokens over
the time from its first token to its last, summed over the passages. Then open chat
questions (the evaluation set's chat items), where lookup rarely helps, plain against auto.
Then batched requests (the API server's way): Fix grammar on 8 passages, 4 at a time in
one batch, lookup against off. Then a draft model: the default model imported again from its GGUF re-quantized to Q4_0,
as the draft for the default model (the same family and vocabulary, not smaller: it shows
the accepted share, not a speed-up a smaller draft would give).

    python bench/bench_speculation.py --write bench/RESULTS.md      (part of make bench)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_engine import THREADS, default_model_dir, machine, publish  # noqa: E402

from desktop_app.core.chat import ChatMessage  # noqa: E402
from desktop_app.core.generation import GenerationSettings  # noqa: E402
from desktop_app.engine import Finished, GenerationRequest, load_engine  # noqa: E402
from desktop_app.engine.speculation import SpeculationSettings  # noqa: E402
from desktop_app.session.cowriter import cowriter_request  # noqa: E402

EVAL = ROOT / "resources" / "eval"
OUT = ROOT / "bench" / "out" / "speculation"
NEW_TOKENS = 400
GREEDY = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=NEW_TOKENS)
TASKS = {"Fix grammar": "grammar", "Shorten": "shorter", "Translate": "translate"}
EXTRA_PASSAGE = (
    "Our garden club meets on the first Saturday of every month in the hall behind the library. "
    "In spring we swap seedlings and cuttings, in summer we visit each other's gardens, and in the "
    "autumn we hold a small show with prizes for the heaviest marrow and the prettiest jar of jam. "
    "New members are always welcome, whether they grow roses on a balcony or potatoes on an allotment. "
    "Tea and cake are free, and the only rule is that nobody talks about slugs before ten o'clock."
)
# Common slips put into a passage for Fix grammar (the first occurrence of each that it has).
SLIPS = [
    (r"\bdoes not\b", "dont"),
    (r"\btheir\b", "there"),
    (r"\bis\b", "are"),
    (r"\bwere\b", "was"),
    (r"\bit's\b", "its"),
    (r"\bhas\b", "have"),
    (r"\bwhich\b", "witch"),
    (r"\bbecause\b", "becuase"),
    (r"\bseparate\b", "seperate"),
    (r"\ban\b", "a"),
]


def passages() -> list[str]:
    held_out = [t.strip() for t in (EVAL / "held-out.txt").read_text(encoding="utf-8").split("\n---\n")]
    items = [json.loads(line) for line in (EVAL / "inkwell-basics.jsonl").read_text(encoding="utf-8").splitlines()]
    summaries = [i["prompt"].strip() for i in items if i["category"] == "summary"]
    found = [p for p in [*held_out, *summaries, EXTRA_PASSAGE] if 80 <= len(p.split()) <= 200]
    return found[:20]


def with_slips(text: str, count: int = 4) -> str:
    made = 0
    for pattern, slip in SLIPS:
        text, n = re.subn(pattern, slip, text, count=1)
        made += n
        if made >= count:
            break
    return text


def chat_questions() -> list[str]:
    items = [json.loads(line) for line in (EVAL / "inkwell-basics.jsonl").read_text(encoding="utf-8").splitlines()]
    return [i["prompt"] for i in items if i["task"] == "chat"][:10]


def ours(engine, request: GenerationRequest, mode: str) -> tuple[list[int], str, float, int, int]:  # type: ignore[no-untyped-def]
    """Token ids, text, decode seconds (first token to last), accepted, proposed."""
    engine.speculation = replace(engine.speculation, mode=mode)
    engine.reset_cache()
    done = next(e for e in engine.generate(request) if isinstance(e, Finished))
    stats = done.stats
    seconds = (stats.generated_tokens - 1) / stats.tokens_per_s if stats.tokens_per_s > 0 else 0.0
    return list(done.token_ids), done.text, seconds, stats.accepted_tokens, stats.proposed_tokens


def llama_cpp_runner(gguf: Path):  # type: ignore[no-untyped-def]
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    def make(draft):  # type: ignore[no-untyped-def]
        return Llama(
            model_path=str(gguf),
            n_ctx=4096,
            n_threads=THREADS,
            n_threads_batch=THREADS,
            n_batch=1024,
            draft_model=draft,
            verbose=False,
        )

    plain, lookup = make(None), make(LlamaPromptLookupDecoding(num_pred_tokens=10))

    def run(prompt: list[int], stop: frozenset[int], speculate: bool, budget: int) -> tuple[list[int], float]:
        llm = lookup if speculate else plain
        llm.reset()
        tokens: list[int] = []
        first = perf_counter()
        for token in llm.generate(prompt, temp=0.0, repeat_penalty=1.0, reset=True):
            if not tokens:
                first = perf_counter()
            if token in stop or len(tokens) >= budget:
                break
            tokens.append(int(token))
        return tokens, perf_counter() - first

    return run


def rate(tokens: int, seconds: float) -> float:
    return tokens / seconds if seconds > 0 else 0.0


def cowriter_part(engine, llama_run) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    rows, notes = [], []
    texts = passages()
    stop = frozenset(engine.stop_token_ids)
    for label, action in TASKS.items():
        totals = {"off": [0, 0.0], "lookup": [0, 0.0], "llama": [0, 0.0], "llama lookup": [0, 0.0]}
        accepted = proposed = same = 0
        for index, text in enumerate(texts):
            passage = with_slips(text) if action == "grammar" else text
            made = cowriter_request(
                action, passage, 0, len(passage), engine.count_tokens, engine.context_length, language="French"
            )
            # A reply about as long as the passage: the small model, greedy and without a
            # penalty, can fall into repeating a line, which would flatter lookup.
            budget = min(NEW_TOKENS, int(1.5 * engine.count_tokens(passage)) + 20)
            request = replace(made.request, settings=replace(GREEDY, max_new_tokens=budget))
            plain_ids, plain_text, plain_s, _, _ = ours(engine, request, "off")
            fast_ids, fast_text, fast_s, kept, offered = ours(engine, request, "lookup")
            prompt = engine.build_prompt(request).token_ids
            llama_ids, llama_s = llama_run(prompt, stop, False, budget)
            llama_fast_ids, llama_fast_s = llama_run(prompt, stop, True, budget)
            for key, n, s in (
                ("off", len(plain_ids), plain_s),
                ("lookup", len(fast_ids), fast_s),
                ("llama", len(llama_ids), llama_s),
                ("llama lookup", len(llama_fast_ids), llama_fast_s),
            ):
                totals[key][0] += n
                totals[key][1] += s
            accepted, proposed = accepted + kept, proposed + offered
            if fast_ids == plain_ids:
                same += 1
            else:
                at = next((i for i, (a, b) in enumerate(zip(plain_ids, fast_ids, strict=False)) if a != b), 0)
                notes.append(f"{label}, passage {index + 1}: parts from plain decoding at token {at}")
            OUT.mkdir(parents=True, exist_ok=True)
            (OUT / f"{action}-{index + 1:02d}.txt").write_text(
                f"PLAIN:\n{plain_text}\n\nLOOKUP:\n{fast_text}\n", encoding="utf-8"
            )
        speeds = {key: rate(int(n), float(s)) for key, (n, s) in totals.items()}
        rows.append(
            f"| {label} | {speeds['off']:.1f} | {speeds['lookup']:.1f} | **{speeds['lookup'] / speeds['off']:.2f}x** | "
            f"{100 * accepted / max(proposed, 1):.0f}% ({accepted}/{proposed}) | {same}/{len(texts)} | "
            f"{speeds['llama']:.1f} | {speeds['llama lookup']:.1f} | "
            f"**{speeds['lookup'] / speeds['llama lookup']:.2f}x** |"
        )
    header = (
        "| task | Inkwell plain tok/s | Inkwell lookup tok/s | lookup / plain | accepted | same text as plain | "
        "llama.cpp plain tok/s | llama.cpp lookup tok/s | Inkwell lookup / llama.cpp lookup |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    return header + "\n".join(rows) + "\n", notes


def chat_part(engine) -> str:  # type: ignore[no-untyped-def]
    totals = {"off": [0, 0.0], "auto": [0, 0.0]}
    accepted = proposed = same = 0
    questions = chat_questions()
    for question in questions:
        request = GenerationRequest((ChatMessage("user", question),), replace(GREEDY, max_new_tokens=200))
        outputs = []
        for mode in ("off", "auto"):
            ids, _, seconds, kept, offered = ours(engine, request, mode)
            totals[mode][0] += len(ids)
            totals[mode][1] += seconds
            outputs.append(ids)
        accepted, proposed = accepted + kept, proposed + offered
        same += int(outputs[0] == outputs[1])
    off, auto = (rate(int(n), float(s)) for n, s in totals.values())
    return (
        "| open chat questions | plain tok/s | auto tok/s | auto / plain | accepted | same text |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        f"| {len(questions)} questions, up to 200 tokens | {off:.1f} | {auto:.1f} | **{auto / off:.2f}x** | "
        f"{100 * accepted / max(proposed, 1):.0f}% ({accepted}/{proposed}) | {same}/{len(questions)} |\n"
    )


def draft_part(engine) -> str:  # type: ignore[no-untyped-def]
    import llama_cpp

    from desktop_app.engine.loading import load_draft
    from desktop_app.models.prepare import prepare_model
    from desktop_app.models.workspace import locate_default_gguf

    folder = ROOT / "bench" / "out" / "draft"
    folder.mkdir(parents=True, exist_ok=True)
    requantized = folder / "SmolLM2-135M-Instruct.Q4_0.gguf"
    if not requantized.is_file():
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0
        params.allow_requantize = True
        code = llama_cpp.llama_model_quantize(str(locate_default_gguf()).encode(), str(requantized).encode(), params)
        if code != 0:
            return f"(the draft could not be made: llama_model_quantize returned {code})\n"
    draft_dir = prepare_model(requantized, folder / "models", model_id="smollm2-q4-0", force=True)
    draft = load_draft(draft_dir, engine, threads=THREADS)
    texts = passages()[:10]
    totals = {"off": [0, 0.0], "draft": [0, 0.0]}
    accepted = proposed = same = 0
    for text in texts:
        made = cowriter_request("shorter", text, 0, len(text), engine.count_tokens, engine.context_length)
        request = replace(made.request, settings=GREEDY)
        plain_ids, _, plain_s, _, _ = ours(engine, request, "off")
        engine.speculation = SpeculationSettings("auto", draft)
        fast_ids, _, fast_s, kept, offered = ours(engine, request, "auto")
        engine.speculation = SpeculationSettings("auto")
        totals["off"][0] += len(plain_ids)
        totals["off"][1] += plain_s
        totals["draft"][0] += len(fast_ids)
        totals["draft"][1] += fast_s
        accepted, proposed = accepted + kept, proposed + offered
        same += int(plain_ids == fast_ids)
    off, with_draft = (rate(int(n), float(s)) for n, s in totals.values())
    return (
        "| draft model | plain tok/s | lookup + draft tok/s | ratio | accepted | same text |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        f"| default model (Q4_1) with itself re-quantized to Q4_0 as the draft, Shorten on 10 passages | "
        f"{off:.1f} | {with_draft:.1f} | {with_draft / off:.2f}x | "
        f"{100 * accepted / max(proposed, 1):.0f}% ({accepted}/{proposed}) | {same}/{len(texts)} |\n"
    )


def batch_part(engine) -> str:  # type: ignore[no-untyped-def]
    """The API server's way: Fix grammar on 8 passages, four requests at a time in one
    batch (BatchDecoder, as the scheduler runs them), lookup against off."""
    import threading

    from desktop_app.engine.batch import BatchDecoder

    requests = []
    for text in passages()[:8]:
        passage = with_slips(text)
        made = cowriter_request("grammar", passage, 0, len(passage), engine.count_tokens, engine.context_length)
        budget = min(NEW_TOKENS, int(1.5 * engine.count_tokens(passage)) + 20)
        requests.append(replace(made.request, settings=replace(GREEDY, max_new_tokens=budget)))
    totals: dict[str, list[float]] = {}
    replies: dict[str, list[tuple[int, ...]]] = {}
    accepted = proposed = 0
    for mode in ("off", "lookup"):
        engine.speculation = SpeculationSettings(mode)
        tokens, seconds, done = 0, 0.0, []
        for start in range(0, len(requests), 4):
            batch = BatchDecoder(engine, 4)
            sequences = [batch.add(r, threading.Event()) for r in requests[start : start + 4]]
            while any(s.prefilling for s in sequences):  # the prompts first: decode speed alone
                batch.step()
            begun = perf_counter()
            while batch.active:
                batch.step()
            seconds += perf_counter() - begun
            for sequence in sequences:
                assert sequence.first is not None
                tokens += sequence.first.stats.generated_tokens
                done.append(tuple(sequence.first.token_ids))
                if mode == "lookup":
                    accepted += sequence.first.stats.accepted_tokens
                    proposed += sequence.first.stats.proposed_tokens
        totals[mode], replies[mode] = [tokens, seconds], done
    engine.speculation = SpeculationSettings("auto")
    off, lookup = (rate(int(n), s) for n, s in totals.values())
    same = sum(a == b for a, b in zip(replies["off"], replies["lookup"], strict=True))
    return (
        "| batched requests (the API server's batch) | plain tok/s | lookup tok/s | ratio | accepted | same text |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        f"| Fix grammar, 8 passages, 4 requests at a time | {off:.1f} | {lookup:.1f} | **{lookup / off:.2f}x** | "
        f"{100 * accepted / max(proposed, 1):.0f}% ({accepted}/{proposed}) | {same}/{len(requests)} |\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="append the report to this file")
    parser.add_argument("--parts", default="cowriter,chat,batch,draft", help="which parts to run (comma-separated)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    from desktop_app.models.workspace import locate_default_gguf

    started = datetime.now(timezone.utc)
    engine = load_engine(default_model_dir(), "cpu", threads=THREADS)
    cowriter, notes = "", []
    if "cowriter" in parts:
        cowriter, notes = cowriter_part(engine, llama_cpp_runner(locate_default_gguf()))
        print(cowriter, flush=True)  # (kept should a later part fail)
    chat = chat_part(engine) if "chat" in parts else ""
    print(chat, flush=True)
    batched = "\n" + batch_part(engine) if "batch" in parts else ""
    print(batched, flush=True)
    draft = "\n" + draft_part(engine) if "draft" in parts else ""
    report = (
        f"\n## Speculative decoding, run of {started:%Y-%m-%d %H:%M} UTC\n\n"
        f"Machine: {machine()}. Model smollm2-135m-instruct; {THREADS} threads; greedy, no repetition penalty, "
        "replies of at most 1.5x the passage's tokens + 20 (chat: 200); "
        f"llama-cpp-python {metadata.version('llama-cpp-python')} on the same GGUF. Effective decode tokens/s = tokens over the time from the first token to the last, summed over "
        "the 20 passages.\n\n"
        f"{cowriter}\n{chat}{batched}{draft}"
    )
    if notes:
        report += "\nWhere a reply parted from plain decoding (greedy speculation should never part: see test_speculation.py):\n"
        report += "".join(f"- {note}\n" for note in notes)
    publish(report, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
