"""Conversations as message trees: branches, trash, streaming checkpoints."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.records import Conversation, Message
from desktop_app.store import Store
from desktop_app.store.conversations import StreamingReply, auto_title


def chat(store: Store, *texts: str) -> str:
    conversation = store.conversations.create()
    for i, text in enumerate(texts):
        store.conversations.add_message(conversation.id, "user" if i % 2 == 0 else "assistant", text)
    return conversation.id


def test_messages_form_the_current_branch_and_the_first_message_titles_the_chat(store: Store) -> None:
    cid = chat(store, "How do I reply to an angry customer?\nThey wrote twice.", "Apologise first.", "Thanks!")
    assert [m.content for m in store.conversations.path(cid)] == [
        "How do I reply to an angry customer?\nThey wrote twice.",
        "Apologise first.",
        "Thanks!",
    ]
    assert store.conversations.get(cid).title == "How do I reply to an angry customer?"


def test_long_titles_are_cut_at_a_word() -> None:
    title = auto_title("word " * 40)
    assert title.endswith("…") and len(title) <= 61 and not title[:-1].endswith(" ")


def test_editing_and_regenerating_make_branches_and_keep_the_old_ones(store: Store) -> None:
    cid = chat(store, "Question", "First answer")
    first_answer = store.conversations.path(cid)[-1]
    question = store.conversations.path(cid)[0]
    second_answer = store.conversations.add_message(
        cid, "assistant", "Second answer", parent_id=question.id
    )  # regenerate
    assert [m.content for m in store.conversations.siblings(first_answer.id)] == ["First answer", "Second answer"]
    assert store.conversations.path(cid)[-1].id == second_answer.id

    edited = store.conversations.edit_message(question.id, "Better question")
    store.conversations.add_message(cid, "assistant", "Answer to the better question")
    assert [m.content for m in store.conversations.siblings(question.id)] == ["Question", "Better question"]
    assert [m.content for m in store.conversations.path(cid)] == ["Better question", "Answer to the better question"]

    # switching back to the first question follows its newest reply
    assert [m.content for m in store.conversations.switch_branch(question.id)] == ["Question", "Second answer"]
    assert store.conversations.get(cid).current_leaf_id == second_answer.id
    assert len(store.conversations.messages(cid)) == 5
    assert edited.parent_id is None


def test_deleting_a_message_removes_its_subtree_and_moves_the_branch_up(store: Store) -> None:
    cid = chat(store, "a", "b", "c", "d")
    path = store.conversations.path(cid)
    store.conversations.delete_message(path[1].id)
    assert [m.content for m in store.conversations.path(cid)] == ["a"]
    assert len(store.conversations.messages(cid)) == 1


def test_listing_order_pin_archive_rename(store: Store) -> None:
    a, b, c = (chat(store, text) for text in ("alpha", "beta", "gamma"))
    assert [x.id for x in store.conversations.all()] == [c, b, a]
    store.conversations.set_pinned(a, True)
    store.conversations.set_archived(b, True)
    assert [x.id for x in store.conversations.all()] == [a, c]
    assert [x.id for x in store.conversations.all(archived=True)] == [b]
    renamed = store.conversations.rename(c, "  My   title ")
    assert renamed.title == "My title" and not renamed.title_is_auto
    with pytest.raises(UserError, match="empty"):
        store.conversations.rename(c, "   ")


def test_trash_is_recoverable_and_emptied_after_thirty_days(store: Store) -> None:
    keep, old = chat(store, "keep me", "ok"), chat(store, "old one", "ok")
    store.conversations.delete(keep)
    store.conversations.delete(old)
    assert store.conversations.all() == []
    assert {c.id for c in store.conversations.trash()} == {keep, old}
    store.conn.execute("UPDATE conversations SET deleted_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", (old,))
    assert store.conversations.empty_trash(older_than_days=30) == 1
    assert store.conn.execute("SELECT count(*) FROM messages WHERE conversation_id = ?", (old,)).fetchone()[0] == 0
    store.conversations.restore(keep)
    assert [c.id for c in store.conversations.all()] == [keep]
    store.conversations.delete(keep)
    assert store.conversations.empty_trash() == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_streaming_reply_is_saved_at_least_once_a_second(store: Store) -> None:
    cid = chat(store, "Tell me a story")
    clock = FakeClock()
    message = store.conversations.add_message(cid, "assistant", "", status="streaming")
    reply = StreamingReply(store.conversations, message.id, clock=clock)
    saved = lambda: store.conversations.message(message.id).content  # noqa: E731
    reply.append("Once ")
    clock.now = 0.5
    reply.append("upon ")
    assert saved() == ""
    clock.now = 1.0
    reply.append("a time")
    assert saved() == "Once upon a time"
    done = reply.finish("complete", seed=3, generated_tokens=4, tokens_per_s=50.0, finish_reason="stop_token")
    assert done.status == "complete" and done.seed == 3 and done.content == "Once upon a time"


def test_replies_left_streaming_are_marked_interrupted_on_open(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.store import open_store

    store = open_store(tmp_path / "db.sqlite")
    cid = chat(store, "hi")
    reply = store.conversations.start_reply(cid, model_id="m", provider="cpu", settings={"temperature": 0.5})
    reply.append("partial text")
    reply.checkpoint()
    store.close()
    reopened = open_store(tmp_path / "db.sqlite")
    message = reopened.conversations.message(reply.message_id)
    assert (message.status, message.content, message.finish_reason) == ("interrupted", "partial text", "interrupted")
    assert message.settings == {"temperature": 0.5}
    reopened.close()


def test_a_parent_from_another_conversation_is_refused(store: Store) -> None:
    a, b = chat(store, "a"), chat(store, "b")
    with pytest.raises(UserError, match="another conversation"):
        store.conversations.add_message(b, "user", "x", parent_id=store.conversations.path(a)[0].id)


def tree(conversation_id: str = "01CONVERSATION") -> tuple[Conversation, list[Message]]:
    """A question with two answers, the second current, as an import hands them over."""

    def message(mid: str, parent: str | None, role: str, text: str, second: int, **meta: Any) -> Message:
        return Message(mid, conversation_id, parent, role, text, f"2026-01-01T00:00:0{second}.000Z", **meta)

    messages = [
        message("01Q", None, "user", "Question", 1),
        message("01A1", "01Q", "assistant", "First answer", 2, seed=1, settings={"temperature": 0.2}),
        message("01A2", "01Q", "assistant", "Second answer", 3, status="cancelled", tokens_per_s=9.5),
    ]
    conversation = Conversation(
        conversation_id, "Imported", "2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z",
        pinned=True, system_prompt="Be brief.", settings={"top_p": 0.9}, current_leaf_id="01A2", title_is_auto=False,
    )  # fmt: skip
    return conversation, messages


def test_import_tree_keeps_free_ids_and_every_field(store: Store) -> None:
    conversation, messages = tree()
    assert store.conversations.import_tree(conversation, messages) == "01CONVERSATION"
    assert store.conversations.get("01CONVERSATION") == conversation
    assert store.conversations.messages("01CONVERSATION") == messages
    assert [m.content for m in store.conversations.path("01CONVERSATION")] == ["Question", "Second answer"]
    assert [hit.message_id for hit in store.search.search("answer") if hit.kind == "message"]  # indexed too


def test_import_tree_gives_the_whole_tree_fresh_ids_when_one_is_taken(store: Store) -> None:
    first = store.conversations.import_tree(*tree())
    conversation, messages = tree("01OTHER")  # a new conversation id, but the same message ids
    copy = store.conversations.import_tree(conversation, messages)
    assert copy not in (first, "01OTHER")
    copied = store.conversations.messages(copy)
    assert not {m.id for m in copied} & {m.id for m in messages}
    assert [m.parent_id for m in copied] == [None, copied[0].id, copied[0].id]
    assert store.conversations.get(copy).current_leaf_id == copied[2].id
    assert [m.content for m in store.conversations.path(copy)] == ["Question", "Second answer"]
    assert len(store.conversations.messages(first)) == 3  # the original is untouched


def test_import_tree_is_part_of_the_callers_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.conversations.import_tree(*tree())
        raise RuntimeError("a later conversation of the same file is bad")
    assert store.conversations.count() == 0
    assert store.query("SELECT count(*) AS n FROM messages")[0]["n"] == 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda c, ms: (c, ms[::-1]),  # children before their parent
        lambda c, ms: (c, [*ms, ms[0]]),  # the same id twice
        lambda c, ms: (c, [replace(ms[0], conversation_id="01ELSEWHERE"), *ms[1:]]),
        lambda c, ms: (replace(c, current_leaf_id="01MISSING"), ms),
    ],
    ids=["child-first", "duplicate", "other-conversation", "unknown-leaf"],
)
def test_import_tree_refuses_a_malformed_tree_and_writes_nothing(store: Store, damage: Any) -> None:
    with pytest.raises(ValueError):
        store.conversations.import_tree(*damage(*tree()))
    assert store.conversations.count() == 0
