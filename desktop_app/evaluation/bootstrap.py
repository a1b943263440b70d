"""Is B better than A, or is the difference noise? A paired bootstrap over the items.

Both runs answered the same items, so each resample draws item indices (with repeats,
from a seeded numpy Generator) and scores A and B on the same draw: corpus BLEU and chrF
are computed again from the drawn items' statistics, the other scores are means of the
drawn items'. The spread of B − A over the resamples gives a 95% interval (the 2.5th and
97.5th percentiles) and the share of resamples in which B beats A (Koehn 2004).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 12345  # sacrebleu's own bootstrap seed
LEVEL = 0.95


@dataclass(frozen=True)
class Difference:
    """B − A on one score: on all items, and over the resamples."""

    metric: str
    a: float
    b: float
    difference: float  # B − A on all the items
    mean: float  # the mean of B − A over the resamples
    low: float  # the 95% interval of B − A
    high: float
    b_wins: float  # the share of resamples where B scores better than A (lower is better for ttft_ms)
    resamples: int

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"excludes_zero": self.excludes_zero}


def resample_indices(items: int, resamples: int, seed: int) -> np.ndarray[Any, np.dtype[np.intp]]:
    """`resamples` rows of `items` item indices drawn with replacement; the same seed, the same rows."""
    if items < 1 or resamples < 1:
        raise ValueError("a bootstrap needs at least one item and one resample")
    rng = np.random.default_rng(seed)
    return rng.integers(0, items, size=(resamples, items)).astype(np.intp)


def difference(
    metric: str,
    a: float,
    b: float,
    resampled_a: np.ndarray[Any, np.dtype[np.float64]],
    resampled_b: np.ndarray[Any, np.dtype[np.float64]],
    higher_is_better: bool = True,
) -> Difference:
    deltas = resampled_b - resampled_a
    low, high = np.percentile(deltas, [100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2])
    wins = deltas > 0 if higher_is_better else deltas < 0
    return Difference(
        metric=metric,
        a=a,
        b=b,
        difference=b - a,
        mean=float(deltas.mean()),
        low=float(low),
        high=float(high),
        b_wins=float(wins.mean()),
        resamples=len(deltas),
    )


def mean_difference(
    metric: str,
    a: Sequence[float],
    b: Sequence[float],
    indices: np.ndarray[Any, np.dtype[np.intp]],
    higher_is_better: bool = True,
) -> Difference:
    """B − A of the mean of a per-item score, item i of `a` paired with item i of `b`."""
    values_a, values_b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if values_a.shape != values_b.shape:
        raise ValueError("paired scores need the same items on both sides")
    return difference(
        metric,
        float(values_a.mean()),
        float(values_b.mean()),
        values_a[indices].mean(axis=1),
        values_b[indices].mean(axis=1),
        higher_is_better,
    )


def paired_bootstrap(
    a: Sequence[Mapping[str, float]],
    b: Sequence[Mapping[str, float]],
    metrics: Sequence[str],
    corpus_a: Any = None,
    corpus_b: Any = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    lower_is_better: Sequence[str] = (),
) -> list[Difference]:
    """B − A for each of `metrics`, from the items' scores `a` and `b` (item i of each is the
    same item). A metric that `corpus_a` and `corpus_b` (metrics.CorpusStatistics) score is
    scored as a corpus on each resample; the others are means of the items' scores."""
    if len(a) != len(b):
        raise ValueError("paired scores need the same items on both sides")
    indices = resample_indices(len(a), resamples, seed)
    everything = np.arange(len(a), dtype=np.intp)
    found = []
    for metric in metrics:
        better_high = metric not in lower_is_better
        if corpus_a is not None and corpus_b is not None and metric in corpus_a.KEYS:
            found.append(
                difference(
                    metric,
                    corpus_a.score(metric, everything),
                    corpus_b.score(metric, everything),
                    np.array([corpus_a.score(metric, row) for row in indices]),
                    np.array([corpus_b.score(metric, row) for row in indices]),
                    better_high,
                )
            )
        elif all(metric in s for s in a) and all(metric in s for s in b):
            found.append(mean_difference(metric, [s[metric] for s in a], [s[metric] for s in b], indices, better_high))
    return found
