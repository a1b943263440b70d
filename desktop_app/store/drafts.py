"""Drafts for the writing mode, with a bounded revision history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.records import Draft, DraftRevision
from desktop_app.store.ids import new_id, now_iso, parse_iso, trash_cutoff

if TYPE_CHECKING:
    from desktop_app.store.db import Store

# A new revision at most this often while someone types, and at most this many a draft.
REVISION_INTERVAL_S = 10.0
MAX_REVISIONS = 200
DRAFT_FIELDS = "id, title, body, created, updated, deleted_at"


class DraftRepository:
    def __init__(self, store: Store, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def create(self, title: str = "", body: str = "") -> Draft:
        draft_id, now = new_id(), now_iso()
        with self.store.transaction():
            self.store.conn.execute(
                "INSERT INTO drafts (id, title, body, created, updated) VALUES (?, ?, ?, ?, ?)",
                (draft_id, title or "Untitled draft", body, now, now),
            )
        return self.get(draft_id)

    def get(self, draft_id: str) -> Draft:
        rows = self.store.query(f"SELECT {DRAFT_FIELDS} FROM drafts WHERE id = ?", (draft_id,))
        if not rows:
            raise UserError(translate("Errors", "There is no draft {draft_id}.").format(draft_id=draft_id))
        return Draft(**rows[0])

    def all(self) -> list[Draft]:
        rows = self.store.query(f"SELECT {DRAFT_FIELDS} FROM drafts WHERE deleted_at IS NULL ORDER BY updated DESC")
        return [Draft(**r) for r in rows]

    def trash(self) -> list[Draft]:
        rows = self.store.query(
            f"SELECT {DRAFT_FIELDS} FROM drafts WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC"
        )
        return [Draft(**r) for r in rows]

    def save(self, draft_id: str, body: str | None = None, title: str | None = None) -> Draft:
        """Store the new text; keep a revision of the previous one if the last is old enough."""
        current = self.get(draft_id)
        values: dict[str, Any] = {}
        if body is not None and body != current.body:
            values["body"] = body
        if title is not None and title.strip() and title != current.title:
            values["title"] = " ".join(title.split())
        if not values:
            return current
        with self.store.transaction():
            if self._revision_due(draft_id):
                self._add_revision(current)
            values["updated"] = now_iso()
            columns = ", ".join(f"{k} = ?" for k in values)
            self.store.conn.execute(f"UPDATE drafts SET {columns} WHERE id = ?", (*values.values(), draft_id))
        return self.get(draft_id)

    def rename(self, draft_id: str, title: str) -> Draft:
        if not title.strip():
            raise UserError(translate("Errors", "A draft's title cannot be empty."))
        return self.save(draft_id, title=title)

    def _revision_due(self, draft_id: str) -> bool:
        row = self.store.conn.execute(
            "SELECT max(created) FROM draft_revisions WHERE draft_id = ?", (draft_id,)
        ).fetchone()
        if row[0] is None:
            return True
        return self._clock() - parse_iso(row[0]) >= timedelta(seconds=REVISION_INTERVAL_S)

    def _add_revision(self, draft: Draft) -> None:
        created = self._clock().isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.store.conn.execute(
            "INSERT INTO draft_revisions (id, draft_id, title, body, created) VALUES (?, ?, ?, ?, ?)",
            (new_id(), draft.id, draft.title, draft.body, created),
        )
        self.store.conn.execute(
            "DELETE FROM draft_revisions WHERE draft_id = ? AND n NOT IN "
            "(SELECT n FROM draft_revisions WHERE draft_id = ? ORDER BY created DESC, n DESC LIMIT ?)",
            (draft.id, draft.id, MAX_REVISIONS),
        )

    def revisions(self, draft_id: str) -> list[DraftRevision]:
        rows = self.store.query(
            "SELECT id, draft_id, title, body, created FROM draft_revisions WHERE draft_id = ? ORDER BY created DESC, n DESC",
            (draft_id,),
        )
        return [DraftRevision(**r) for r in rows]

    def restore_revision(self, revision_id: str) -> Draft:
        """Bring back an old text; the text being replaced becomes a revision itself."""
        rows = self.store.query(
            "SELECT id, draft_id, title, body, created FROM draft_revisions WHERE id = ?", (revision_id,)
        )
        if not rows:
            raise UserError(translate("Errors", "There is no revision {revision_id}.").format(revision_id=revision_id))
        revision = DraftRevision(**rows[0])
        current = self.get(revision.draft_id)
        with self.store.transaction():
            self._add_revision(current)
            self.store.conn.execute(
                "UPDATE drafts SET body = ?, title = ?, updated = ? WHERE id = ?",
                (revision.body, revision.title, now_iso(), revision.draft_id),
            )
        return self.get(revision.draft_id)

    def duplicate(self, draft_id: str) -> Draft:
        source = self.get(draft_id)
        return self.create(f"{source.title} (copy)", source.body)

    def delete(self, draft_id: str) -> None:
        self.get(draft_id)
        with self.store.transaction():
            self.store.conn.execute("UPDATE drafts SET deleted_at = ? WHERE id = ?", (now_iso(), draft_id))

    def restore(self, draft_id: str) -> Draft:
        with self.store.transaction():
            self.store.conn.execute("UPDATE drafts SET deleted_at = NULL WHERE id = ?", (draft_id,))
        return self.get(draft_id)

    def empty_trash(self, older_than_days: int | None = None) -> int:
        cutoff = trash_cutoff(older_than_days)
        with self.store.transaction():
            cursor = self.store.conn.execute(
                "DELETE FROM drafts WHERE deleted_at IS NOT NULL AND deleted_at < ?", (cutoff,)
            )
        return cursor.rowcount
