"""Inkwell's own JSON transcript format: lossless, versioned, documented here.

    {
      "format": "inkwell-transcript",
      "version": 1,
      "conversations": [
        {
          "id": "01J...", "title": "...", "title_is_auto": false,
          "created": "2026-11-23T18:30:00.000Z", "updated": "...",
          "pinned": false, "archived": false, "system_prompt": "", "model_id": null,
          "settings": {...}, "current_leaf_id": "01J...",
          "messages": [
            {"id": "01J...", "parent_id": null, "role": "user" | "assistant" | "system",
             "content": "...", "created": "...", "status": "complete", "model_id": null,
             "provider": null, "settings": null, "seed": null, "prompt_tokens": null,
             "generated_tokens": null, "ttft_ms": null, "tokens_per_s": null, "finish_reason": null}
          ]
        }
      ]
    }

Every message of every branch is included (parents before children), so exporting,
importing into an empty database and exporting again gives the same file. Trashed
conversations are not exported. Readers must ignore keys they do not know.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from desktop_app.core.records import Conversation, Message
from desktop_app.store.db import Store
from desktop_app.transcripts.validate import ImportRejected, need, need_text, read_json_file, reject

FORMAT = "inkwell-transcript"
VERSION = 1
ROLES = ("system", "user", "assistant")
STATUSES = ("complete", "streaming", "interrupted", "cancelled", "failed")
CONVERSATION_KEYS = (
    "id", "title", "title_is_auto", "created", "updated", "pinned", "archived",
    "system_prompt", "model_id", "settings", "current_leaf_id",
)  # fmt: skip


def conversation_json(conversation: Conversation, messages: Sequence[Message]) -> dict[str, Any]:
    data = {key: getattr(conversation, key) for key in CONVERSATION_KEYS}
    ordered = _parents_first(messages)
    data["messages"] = [{k: v for k, v in asdict(m).items() if k != "conversation_id"} for m in ordered]
    return data


def _parents_first(messages: Sequence[Message]) -> list[Message]:
    by_parent: dict[str | None, list[Message]] = {}
    for m in messages:
        by_parent.setdefault(m.parent_id, []).append(m)
    ids = {m.id for m in messages}
    ordered: list[Message] = []
    stack = [m for m in messages if m.parent_id is None or m.parent_id not in ids][::-1]
    while stack:
        message = stack.pop()
        ordered.append(message)
        stack.extend(reversed(by_parent.get(message.id, [])))
    return ordered


def export_json(store: Store, conversation_ids: Sequence[str]) -> str:
    conversations = [
        conversation_json(store.conversations.get(cid), store.conversations.messages(cid)) for cid in conversation_ids
    ]
    document = {"format": FORMAT, "version": VERSION, "conversations": conversations}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def import_json(store: Store, path: Path) -> list[str]:
    """Import every conversation in one transaction; return their ids.

    Conversations whose ids already exist are imported as copies with new ids.
    """
    document = read_json_file(path)
    need(document, dict, "the file")
    if document.get("format") != FORMAT:
        raise reject("format", f'this is not an Inkwell transcript (expected "{FORMAT}")')
    version = need(document.get("version"), int, "version")
    if version > VERSION:
        raise ImportRejected(
            f"{path.name} was written by a newer Inkwell (transcript version {version}); update Inkwell to import it."
        )
    conversations = need(document.get("conversations"), list, "conversations")
    parsed = [_parse_conversation(c, f"conversations[{i}]") for i, c in enumerate(conversations)]
    with store.transaction():
        return [
            store.conversations.import_tree(
                Conversation(**conversation), [Message(conversation_id=conversation["id"], **m) for m in messages]
            )
            for conversation, messages in parsed
        ]


def _parse_conversation(data: Any, where: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    need(data, dict, where)
    c = {
        "id": need(data.get("id"), str, f"{where}.id"),
        "title": need_text(data.get("title", ""), f"{where}.title"),
        "title_is_auto": bool(need(data.get("title_is_auto", False), bool, f"{where}.title_is_auto")),
        "created": need(data.get("created"), str, f"{where}.created"),
        "updated": need(data.get("updated", data.get("created")), str, f"{where}.updated"),
        "pinned": need(data.get("pinned", False), bool, f"{where}.pinned"),
        "archived": need(data.get("archived", False), bool, f"{where}.archived"),
        "system_prompt": need_text(data.get("system_prompt", ""), f"{where}.system_prompt"),
        "model_id": need(data.get("model_id"), str, f"{where}.model_id", optional=True),
        "settings": need(data.get("settings", {}), dict, f"{where}.settings"),
        "current_leaf_id": need(data.get("current_leaf_id"), str, f"{where}.current_leaf_id", optional=True),
    }
    messages = []
    seen: set[str] = set()
    for i, m in enumerate(need(data.get("messages"), list, f"{where}.messages")):
        at = f"{where}.messages[{i}]"
        need(m, dict, at)
        message = {
            "id": need(m.get("id"), str, f"{at}.id"),
            "parent_id": need(m.get("parent_id"), str, f"{at}.parent_id", optional=True),
            "role": need(m.get("role"), str, f"{at}.role"),
            "content": need_text(m.get("content"), f"{at}.content"),
            "created": need(m.get("created"), str, f"{at}.created"),
            "status": need(m.get("status", "complete"), str, f"{at}.status"),
            "model_id": need(m.get("model_id"), str, f"{at}.model_id", optional=True),
            "provider": need(m.get("provider"), str, f"{at}.provider", optional=True),
            "settings": need(m.get("settings"), dict, f"{at}.settings", optional=True),
            "seed": need(m.get("seed"), int, f"{at}.seed", optional=True),
            "prompt_tokens": need(m.get("prompt_tokens"), int, f"{at}.prompt_tokens", optional=True),
            "generated_tokens": need(m.get("generated_tokens"), int, f"{at}.generated_tokens", optional=True),
            "ttft_ms": need(m.get("ttft_ms"), (int, float), f"{at}.ttft_ms", optional=True),
            "tokens_per_s": need(m.get("tokens_per_s"), (int, float), f"{at}.tokens_per_s", optional=True),
            "finish_reason": need(m.get("finish_reason"), str, f"{at}.finish_reason", optional=True),
        }
        if message["role"] not in ROLES:
            raise reject(f"{at}.role", f'expected one of {", ".join(ROLES)}, found "{message["role"]}"')
        if message["status"] not in STATUSES:
            raise reject(f"{at}.status", f'expected one of {", ".join(STATUSES)}, found "{message["status"]}"')
        if message["id"] in seen:
            raise reject(f"{at}.id", "the same id appears twice")
        if message["parent_id"] is not None and message["parent_id"] not in seen:
            raise reject(f"{at}.parent_id", "the parent must be a message listed before this one")
        seen.add(message["id"])
        messages.append(message)
    if c["current_leaf_id"] is not None and c["current_leaf_id"] not in seen:
        raise reject(f"{where}.current_leaf_id", "no message has this id")
    return c, messages
