"""The main window with a fake engine: sending, streaming, stopping, closing mid-reply."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop_app.core.errors import UserError
from desktop_app.store import Store
from tests.ui.conftest import FakeEngine, select, titles


def test_enter_sends_and_the_reply_streams_and_is_saved(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine()
    window = make_window(lambda: engine)
    assert "Fake model (q4) on CPU" in window.model_label.text()
    qtbot.keyClicks(window.composer, "What is the capital of France?")
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        qtbot.keyClick(window.composer, Qt.Key.Key_Return)
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
    assert "Paris is the capital." in window.chat_view.toPlainText()
    assert window.composer.toPlainText() == ""
    assert len(titles(window)) == 1 and "100 tokens/s" in window.speed_label.text()
    assert engine.requests[0].messages[-1].content == "What is the capital of France?"


def test_shift_enter_adds_a_line_instead_of_sending(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    qtbot.keyClicks(window.composer, "first line")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.composer, "second")
    assert window.composer.toPlainText() == "first line\nsecond"
    assert store.conversations.all() == []


def test_second_message_continues_the_conversation(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine()
    window = make_window(lambda: engine)
    for text in ("Hello", "And again"):
        window.composer.setPlainText(text)
        with qtbot.waitSignal(window.reply_finished, timeout=10_000):
            window.send()
    [conversation] = store.conversations.all()
    assert len(store.conversations.path(conversation.id)) == 4
    assert [m.role for m in engine.requests[1].messages] == ["user", "assistant", "user"]


def test_stop_ends_the_reply_within_a_token_and_keeps_it(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(lambda: FakeEngine(tokens=[f"w{i} " for i in range(200)], delay_s=0.02))
    window.composer.setPlainText("Write a lot")
    window.send()
    qtbot.waitUntil(lambda: window._reply is not None and window._reply.text != "", timeout=10_000)
    assert window.stop_button.isEnabled() and not window.send_button.isEnabled()
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    reply = store.conversations.message(finished.args[0])
    assert reply.status == "cancelled" and reply.finish_reason == "cancelled"
    assert 0 < len(reply.content.split()) < 200
    assert window.send_button.isEnabled()


def test_closing_mid_reply_saves_what_was_written(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(lambda: FakeEngine(tokens=[f"w{i} " for i in range(500)], delay_s=0.01))
    window.composer.setPlainText("Write a lot")
    window.send()
    qtbot.waitUntil(lambda: window._reply is not None and len(window._reply.text) > 20, timeout=10_000)
    window.close()
    assert not window.controller.thread.isRunning()
    [conversation] = store.conversations.all()
    reply = store.conversations.path(conversation.id)[-1]
    assert reply.role == "assistant" and reply.status == "cancelled" and reply.content.startswith("w0 w1 ")


def test_selecting_a_conversation_shows_it_and_new_chat_clears(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    old = store.conversations.create("Older chat")
    store.conversations.add_message(old.id, "user", "an **old** question")
    window = make_window(FakeEngine)
    window.refresh_sidebar()
    select(window, 0)
    assert window.conversation_id == old.id
    assert "an old question" in window.chat_view.toPlainText()
    window.new_action.trigger()
    assert window.conversation_id is None and window.chat_view.toPlainText() == ""


def test_a_model_that_fails_to_load_is_reported(qtbot, store: Store) -> None:  # type: ignore[no-untyped-def]
    def broken() -> FakeEngine:
        raise UserError("The model file is missing.", hint="Prepare it again.")

    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.worker import GenerationController

    controller = GenerationController(broken)
    window = MainWindow(store, controller)
    qtbot.addWidget(window)
    shown: list[tuple[str, str]] = []
    window.problem_shown.connect(lambda title, text: shown.append((title, text)))
    controller.start()
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    [(title, text)] = shown
    assert title == "The model could not be loaded"
    assert text.startswith("The model file is missing.\nPrepare it again.") and "Settings" in text
    assert window.problem_box is not None and window.problem_box.isVisible()
    assert window.model_label.text() == "No model loaded"
    window.close()


def test_large_database_damage_found_in_the_background_is_shown(
    qtbot, store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from desktop_app import app
    from desktop_app.store import db
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.worker import GenerationController

    monkeypatch.setattr(db, "FULL_CHECK_MAX_BYTES", 0)  # every file counts as large
    monkeypatch.setattr(db, "check_integrity", lambda path: (_ for _ in ()).throw(db._corrupt(path, "test damage")))
    window = MainWindow(store, GenerationController(FakeEngine))
    qtbot.addWidget(window)
    shown: list[str] = []
    window.problem_shown.connect(lambda title, text: shown.append(text))
    thread = app._check_large_database_in_background(store.path, window)
    thread.join(timeout=10)
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    assert "test damage" in shown[0] and "set-aside" in shown[0] and "Export all chats" in shown[0]
    window.controller.shutdown()


def ask_and_wait(qtbot, window, text: str) -> str:  # type: ignore[no-untyped-def]
    window.composer.setPlainText(text)
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        window.send()
    return str(finished.args[0])


def click_action(qtbot, window, action: str, message_id: str) -> None:  # type: ignore[no-untyped-def]
    """What a click on a message's action link does."""
    from PySide6.QtCore import QUrl

    window.chat_view.anchorClicked.emit(QUrl(f"inkwell:{action}/{message_id}"))


