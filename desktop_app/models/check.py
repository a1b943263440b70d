"""`inkwell models check`: is a prepared model faithful to the file it came from?

It reads a text token by token through the engine's KV-cache path and reports the
perplexity; where llama-cpp-python is installed and the source GGUF is still on disk, it
reads the very same tokens with llama.cpp and reports its perplexity and how often the
two pick the same next token. The default text is Inkwell's held-out set
(resources/eval/held-out.txt): seven short texts written for Inkwell, in no training set.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.paths import resources_dir
from desktop_app.engine import load_engine
from desktop_app.models.registry import InstalledModel

log = logging.getLogger(__name__)

TEXT_SEPARATOR = "\n\n---\n\n"
MAX_TOKENS_PER_TEXT = 1024


def held_out_texts() -> list[str]:
    text = (resources_dir() / "eval" / "held-out.txt").read_text(encoding="utf-8")
    return [part.strip() for part in text.split(TEXT_SEPARATOR) if part.strip()]


@dataclass(frozen=True)
class Scores:
    """What one reader made of the texts: next-token log-likelihoods and choices."""

    nll: float  # summed negative log-likelihood of every token after the first of each text
    count: int
    choices: list[int]  # the argmax before each scored token, all texts in a row

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll / self.count) if self.count else float("nan")


def _score(logits_rows: list[np.ndarray], ids: list[int]) -> tuple[float, list[int]]:
    """logits_rows[i] predicts ids[i + 1]."""
    nll, choices = 0.0, list[int]()
    for logits, token in zip(logits_rows, ids[1:], strict=False):
        row = logits.astype(np.float64)
        shifted = row - row.max()
        nll -= shifted[token] - math.log(np.exp(shifted).sum())
        choices.append(int(np.argmax(row)))
    return nll, choices


def engine_scores(engine: Any, texts: list[list[int]]) -> Scores:
    """Each text from an empty cache, one token at a time (the path decoding takes)."""
    nll, count, choices = 0.0, 0, list[int]()
    for ids in texts:
        cache = engine.model.empty_cache()
        engine.model.reserve(cache, len(ids))
        rows = []
        for token in ids[:-1]:
            logits, cache = engine.model.forward([token], cache)
            rows.append(np.array(logits, copy=True))
        text_nll, text_choices = _score(rows, ids)
        nll, count, choices = nll + text_nll, count + len(ids) - 1, choices + text_choices
    return Scores(nll, count, choices)


def llama_cpp_scores(gguf: Path, texts: list[list[int]], threads: int | None) -> Scores:
    """The same tokens read by llama.cpp (llama-cpp-python), for comparison only."""
    import llama_cpp  # the benchmark's and the check's peer, never Inkwell's engine

    longest = max(len(ids) for ids in texts)
    llm = llama_cpp.Llama(
        model_path=str(gguf), n_ctx=longest + 8, logits_all=True, n_threads=threads, verbose=False, n_batch=512
    )
    nll, count, choices = 0.0, 0, list[int]()
    try:
        for ids in texts:
            llm.reset()  # type: ignore[no-untyped-call]
            llm.eval(ids)
            rows = [np.array(llm.scores[i]) for i in range(len(ids) - 1)]
            text_nll, text_choices = _score(rows, ids)
            nll, count, choices = nll + text_nll, count + len(ids) - 1, choices + text_choices
    finally:
        llm.close()
    return Scores(nll, count, choices)


@dataclass(frozen=True)
class CheckReport:
    model: str
    quantization: str
    tokens: int
    perplexity: float
    llama_cpp_perplexity: float | None
    agreement: float | None  # share of positions where both pick the same next token
    note: str  # why llama.cpp's figures are missing, or what they were read from

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"{self.model} ({self.quantization}): perplexity {self.perplexity:.3f} over {self.tokens:,} tokens"]
        if self.llama_cpp_perplexity is not None and self.agreement is not None:
            change = (self.perplexity / self.llama_cpp_perplexity - 1) * 100
            out.append(
                f"llama.cpp on the source file: perplexity {self.llama_cpp_perplexity:.3f} ({change:+.2f}% here); "
                f"the same next token at {self.agreement * 100:.1f}% of positions"
            )
        out.append(self.note)
        return out


def source_gguf(model: InstalledModel, override: Path | None) -> Path | None:
    if override is not None:
        if not override.is_file():
            raise UserError(translate("Errors", "There is no file {path}.").format(path=override))
        return override
    source = model.manifest.source
    path = source.get("path")
    if source.get("kind") != "gguf" or not path or not Path(path).is_file():
        return None
    return Path(path)


def check_model(
    model: InstalledModel,
    text: str | None = None,
    quantization: str | None = None,
    gguf: Path | None = None,
    threads: int | None = None,
) -> CheckReport:
    engine = load_engine(model.directory, "cpu", quantization, threads)
    texts = [text] if text is not None else held_out_texts()
    limit = min(MAX_TOKENS_PER_TEXT, engine.context_length)
    token_texts = [engine.encode_prompt(t)[:limit] for t in texts if t.strip()]
    token_texts = [ids for ids in token_texts if len(ids) > 1]
    if not token_texts:
        raise UserError(translate("Errors", "The text is too short to measure: it needs at least two tokens."))
    ours = engine_scores(engine, token_texts)
    theirs: Scores | None = None
    source = source_gguf(model, gguf)
    if source is None:
        note = (
            "llama.cpp was not run: the model was not made from a GGUF file that is still on disk (--gguf names one)."
        )
    else:
        try:
            theirs = llama_cpp_scores(source, token_texts, threads)
            note = f"llama.cpp read the same tokens from {source}."
        except ImportError:
            note = "llama.cpp was not run: llama-cpp-python is not installed (pip install llama-cpp-python)."
        except (ValueError, RuntimeError, OSError) as exc:
            log.warning("llama.cpp could not read %s: %s", source, exc)
            note = f"llama.cpp could not read {source}: {exc}"
    agreement = None
    if theirs is not None:
        agreement = float(np.mean(np.array(ours.choices) == np.array(theirs.choices)))
    return CheckReport(
        model.id,
        engine.variant.quantization,
        ours.count,
        ours.perplexity,
        theirs.perplexity if theirs is not None else None,
        agreement,
        note,
    )
