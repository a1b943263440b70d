"""The main window with a fake engine: sending, streaming, stopping, closing mid-reply."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop_app.core.errors import UserError
from desktop_app.store import Store
from desktop_app.ui.chat.message_actions import MessageAction
from tests.ui.conftest import FakeEngine, ask_and_wait, click_action, conversations_with, select, titles


def test_enter_sends_and_the_reply_streams_and_is_saved(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine()
    window = make_window(lambda: engine)
    assert "Fake model (q4) on CPU" in window.model_status.label.text()
    qtbot.keyClicks(window.chat_pane.composer, "What is the capital of France?")
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        qtbot.keyClick(window.chat_pane.composer, Qt.Key.Key_Return)
    reply = store.conversations.message(finished.args[0])
    assert (reply.content, reply.status, reply.model_id, reply.provider) == (
        "Paris is the capital.",
        "complete",
        "fake",
        "cpu",
    )
    assert reply.tokens_per_s == 100.0 and reply.finish_reason == "stop_token"
    [conversation] = store.conversations.all()
    assert conversation.title == "What is the capital of France?"
    assert [m.content for m in store.conversations.path(conversation.id)] == [
        "What is the capital of France?",
        "Paris is the capital.",
    ]
    assert "Paris is the capital." in window.chat_pane.chat_view.toPlainText()
    assert window.chat_pane.composer.toPlainText() == ""
    assert len(titles(window)) == 1 and "100 tokens/s" in window.chat_pane.speed_label.text()
    assert engine.requests[0].messages[-1].content == "What is the capital of France?"


def test_shift_enter_adds_a_line_instead_of_sending(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    qtbot.keyClicks(window.chat_pane.composer, "first line")
    qtbot.keyClick(window.chat_pane.composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.chat_pane.composer, "second")
    assert window.chat_pane.composer.toPlainText() == "first line\nsecond"
    assert store.conversations.all() == []


def test_second_message_continues_the_conversation(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine()
    window = make_window(lambda: engine)
    for text in ("Hello", "And again"):
        window.chat_pane.composer.setPlainText(text)
        with qtbot.waitSignal(window.reply_finished, timeout=10_000):
            window.chat_pane.send()
    [conversation] = store.conversations.all()
    assert len(store.conversations.path(conversation.id)) == 4
    assert [m.role for m in engine.requests[1].messages] == ["user", "assistant", "user"]


def test_stop_ends_the_reply_within_a_token_and_keeps_it(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(lambda: FakeEngine(tokens=[f"w{i} " for i in range(200)], delay_s=0.02))
    window.chat_pane.composer.setPlainText("Write a lot")
    window.chat_pane.send()
    qtbot.waitUntil(lambda: window.chat_pane.turn is not None and window.chat_pane.turn.text != "", timeout=10_000)
    assert window.chat_pane.stop_button.isEnabled() and not window.chat_pane.send_button.isEnabled()
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        qtbot.mouseClick(window.chat_pane.stop_button, Qt.MouseButton.LeftButton)
    reply = store.conversations.message(finished.args[0])
    assert reply.status == "cancelled" and reply.finish_reason == "cancelled"
    assert 0 < len(reply.content.split()) < 200
    assert window.chat_pane.send_button.isEnabled()


def test_closing_mid_reply_saves_what_was_written(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(lambda: FakeEngine(tokens=[f"w{i} " for i in range(500)], delay_s=0.01))
    window.chat_pane.composer.setPlainText("Write a lot")
    window.chat_pane.send()
    qtbot.waitUntil(lambda: window.chat_pane.turn is not None and len(window.chat_pane.turn.text) > 20, timeout=10_000)
    window.close()
    assert not window.scheduler.is_running
    [conversation] = store.conversations.all()
    reply = store.conversations.path(conversation.id)[-1]
    assert reply.role == "assistant" and reply.status == "cancelled" and reply.content.startswith("w0 w1 ")


def test_selecting_a_conversation_shows_it_and_new_chat_clears(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    old = store.conversations.create("Older chat")
    store.conversations.add_message(old.id, "user", "an **old** question")
    window = make_window(FakeEngine)
    window.list_pane.refresh()
    select(window, 0)
    assert window.chat_pane.conversation_id == old.id
    assert "an old question" in window.chat_pane.chat_view.toPlainText()
    window.menu_actions.new.trigger()
    assert window.chat_pane.conversation_id is None and window.chat_pane.chat_view.toPlainText() == ""


def test_a_model_that_fails_to_load_is_reported(qtbot, store: Store) -> None:  # type: ignore[no-untyped-def]
    def broken() -> FakeEngine:
        raise UserError("The model file is missing.", hint="Prepare it again.")

    from desktop_app.ui.generation import QtScheduler
    from desktop_app.ui.main_window import MainWindow

    scheduler = QtScheduler(broken)
    window = MainWindow(store, scheduler)
    qtbot.addWidget(window)
    shown: list[tuple[str, str]] = []
    window.reporter.problem_shown.connect(lambda title, text: shown.append((title, text)))
    scheduler.start()
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    [(title, text)] = shown
    assert title == "The model could not be loaded"
    assert text.startswith("The model file is missing.\nPrepare it again.") and "Settings" in text
    assert window.reporter.problem_box is not None and window.reporter.problem_box.isVisible()
    assert window.model_status.label.text() == "No model loaded"
    window.close()


def test_large_database_damage_found_in_the_background_is_shown(
    qtbot, store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from desktop_app import app
    from desktop_app.store import db
    from desktop_app.ui.generation import QtScheduler
    from desktop_app.ui.main_window import MainWindow

    monkeypatch.setattr(db, "FULL_CHECK_MAX_BYTES", 0)  # every file counts as large
    monkeypatch.setattr(db, "check_integrity", lambda path: (_ for _ in ()).throw(db._corrupt(path, "test damage")))
    window = MainWindow(store, QtScheduler(FakeEngine))
    qtbot.addWidget(window)
    shown: list[str] = []
    window.reporter.problem_shown.connect(lambda title, text: shown.append(text))
    thread = app.check_large_database_in_background(store.path, window)
    thread.join(timeout=10)
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    assert "test damage" in shown[0] and "set-aside" in shown[0] and "Export all chats" in shown[0]
    window.scheduler.shutdown()


def test_regenerate_makes_a_second_version_and_the_switcher_moves_between_them(
    qtbot, make_window, store: Store
) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine()
    window = make_window(lambda: engine)
    first = ask_and_wait(qtbot, window, "Hello")
    window.show()
    qtbot.waitExposed(window)
    view = window.chat_pane.chat_view
    qtbot.mouseMove(view.viewport(), view.cursorRect(view.document().find("Paris")).center())
    bar = view.action_bar  # the reply's actions appear over it, under the pointer
    assert bar.isVisible() and bar.message_id == first
    assert set(bar.buttons) == {
        MessageAction.COPY,
        MessageAction.REGENERATE,
        MessageAction.TO_DRAFT,
        MessageAction.COMPARE,
        MessageAction.DELETE,
    }
    engine.tokens = ["Another ", "answer."]
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        qtbot.mouseClick(bar.buttons[MessageAction.REGENERATE], Qt.MouseButton.LeftButton)
    second = finished.args[0]
    assert [m.content for m in store.conversations.siblings(first)] == ["Paris is the capital.", "Another answer."]
    text = window.chat_pane.chat_view.toPlainText()
    assert "Another answer." in text and "2/2" in text and "Paris is the capital." not in text
    assert [m.role for m in engine.requests[1].messages] == ["user"]  # the reply is redone from the question
    click_action(qtbot, window, "branch", first)
    assert (
        "Paris is the capital." in window.chat_pane.chat_view.toPlainText()
        and "1/2" in window.chat_pane.chat_view.toPlainText()
    )
    assert store.conversations.get(window.chat_pane.conversation_id).current_leaf_id == first
    assert second != first


def test_edit_keeps_the_old_question_and_answers_the_new_one(
    qtbot, make_window, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine()
    window = make_window(lambda: engine)
    ask_and_wait(qtbot, window, "Capital of Frnace?")
    question = store.conversations.path(window.chat_pane.conversation_id)[0]
    monkeypatch.setattr(window.chat_pane, "ask_for_text", lambda title, text: ("Capital of France?", True))
    with qtbot.waitSignal(window.reply_finished, timeout=10_000):
        click_action(qtbot, window, "edit", question.id)
    path = store.conversations.path(window.chat_pane.conversation_id)
    assert [m.content for m in path] == ["Capital of France?", "Paris is the capital."]
    assert [m.content for m in store.conversations.siblings(question.id)] == [
        "Capital of Frnace?",
        "Capital of France?",
    ]
    assert engine.requests[-1].messages[-1].content == "Capital of France?"


def test_copy_and_delete(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QGuiApplication

    window = make_window(FakeEngine)
    reply = ask_and_wait(qtbot, window, "Hello")
    click_action(qtbot, window, "copy", reply)
    assert QGuiApplication.clipboard().text() == "Paris is the capital."
    click_action(qtbot, window, "delete", reply)
    assert [m.content for m in store.conversations.path(window.chat_pane.conversation_id)] == ["Hello"]
    assert "Paris is the capital." not in window.chat_pane.chat_view.toPlainText()


def test_actions_wait_while_a_reply_is_written(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(lambda: FakeEngine(tokens=[f"w{i} " for i in range(300)], delay_s=0.01))
    window.chat_pane.composer.setPlainText("Go")
    window.chat_pane.send()
    question = store.conversations.path(window.chat_pane.conversation_id)[0]
    click_action(qtbot, window, "delete", question.id)
    assert store.conversations.message(question.id).content == "Go"  # not deleted mid-reply
    with qtbot.waitSignal(window.reply_finished, timeout=10_000):
        window.chat_pane.stop()


def test_rename_pin_archive_from_the_sidebar(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    first, second = conversations_with(store, "Refunds", "Lesson plan")
    window = make_window(FakeEngine)
    window.list_pane.refresh()
    assert titles(window) == ["Lesson plan", "Refunds"]
    select(window, 1)
    window.list_pane.rename_current()  # F2: the item becomes editable with the plain title
    window.list_pane.sidebar.currentItem().setText("Refund replies")  # what typing into the editor commits
    assert store.conversations.get(first).title == "Refund replies"
    select(window, 1)
    window.list_pane.toggle_pin_current()
    assert titles(window)[0] == "📌 Refund replies"
    select(window, 1)
    window.list_pane.archive_current()
    assert store.conversations.get(second).archived
    assert len(titles(window)) == 1


def test_delete_goes_to_the_trash_and_undo_brings_it_back(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    [chat] = conversations_with(store, "Keep me")
    window = make_window(FakeEngine)
    window.list_pane.refresh()
    select(window, 0)
    assert window.chat_pane.conversation_id == chat
    window.list_pane.sidebar.setFocus()
    window.list_pane.delete_action.trigger()
    assert store.conversations.all() == [] and [c.id for c in store.conversations.trash()] == [chat]
    assert window.chat_pane.conversation_id is None and window.reporter.undo_button.isVisibleTo(window)
    qtbot.mouseClick(window.reporter.undo_button, Qt.MouseButton.LeftButton)
    assert [c.id for c in store.conversations.all()] == [chat]
    assert (
        window.chat_pane.conversation_id == chat
        and "an answer about keep me" in window.chat_pane.chat_view.toPlainText()
    )
    assert not window.reporter.undo_button.isVisibleTo(window)


def test_search_lists_matches_and_opens_the_branch_with_the_message(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    first, _ = conversations_with(store, "Refunds", "Lesson plan")
    question = store.conversations.path(first)[0]
    old_answer = store.conversations.add_message(
        first, "assistant", "a forgotten version about kangaroos", parent_id=question.id
    )
    store.conversations.switch_branch(store.conversations.siblings(old_answer.id)[0].id)  # the other version is current
    window = make_window(FakeEngine)
    from PySide6.QtGui import QKeySequence

    assert QKeySequence("Ctrl+K") in window.menu_actions.search.shortcuts()
    window.menu_actions.search.trigger()
    qtbot.keyClicks(window.list_pane.search_box, "kangar")
    qtbot.waitUntil(lambda: len(titles(window)) == 1, timeout=5_000)
    assert "kangaroos" in titles(window)[0]
    select(window, 0)
    assert window.chat_pane.conversation_id == first
    assert "kangaroos" in window.chat_pane.chat_view.toPlainText()  # its branch is shown
    assert store.conversations.get(first).current_leaf_id == old_answer.id
    window.list_pane.search_box.clear()
    qtbot.waitUntil(lambda: len(titles(window)) == 2, timeout=5_000)


def test_closing_stops_pending_timers_so_nothing_touches_the_closed_store(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer

    window = make_window(FakeEngine)
    window.list_pane.search_box.setText("pending")  # starts the search timer
    window.writing_pane.drafts.new_draft()
    window.writing_pane.editor.setPlainText("unsaved")  # starts the autosave timer
    window.close()
    assert not any(timer.isActive() for timer in window.findChildren(QTimer))
    assert store.drafts.get(window.writing_pane.editor_pane.draft_id).body == "unsaved"  # saved on the way out


def test_a_message_sent_while_the_cowriter_writes_waits_its_turn_and_is_answered(
    qtbot, make_window, store: Store
) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine(tokens=[f"w{i} " for i in range(40)], delay_s=0.01)
    window = make_window(lambda: engine)
    pane = window.writing_pane
    pane.drafts.new_draft()
    pane.editor.setPlainText("Once upon a time")
    pane.editor.moveCursor(pane.editor.textCursor().MoveOperation.End)
    pane.cowriter.run_action("continue")
    qtbot.waitUntil(lambda: window.scheduler.busy_with() is not None, timeout=5_000)
    window.chat_pane.composer.setPlainText("Are you there?")
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        window.chat_pane.send()
        assert "Waiting for the co-writer" in window.statusBar().currentMessage()
    reply = store.conversations.message(finished.args[0])
    assert reply.status == "complete" and reply.content.startswith("w0 w1")
    assert [r.messages[-1].content for r in engine.requests][1] == "Are you there?"  # asked after the co-writer
    qtbot.waitUntil(lambda: pane.cowriter.suggestion is not None and pane.cowriter.suggestion.done, timeout=5_000)


def test_older_messages_left_out_of_the_prompt_are_reported(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window(lambda: FakeEngine(dropped_messages=6))
    ask_and_wait(qtbot, window, "Hello")
    assert "6 oldest messages were left out" in window.statusBar().currentMessage()


def test_a_cowriter_request_while_a_reply_streams_is_queued_not_refused(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window(lambda: FakeEngine(tokens=[f"w{i} " for i in range(40)], delay_s=0.01))
    window.chat_pane.composer.setPlainText("Go")
    window.chat_pane.send()
    qtbot.waitUntil(lambda: window.scheduler.busy_with() is not None, timeout=5_000)
    pane = window.writing_pane
    pane.drafts.new_draft()
    pane.editor.setPlainText("Once upon a time")
    pane.editor.moveCursor(pane.editor.textCursor().MoveOperation.End)
    with qtbot.waitSignal(pane.suggestion_ready, timeout=10_000):
        pane.cowriter.run_action("continue")
        assert "waiting for a chat reply to finish" in pane.suggestion_pane.label.text()
    assert pane.cowriter.suggestion is not None and pane.cowriter.suggestion.texts[0].startswith("w0")


def test_a_request_the_scheduler_refuses_leaves_no_reply_streaming(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    shown: list[str] = []
    window.reporter.problem_shown.connect(lambda title, text: shown.append(text))
    window.scheduler.shutdown()
    window.chat_pane.composer.setPlainText("Hello")
    window.chat_pane.send()
    assert shown and "closing" in shown[0]
    [conversation] = store.conversations.all()
    reply = store.conversations.path(conversation.id)[-1]
    assert reply.role == "assistant" and reply.status == "failed"
    assert window.chat_pane.send_button.isEnabled() and not window.chat_pane.generating
