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
             "generated_tokens": null, "ttft_ms": null, "tokens_per_s": null, "finish_reason": null,
             "tool_calls": [{"id": "call_1", "name": "calculator", "arguments": "{\"expression\": \"2+2\"}",
                             "result": "4", "error": false, "server": "builtin", "round": 0}],
             "sources": [{"number": 1, "path": "/home/me/manual.pdf", "collection": "Support",
                          "heading": "Setup", "text": "...", "page": 3, "page_end": 3,
                          "line_start": null, "line_end": null, "score": 4.2, "cited": true}]}
          ]
        }
      ]
    }

A thinking model's reasoning ("reasoning", "reasoning_ms") is written only when the user
asks for it; "tool_calls" (absent when none) lists the tools a reply called, with results.
A reply that answered from the user's documents lists the passages it was given under
"sources" (absent otherwise), numbered as it cites them ([1], [2]); "cited" marks the ones it
cited. Every message of every branch is included (parents before children), so exporting,
importing into an empty database and exporting again gives the same file. Trashed
conversations are not exported. Readers must ignore keys they do not know.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from desktop_app.core.i18n import translate
from desktop_app.core.records import Conversation, Message, Passage, ToolUse
from desktop_app.store.db import Store
from desktop_app.transcripts.validate import ImportRejected, need, need_text, read_json_file, reject

SourceRow = tuple[int, Passage, bool]  # (number, passage, cited), as the store gives a reply's sources
FORMAT = "inkwell-transcript"
VERSION = 1
ROLES = ("system", "user", "assistant")
STATUSES = ("complete", "streaming", "interrupted", "cancelled", "failed")
CONVERSATION_KEYS = (
    "id", "title", "title_is_auto", "created", "updated", "pinned", "archived",
    "system_prompt", "model_id", "settings", "current_leaf_id",
)  # fmt: skip


SOURCE_KEYS = ("number", "path", "collection", "heading", "text", "page", "page_end", "line_start", "line_end", "score")


def conversation_json(
    conversation: Conversation,
    messages: Sequence[Message],
    sources: Callable[[str], list[SourceRow]] | None = None,
    reasoning: bool = False,
) -> dict[str, Any]:
    data = {key: getattr(conversation, key) for key in CONVERSATION_KEYS}
    ordered = _parents_first(messages)
    data["messages"] = []
    for m in ordered:
        item = {k: v for k, v in asdict(m).items() if k not in ("conversation_id", "tool_uses")}
        if not reasoning or not m.reasoning:
            del item["reasoning"], item["reasoning_ms"]
        if m.tool_uses:
            item["tool_calls"] = [use.to_dict() for use in m.tool_uses]
        given = sources(m.id) if sources is not None and m.role == "assistant" else []
        if given:
            item["sources"] = [
                {"number": n, **{k: getattr(p, k) for k in SOURCE_KEYS[1:]}, "cited": was_cited}
                for n, p, was_cited in given
            ]
        data["messages"].append(item)
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


def export_json(store: Store, conversation_ids: Sequence[str], reasoning: bool = False) -> str:
    conversations = [
        conversation_json(
            store.conversations.get(cid), store.conversations.messages(cid), store.documents.sources, reasoning
        )
        for cid in conversation_ids
    ]
    document = {"format": FORMAT, "version": VERSION, "conversations": conversations}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def import_json(store: Store, path: Path) -> list[str]:
    """Import every conversation in one transaction; return their ids.

    Conversations whose ids already exist are imported as copies with new ids.
    """
    document = read_json_file(path)
    need(document, dict, translate("Errors", "the file"))
    if document.get("format") != FORMAT:
        raise reject(
            "format",
            translate("Errors", 'this is not an Inkwell transcript (expected "{format}")').format(format=FORMAT),
        )
    version = need(document.get("version"), int, "version")
    if version > VERSION:
        raise ImportRejected(
            translate(
                "Errors",
                "{file} was written by a newer Inkwell (transcript version {version}); update Inkwell to import it.",
            ).format(file=path.name, version=version)
        )
    conversations = need(document.get("conversations"), list, "conversations")
    parsed = [_parse_conversation(c, f"conversations[{i}]") for i, c in enumerate(conversations)]
    with store.transaction():
        return [
            store.conversations.import_tree(
                Conversation(**conversation),
                [Message(conversation_id=conversation["id"], **m) for m in messages],
                sources,
            )
            for conversation, messages, sources in parsed
        ]


def _parse_conversation(
    data: Any, where: str
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
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
    sources: dict[str, list[dict[str, Any]]] = {}
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
            "reasoning": need_text(m.get("reasoning", ""), f"{at}.reasoning"),
            "reasoning_ms": need(m.get("reasoning_ms"), (int, float), f"{at}.reasoning_ms", optional=True),
            "tool_uses": tuple(
                ToolUse.from_dict(_parse_tool_call(x, f"{at}.tool_calls[{j}]"))
                for j, x in enumerate(need(m.get("tool_calls", []), list, f"{at}.tool_calls"))
            ),
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
        if m.get("sources"):
            given = [
                _parse_source(x, f"{at}.sources[{j}]") for j, x in enumerate(need(m["sources"], list, f"{at}.sources"))
            ]
            if len({x["number"] for x in given}) != len(given):
                raise reject(f"{at}.sources", "two sources have the same number")
            sources[message["id"]] = given
    if c["current_leaf_id"] is not None and c["current_leaf_id"] not in seen:
        raise reject(f"{where}.current_leaf_id", "no message has this id")
    return c, messages, sources


def _parse_tool_call(data: Any, at: str) -> dict[str, Any]:
    need(data, dict, at)
    return {
        "id": need(data.get("id", ""), str, f"{at}.id"),
        "name": need(data.get("name"), str, f"{at}.name"),
        "arguments": need_text(data.get("arguments", ""), f"{at}.arguments"),
        "result": need_text(data.get("result", ""), f"{at}.result"),
        "error": need(data.get("error", False), bool, f"{at}.error"),
        "server": need(data.get("server", ""), str, f"{at}.server"),
        "round": need(data.get("round", 0), int, f"{at}.round"),
    }


def _parse_source(data: Any, at: str) -> dict[str, Any]:
    need(data, dict, at)
    source = {
        "number": need(data.get("number"), int, f"{at}.number"),
        "path": need(data.get("path"), str, f"{at}.path"),
        "collection": need(data.get("collection", ""), str, f"{at}.collection"),
        "heading": need_text(data.get("heading", ""), f"{at}.heading"),
        "text": need_text(data.get("text"), f"{at}.text"),
        "score": need(data.get("score", 0.0), (int, float), f"{at}.score"),
        "cited": int(need(data.get("cited", False), bool, f"{at}.cited")),
    }
    for key in ("page", "page_end", "line_start", "line_end"):
        source[key] = need(data.get(key), int, f"{at}.{key}", optional=True)
    return source
