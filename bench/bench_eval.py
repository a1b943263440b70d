"""Benchmark: the shipped evaluation set's scores for the default model, and llama.cpp's.

Inkwell's own set (resources/eval/inkwell-basics.jsonl: customer replies, summaries,
grammar fixes, explanations) is asked of SmolLM2-135M-Instruct as the app asks it
(session.evaluation.eval_request: chat items as chats, rewrites and summaries through the
co-writer's prompts) and scored with sacrebleu (BLEU, chrF) and rouge-score (ROUGE-L),
through desktop_app.evaluation.metrics, the code `inkwell eval` uses. Systems, in one run:

- Inkwell q4: the import of the GGUF file with its own grids (the app's default);
- Inkwell fp16: the same file re-quantized by llama.cpp to F16, imported the same way;
- Inkwell q4, 4 beams: beam search on the default variant;
- llama.cpp on the very same GGUF file, reading the very same prompt tokens, greedy.

All greedy runs use no repetition penalty (llama.cpp's and Inkwell's windows differ), and
stop at the model's end token or MAX_NEW tokens.

    python bench/bench_eval.py --write bench/RESULTS.md      (part of make bench)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_engine import THREADS, bench_models_dir, machine, publish  # noqa: E402

from desktop_app.core.paths import resources_dir  # noqa: E402
from desktop_app.engine import Finished, load_engine  # noqa: E402
from desktop_app.evaluation.datasets import load_dataset  # noqa: E402
from desktop_app.evaluation.metrics import corpus_scores, item_scores, metric_info  # noqa: E402
from desktop_app.models.prepare import prepare_model  # noqa: E402
from desktop_app.models.workspace import locate_default_gguf  # noqa: E402
from desktop_app.session.evaluation import EVAL_SETTINGS, cleaned, eval_request  # noqa: E402

MAX_NEW = 160
SETTINGS = replace(EVAL_SETTINGS, repetition_penalty=1.0, max_new_tokens=MAX_NEW)
FP16_DIR = ROOT / "bench" / "out" / "models-f16"


def f16_model_dir() -> Path:
    """The default GGUF re-quantized to F16 by llama.cpp, imported by Inkwell (made once)."""
    target = FP16_DIR / "smollm2-135m-f16"
    if (target / "manifest.json").is_file():
        return target
    import llama_cpp

    FP16_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=FP16_DIR) as scratch:
        gguf = Path(scratch) / "SmolLM2-135M-Instruct.F16.gguf"
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_F16
        params.allow_requantize = True
        params.nthread = THREADS
        if llama_cpp.llama_model_quantize(str(locate_default_gguf()).encode(), str(gguf).encode(), params) != 0:
            raise RuntimeError("llama.cpp could not re-quantize the SmolLM2 GGUF to F16")
        prepare_model(gguf, FP16_DIR, model_id="smollm2-135m-f16")
    return target


def ours(engine, items, settings) -> tuple[list[str], float]:  # type: ignore[no-untyped-def]
    outputs, started = [], time.perf_counter()
    for item in items:
        engine.reset_cache()
        request = eval_request(item, engine, settings)
        done = next(e for e in engine.generate(request) if isinstance(e, Finished) and e.index == 0)
        outputs.append(cleaned(item, done.text))
    return outputs, time.perf_counter() - started


def llama_cpp_outputs(engine, items) -> tuple[list[str], float]:  # type: ignore[no-untyped-def]
    """llama.cpp on the same file, from the prompt tokens Inkwell builds, greedy."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(locate_default_gguf()), n_ctx=2048, n_threads=THREADS, verbose=False)
    ends = engine.stop_token_ids
    outputs, started = [], time.perf_counter()
    for item in items:
        prompt = engine.build_prompt(eval_request(item, engine, SETTINGS)).token_ids
        tokens: list[int] = []
        llm.reset()
        for token in llm.generate(prompt, temp=0.0, repeat_penalty=1.0, reset=True):
            if int(token) in ends or len(tokens) == MAX_NEW:
                break
            tokens.append(int(token))
        outputs.append(cleaned(item, engine.tokenizer.decode(tokens)))
    llm.close()
    return outputs, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--limit", type=int, help="only the first N items (a quick look)")
    args = parser.parse_args()
    dataset = load_dataset(resources_dir() / "eval" / "inkwell-basics.jsonl").limited(args.limit)
    items = list(dataset.items)
    references = [list(item.references) for item in items]
    q4 = load_engine(bench_models_dir(), provider="cpu", quantization="q4", threads=THREADS)
    fp16 = load_engine(f16_model_dir(), provider="cpu", threads=THREADS)
    systems = [
        ("llama.cpp (same GGUF, greedy)", *llama_cpp_outputs(q4, items)),
        ("Inkwell q4 (greedy)", *ours(q4, items, SETTINGS)),
        ("Inkwell fp16 (greedy)", *ours(fp16, items, SETTINGS)),
        ("Inkwell q4, 4 beams", *ours(q4, items, replace(SETTINGS, num_beams=4))),
    ]
    info = metric_info(references)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## The shipped evaluation set, run of {stamp}\n",
        f"Machine: {machine()}. {len(items)} items of resources/eval/inkwell-basics.jsonl, SmolLM2-135M-Instruct, "
        f"{THREADS} threads, up to {MAX_NEW} new tokens, no repetition penalty. BLEU and chrF are corpus scores "
        f"(sacrebleu {info['sacrebleu']}: {info['signatures']['bleu']}; {info['signatures']['chrf']}); "
        f"ROUGE-L (x100) as {info['rouge']} (rouge-score {info['rouge_score']}).\n",
        "| system | BLEU | chrF | ROUGE-L | same text as llama.cpp | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    peer = systems[0][1]
    for name, outputs, seconds in systems:
        scores = corpus_scores(
            outputs, references, [item_scores(o, r) for o, r in zip(outputs, references, strict=True)]
        )
        same = sum(a == b for a, b in zip(outputs, peer, strict=True))
        lines.append(
            f"| {name} | {scores['bleu']:.2f} | {scores['chrf']:.2f} | {scores['rougeL'] * 100:.2f} | "
            f"{same}/{len(items)} | {seconds:.0f} |"
        )
    publish("\n".join([*lines, ""]), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
