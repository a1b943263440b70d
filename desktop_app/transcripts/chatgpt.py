"""Importing ChatGPT's data export (`conversations.json`, each chat a `mapping` tree).

Text messages of the user, the assistant and visible system prompts are kept, with
their branches; tool calls, hidden system messages, images and other non-text parts
are skipped (their children are attached to the nearest kept ancestor).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from desktop_app.core.i18n import translate
from desktop_app.core.records import Conversation, Message
from desktop_app.store.db import Store
from desktop_app.store.ids import new_id, now_iso
from desktop_app.transcripts.validate import need, need_text, read_json_file, reject


@dataclass(frozen=True)
class ImportReport:
    conversation_ids: list[str]
    messages: int
    skipped_parts: int


def _iso(timestamp: Any, fallback: str) -> str:
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool) and timestamp > 0:
        moment = datetime.fromtimestamp(float(timestamp), tz=timezone.utc)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return fallback


def _text_of(message: dict[str, Any], where: str) -> tuple[str | None, int]:
    """The message's text, or None if it is not a text message; and how many parts were skipped."""
    content = need(message.get("content"), dict, f"{where}.content")
    if content.get("content_type") not in ("text", "multimodal_text"):
        return None, 1
    parts = need(content.get("parts", []), list, f"{where}.content.parts")
    texts = [p for p in parts if isinstance(p, str)]
    text = need_text("\n\n".join(t for t in texts if t), f"{where}.content")
    return text, len(parts) - len(texts)


def import_chatgpt(store: Store, path: Path) -> ImportReport:
    data = read_json_file(path)
    conversations = need(
        data, list, translate("Errors", "the file (ChatGPT's conversations.json is a list of conversations)")
    )
    planned = [_plan(c, f"conversations[{i}]") for i, c in enumerate(conversations)]
    ids, count, skipped = [], 0, 0
    with store.transaction():
        for conversation, messages, skipped_here in planned:
            ids.append(store.conversations.import_tree(conversation, messages))
            count += len(messages)
            skipped += skipped_here
    return ImportReport(ids, count, skipped)


def _plan(data: Any, where: str) -> tuple[Conversation, list[Message], int]:
    need(data, dict, where)
    mapping = need(data.get("mapping"), dict, f"{where}.mapping")
    conversation_id = new_id()
    title = need_text(data.get("title") or "Imported chat", f"{where}.title")
    created = _iso(data.get("create_time"), now_iso())
    kept: dict[str, dict[str, Any]] = {}  # ChatGPT node id -> our message
    skipped = 0
    order = _walk(mapping, where)
    parent_of: dict[str, str | None] = {}
    for node_id in order:
        node = mapping[node_id]
        at = f"{where}.mapping[{json.dumps(node_id)}]"
        parent = node.get("parent")
        parent_of[node_id] = parent if isinstance(parent, str) else None
        message = node.get("message")
        if message is None:
            continue
        need(message, dict, f"{at}.message")
        author = need(message.get("author"), dict, f"{at}.message.author")
        role = author.get("role")
        hidden = (message.get("metadata") or {}).get("is_visually_hidden_from_conversation")
        text, skipped_parts = _text_of(message, f"{at}.message")
        skipped += skipped_parts
        if role not in ("user", "assistant", "system") or text is None or hidden or (role == "system" and not text):
            continue
        ancestor = parent_of[node_id]
        while ancestor is not None and ancestor not in kept:
            ancestor = parent_of.get(ancestor)
        kept[node_id] = {
            "id": new_id(),
            "parent_id": kept[ancestor]["id"] if ancestor is not None else None,
            "role": role,
            "content": text,
            "created": _iso(message.get("create_time"), created),
            "model_id": (message.get("metadata") or {}).get("model_slug"),
        }
    leaf = data.get("current_node")
    while isinstance(leaf, str) and leaf not in kept:
        leaf = parent_of.get(leaf)
    conversation = Conversation(
        id=conversation_id,
        title=title or "",
        created=created,
        updated=_iso(data.get("update_time"), created),
        title_is_auto=False,
        current_leaf_id=kept[leaf]["id"] if isinstance(leaf, str) else None,
    )
    return conversation, [Message(conversation_id=conversation_id, **m) for m in kept.values()], skipped


def _walk(mapping: dict[str, Any], where: str) -> list[str]:
    """Node ids with every parent before its children; refuses cycles and dangling links."""
    for node_id, node in mapping.items():
        need(node, dict, f"{where}.mapping[{json.dumps(node_id)}]")
    roots = [nid for nid, node in mapping.items() if node.get("parent") not in mapping]
    order: list[str] = []
    seen: set[str] = set()
    stack = list(reversed(roots))
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            raise reject(
                f"{where}.mapping",
                translate("Errors", "node {node} is reachable twice (the tree has a cycle)").format(node=node_id),
            )
        seen.add(node_id)
        order.append(node_id)
        children = need(mapping[node_id].get("children", []), list, f"{where}.mapping[{json.dumps(node_id)}].children")
        stack.extend(reversed([c for c in children if c in mapping]))
    if len(seen) != len(mapping):
        raise reject(f"{where}.mapping", translate("Errors", "some messages are not connected to the conversation"))
    return order
