"""Conversations as trees of messages: branches from edits and regenerations, a trash,
and replies written as they stream so a crash loses at most the last second."""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationStats
from desktop_app.core.i18n import translate
from desktop_app.core.records import Conversation, Message, ToolUse
from desktop_app.store.ids import new_id, now_iso, trash_cutoff

if TYPE_CHECKING:
    from desktop_app.store.db import Store

TITLE_LENGTH = 60


class CurrentLeaf(enum.Enum):
    """Default parent of a new message: the end of the conversation's current branch."""

    CURRENT = enum.auto()


MESSAGE_FIELDS = (
    "id, conversation_id, parent_id, role, content, created, status, model_id, provider, settings, seed, "
    "prompt_tokens, generated_tokens, ttft_ms, tokens_per_s, finish_reason, reasoning, reasoning_ms, tool_calls"
)
CONVERSATION_FIELDS = (
    "id, title, created, updated, pinned, archived, deleted_at, system_prompt, model_id, settings, "
    "current_leaf_id, title_is_auto"
)
REPLY_META = (
    "model_id",
    "provider",
    "settings",
    "seed",
    "prompt_tokens",
    "generated_tokens",
    "ttft_ms",
    "tokens_per_s",
    "finish_reason",
    "reasoning",
    "reasoning_ms",
    "tool_calls",
)


def auto_title(text: str) -> str:
    line = next((part.strip() for part in text.strip().splitlines() if part.strip()), "")
    line = " ".join(line.split())
    if len(line) <= TITLE_LENGTH:
        return line or "New chat"
    cut = line[:TITLE_LENGTH].rsplit(" ", 1)[0]
    return (cut or line[:TITLE_LENGTH]) + "…"


def row_to_conversation(row: dict[str, Any]) -> Conversation:
    return Conversation(
        id=row["id"],
        title=row["title"],
        created=row["created"],
        updated=row["updated"],
        pinned=bool(row["pinned"]),
        archived=bool(row["archived"]),
        deleted_at=row["deleted_at"],
        system_prompt=row["system_prompt"],
        model_id=row["model_id"],
        settings=json.loads(row["settings"] or "{}"),
        current_leaf_id=row["current_leaf_id"],
        title_is_auto=bool(row["title_is_auto"]),
    )


def row_to_message(row: dict[str, Any]) -> Message:
    values = dict(row)
    values["settings"] = json.loads(values["settings"]) if values.get("settings") else None
    uses = json.loads(values.pop("tool_calls", None) or "[]")
    values["tool_uses"] = tuple(ToolUse.from_dict(use) for use in uses if isinstance(use, dict))
    values["reasoning"] = values.get("reasoning") or ""
    return Message(**values)


def _encoded(values: dict[str, Any]) -> dict[str, Any]:
    """Columns as stored: settings and tool calls as JSON."""
    if isinstance(values.get("settings"), dict):
        values["settings"] = json.dumps(values["settings"])
    if isinstance(values.get("tool_calls"), list | tuple):
        values["tool_calls"] = json.dumps(
            [use.to_dict() if isinstance(use, ToolUse) else use for use in values["tool_calls"]], ensure_ascii=False
        )
    return values


class ConversationRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- conversations ----

    def create(
        self,
        title: str = "",
        system_prompt: str = "",
        model_id: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Conversation:
        now = now_iso()
        conversation_id = new_id()
        with self.store.transaction():
            self.store.conn.execute(
                "INSERT INTO conversations (id, title, title_is_auto, created, updated, system_prompt, model_id, settings)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    title,
                    0 if title else 1,
                    now,
                    now,
                    system_prompt,
                    model_id,
                    json.dumps(settings or {}),
                ),
            )
        return self.get(conversation_id)

    def get(self, conversation_id: str) -> Conversation:
        rows = self.store.query(f"SELECT {CONVERSATION_FIELDS} FROM conversations WHERE id = ?", (conversation_id,))
        if not rows:
            raise UserError(
                translate("Errors", "There is no conversation {conversation_id}.").format(
                    conversation_id=conversation_id
                )
            )
        return row_to_conversation(rows[0])

    def all(self, archived: bool = False, limit: int | None = None, offset: int = 0) -> list[Conversation]:
        """Pinned first, then the most recently updated (the sidebar's order)."""
        rows = self.store.query(
            f"SELECT {CONVERSATION_FIELDS} FROM conversations WHERE deleted_at IS NULL AND archived = ?"
            " ORDER BY pinned DESC, updated DESC LIMIT ? OFFSET ?",
            (int(archived), -1 if limit is None else limit, offset),
        )
        return [row_to_conversation(r) for r in rows]

    def count(self) -> int:
        return int(self.store.conn.execute("SELECT count(*) FROM conversations WHERE deleted_at IS NULL").fetchone()[0])

    def trash(self) -> list[Conversation]:
        rows = self.store.query(
            f"SELECT {CONVERSATION_FIELDS} FROM conversations WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC"
        )
        return [row_to_conversation(r) for r in rows]

    def _update(self, conversation_id: str, touch: bool = True, **values: Any) -> Conversation:
        self.get(conversation_id)
        if touch:
            values["updated"] = now_iso()
        columns = ", ".join(f"{name} = ?" for name in values)
        with self.store.transaction():
            self.store.conn.execute(
                f"UPDATE conversations SET {columns} WHERE id = ?", (*values.values(), conversation_id)
            )
        return self.get(conversation_id)

    def rename(self, conversation_id: str, title: str) -> Conversation:
        title = " ".join(title.split())
        if not title:
            raise UserError(translate("Errors", "A conversation's title cannot be empty."))
        return self._update(conversation_id, touch=False, title=title, title_is_auto=0)

    def set_pinned(self, conversation_id: str, pinned: bool) -> Conversation:
        return self._update(conversation_id, touch=False, pinned=int(pinned))

    def set_archived(self, conversation_id: str, archived: bool) -> Conversation:
        return self._update(conversation_id, touch=False, archived=int(archived))

    def configure(
        self,
        conversation_id: str,
        system_prompt: str | None = None,
        model_id: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Conversation:
        values: dict[str, Any] = {}
        if system_prompt is not None:
            values["system_prompt"] = system_prompt
        if model_id is not None:
            values["model_id"] = model_id
        if settings is not None:
            values["settings"] = json.dumps(settings)
        return self._update(conversation_id, touch=False, **values) if values else self.get(conversation_id)

    def delete(self, conversation_id: str) -> None:
        """Move to the trash (recoverable for 30 days)."""
        self._update(conversation_id, touch=False, deleted_at=now_iso())

    def restore(self, conversation_id: str) -> Conversation:
        return self._update(conversation_id, touch=False, deleted_at=None)

    def purge(self, conversation_id: str) -> None:
        with self.store.transaction():
            self.store.conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def empty_trash(self, older_than_days: int | None = None) -> int:
        """Delete trashed conversations for good: all, or those trashed over N days ago."""
        cutoff = trash_cutoff(older_than_days)
        with self.store.transaction():
            cursor = self.store.conn.execute(
                "DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at < ?", (cutoff,)
            )
        return cursor.rowcount

    def import_tree(
        self,
        conversation: Conversation,
        messages: Sequence[Message],
        sources: Mapping[str, Sequence[dict[str, Any]]] | None = None,
    ) -> str:
        """Insert a whole conversation, its row and every message of every branch, in one
        transaction (a savepoint of the caller's); return the id it was stored under.

        The ids are kept when none of them is in the database yet; if any is taken (the same
        file imported twice), the whole tree gets fresh ids, its links mapped along. Messages
        come parents first, all of this conversation; anything else is a bug of the caller.
        `sources` are the rows of message_sources (less message_id) by message id.
        """
        listed: set[str] = set()
        for m in messages:
            if m.conversation_id != conversation.id:
                raise ValueError(f"message {m.id} belongs to {m.conversation_id}, not {conversation.id}")
            if m.id in listed or (m.parent_id is not None and m.parent_id not in listed):
                raise ValueError(f"message {m.id}: ids must be unique and parents listed before children")
            listed.add(m.id)
        if conversation.current_leaf_id is not None and conversation.current_leaf_id not in listed:
            raise ValueError(f"the current leaf {conversation.current_leaf_id} is not one of the messages")
        ids = [conversation.id, *(m.id for m in messages)]
        with self.store.transaction():
            conn = self.store.conn
            taken = conn.execute("SELECT 1 FROM conversations WHERE id = ?", (ids[0],)).fetchone() is not None or any(
                conn.execute("SELECT 1 FROM messages WHERE id = ?", (mid,)).fetchone() for mid in ids[1:]
            )
            mapping = {old: new_id() for old in ids} if taken else {old: old for old in ids}
            row = asdict(conversation)
            row["id"] = mapping[conversation.id]
            row["current_leaf_id"] = mapping[conversation.current_leaf_id] if conversation.current_leaf_id else None
            row["settings"] = json.dumps(row["settings"])
            row["pinned"], row["archived"], row["title_is_auto"] = (
                int(row["pinned"]),
                int(row["archived"]),
                int(row["title_is_auto"]),
            )
            self._insert("conversations", row)
            for message in messages:
                row = asdict(message)
                row["id"] = mapping[message.id]
                row["parent_id"] = mapping[message.parent_id] if message.parent_id else None
                row["conversation_id"] = mapping[conversation.id]
                row["settings"] = json.dumps(row["settings"]) if row["settings"] is not None else None
                del row["tool_uses"]
                row["tool_calls"] = json.dumps([use.to_dict() for use in message.tool_uses], ensure_ascii=False)
                self._insert("messages", row)
            for message_id, rows in (sources or {}).items():
                for source in rows:
                    self._insert("message_sources", {"message_id": mapping[message_id], **source})
        return mapping[conversation.id]

    def _insert(self, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        self.store.conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
        )

    # ---- messages ----

    def message(self, message_id: str) -> Message:
        rows = self.store.query(f"SELECT {MESSAGE_FIELDS} FROM messages WHERE id = ?", (message_id,))
        if not rows:
            raise UserError(translate("Errors", "There is no message {message_id}.").format(message_id=message_id))
        return row_to_message(rows[0])

    def messages(self, conversation_id: str) -> list[Message]:
        """Every message of every branch, oldest first."""
        rows = self.store.query(
            f"SELECT {MESSAGE_FIELDS} FROM messages WHERE conversation_id = ? ORDER BY created, n", (conversation_id,)
        )
        return [row_to_message(r) for r in rows]

    def path(self, conversation_id: str, leaf_id: str | None = None) -> list[Message]:
        """The current branch: root to leaf (the conversation's current leaf by default).

        One indexed read of the conversation's messages and a walk up the parent links in
        Python: faster than a recursive query that looks each parent up in turn.
        """
        leaf = leaf_id or self.get(conversation_id).current_leaf_id
        if leaf is None:
            return []
        by_id = {m.id: m for m in self.messages(conversation_id)}
        if leaf not in by_id:
            raise UserError(translate("Errors", "The message {leaf} is not in this conversation.").format(leaf=leaf))
        branch: list[Message] = []
        current: str | None = leaf
        while current is not None and current in by_id and len(branch) <= len(by_id):
            branch.append(by_id[current])
            current = by_id[current].parent_id
        return branch[::-1]

    def siblings(self, message_id: str) -> list[Message]:
        """The message and its alternatives (same parent, same conversation), oldest first."""
        message = self.message(message_id)
        rows = self.store.query(
            f"SELECT {MESSAGE_FIELDS} FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY created, n",
            (message.conversation_id, message.parent_id),
        )
        return [row_to_message(r) for r in rows]

    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        parent_id: str | CurrentLeaf | None = CurrentLeaf.CURRENT,
        status: str = "complete",
        **meta: Any,
    ) -> Message:
        """Append to the current branch (or under `parent_id`) and make it the current leaf."""
        conversation = self.get(conversation_id)
        parent = conversation.current_leaf_id if parent_id is CurrentLeaf.CURRENT else parent_id
        if parent is not None and self.message(str(parent)).conversation_id != conversation_id:
            raise UserError(translate("Errors", "That message belongs to another conversation."))
        unknown = set(meta) - set(REPLY_META)
        if unknown:
            raise TypeError(f"unknown message fields: {sorted(unknown)}")
        meta = _encoded(meta)
        message_id = new_id()
        now = now_iso()
        if status == "streaming":  # whose it is, so that another process leaves it be (store/owners.py)
            meta["owner"] = self.store.owner_token
        columns = ["id", "conversation_id", "parent_id", "role", "content", "created", "status", *meta]
        with self.store.transaction():
            self.store.conn.execute(
                f"INSERT INTO messages ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                (message_id, conversation_id, parent, role, content, now, status, *meta.values()),
            )
            title = {}
            if conversation.title_is_auto and role == "user" and not conversation.title:
                title = {"title": auto_title(content)}
            sets = ", ".join(f"{k} = ?" for k in ("current_leaf_id", "updated", *title))
            self.store.conn.execute(
                f"UPDATE conversations SET {sets} WHERE id = ?", (message_id, now, *title.values(), conversation_id)
            )
        return self.message(message_id)

    def edit_message(self, message_id: str, content: str) -> Message:
        """A new version of a message beside the old one (a new branch); the old is kept."""
        old = self.message(message_id)
        return self.add_message(old.conversation_id, old.role, content, parent_id=old.parent_id)

    def switch_branch(self, message_id: str) -> list[Message]:
        """Make the branch through `message_id` current (down its newest descendants)."""
        message = self.message(message_id)
        rows = self.store.query(
            """WITH RECURSIVE down(id, depth) AS (
                    SELECT ?, 0
                    UNION ALL
                    SELECT (SELECT c.id FROM messages c WHERE c.parent_id = down.id ORDER BY c.created DESC, c.n DESC LIMIT 1),
                           depth + 1
                    FROM down WHERE down.id IS NOT NULL)
               SELECT id FROM down WHERE id IS NOT NULL ORDER BY depth DESC LIMIT 1""",
            (message_id,),
        )
        leaf = rows[0]["id"]
        self._update(message.conversation_id, touch=False, current_leaf_id=leaf)
        return self.path(message.conversation_id, leaf)

    def delete_message(self, message_id: str) -> None:
        """Delete a message and everything below it; the branch moves up to its parent."""
        message = self.message(message_id)
        conversation = self.get(message.conversation_id)
        with self.store.transaction():
            on_branch = conversation.current_leaf_id and any(m.id == message_id for m in self.path(conversation.id))
            self.store.conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))
            if on_branch:
                self.store.conn.execute(
                    "UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (message.parent_id, conversation.id)
                )

    def update_message(self, message_id: str, content: str | None = None, **meta: Any) -> None:
        values: dict[str, Any] = _encoded(dict(meta))
        if content is not None:
            values["content"] = content
        if not values:
            return
        columns = ", ".join(f"{name} = ?" for name in values)
        with self.store.transaction():
            self.store.conn.execute(f"UPDATE messages SET {columns} WHERE id = ?", (*values.values(), message_id))

    def recover_interrupted(self) -> int:
        """Replies that were streaming when their process died (or closed its store) are
        kept, marked interrupted; those of a store still open elsewhere are left streaming."""
        return self.store.interrupt_orphans(
            "messages", "streaming", "status = 'interrupted', finish_reason = coalesce(finish_reason, 'interrupted')"
        )

    def start_reply(
        self, conversation_id: str, parent_id: str | CurrentLeaf | None = CurrentLeaf.CURRENT, **meta: Any
    ) -> StreamingReply:
        message = self.add_message(conversation_id, "assistant", "", parent_id=parent_id, status="streaming", **meta)
        return StreamingReply(self, message.id)


