"""Evaluation runs and results: the migration, one transaction per item, finding a run to resume."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.store import Store, open_store
from desktop_app.store.evaluations import EvalResult
from desktop_app.store.migrations import MIGRATIONS, m006_evaluation
from desktop_app.store.words import register

RUN_COLUMNS = {
    "n", "id", "name", "created", "updated", "dataset_path", "dataset_sha256", "item_count", "model_id", "provider",
    "quantization", "seed", "settings", "status", "corpus_scores", "metric_info", "owner",
}  # fmt: skip
RESULT_COLUMNS = {
    "n", "run_id", "item_id", "ord", "item", "output", "scores", "generated_tokens", "tokens_per_s", "ttft_ms",
    "finish_reason", "error", "created",
}  # fmt: skip
SETTINGS = {"temperature": 0.0, "seed": 0, "max_new_tokens": 256, "stop_sequences": []}


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def new_run(store: Store, sha: str = "abc", settings: dict[str, object] | None = None, model: str = "tiny"):  # type: ignore[no-untyped-def]
    return store.evaluations.create_run(
        dataset_path="/sets/basics.jsonl",
        dataset_sha256=sha,
        item_count=3,
        model_id=model,
        provider="cpu",
        quantization="q4",
        seed=0,
        settings=settings or SETTINGS,
    )


def result(item_id: str, order: int, output: str = "out") -> EvalResult:
    return EvalResult(
        item_id,
        order,
        {"id": item_id, "prompt": "p", "references": ["r"]},
        output,
        {"bleu": 12.5},
        4,
        20.0,
        15.0,
        "length",
    )


def test_a_new_database_has_the_evaluation_tables(store: Store) -> None:
    assert columns(store.conn, "eval_runs") == RUN_COLUMNS
    assert columns(store.conn, "eval_results") == RESULT_COLUMNS
    assert m006_evaluation in MIGRATIONS and MIGRATIONS.index(m006_evaluation) == 5


def test_a_database_before_m006_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    conn = sqlite3.connect(path, isolation_level=None)
    register(conn)
    conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for migration in MIGRATIONS[: MIGRATIONS.index(m006_evaluation)]:
        migration(conn)
        conn.execute("INSERT INTO schema_migrations VALUES (?, '2026-01-01T00:00:00Z')", (migration.__name__,))
    conn.execute("INSERT INTO conversations (id, title, created, updated) VALUES ('c1', 'Kept', '2026', '2026')")
    conn.close()
    store = open_store(path)
    try:
        assert columns(store.conn, "eval_runs") == RUN_COLUMNS and store.conversations.get("c1").title == "Kept"
        assert new_run(store).status == "running"
    finally:
        store.close()


def test_results_are_kept_one_per_item_in_the_data_sets_order(store: Store) -> None:
    run = new_run(store)
    assert (run.items_done, run.model_id, run.settings, run.seed) == (0, "tiny", SETTINGS, 0)
    store.evaluations.add_result(run.id, result("second", 1))
    store.evaluations.add_result(run.id, result("first", 0, "hello"))
    store.evaluations.add_result(run.id, result("first", 0, "again"))  # a result already there stays
    results = store.evaluations.results(run.id)
    assert [(r.item_id, r.output) for r in results] == [("first", "hello"), ("second", "out")]
    assert results[0].scores == {"bleu": 12.5} and results[0].item["references"] == ["r"]
    assert (results[0].tokens_per_s, results[0].ttft_ms, results[0].finish_reason) == (20.0, 15.0, "length")
    assert store.evaluations.done_items(run.id) == {"first", "second"}
    assert store.evaluations.get(run.id).items_done == 2


def test_a_result_is_committed_on_its_own(store: Store, tmp_path: Path) -> None:
    run = new_run(store)
    store.evaluations.add_result(run.id, result("one", 0))
    with sqlite3.connect(store.path) as other:  # another connection sees it at once
        assert other.execute("SELECT item_id FROM eval_results").fetchall() == [("one",)]
    other.close()
    assert not store.conn.in_transaction


def test_status_scores_and_the_run_of_the_same_identity(store: Store) -> None:
    run = new_run(store)

    def finder(sha: str, count: int, model: str, variant: str, settings: dict, provider: str = "cpu"):  # type: ignore[no-untyped-def,type-arg]
        return store.evaluations.find_matching(sha, count, model, variant, settings, provider)

    assert finder("abc", 3, "tiny", "q4", dict(reversed(list(SETTINGS.items())))).id == run.id  # key order is no matter
    assert finder("abc", 3, "tiny", "q4", {**SETTINGS, "num_beams": 4}) is None
    assert finder("other", 3, "tiny", "q4", SETTINGS) is None
    assert finder("abc", 2, "tiny", "q4", SETTINGS) is None
    assert finder("abc", 3, "tiny", "fp16", SETTINGS) is None
    assert finder("abc", 3, "tiny", "q4", SETTINGS, provider="cuda") is None
    store.evaluations.set_status(run.id, "interrupted")
    assert finder("abc", 3, "tiny", "q4", SETTINGS).id == run.id
    store.evaluations.set_status(run.id, "finished", {"bleu": 30.0}, {"sacrebleu": "2"})
    done = store.evaluations.get(run.id)
    assert (done.status, done.corpus_scores, done.metric_info) == ("finished", {"bleu": 30.0}, {"sacrebleu": "2"})
    assert finder("abc", 3, "tiny", "q4", SETTINGS).id == run.id  # finished: reused as it is
    later = new_run(store)
    assert finder("abc", 3, "tiny", "q4", SETTINGS).id == later.id  # an unfinished one goes first
    with pytest.raises(ValueError):
        store.evaluations.set_status(run.id, "paused")
    with pytest.raises(ValueError):  # running is claim()'s, which takes the owner too
        store.evaluations.set_status(run.id, "running")


def test_runs_are_found_by_id_or_its_start_and_listed_newest_first(store: Store) -> None:
    first, second = new_run(store), new_run(store, model="other")
    assert [r.id for r in store.evaluations.runs()] == [second.id, first.id]
    assert store.evaluations.get(second.id[-26:]).id == second.id
    common = next(k for k in range(1, 27) if first.id[:k] != second.id[:k]) - 1
    assert store.evaluations.get(first.id[: common + 1].lower()).id == first.id
    with pytest.raises(UserError, match="is the start of 2"):
        store.evaluations.get(first.id[:common])
    with pytest.raises(UserError, match="There is no evaluation run nope"):
        store.evaluations.get("nope")
    with pytest.raises(UserError, match="There is no evaluation run"):
        store.evaluations.get("%")


def test_deleting_a_run_deletes_its_results(store: Store) -> None:
    run = new_run(store)
    store.evaluations.add_result(run.id, result("one", 0))
    store.evaluations.delete(run.id)
    assert store.evaluations.runs() == [] and store.query("SELECT * FROM eval_results") == []
