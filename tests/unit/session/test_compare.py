"""Compare mode's logic without Qt: the blind order, the requests, the ratings, the export."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationSettings, GenerationStats
from desktop_app.session.compare import (
    PRESETS,
    Contestant,
    bradley_terry,
    contestant_settings,
    draw_order,
    export_votes,
    games,
    new_round,
    preset_settings,
    prompt_from_message,
    rate,
    read_votes_csv,
    read_votes_json,
    settings_label,
    votes_csv,
    votes_json,
)
from desktop_app.store import Store
from desktop_app.store.votes import Comparison, ContestantRecord

BASE = GenerationSettings(temperature=0.7, max_new_tokens=64)
GREEDY = Contestant("", contestant_settings(BASE, 0.0))
WARM = Contestant("other:q8", contestant_settings(BASE, 0.9))


def voted(label_a: str, label_b: str, vote: str, text: str = "answer") -> Comparison:
    return Comparison(
        id="",
        created="",
        prompt="p",
        system_prompt="",
        source_message_id=None,
        a=ContestantRecord("m", "q4", "cpu", {}, label_a),
        b=ContestantRecord("m", "q4", "cpu", {}, label_b),
        output_a=text,
        output_b=text,
        vote=vote,
    )


def test_the_blind_order_is_random_reproducible_and_recorded() -> None:
    draws = [draw_order(seed) for seed in range(2000)]  # a fixed sequence of seeds
    first_left = sum(d.first_is_a for d in draws)
    assert 900 <= first_left <= 1100  # both orders, in about equal share
    assert draw_order(42) == draw_order(42)
    assert len({draw_order().seed for _ in range(20)}) == 20  # fresh seeds from the system
    for draw in draws[:50]:
        round_ = new_round("Why is the sky blue?", "", GREEDY, WARM, seed=draw.seed)
        shown_a = GREEDY if draw.first_is_a else WARM
        assert round_.a == shown_a and round_.b != shown_a
        assert round_.draw.shown_left == ("first" if round_.a is round_.first else "second")
        stored = round_.comparison(
            {"a": round_.a.record("m", "q4", "cpu"), "b": round_.b.record("n", "q8", "cpu")},
            {"a": "left", "b": "right"},
            {"a": None, "b": None},
        )
        assert (stored.seed, stored.draw, stored.shown_left) == (draw.seed, draw.value, draw.shown_left)
        assert stored.a.label == round_.a.record("m", "q4", "cpu").label


def test_each_side_gets_its_own_settings_and_the_system_prompt() -> None:
    beams = Contestant("", contestant_settings(BASE, 0.0, num_beams=4))
    round_ = new_round("  Summarise this.  ", " Be brief. ", GREEDY, beams, source_message_id="M1", seed=3)
    for side in ("a", "b"):
        request = round_.request(side)
        assert [(m.role, m.content) for m in request.messages] == [("system", "Be brief."), ("user", "Summarise this.")]
        assert request.settings == round_.contestant(side).settings
        assert request.settings.max_new_tokens == 64  # the app's other settings stay
    assert {round_.request(s).settings.num_beams for s in "ab"} == {1, 4}
    assert round_.source_message_id == "M1"
    assert [m.role for m in new_round("Hi", "", GREEDY, WARM).request("a").messages] == ["user"]
    with pytest.raises(UserError, match="Write a prompt"):
        new_round("   ", "", GREEDY, WARM)
    with pytest.raises(UserError, match="beams"):
        contestant_settings(BASE, 0.0, num_beams=17)


def test_presets_and_labels_name_the_decoding() -> None:
    names = [p.name for p in PRESETS]
    assert names[:2] == ["Default", "Precise (greedy)"] and "Beam search ×4" in names
    by_name = {p.name: preset_settings(BASE, p) for p in PRESETS}
    assert by_name["Default"].temperature == BASE.temperature
    assert settings_label(by_name["Default"]) == "temperature 0.7"
    assert settings_label(by_name["Precise (greedy)"]) == "greedy"
    assert settings_label(by_name["Beam search ×4"]) == "beam search x4"
    assert GREEDY.record("smollm2", "q4", "cpu").label == "smollm2 (q4) · greedy"
    record = WARM.record("other", "", "cuda")
    assert record.label == "other · temperature 0.9" and record.settings["temperature"] == 0.9


def test_a_chat_message_brings_its_question_and_the_system_prompt(store: Store) -> None:
    chat = store.conversations.create("Chat", system_prompt="You are terse.")
    question = store.conversations.add_message(chat.id, "user", "What is BLEU?")
    answer = store.conversations.add_message(chat.id, "assistant", "A score.")
    for chosen in (question, answer):
        found = prompt_from_message(store, chosen.id)
        assert (found.prompt, found.system_prompt, found.message_id) == ("What is BLEU?", "You are terse.", chosen.id)


def test_bradley_terry_is_the_maximum_of_the_likelihood() -> None:
    rng = random.Random(5)
    truth = {"x": 4.0, "y": 1.0, "z": 0.25}
    played = []
    for _ in range(300):
        i, j = rng.sample(sorted(truth), 2)
        p = truth[i] / (truth[i] + truth[j])
        u = rng.random()
        played.append((i, j, 1.0 if u < p * 0.9 else 0.5 if u < p * 0.9 + 0.1 else 0.0))
    strength = bradley_terry(played, prior=0.0)
    assert math.isclose(math.prod(strength.values()), 1.0, rel_tol=1e-9)
    for name in truth:  # the score equations of the MLE: expected wins equal actual wins
        wins = sum(s if a == name else 1 - s for a, b, s in played if name in (a, b))
        expected = sum(strength[name] / (strength[a] + strength[b]) for a, b, _ in played if name in (a, b))
        assert math.isclose(wins, expected, rel_tol=1e-6)
    assert sorted(strength, key=strength.get, reverse=True) == ["x", "y", "z"]  # type: ignore[arg-type]


def test_a_consistently_preferred_contestant_ranks_first_with_a_sane_interval() -> None:
    votes = [voted("best", "mid", "a")] * 12 + [voted("mid", "best", "b")] * 8
    votes += [voted("mid", "worst", "a")] * 15 + [voted("worst", "best", "b")] * 10
    votes += [voted("mid", "worst", "tie"), voted("best", "worst", "both_bad"), voted("m", "m", "a")]
    ratings = rate(votes, seed=1)
    assert [r.label for r in ratings] == ["best", "mid", "worst"]
    best, mid, worst = ratings
    assert (best.votes, best.wins, best.ties, best.losses) == (31, 30, 1, 0)
    assert (mid.votes, mid.wins, mid.ties, mid.losses) == (36, 15, 1, 20)
    for r in ratings:
        assert r.low <= r.score <= r.high and r.high - r.low < 2000
    assert best.low > mid.high and mid.low > worst.high  # well separated with this many votes
    assert rate(votes, seed=1) == ratings  # the bootstrap is seeded
    # Without the prior the best would be infinitely strong; with it the score is finite.
    assert math.isfinite(best.score) and best.score > 1000 > worst.score
    two = bradley_terry(games([voted("x", "y", "a")] * 10))
    assert math.isclose(two["x"] / two["y"], (10 + 0.25) / 0.25)  # each pair's virtual half-tie


def test_ties_and_both_bad_count_half_a_win_each() -> None:
    assert games([voted("x", "y", "tie"), voted("x", "y", "both_bad"), voted("x", "y", "b")]) == [
        ("x", "y", 0.5),
        ("x", "y", 0.5),
        ("x", "y", 0.0),
    ]
    even = rate([voted("x", "y", "tie")] * 4 + [voted("y", "x", "both_bad")] * 4)
    assert math.isclose(even[0].score, even[1].score) and math.isclose(even[0].score, 1000)
    assert rate([]) == []


def test_votes_export_to_json_and_csv_and_read_back_the_same(store: Store, tmp_path: Path) -> None:
    stats = GenerationStats(5, 3, 12.5, 40.0, FinishReason.STOP_TOKEN, seed=9)
    round_ = new_round('Line one,\n"quoted" 第二行', "sys, with comma", GREEDY, WARM, source_message_id="M", seed=11)
    records = {"a": round_.a.record("m", "q4", "cpu"), "b": round_.b.record("other", "q8", "cpu")}
    first = store.votes.add(round_.comparison(records, {"a": "Hi,\r\nthere", "b": "🙂 “ok”"}, {"a": stats, "b": None}))
    store.votes.vote(first.id, "a")
    second = store.votes.add(round_.comparison(records, {"a": "", "b": "x"}, {"a": None, "b": stats}))
    store.votes.vote(second.id, "both_bad")
    store.votes.add(round_.comparison(records, {"a": "never", "b": "voted"}, {"a": None, "b": None}))
    expected = store.votes.all(voted_only=True)
    assert len(expected) == 2 and expected[0].stats_a["finish_reason"] == "stop_token"
    assert read_votes_json(votes_json(expected)) == expected
    assert read_votes_csv(votes_csv(expected)) == expected
    for fmt in ("json", "csv"):
        path = tmp_path / f"votes.{fmt}"
        path.write_text("old")
        assert export_votes(store, path) == 2  # the unvoted one is left out
        read = read_votes_json if fmt == "json" else read_votes_csv
        assert read(path.read_bytes()) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "inkwell.db",
        "inkwell.db-shm",
        "inkwell.db-wal",
        "inkwell.db-writers",  # the open store's lock (store/owners.py)
        "votes.csv",
        "votes.json",
    ]
    with pytest.raises(UserError, match="JSON or CSV"):
        export_votes(store, tmp_path / "votes.xlsx")
    with pytest.raises(UserError, match="not a file of Inkwell"):
        read_votes_json(b'{"kind": "something else"}')
