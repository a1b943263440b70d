"""The scores of `inkwell eval`, computed by the metrics' reference implementations.

BLEU and chrF come from sacrebleu, with its defaults: the run's score is sacrebleu's
corpus score (statistics summed over all items, not a mean of sentences), and each item
gets sacrebleu's sentence score (BLEU with effective order, as sacrebleu's sentence_bleu).
ROUGE-1/2/L are rouge-score's F-measures (RougeScorer with use_stemmer=True and its
default tokenizer); with several references an item takes the best one for each ROUGE
type (rouge-score's own score_multi), and the run's ROUGE is the mean over items. Exact
match compares the output with each reference after stripping whitespace at both ends.

sacrebleu, rouge-score (and its nltk) are imported here, inside the functions, so that
only the evaluation pays for them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from rouge_score.rouge_scorer import RougeScorer
    from sacrebleu.metrics.base import Metric as SacreMetric

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
USE_STEMMER = True


@dataclass(frozen=True)
class MetricSpec:
    key: str
    label: str
    top: float  # the top of its range (0: open-ended); the chart's scale
    higher_is_better: bool = True
    # How the run's score is made: "corpus" (sacrebleu over all items at once) or "mean" (of the items')
    aggregate: str = "mean"


QUALITY = (
    MetricSpec("bleu", "BLEU", 100.0, aggregate="corpus"),
    MetricSpec("chrf", "chrF", 100.0, aggregate="corpus"),
    MetricSpec("rouge1", "ROUGE-1", 1.0),
    MetricSpec("rouge2", "ROUGE-2", 1.0),
    MetricSpec("rougeL", "ROUGE-L", 1.0),
    MetricSpec("exact_match", "Exact match", 1.0),
)
LENGTH = (MetricSpec("words", "Words", 0.0), MetricSpec("characters", "Characters", 0.0))
SPEED = (
    MetricSpec("tokens_per_s", "Tokens/s", 0.0),
    MetricSpec("ttft_ms", "First token (ms)", 0.0, higher_is_better=False),
)
METRICS = QUALITY + LENGTH + SPEED
ITEM_SCORES = tuple(m.key for m in QUALITY + LENGTH)  # what each item's text is scored on
SPECS = {m.key: m for m in METRICS}


def _bleu(sentence: bool = False) -> SacreMetric:
    from sacrebleu.metrics.bleu import BLEU

    return BLEU(effective_order=True) if sentence else BLEU()


def _chrf() -> SacreMetric:
    from sacrebleu.metrics.chrf import CHRF

    return CHRF()


@functools.lru_cache(maxsize=1)
def _rouge() -> RougeScorer:
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(list(ROUGE_TYPES), use_stemmer=USE_STEMMER)


def reference_streams(references: Sequence[Sequence[str]]) -> list[list[Any]]:
    """sacrebleu's shape for references: one stream per reference position, None where an
    item has fewer references than the most any item has (sacrebleu skips those; its type
    hints say str only)."""
    most = max((len(r) for r in references), default=0)
    return [[refs[k] if k < len(refs) else None for refs in references] for k in range(most)]


def item_scores(output: str, references: Sequence[str]) -> dict[str, float]:
    """One item's scores: sentence BLEU and chrF, ROUGE F-measures, exact match, lengths."""
    refs = list(references)
    rouge = _rouge().score_multi(refs, output)
    stripped = output.strip()
    return {
        "bleu": float(_bleu(sentence=True).sentence_score(output, refs).score),
        "chrf": float(_chrf().sentence_score(output, refs).score),
        **{key: float(rouge[key].fmeasure) for key in ROUGE_TYPES},
        "exact_match": 1.0 if any(stripped == r.strip() for r in refs) else 0.0,
        "words": float(len(output.split())),
        "characters": float(len(output)),
    }


def corpus_scores(
    outputs: Sequence[str],
    references: Sequence[Sequence[str]],
    items: Sequence[Mapping[str, float]],
    speeds: Sequence[Mapping[str, float]] = (),
) -> dict[str, float]:
    """A run's scores: corpus BLEU and chrF over all `outputs`, and the means of the items'
    other scores (`items`, as item_scores gives them) and of their `speeds` (tokens_per_s, ttft_ms)."""
    if not outputs:
        return {}
    streams = reference_streams(references)
    scores = {
        "bleu": float(_bleu().corpus_score(list(outputs), streams).score),
        "chrf": float(_chrf().corpus_score(list(outputs), streams).score),
    }
    for key in ITEM_SCORES:
        if key not in scores:
            scores[key] = float(np.mean([s[key] for s in items]))
    for key in ("tokens_per_s", "ttft_ms"):
        values = [s[key] for s in speeds if s.get(key) is not None]
        if values:
            scores[key] = float(np.mean(values))
    return scores


def metric_info(references: Sequence[Sequence[str]]) -> dict[str, Any]:
    """What a report states so that its numbers can be reproduced: the libraries' versions,
    sacrebleu's signatures (for these references) and how ROUGE tokenises."""
    import sacrebleu

    streams = reference_streams(references)
    signatures: dict[str, str] = {}
    for key, metric in (("bleu", _bleu()), ("chrf", _chrf()), ("bleu_sentence", _bleu(sentence=True))):
        hypotheses = [refs[0] for refs in references] or [""]
        metric.corpus_score(hypotheses, streams or [[""]])  # the signature knows nrefs once references are read
        signatures[key] = str(metric.get_signature().format())
    return {
        "sacrebleu": str(sacrebleu.__version__),
        "rouge_score": _version("rouge-score"),
        "nltk": _version("nltk"),
        "signatures": signatures,
        "rouge": (
            f"rouge-score RougeScorer({list(ROUGE_TYPES)}, use_stemmer={USE_STEMMER}) with its default tokenizer "
            "(lower-cased; only a-z and 0-9 are kept, so text in other scripts scores 0); F-measure; "
            "several references: the best per item and ROUGE type (score_multi); the run's score is the mean of the items'"
        ),
        "bleu_chrf": "the run's BLEU and chrF are sacrebleu corpus scores; each item's are sacrebleu sentence scores",
        "exact_match": "the output equals a reference after stripping whitespace at both ends",
        "lengths": "words: whitespace-separated; characters: Unicode code points",
    }


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


class CorpusStatistics:
    """sacrebleu's per-item statistics for corpus BLEU and chrF, read once, so that the score
    of any resample of the items (a paired bootstrap's) is a sum and one formula, exactly
    as sacrebleu's own significance tests compute it."""

    KEYS = ("bleu", "chrf")

    def __init__(self, outputs: Sequence[str], references: Sequence[Sequence[str]]) -> None:
        streams = reference_streams(references)
        self._metrics = {"bleu": _bleu(), "chrf": _chrf()}
        self._stats = {
            key: np.asarray(metric._extract_corpus_statistics(list(outputs), streams), dtype=np.float64)
            for key, metric in self._metrics.items()
        }

    def score(self, key: str, indices: np.ndarray[Any, np.dtype[np.intp]]) -> float:
        """The corpus score of the items at `indices` (repeats count again)."""
        summed = self._stats[key][indices].sum(axis=0)
        return float(self._metrics[key]._compute_score_from_stats(summed).score)
