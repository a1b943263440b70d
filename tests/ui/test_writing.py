"""Writing mode with a fake engine: drafts, autosave, the co-writer's suggestions, history, export."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from desktop_app.core.presets import draft_templates, system_presets
from desktop_app.store import Store
from desktop_app.ui.main_window import WindowServices
from desktop_app.ui.writing.editor import AUTOSAVE_MS
from tests.ui.conftest import FakeEngine, ask_and_wait, click_action


@pytest.fixture
def writer(qtbot, make_window):  # type: ignore[no-untyped-def]
    def make(engine=None):  # type: ignore[no-untyped-def]
        engine = engine or FakeEngine(tokens=["The ", "parcel ", "is ", "late."])
        window = make_window(lambda: engine, WindowServices(presets=system_presets(), templates=draft_templates()))
        window.menu_actions.writing_mode.trigger()
        return window, window.writing_pane, engine

    return make


def select(pane, start: int, end: int) -> None:  # type: ignore[no-untyped-def]
    cursor = pane.editor.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    pane.editor.setTextCursor(cursor)


def test_ctrl_2_opens_writing_and_ctrl_1_goes_back(qtbot, writer) -> None:  # type: ignore[no-untyped-def]
    window, pane, _ = writer()
    assert window.modes.currentWidget() is pane and window.menu_actions.writing_mode.isChecked()
    window.menu_actions.chat_mode.trigger()
    assert window.modes.currentWidget() is window.splitter
    from PySide6.QtGui import QKeySequence

    assert window.menu_actions.writing_mode.shortcut() == QKeySequence("Ctrl+2")


def test_typing_is_saved_within_two_seconds_without_doing_anything(qtbot, writer, store: Store) -> None:  # type: ignore[no-untyped-def]
    _, pane, _ = writer()
    pane.drafts.new_draft()
    assert AUTOSAVE_MS <= 2000
    qtbot.keyClicks(pane.editor, "Dear customer")
    qtbot.waitUntil(lambda: store.drafts.get(pane.editor_pane.draft_id).body == "Dear customer", timeout=2000)
    pane.editor_pane.title_edit.setText("Reply to Sam")
    pane.editor_pane.title_edit.editingFinished.emit()
    assert store.drafts.get(pane.editor_pane.draft_id).title == "Reply to Sam"
    assert pane.drafts.list.currentItem().text() == "Reply to Sam"
    assert pane.editor_pane.counts_label.text() == "2 words · 13 characters · 2 tokens · 1 min read"


def test_steady_typing_still_saves_every_interval(qtbot, writer, store: Store) -> None:  # type: ignore[no-untyped-def]
    _, pane, _ = writer()
    pane.drafts.new_draft()
    saved: list[str] = []
    for i in range(14):  # type for about 1.4 s without a pause
        qtbot.keyClicks(pane.editor, f"w{i} ")
        qtbot.wait(100)
        saved.append(store.drafts.get(pane.editor_pane.draft_id).body)
    assert any(body.startswith("w0 ") for body in saved)  # saved while typing went on


def test_templates_rename_duplicate_delete_and_undo(qtbot, writer, store: Store) -> None:  # type: ignore[no-untyped-def]
    window, pane, _ = writer()
    pane.drafts.new_draft("customer-reply")
    draft = store.drafts.get(pane.editor_pane.draft_id)
    assert draft.title == "Reply to [customer]" and "[customer name]" in draft.body
    pane.drafts.duplicate_current()
    assert sorted(d.title for d in store.drafts.all()) == ["Reply to [customer]", "Reply to [customer] (copy)"]
    copy = pane.editor_pane.draft_id
    pane.drafts.delete_current()
    assert [d.title for d in store.drafts.all()] == ["Reply to [customer]"] and pane.editor_pane.draft_id is None
    assert window.reporter.undo_button.isVisibleTo(window)
    qtbot.mouseClick(window.reporter.undo_button, Qt.MouseButton.LeftButton)
    assert pane.editor_pane.draft_id == copy and len(store.drafts.all()) == 2


def test_search_finds_drafts_by_their_text(qtbot, writer, store: Store) -> None:  # type: ignore[no-untyped-def]
    store.drafts.create("Letter", "About the kangaroo exhibit")
    store.drafts.create("Other", "Nothing here")
    _, pane, _ = writer()
    pane.drafts.search_box.setText("kangaroo")
    assert pane.drafts.list.count() == 1 and pane.drafts.list.item(0).text().startswith("Letter")


def test_find_and_replace_all_is_one_undo_step(qtbot, writer, store: Store) -> None:  # type: ignore[no-untyped-def]
    _, pane, _ = writer()
    pane.drafts.new_draft()
    pane.editor.setPlainText("cat and cat and cat")
    pane.editor_pane.find_action.trigger()
    assert pane.editor_pane.find_bar.isVisibleTo(pane)
    pane.editor_pane.find_box.setText("cat")
    pane.editor_pane.replace_box.setText("dog")
    assert pane.editor_pane.replace_all() == 3
    assert pane.editor.toPlainText() == "dog and dog and dog"
    pane.editor.undo()
    assert pane.editor.toPlainText() == "cat and cat and cat"


def run_and_wait(qtbot, pane, action_id: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(pane.suggestion_ready, timeout=10_000):
        pane.cowriter.run_action(action_id, **kwargs)


def test_a_rewrite_streams_into_a_preview_as_tracked_changes_and_accept_is_one_undo(
    qtbot, writer, store: Store
) -> None:  # type: ignore[no-untyped-def]
    _, pane, engine = writer(FakeEngine(tokens=["The ", "parcel ", "is ", "very ", "late."], delay_s=0.01))
    pane.drafts.new_draft()
    text = "Hello Sam. The parcel is late. Best, Ana"
    pane.editor.setPlainText(text)
    select(pane, 11, 30)  # "The parcel is late."
    pane.cowriter.run_action("shorter")
    assert pane.editor.isReadOnly() and pane.suggestion_pane.isVisibleTo(pane)
    qtbot.waitUntil(lambda: pane.cowriter.suggestion is not None and pane.cowriter.suggestion.done, timeout=10_000)
    assert pane.editor.toPlainText() == text  # nothing touched the text yet
    html = pane.suggestion_pane.view.toHtml()
    assert "very" in html and "underline" in html
    request = engine.requests[-1]
    assert "The passage:\n<<<\nThe parcel is late.\n>>>" in request.messages[-1].content
    assert "Hello Sam. [PASSAGE] Best, Ana" in request.messages[-1].content
    pane.suggestion_pane.accept_button.click()
    assert pane.editor.toPlainText() == "Hello Sam. The parcel is very late. Best, Ana"
    assert not pane.editor.isReadOnly() and not pane.suggestion_pane.isVisibleTo(pane)
    assert store.drafts.get(pane.editor_pane.draft_id).body == "Hello Sam. The parcel is very late. Best, Ana"
    pane.editor.undo()
    assert pane.editor.toPlainText() == text


def test_reject_leaves_the_text_and_try_again_asks_again(qtbot, writer) -> None:  # type: ignore[no-untyped-def]
    _, pane, engine = writer()
    pane.drafts.new_draft()
    pane.editor.setPlainText("Fix this sentense please.")
    select(pane, 0, 25)
    run_and_wait(qtbot, pane, "grammar")
    with qtbot.waitSignal(pane.suggestion_ready, timeout=10_000):
        pane.suggestion_pane.again_button.click()
    assert len(engine.requests) == 2 and engine.requests[1].messages == engine.requests[0].messages
    # Fix grammar searches for the best text with the setting's beams; another try samples.
    assert [r.settings.num_beams for r in engine.requests] == [4, 1]
    assert engine.requests[1].settings.temperature > 0
    pane.suggestion_pane.reject_button.click()
    assert pane.editor.toPlainText() == "Fix this sentense please." and pane.cowriter.suggestion is None


def test_continue_inserts_at_the_cursor(qtbot, writer) -> None:  # type: ignore[no-untyped-def]
    _, pane, engine = writer(FakeEngine(tokens=["and ", "then ", "it ", "rained."]))
    pane.drafts.new_draft()
    pane.editor.setPlainText("It was sunny, Then the end.")
    select(pane, 13, 13)
    run_and_wait(qtbot, pane, "continue")
    assert "It was sunny," in engine.requests[-1].messages[-1].content
    assert "the end" not in engine.requests[-1].messages[-1].content
    pane.cowriter.accept_suggestion()
    assert pane.editor.toPlainText() == "It was sunny, and then it rained. Then the end."


def test_three_versions_side_by_side_and_pick_one(qtbot, writer) -> None:  # type: ignore[no-untyped-def]
    _, pane, engine = writer(FakeEngine(tokens=["A ", "better ", "line."]))
    pane.drafts.new_draft()
    pane.editor.setPlainText("A bad line.")
    select(pane, 0, 11)
    with qtbot.waitSignal(pane.suggestion_ready, timeout=10_000):
        pane.cowriter.versions_action.trigger()
    assert engine.requests[-1].settings.num_alternatives == 3
    assert pane.suggestion_pane.versions_box.isVisibleTo(pane) and not pane.suggestion_pane.accept_button.isEnabled()
    assert "(v3)" in pane.suggestion_pane.version_views[2].toPlainText()
    pane.suggestion_pane.version_buttons[2].click()
    assert pane.editor.toPlainText() == "A better line. (v3)"


def test_translate_and_ask_use_what_the_user_chose(qtbot, writer, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _, pane, engine = writer()
    pane.drafts.new_draft("email")
    select(pane, 0, 10)
    monkeypatch.setattr(pane.cowriter, "ask_language", lambda: ("German", True))
    run_and_wait(qtbot, pane, "translate")
    assert "into German" in engine.requests[-1].messages[-1].content
    pane.cowriter.reject_suggestion()
    offered: list[str] = []
    monkeypatch.setattr(
        pane.cowriter, "ask_instruction", lambda suggested: offered.append(suggested) or ("Is it polite?", True)
    )
    run_and_wait(qtbot, pane, "custom")
    assert offered == [draft_templates()[1].instruction]  # the template's matching instruction
    assert "Is it polite?" in engine.requests[-1].messages[-1].content


def test_an_action_without_a_selection_explains_itself(qtbot, writer) -> None:  # type: ignore[no-untyped-def]
    window, pane, _ = writer()
    pane.drafts.new_draft()
    pane.editor.setPlainText("Some text")
    shown: list[tuple[str, str]] = []
    window.reporter.problem_shown.connect(lambda title, text: shown.append((title, text)))
    pane.cowriter.run_action("summarise")
    assert shown == [("Summarise", "Select the text to work on first.")]
    assert pane.cowriter.suggestion is None and not pane.editor.isReadOnly()


def test_a_second_request_while_one_is_written_is_refused_and_the_first_goes_on(qtbot, writer) -> None:  # type: ignore[no-untyped-def]
    window, pane, engine = writer(FakeEngine(tokens=[f"w{i} " for i in range(40)], delay_s=0.01))
    pane.drafts.new_draft()
    pane.editor.setPlainText("Fix this sentense please.")
    select(pane, 0, 25)
    shown: list[tuple[str, str]] = []
    window.reporter.problem_shown.connect(lambda title, text: shown.append((title, text)))
    pane.cowriter.run_action("continue")
    first = pane.cowriter.suggestion
    pane.cowriter.run_action("grammar")
    busy = "The co-writer is still writing a suggestion; wait for it, or reject it first."
    assert shown == [("Fix grammar and spelling", busy)]
    assert pane.cowriter.suggestion is first  # still the one streaming into the pane
    qtbot.waitUntil(lambda: first.done, timeout=10_000)
    assert len(engine.requests) == 1
    with qtbot.waitSignal(pane.suggestion_ready, timeout=10_000):
        pane.cowriter.run_action("grammar")  # once it is done, a new request replaces it
    assert len(engine.requests) == 2 and pane.cowriter.suggestion.action_id == "grammar"


def test_history_shows_changes_and_restores_an_earlier_version(
    qtbot, writer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.store import drafts

    monkeypatch.setattr(drafts, "REVISION_INTERVAL_S", 0.0)
    _, pane, _ = writer()
    pane.drafts.new_draft()
    for text in ("First version.", "Second version.", "Third version."):
        pane.editor.setPlainText(text)
        pane.save()

    def pick_oldest(dialog) -> bool:  # type: ignore[no-untyped-def]
        dialog.list.setCurrentRow(dialog.list.count() - 2)  # the oldest with text
        assert "line-through" in dialog.view.toHtml()
        return True

    pane.editor_pane.run_dialog = pick_oldest
    pane.editor_pane.history_action.trigger()
    assert pane.editor.toPlainText() == "First version."
    assert store.drafts.get(pane.editor_pane.draft_id).body == "First version."
    assert "Third version." in [r.body for r in store.drafts.revisions(pane.editor_pane.draft_id)]
    pane.editor.undo()
    assert pane.editor.toPlainText() == "Third version."


def test_export_and_print(qtbot, writer, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtPrintSupport import QPrinter

    window, pane, _ = writer()
    pane.drafts.new_draft()
    pane.editor_pane.title_edit.setText("Letter")
    pane.editor.setPlainText("# Hello\n\nA **bold** line.")
    for name, starts in (
        ("letter.md", b"# Hello"),
        ("letter.docx", b"PK"),
        ("letter.odt", b"PK"),
        ("letter.pdf", b"%PDF"),
    ):
        window.transfer.ask_save_path = lambda *a, n=name: (str(tmp_path / n), "")
        pane.editor_pane.export_action.trigger()
        assert (tmp_path / name).read_bytes().startswith(starts), name
    assert "A **bold** line." in (tmp_path / "letter.md").read_text()
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    pane.editor_pane.print_to(printer)
    assert (tmp_path / "printed.pdf").read_bytes().startswith(b"%PDF")


def test_send_a_chat_reply_to_a_draft_and_discuss_a_passage_in_chat(qtbot, writer, store: Store) -> None:  # type: ignore[no-untyped-def]
    window, pane, _ = writer()
    window.menu_actions.chat_mode.trigger()
    reply = ask_and_wait(qtbot, window, "Draft an apology")
    existing = store.drafts.create("Apology", "Opening line.")
    window.ask_for_draft = lambda: (existing.id, True)
    click_action(qtbot, window, "to-draft", reply)
    assert store.drafts.get(existing.id).body == "Opening line.\n\nThe parcel is late."
    window.ask_for_draft = lambda: (None, True)
    click_action(qtbot, window, "to-draft", reply)
    assert [d.title for d in store.drafts.all() if d.body == "The parcel is late."] == ["From chat"]

    window.menu_actions.writing_mode.trigger()
    pane.open_draft(existing.id)
    select(pane, 0, 13)
    pane.discuss_selection()
    assert window.modes.currentWidget() is window.splitter and window.chat_pane.conversation_id is None
    assert window.chat_pane.composer.toPlainText() == "About this passage from my draft:\n\n> Opening line.\n\n"


def test_the_command_palette_filters_and_runs(qtbot, writer, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.ui.writing.dialogs import CommandPaletteDialog

    ran: list[str] = []
    dialog = CommandPaletteDialog([("Summarise", lambda: ran.append("s")), ("Translate", lambda: ran.append("t"))])
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.filter, "trans")
    assert dialog.list.count() == 1
    dialog.chosen()()
    assert ran == ["t"]


def test_the_chat_settings_panel_stays_with_the_chat(qtbot, writer) -> None:  # type: ignore[no-untyped-def]
    window, _, _ = writer()
    window.menu_actions.chat_mode.trigger()
    window.settings_dock.show()
    window.menu_actions.writing_mode.trigger()
    assert not window.settings_dock.isVisibleTo(window)
    window.menu_actions.chat_mode.trigger()
    assert window.settings_dock.isVisibleTo(window)


def test_a_new_or_deleted_draft_drops_the_suggestion_in_flight(qtbot, writer) -> None:  # type: ignore[no-untyped-def]
    _, pane, _ = writer(FakeEngine(tokens=[f"w{i} " for i in range(200)], delay_s=0.01))
    for leave in (lambda: pane.drafts.new_draft(), lambda: pane.drafts.delete_current()):
        pane.drafts.new_draft()
        pane.editor.setPlainText("Once upon a time")
        pane.editor.moveCursor(pane.editor.textCursor().MoveOperation.End)
        pane.cowriter.run_action("continue")
        assert pane.cowriter.suggestion is not None and pane.editor.isReadOnly()
        leave()
        assert pane.cowriter.suggestion is None and not pane.editor.isReadOnly()