class StreamingReply:
    """A reply being generated: its text reaches the database at least once a second."""

    def __init__(
        self,
        repository: ConversationRepository,
        message_id: str,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repository = repository
        self.message_id = message_id
        self.interval_s = interval_s
        self._clock = clock
        self._parts: list[str] = []
        self._reasoning: list[str] = []
        self.tool_uses: list[ToolUse] = []
        self._saved_at = clock()
        self._dirty = False

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def append(self, piece: str) -> None:
        self._parts.append(piece)
        self._changed()

    def append_reasoning(self, piece: str) -> None:
        self._reasoning.append(piece)
        self._changed()

    def add_tool_use(self, use: ToolUse) -> None:
        """A tool call and its result: saved at once (a tool may have done something)."""
        self.tool_uses.append(use)
        self._dirty = True
        self.checkpoint()

    def _changed(self) -> None:
        self._dirty = True
        if self._clock() - self._saved_at >= self.interval_s:
            self.checkpoint()

    def checkpoint(self) -> None:
        if self._dirty:
            self.repository.update_message(self.message_id, **self._columns())
            self._dirty = False
        self._saved_at = self._clock()

    def _columns(self) -> dict[str, Any]:
        return {"content": self.text, "reasoning": self.reasoning, "tool_calls": self.tool_uses}

    def finish_with(self, stats: GenerationStats) -> Message:
        """Complete (or, if it was stopped or cut off, cancel or interrupt) the reply with the
        engine's statistics."""
        status = {FinishReason.CANCELLED: "cancelled", FinishReason.INTERRUPTED: "interrupted"}
        return self.finish(
            status.get(stats.finish_reason, "complete"),
            seed=stats.seed,
            prompt_tokens=stats.prompt_tokens,
            generated_tokens=stats.generated_tokens,
            ttft_ms=stats.ttft_ms,
            tokens_per_s=stats.tokens_per_s,
            finish_reason=stats.finish_reason.value,
            reasoning_ms=stats.reasoning_ms if stats.reasoning_tokens else None,
        )

    def finish(self, status: str = "complete", **stats: Any) -> Message:
        self.repository.update_message(self.message_id, status=status, **self._columns(), **stats)
        self._dirty = False
        return self.repository.message(self.message_id)
