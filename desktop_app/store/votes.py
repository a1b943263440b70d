"""Compare mode's record: two answers to one prompt, shown blind as A and B, and the vote.

A comparison is written once both answers are in (vote NULL), and again when the user
votes; each write is one transaction. Contestant A is the one shown on the left, so a
vote "a" names it directly; `shown_left` says which of the two contestants the user set
up ("first" or "second") the random draw put there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.store.ids import new_id, now_iso

if TYPE_CHECKING:
    from desktop_app.store.db import Store

VOTES = ("a", "b", "tie", "both_bad")
SIDES = ("first", "second")
_SIDE_FIELDS = ("model_id", "quantization", "provider", "settings", "label")
COMPARISON_FIELDS = ", ".join(
    [
        "id, created, prompt, system_prompt, source_message_id",
        *(f"{side}_{name}" for side in "ab" for name in _SIDE_FIELDS),
        "output_a, output_b, stats_a, stats_b, seed, draw, shown_left, vote, voted_at",
    ]
)


@dataclass(frozen=True)
class ContestantRecord:
    """Who answered: the model as it ran (id, weights, provider), its settings, and the
    label the ratings group by (model and settings)."""

    model_id: str
    quantization: str
    provider: str
    settings: dict[str, Any]
    label: str


@dataclass(frozen=True)
class Comparison:
    id: str
    created: str
    prompt: str
    system_prompt: str
    source_message_id: str | None
    a: ContestantRecord  # shown on the left as A
    b: ContestantRecord
    output_a: str
    output_b: str
    stats_a: dict[str, Any] = field(default_factory=dict)
    stats_b: dict[str, Any] = field(default_factory=dict)
    seed: int = 0  # the random draw's seed and value
    draw: float = 0.0
    shown_left: str = "first"  # which contestant the user set up is A: "first" or "second"
    vote: str | None = None  # "a", "b", "tie", "both_bad"; None until voted
    voted_at: str | None = None


def _row_to_comparison(row: dict[str, Any]) -> Comparison:
    def contestant(side: str) -> ContestantRecord:
        values = {name: row[f"{side}_{name}"] for name in _SIDE_FIELDS}
        values["settings"] = json.loads(values["settings"] or "{}")
        return ContestantRecord(**values)

    return Comparison(
        id=row["id"],
        created=row["created"],
        prompt=row["prompt"],
        system_prompt=row["system_prompt"],
        source_message_id=row["source_message_id"],
        a=contestant("a"),
        b=contestant("b"),
        output_a=row["output_a"],
        output_b=row["output_b"],
        stats_a=json.loads(row["stats_a"] or "{}"),
        stats_b=json.loads(row["stats_b"] or "{}"),
        seed=int(row["seed"]),
        draw=float(row["draw"]),
        shown_left=row["shown_left"],
        vote=row["vote"],
        voted_at=row["voted_at"],
    )


def check_vote(vote: str) -> str:
    if vote not in VOTES:
        raise UserError(
            translate("Errors", "A vote is one of {votes}, not “{vote}”.").format(votes=", ".join(VOTES), vote=vote)
        )
    return vote


class VoteRepository:
    """The comparisons and their votes (the `comparisons` table, migration m007)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, comparison: Comparison) -> Comparison:
        """Store a comparison as given (a new id and time when they are empty)."""
        if comparison.shown_left not in SIDES:
            raise UserError(translate("Errors", "The side shown on the left must be “first” or “second”."))
        if comparison.vote is not None:
            check_vote(comparison.vote)
        comparison_id, created = comparison.id or new_id(), comparison.created or now_iso()
        values: list[Any] = [
            comparison_id,
            created,
            comparison.prompt,
            comparison.system_prompt,
            comparison.source_message_id,
        ]
        for contestant in (comparison.a, comparison.b):
            values += [
                contestant.model_id,
                contestant.quantization,
                contestant.provider,
                json.dumps(contestant.settings, sort_keys=True),
                contestant.label,
            ]
        values += [
            comparison.output_a,
            comparison.output_b,
            json.dumps(comparison.stats_a, sort_keys=True),
            json.dumps(comparison.stats_b, sort_keys=True),
            comparison.seed,
            comparison.draw,
            comparison.shown_left,
            comparison.vote,
            comparison.voted_at,
        ]
        marks = ", ".join("?" * len(values))
        with self.store.transaction():
            self.store.conn.execute(f"INSERT INTO comparisons ({COMPARISON_FIELDS}) VALUES ({marks})", values)
        return self.get(comparison_id)

    def get(self, comparison_id: str) -> Comparison:
        rows = self.store.query(f"SELECT {COMPARISON_FIELDS} FROM comparisons WHERE id = ?", (comparison_id,))
        if not rows:
            raise UserError(
                translate("Errors", "There is no comparison {comparison_id}.").format(comparison_id=comparison_id)
            )
        return _row_to_comparison(rows[0])

    def vote(self, comparison_id: str, vote: str) -> Comparison:
        """Record the user's vote (a later vote replaces it)."""
        check_vote(vote)
        with self.store.transaction():
            cursor = self.store.conn.execute(
                "UPDATE comparisons SET vote = ?, voted_at = ? WHERE id = ?", (vote, now_iso(), comparison_id)
            )
        if cursor.rowcount == 0:
            self.get(comparison_id)  # says there is none
        return self.get(comparison_id)

    def all(self, voted_only: bool = False) -> list[Comparison]:
        """Oldest first; with `voted_only`, those with a vote."""
        where = "WHERE vote IS NOT NULL" if voted_only else ""
        rows = self.store.query(f"SELECT {COMPARISON_FIELDS} FROM comparisons {where} ORDER BY created, n")
        return [_row_to_comparison(row) for row in rows]

    def delete(self, comparison_id: str) -> None:
        with self.store.transaction():
            self.store.conn.execute("DELETE FROM comparisons WHERE id = ?", (comparison_id,))
