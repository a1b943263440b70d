"""The paired bootstrap: no difference is an interval at 0; a clear one excludes 0; a seed repeats."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.evaluation.bootstrap import paired_bootstrap, resample_indices
from desktop_app.evaluation.metrics import CorpusStatistics, item_scores

REFERENCES = [[f"The order number {n} was sent to you on Monday and arrives on Friday."] for n in range(20)]
GOOD = [r[0] for r in REFERENCES]
POOR = [f"Order {n} is somewhere." for n in range(20)]


def run(outputs: list[str]) -> tuple[list[dict[str, float]], CorpusStatistics]:
    return [item_scores(o, r) for o, r in zip(outputs, REFERENCES, strict=True)], CorpusStatistics(outputs, REFERENCES)


def test_identical_runs_differ_by_exactly_zero() -> None:
    scores, corpus = run(POOR)
    found = paired_bootstrap(scores, scores, ["bleu", "chrf", "rougeL", "words"], corpus, corpus, resamples=200)
    assert [d.metric for d in found] == ["bleu", "chrf", "rougeL", "words"]
    for d in found:
        assert (d.difference, d.low, d.high, d.mean, d.b_wins) == (0.0, 0.0, 0.0, 0.0, 0.0)
        assert not d.excludes_zero and d.resamples == 200


def test_a_clearly_better_system_gets_an_interval_above_zero() -> None:
    poor, poor_corpus = run(POOR)
    good, good_corpus = run(GOOD[:10] + POOR[10:15] + GOOD[15:])
    found = {d.metric: d for d in paired_bootstrap(poor, good, ["bleu", "chrf", "rouge1"], poor_corpus, good_corpus)}
    for d in found.values():
        assert d.excludes_zero and 0 < d.low <= d.difference <= d.high and d.b_wins > 0.95
    assert found["bleu"].b == pytest.approx(good_corpus.score("bleu", np.arange(20)))
    # the other way round, the interval is below zero
    [reverse] = paired_bootstrap(good, poor, ["rouge1"])
    assert reverse.high < 0 and reverse.b_wins == 0.0


def test_lower_is_better_counts_wins_the_other_way() -> None:
    a = [{"ttft_ms": 100.0 + i} for i in range(10)]
    b = [{"ttft_ms": 50.0 + i} for i in range(10)]
    [d] = paired_bootstrap(a, b, ["ttft_ms"], lower_is_better=["ttft_ms"], resamples=100)
    assert d.difference == -50.0 and d.b_wins == 1.0 and d.excludes_zero


def test_the_same_seed_gives_the_same_interval_and_another_seed_another() -> None:
    poor, _ = run(POOR)
    mixed, _ = run(GOOD[:7] + POOR[7:])
    first = paired_bootstrap(poor, mixed, ["rougeL"], resamples=300, seed=7)
    again = paired_bootstrap(poor, mixed, ["rougeL"], resamples=300, seed=7)
    other = paired_bootstrap(poor, mixed, ["rougeL"], resamples=300, seed=8)
    assert first == again
    assert (first[0].low, first[0].high) != (other[0].low, other[0].high)
    assert np.array_equal(resample_indices(5, 3, 1), resample_indices(5, 3, 1))
    assert resample_indices(5, 3, 1).shape == (3, 5)


def test_unpaired_scores_are_refused() -> None:
    with pytest.raises(ValueError):
        paired_bootstrap([{"bleu": 1.0}], [], ["bleu"])
