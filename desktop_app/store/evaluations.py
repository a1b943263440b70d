"""Evaluation runs (`inkwell eval`) and their items' results.

A run is known by what makes its outputs comparable: the data set's sha256 and item
count, the model, its variant and the generation settings. Each item's result is written
in a transaction of its own as soon as it is done, so an interruption loses at most the
item in progress, and the run resumes after the items it has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.store.ids import new_id, now_iso

if TYPE_CHECKING:
    from desktop_app.store.db import Store

STATUSES = ("running", "finished", "interrupted")
RUN_FIELDS = (
    "id, name, created, updated, dataset_path, dataset_sha256, item_count, model_id, provider, quantization, seed, "
    "settings, status, corpus_scores, metric_info"
)
RESULT_FIELDS = (
    "run_id, item_id, ord, item, output, scores, generated_tokens, tokens_per_s, ttft_ms, finish_reason, error, created"
)


@dataclass(frozen=True)
class EvalRun:
    id: str
    name: str
    created: str
    updated: str
    dataset_path: str
    dataset_sha256: str
    item_count: int
    model_id: str
    provider: str
    quantization: str
    seed: int | None
    settings: dict[str, Any]
    status: str
    corpus_scores: dict[str, float] = field(default_factory=dict)
    metric_info: dict[str, Any] = field(default_factory=dict)
    items_done: int = 0

    @property
    def label(self) -> str:
        return self.name or f"{self.model_id} {self.quantization}".strip()


@dataclass(frozen=True)
class EvalResult:
    item_id: str
    ord: int  # the item's place in the data set
    item: dict[str, Any]  # the item as the run saw it (datasets.EvalItem.as_dict())
    output: str
    scores: dict[str, float]
    generated_tokens: int | None = None
    tokens_per_s: float | None = None
    ttft_ms: float | None = None
    finish_reason: str = ""
    error: str = ""  # why the item has no output (a prompt too long for the model, say)
    run_id: str = ""
    created: str = ""


def settings_json(settings: Mapping[str, Any]) -> str:
    """The settings as stored and matched: keys sorted, so equal settings are equal text."""
    return json.dumps(dict(settings), sort_keys=True)


def _run(row: Mapping[str, Any]) -> EvalRun:
    values = dict(row)
    for key in ("settings", "corpus_scores", "metric_info"):
        values[key] = json.loads(values[key] or "{}")
    return EvalRun(**values)


def _result(row: Mapping[str, Any]) -> EvalResult:
    values = dict(row)
    values["item"] = json.loads(values["item"] or "{}")
    values["scores"] = json.loads(values["scores"] or "{}")
    values["finish_reason"] = values["finish_reason"] or ""
    return EvalResult(**values)


class EvaluationRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create_run(
        self,
        *,
        dataset_path: str,
        dataset_sha256: str,
        item_count: int,
        model_id: str,
        settings: Mapping[str, Any],
        provider: str = "",
        quantization: str = "",
        seed: int | None = None,
        name: str = "",
    ) -> EvalRun:
        run_id, now = new_id(), now_iso()
        with self.store.transaction():
            self.store.conn.execute(
                "INSERT INTO eval_runs (id, name, created, updated, dataset_path, dataset_sha256, item_count, "
                "model_id, provider, quantization, seed, settings, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    name,
                    now,
                    now,
                    dataset_path,
                    dataset_sha256,
                    item_count,
                    model_id,
                    provider,
                    quantization,
                    seed,
                    settings_json(settings),
                    self.store.owner_token,
                ),
            )
        return self.get(run_id)

    def _select(self, where: str, params: Any = ()) -> list[EvalRun]:
        rows = self.store.query(
            f"SELECT {', '.join('r.' + f.strip() for f in RUN_FIELDS.split(','))}, "
            "(SELECT count(*) FROM eval_results WHERE run_id = r.id) AS items_done "
            f"FROM eval_runs r {where}",
            params,
        )
        return [_run(row) for row in rows]

    def get(self, run_id: str) -> EvalRun:
        """The run of this id, or of the only id that starts with it (ids are long)."""
        found = self._select("WHERE r.id = ?", (run_id,))
        if not found and run_id.strip():
            found = self._select("WHERE r.id LIKE ? ESCAPE '\\' ORDER BY r.id", (_prefix_pattern(run_id),))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise UserError(
                translate("Errors", "{run} is the start of {count} evaluation runs' ids.").format(
                    run=run_id, count=len(found)
                ),
                hint=translate("Errors", "Give more of the id (see: inkwell eval list)."),
            )
        raise UserError(
            translate("Errors", "There is no evaluation run {run}.").format(run=run_id),
            hint=translate("Errors", "See the runs with: inkwell eval list"),
        )

    def runs(self) -> list[EvalRun]:
        """Every run, newest first."""
        return self._select("ORDER BY r.id DESC")

    def find_matching(
        self,
        dataset_sha256: str,
        item_count: int,
        model_id: str,
        quantization: str,
        settings: Mapping[str, Any],
        provider: str,
    ) -> EvalRun | None:
        """The newest run of exactly this data set, model, variant, settings and provider,
        one that did not finish first (a finished one has nothing left to do)."""
        found = self._select(
            "WHERE r.dataset_sha256 = ? AND r.item_count = ? AND r.model_id = ? AND r.quantization = ? "
            "AND r.settings = ? AND r.provider = ? ORDER BY r.status = 'finished', r.id DESC LIMIT 1",
            (dataset_sha256, item_count, model_id, quantization, settings_json(settings), provider),
        )
        return found[0] if found else None

    def add_result(self, run_id: str, result: EvalResult) -> None:
        """Keep one item's result, in its own transaction (a result already there stays)."""
        with self.store.transaction():
            self.store.conn.execute(
                f"INSERT INTO eval_results ({RESULT_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (run_id, item_id) DO NOTHING",
                (
                    run_id,
                    result.item_id,
                    result.ord,
                    json.dumps(result.item, ensure_ascii=False),
                    result.output,
                    json.dumps(result.scores),
                    result.generated_tokens,
                    result.tokens_per_s,
                    result.ttft_ms,
                    result.finish_reason or None,
                    result.error,
                    result.created or now_iso(),
                ),
            )
            self.store.conn.execute("UPDATE eval_runs SET updated = ? WHERE id = ?", (now_iso(), run_id))

    def results(self, run_id: str) -> list[EvalResult]:
        """The run's results in the data set's order."""
        rows = self.store.query(f"SELECT {RESULT_FIELDS} FROM eval_results WHERE run_id = ? ORDER BY ord", (run_id,))
        return [_result(row) for row in rows]

    def done_items(self, run_id: str) -> set[str]:
        rows = self.store.conn.execute("SELECT item_id FROM eval_results WHERE run_id = ?", (run_id,))
        return {row[0] for row in rows}

    def set_status(
        self,
        run_id: str,
        status: str,
        corpus_scores: Mapping[str, float] | None = None,
        metric_info: Mapping[str, Any] | None = None,
    ) -> None:
        """A run finished or interrupted (claim() is what makes one running: it takes its owner too)."""
        if status not in STATUSES or status == "running":
            raise ValueError(f"not a status to set: {status!r}")
        assignments, params = ["status = ?", "updated = ?"], [status, now_iso()]
        for column, value in (("corpus_scores", corpus_scores), ("metric_info", metric_info)):
            if value is not None:
                assignments.append(f"{column} = ?")
                params.append(json.dumps(dict(value)))
        with self.store.transaction():
            self.store.conn.execute(f"UPDATE eval_runs SET {', '.join(assignments)} WHERE id = ?", (*params, run_id))

    def claim(self, run_id: str) -> bool:
        """Make the run this store's to run now (status running, its owner this store's), in
        one write transaction, so two processes cannot both take it; False, and nothing
        changed, while another open store is running it."""
        with self.store.transaction():
            row = self.store.conn.execute("SELECT status, owner FROM eval_runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                return False
            mine = self.store.owner_token
            if row[0] == "running" and row[1] is not None and row[1] != mine and self.store.alive(row[1]):
                return False
            self.store.conn.execute(
                "UPDATE eval_runs SET status = 'running', owner = ?, updated = ? WHERE id = ?",
                (mine, now_iso(), run_id),
            )
        return True

    def recover_interrupted(self) -> int:
        """Runs left running by a process that died (or closed its store) are marked
        interrupted: they keep their results and resume after them. Runs of a store still
        open elsewhere are left running."""
        return self.store.interrupt_orphans("eval_runs", "running", "status = 'interrupted'")

    def delete(self, run_id: str) -> None:
        """Forget a run and its results."""
        with self.store.transaction():
            self.store.conn.execute("DELETE FROM eval_runs WHERE id = ?", (run_id,))


def _prefix_pattern(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"