def test_regenerate_makes_a_second_version_and_the_switcher_moves_between_them(
    qtbot, make_window, store: Store
) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine()
    window = make_window(lambda: engine)
    first = ask_and_wait(qtbot, window, "Hello")
    assert "Regenerate" in window.chat_view.toPlainText()
    engine.tokens = ["Another ", "answer."]
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        click_action(qtbot, window, "regenerate", first)
    second = finished.args[0]
    assert [m.content for m in store.conversations.siblings(first)] == ["Paris is the capital.", "Another answer."]
    text = window.chat_view.toPlainText()
    assert "Another answer." in text and "2/2" in text and "Paris is the capital." not in text
    assert [m.role for m in engine.requests[1].messages] == ["user"]  # the reply is redone from the question
    click_action(qtbot, window, "branch", first)
    assert "Paris is the capital." in window.chat_view.toPlainText() and "1/2" in window.chat_view.toPlainText()
    assert store.conversations.get(window.conversation_id).current_leaf_id == first
    assert second != first


def test_edit_keeps_the_old_question_and_answers_the_new_one(
    qtbot, make_window, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine()
    window = make_window(lambda: engine)
    ask_and_wait(qtbot, window, "Capital of Frnace?")
    question = store.conversations.path(window.conversation_id)[0]
    monkeypatch.setattr(window, "ask_for_text", lambda title, text: ("Capital of France?", True))
    with qtbot.waitSignal(window.reply_finished, timeout=10_000):
        click_action(qtbot, window, "edit", question.id)
    path = store.conversations.path(window.conversation_id)
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
    assert [m.content for m in store.conversations.path(window.conversation_id)] == ["Hello"]
    assert "Paris is the capital." not in window.chat_view.toPlainText()


def test_actions_wait_while_a_reply_is_written(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(lambda: FakeEngine(tokens=[f"w{i} " for i in range(300)], delay_s=0.01))
    window.composer.setPlainText("Go")
    window.send()
    question = store.conversations.path(window.conversation_id)[0]
    click_action(qtbot, window, "delete", question.id)
    assert store.conversations.message(question.id).content == "Go"  # not deleted mid-reply
    with qtbot.waitSignal(window.reply_finished, timeout=10_000):
        window.stop()


def conversations_with(store: Store, *titles: str) -> list[str]:
    ids = []
    for title in titles:
        c = store.conversations.create(title)
        store.conversations.add_message(c.id, "user", f"question about {title.lower()}")
        store.conversations.add_message(c.id, "assistant", f"an answer about {title.lower()}")
        ids.append(c.id)
    return ids


def test_rename_pin_archive_from_the_sidebar(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    first, second = conversations_with(store, "Refunds", "Lesson plan")
    window = make_window(FakeEngine)
    window.refresh_sidebar()
    assert titles(window) == ["Lesson plan", "Refunds"]
    select(window, 1)
    window.rename_current()  # F2: the item becomes editable with the plain title
    window.sidebar.currentItem().setText("Refund replies")  # what typing into the editor commits
    assert store.conversations.get(first).title == "Refund replies"
    select(window, 1)
    window.toggle_pin_current()
    assert titles(window)[0] == "📌 Refund replies"
    select(window, 1)
    window.archive_current()
    assert store.conversations.get(second).archived
    assert len(titles(window)) == 1


def test_delete_goes_to_the_trash_and_undo_brings_it_back(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    [chat] = conversations_with(store, "Keep me")
    window = make_window(FakeEngine)
    window.refresh_sidebar()
    select(window, 0)
    assert window.conversation_id == chat
    window.sidebar.setFocus()
    window.delete_action.trigger()
    assert store.conversations.all() == [] and [c.id for c in store.conversations.trash()] == [chat]
    assert window.conversation_id is None and window.undo_button.isVisibleTo(window)
    qtbot.mouseClick(window.undo_button, Qt.MouseButton.LeftButton)
    assert [c.id for c in store.conversations.all()] == [chat]
    assert window.conversation_id == chat and "an answer about keep me" in window.chat_view.toPlainText()
    assert not window.undo_button.isVisibleTo(window)


def test_search_lists_matches_and_opens_the_branch_with_the_message(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    first, _ = conversations_with(store, "Refunds", "Lesson plan")
    question = store.conversations.path(first)[0]
    old_answer = store.conversations.add_message(
        first, "assistant", "a forgotten version about kangaroos", parent_id=question.id
    )
    store.conversations.switch_branch(store.conversations.siblings(old_answer.id)[0].id)  # the other version is current
    window = make_window(FakeEngine)
    from PySide6.QtGui import QKeySequence

    assert QKeySequence("Ctrl+K") in window.search_action.shortcuts()
    window.search_action.trigger()
    qtbot.keyClicks(window.search_box, "kangar")
    qtbot.waitUntil(lambda: len(titles(window)) == 1, timeout=5_000)
    assert "kangaroos" in titles(window)[0]
    select(window, 0)
    assert window.conversation_id == first
    assert "kangaroos" in window.chat_view.toPlainText()  # its branch is shown
    assert store.conversations.get(first).current_leaf_id == old_answer.id
    window.search_box.clear()
    qtbot.waitUntil(lambda: len(titles(window)) == 2, timeout=5_000)


def test_closing_stops_pending_timers_so_nothing_touches_the_closed_store(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer

    window = make_window(FakeEngine)
    window.search_box.setText("pending")  # starts the search timer
    window.writing_pane.new_draft()
    window.writing_pane.editor.setPlainText("unsaved")  # starts the autosave timer
    window.close()
    assert not any(timer.isActive() for timer in window.findChildren(QTimer))
    assert store.drafts.get(window.writing_pane.draft_id).body == "unsaved"  # saved on the way out
