"""Sampling rules checked against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine.sampling import (
    Sampler,
    apply_presence_frequency_penalties,
    apply_repetition_penalty,
    banned_ngram_tokens,
    filtered_probabilities,
)


def settings(**overrides: object) -> GenerationSettings:
    base = dict(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, repetition_penalty=1.0)
    base.update(overrides)
    return GenerationSettings(**base)  # type: ignore[arg-type]


def test_repetition_penalty_divides_positive_and_multiplies_negative_logits() -> None:
    logits = np.array([2.0, -1.0, 0.5], dtype=np.float32)
    apply_repetition_penalty(logits, [0, 1, 0], penalty=2.0, window=0)
    assert logits.tolist() == [1.0, -2.0, 0.5]


def test_repetition_penalty_only_looks_at_the_window() -> None:
    logits = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    apply_repetition_penalty(logits, [0, 1, 2], penalty=2.0, window=1)
    assert logits.tolist() == [2.0, 2.0, 1.0]


@pytest.mark.parametrize(
    ("history", "n", "expected"),
    [
        ([1, 2, 3, 1, 2], 3, {3}),
        ([1, 2, 3, 1, 2], 2, {3}),
        ([1, 2, 3, 4], 3, set()),
        ([5, 6, 5], 1, {5, 6}),
        ([1, 2, 1, 3, 1], 2, {2, 3}),
        ([1], 2, set()),
    ],
)
def test_banned_ngrams(history: list[int], n: int, expected: set[int]) -> None:
    assert banned_ngram_tokens(history, n) == expected


def test_top_k_keeps_the_k_largest_with_softmax_weights() -> None:
    ids, probs = filtered_probabilities(np.array([1.0, 3.0, 2.0, 0.0]), settings(top_k=2))
    assert ids.tolist() == [1, 2]
    expected = np.exp([3.0, 2.0]) / np.exp([3.0, 2.0]).sum()
    np.testing.assert_allclose(probs, expected)


def test_top_p_keeps_the_smallest_set_reaching_p() -> None:
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    ids, probs = filtered_probabilities(logits, settings(top_p=0.8))
    assert ids.tolist() == [0, 1]
    np.testing.assert_allclose(probs, [0.625, 0.375])
    ids, _ = filtered_probabilities(logits, settings(top_p=0.81))
    assert ids.tolist() == [0, 1, 2]


def test_top_p_always_keeps_one_token() -> None:
    ids, probs = filtered_probabilities(np.log(np.array([0.9, 0.1])), settings(top_p=0.01))
    assert ids.tolist() == [0] and probs.tolist() == [1.0]


def test_min_p_drops_tokens_below_a_fraction_of_the_best() -> None:
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    ids, probs = filtered_probabilities(logits, settings(min_p=0.2))  # threshold 0.1
    assert ids.tolist() == [0, 1, 2]
    np.testing.assert_allclose(probs, np.array([0.5, 0.3, 0.15]) / 0.95)


def test_temperature_scales_logits() -> None:
    logits = np.array([0.0, np.log(4.0)])  # probabilities 1/5 and 4/5 at temperature 1
    _, probs = filtered_probabilities(logits, settings(temperature=2.0))
    np.testing.assert_allclose(sorted(probs), [1 / 3, 2 / 3])  # sqrt: 1:2


def test_greedy_takes_argmax_after_penalties() -> None:
    logits = np.array([1.0, 3.0, 2.9], dtype=np.float32)
    plain = Sampler(settings(temperature=0.0), seed=0)
    assert plain(logits, []) == 1
    penalised = Sampler(settings(temperature=0.0, repetition_penalty=1.2), seed=0)
    assert penalised(logits, [1]) == 2
    np.testing.assert_array_equal(logits, np.array([1.0, 3.0, 2.9], dtype=np.float32))  # caller's logits untouched


def test_no_repeat_ngram_blocks_a_repeat_in_greedy_mode() -> None:
    sampler = Sampler(settings(temperature=0.0, no_repeat_ngram_size=2), seed=0)
    logits = np.array([0.0, 0.0, 5.0, 1.0], dtype=np.float32)
    assert sampler(logits, [1, 2, 1]) == 3  # "1 2" already happened: 2 is banned after 1


def test_same_seed_same_choices_and_frequencies_follow_probabilities() -> None:
    logits = np.log(np.array([0.7, 0.3]))
    draws = [Sampler(settings(), seed=42) for _ in range(2)]
    first = [draws[0](logits, []) for _ in range(2000)]
    second = [draws[1](logits, []) for _ in range(2000)]
    assert first == second
    share = first.count(0) / len(first)
    assert 0.66 < share < 0.74
    other = Sampler(settings(), seed=43)
    assert [other(logits, []) for _ in range(2000)] != first


def test_invalid_settings_are_user_errors() -> None:
    from desktop_app.core.errors import UserError

    with pytest.raises(UserError, match="top-p"):
        GenerationSettings(top_p=0)
    with pytest.raises(UserError, match="temperature"):
        GenerationSettings(temperature=-1)


def test_presence_and_frequency_penalties_follow_openai_over_the_reply_only() -> None:
    logits = np.zeros(6, dtype=np.float32)
    counts = {1: 1, 2: 3}
    apply_presence_frequency_penalties(logits, counts, presence=0.5, frequency=0.25)
    assert logits.tolist() == pytest.approx([0, -0.75, -1.25, 0, 0, 0])
    negative = np.zeros(3, dtype=np.float32)
    apply_presence_frequency_penalties(negative, {0: 2}, presence=-1.0, frequency=-0.5)  # negatives favour repeats
    assert negative.tolist() == pytest.approx([2.0, 0, 0])


def test_the_sampler_penalises_reply_tokens_and_leaves_the_prompt_alone() -> None:
    # Token 0 leads by 1.0; the prompt repeats it (no effect), the reply has it once.
    logits = np.array([3.0, 2.0, 0.0], dtype=np.float32)
    settings = GenerationSettings(temperature=0, repetition_penalty=1.0, presence_penalty=0.6, frequency_penalty=0.6)
    sampler = Sampler(settings, seed=0, prompt_length=4)
    assert sampler(logits, [0, 0, 0, 0]) == 0  # nothing generated yet: no penalty
    assert sampler(logits, [0, 0, 0, 0, 0]) == 1  # 3 - (0.6 + 0.6) < 2
    assert sampler(logits, [0, 0, 0, 0, 0, 1, 1]) == 0  # token 1 twice: 2 - 1.8 = 0.2 < 3 - 1.2
    unpenalised = Sampler(GenerationSettings(temperature=0, repetition_penalty=1.0), seed=0, prompt_length=4)
    assert unpenalised(logits, [0, 0, 0, 0, 0, 0]) == 0


def test_penalties_outside_openai_range_are_refused() -> None:
    for field in ("presence_penalty", "frequency_penalty"):
        with pytest.raises(UserError, match="between -2 and 2"):
            GenerationSettings(**{field: 2.5})
