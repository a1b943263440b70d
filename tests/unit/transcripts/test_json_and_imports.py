"""Our JSON round trip, ChatGPT's export, and malformed files rejected with nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.store import Store, open_store
from desktop_app.transcripts.chatgpt import import_chatgpt
from desktop_app.transcripts.json_format import export_json, import_json
from desktop_app.transcripts.validate import ImportRejected


def every_id(store: Store) -> list[str]:
    return [c.id for c in store.conversations.all()] + [c.id for c in store.conversations.all(archived=True)]


def dump(store: Store) -> str:
    return "\n".join(store.conn.iterdump())


def test_export_import_export_gives_the_same_file(filled: Store, tmp_path: Path) -> None:
    first = export_json(filled, every_id(filled))
    path = tmp_path / "chats.json"
    path.write_text(first, encoding="utf-8")
    empty = open_store(tmp_path / "empty.db")
    ids = import_json(empty, path)
    assert sorted(ids) == sorted(every_id(filled))
    assert export_json(empty, every_id(filled)) == first
    # the whole tree came across: both versions of the reply, and the metadata
    data = json.loads(first)
    pinned = next(c for c in data["conversations"] if c["pinned"])
    assert len(pinned["messages"]) == 3
    assert {m.get("seed") for m in pinned["messages"]} == {None, 42, 43}
    empty.close()


def test_importing_twice_makes_copies_with_new_ids(filled: Store, tmp_path: Path) -> None:
    path = tmp_path / "chats.json"
    path.write_text(export_json(filled, every_id(filled)), encoding="utf-8")
    before = len(every_id(filled))
    new = import_json(filled, path)
    assert len(every_id(filled)) == 2 * before
    assert not set(new) & set(json.loads(path.read_text())["conversations"][0]["id"])


def conversation_document() -> dict:  # type: ignore[type-arg]
    return {
        "format": "inkwell-transcript",
        "version": 1,
        "conversations": [
            {
                "id": "c1",
                "title": "t",
                "created": "2026-01-01T00:00:00.000Z",
                "messages": [
                    {
                        "id": "m1",
                        "parent_id": None,
                        "role": "user",
                        "content": "hi",
                        "created": "2026-01-01T00:00:00.000Z",
                    },
                    {
                        "id": "m2",
                        "parent_id": "m1",
                        "role": "assistant",
                        "content": "hello",
                        "created": "2026-01-01T00:00:01.000Z",
                    },
                ],
                "current_leaf_id": "m2",
            }
        ],
    }


def malformed_cases() -> list[tuple[str, bytes, str]]:
    good = json.dumps(conversation_document()).encode()

    def mutate(change) -> bytes:  # type: ignore[no-untyped-def]
        doc = conversation_document()
        change(doc)
        return json.dumps(doc).encode()

    return [
        ("truncated", good[: len(good) // 2], "not valid JSON"),
        ("invalid utf-8", good.replace(b"hello", b"hel\xff\xfelo"), "not valid UTF-8"),
        (
            "wrong type",
            mutate(lambda d: d["conversations"][0]["messages"][1].update(content=42)),
            r"messages\[1\]\.content: expected text",
        ),
        ("missing field", mutate(lambda d: d["conversations"][0]["messages"][0].pop("role")), r"messages\[0\]\.role"),
        ("bad role", mutate(lambda d: d["conversations"][0]["messages"][0].update(role="tool")), "expected one of"),
        (
            "huge message",
            mutate(lambda d: d["conversations"][0]["messages"][0].update(content="x" * 10_000_000)),
            "10,000,000 characters",
        ),
        ("orphan", mutate(lambda d: d["conversations"][0]["messages"][1].update(parent_id="nope")), "parent must be"),
        ("bad leaf", mutate(lambda d: d["conversations"][0].update(current_leaf_id="zz")), "no message has this id"),
        ("not ours", b'{"format": "something-else"}', "not an Inkwell transcript"),
        ("newer", mutate(lambda d: d.update(version=99)), "newer Inkwell"),
    ]


@pytest.mark.parametrize(("name", "content", "message"), malformed_cases(), ids=[c[0] for c in malformed_cases()])
def test_malformed_imports_are_rejected_with_the_place_and_nothing_changes(
    filled: Store, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(content)
    before = dump(filled)
    with pytest.raises(ImportRejected, match=message):
        import_json(filled, path)
    assert dump(filled) == before


def test_a_later_bad_conversation_leaves_the_earlier_ones_out_too(filled: Store, tmp_path: Path) -> None:
    doc = conversation_document()
    broken = json.loads(json.dumps(doc["conversations"][0]))
    broken["id"] = "c2"
    broken["messages"][1]["role"] = "robot"
    doc["conversations"].append(broken)
    path = tmp_path / "two.json"
    path.write_text(json.dumps(doc))
    before = dump(filled)
    with pytest.raises(ImportRejected, match=r"conversations\[1\]"):
        import_json(filled, path)
    assert dump(filled) == before


def chatgpt_export() -> list[dict]:  # type: ignore[type-arg]
    def node(nid, parent, children, role=None, text=None, content_type="text", hidden=False, t=1.0):  # type: ignore[no-untyped-def]
        message = None
        if role:
            message = {
                "id": nid,
                "author": {"role": role},
                "create_time": 1_700_000_000 + t,
                "content": {"content_type": content_type, "parts": [text] if text is not None else []},
                "metadata": {"is_visually_hidden_from_conversation": hidden, "model_slug": "gpt-4o"},
            }
        return {"id": nid, "message": message, "parent": parent, "children": children}

    mapping = {
        "root": node("root", None, ["sys"]),
        "sys": node("sys", "root", ["u1"], role="system", text="", hidden=True),
        "u1": node("u1", "sys", ["a1", "a2"], role="user", text="Plan a lesson on fractions", t=2),
        "a1": node("a1", "u1", [], role="assistant", text="Version one", t=3),
        "a2": node("a2", "u1", ["tool"], role="assistant", text="Version two", t=4),
        "tool": node("tool", "a2", ["img"], role="tool", text="search results", t=5),
        "img": node("img", "tool", ["u2"], role="user", content_type="image_asset_pointer", t=6),
        "u2": node("u2", "img", ["a3"], role="user", text="Shorter please", t=7),
        "a3": node("a3", "u2", [], role="assistant", text="Short version", t=8),
    }
    return [
        {
            "title": "Fractions lesson",
            "create_time": 1_700_000_000,
            "update_time": 1_700_000_100,
            "mapping": mapping,
            "current_node": "a3",
        }
    ]


def test_chatgpt_export_keeps_text_branches_and_the_current_path(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(chatgpt_export()))
    report = import_chatgpt(store, path)
    assert len(report.conversation_ids) == 1 and report.messages == 5 and report.skipped_parts == 1
    cid = report.conversation_ids[0]
    conversation = store.conversations.get(cid)
    assert conversation.title == "Fractions lesson" and conversation.created.startswith("2023-11-14")
    path_texts = [m.content for m in store.conversations.path(cid)]
    assert path_texts == ["Plan a lesson on fractions", "Version two", "Shorter please", "Short version"]
    first_reply = store.conversations.path(cid)[1]
    assert [m.content for m in store.conversations.siblings(first_reply.id)] == ["Version one", "Version two"]
    assert first_reply.model_id == "gpt-4o"


def test_chatgpt_file_with_a_bad_node_changes_nothing(filled: Store, tmp_path: Path) -> None:
    data = chatgpt_export()
    data.append({"title": "broken", "mapping": {"x": {"message": {"author": "nobody"}, "children": []}}})
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(data))
    before = dump(filled)
    with pytest.raises(ImportRejected, match=r"conversations\[1\]\.mapping\[\"x\"\]\.message\.author"):
        import_chatgpt(filled, path)
    assert dump(filled) == before


def test_reasoning_is_exported_only_when_asked_and_tool_calls_always(store) -> None:  # type: ignore[no-untyped-def]
    import json

    from desktop_app.core.chat import ToolCall
    from desktop_app.core.records import ToolUse
    from desktop_app.transcripts.export import conversations_bytes
    from desktop_app.transcripts.json_format import import_json

    conversation = store.conversations.create(system_prompt="", model_id="tiny", settings={})
    store.conversations.add_message(conversation.id, "user", "2 + 2?")
    use = ToolUse(ToolCall("call_1", "calculator", '{"expression": "2+2"}'), "4", server="builtin")
    store.conversations.add_message(
        conversation.id, "assistant", "Four.", reasoning="Add them.", reasoning_ms=80.0, tool_calls=[use]
    )
    plain = conversations_bytes(store, [conversation.id], "md").decode()
    assert "Four." in plain and "Add them." not in plain and "calculator" in plain
    assert "Add them." in conversations_bytes(store, [conversation.id], "md", reasoning=True).decode()
    assert "Add them." in conversations_bytes(store, [conversation.id], "txt", reasoning=True).decode()
    assert "Add them." not in conversations_bytes(store, [conversation.id], "html").decode()
    data = json.loads(conversations_bytes(store, [conversation.id], "json"))
    reply = data["conversations"][0]["messages"][1]
    assert "reasoning" not in reply and reply["tool_calls"][0]["result"] == "4"
    full = conversations_bytes(store, [conversation.id], "json", reasoning=True)
    assert json.loads(full)["conversations"][0]["messages"][1]["reasoning"] == "Add them."
    path = store.path.parent / "t.json"
    path.write_bytes(full)
    [copy] = import_json(store, path)
    again = store.conversations.path(copy)[-1]
    assert (again.reasoning, again.tool_uses) == ("Add them.", (use,))
