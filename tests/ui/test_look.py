"""The designed window: themes, the welcome page, the thinking state, the model picker, files
dropped on the composer, notifications, and the place the window reopens at."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QContextMenuEvent, QDropEvent, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.session.settings import AppSettings, ModelChoice
from desktop_app.store import Store
from desktop_app.ui.chat.composer import quote
from desktop_app.ui.services import WindowServices
from desktop_app.ui.theme import DARK, LIGHT, apply_appearance, colours_for, style_sheet
from tests.ui.conftest import FakeEngine, ask_and_wait


def test_each_theme_has_its_style_sheet_and_palette(qapp) -> None:  # type: ignore[no-untyped-def]
    try:
        assert apply_appearance(qapp, "dark", 11) == "dark"
        assert colours_for(qapp.palette()) is DARK
        assert qapp.styleSheet() == style_sheet("dark") and DARK.accent in style_sheet("dark")
        assert apply_appearance(qapp, "light", 11) == "light"
        assert colours_for(qapp.palette()) is LIGHT
        assert qapp.palette().color(QPalette.ColorRole.Base).name() == LIGHT.surface
    finally:
        apply_appearance(qapp, "light", 11)


def test_a_new_chat_shows_the_welcome_page_and_a_suggestion_starts_the_message(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    chat = window.chat_pane
    assert chat.pages.currentWidget() is chat.welcome
    assert "Fake model" in chat.welcome.model_label.text() and "this computer" in chat.welcome.model_label.text()
    labels = [b.text() for b in chat.welcome.suggestions]
    assert labels == ["Reply to a customer", "Summarise a text", "Explain like a tutor", "Translate", "Draft an email"]
    assert all(b.accessibleName() for b in chat.welcome.suggestions)
    chat.welcome.suggestions[0].click()
    assert chat.composer.toPlainText().startswith("Write a friendly, professional reply")
    assert chat.composer.textCursor().atEnd()
    ask_and_wait(qtbot, window, "Hello")
    assert chat.pages.currentWidget() is chat.chat_view
    chat.new_chat()
    assert chat.pages.currentWidget() is chat.welcome


def test_the_reply_says_it_is_thinking_until_its_first_word(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine(delay_s=0.3)
    window = make_window(lambda: engine)
    chat = window.chat_pane
    chat.composer.setPlainText("Hello")
    chat.send()
    assert chat.chat_view.thinking and "Thinking" in chat.chat_view.toPlainText()
    qtbot.waitUntil(lambda: "Paris" in chat.chat_view.toPlainText(), timeout=5_000)
    assert not chat.chat_view.thinking and "Thinking" not in chat.chat_view.toPlainText()
    qtbot.waitSignal(window.reply_finished, timeout=5_000)


def test_the_chat_column_stays_readable_on_a_wide_window(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    ask_and_wait(qtbot, window, "Hello")
    window.resize(1800, 900)
    window.show()
    qtbot.waitExposed(window)
    view = window.chat_pane.chat_view
    frame = view.document().rootFrame().frameFormat()
    column = view.viewport().width() - frame.leftMargin() - frame.rightMargin()
    assert frame.leftMargin() == frame.rightMargin() > 100  # centred
    assert 60 * view.fontMetrics().averageCharWidth() < column < 90 * view.fontMetrics().averageCharWidth()


def test_the_model_picker_lists_the_models_and_switches(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    models = [ModelChoice("fake", "Fake model (fake)"), ModelChoice("other", "Other model (other)")]
    window = make_window(FakeEngine, WindowServices(list_models=lambda: models))
    picker = window.model_picker
    assert picker.parentWidget() is window.menu_actions.mode_bar and picker.accessibleName()
    assert [picker.itemText(i) for i in range(picker.count())] == ["Fake model (fake)", "Other model (other)"]
    picker.setCurrentIndex(1)
    picker.activated.emit(1)
    assert AppSettings.load(store).model == "other"


def test_a_text_file_dropped_on_the_composer_is_quoted(qtbot, make_window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    composer = window.chat_pane.composer
    note = tmp_path / "notes.txt"
    note.write_text("第一行\nsecond line\n", encoding="gb18030")  # a Chinese file that is not UTF-8
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0binary")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(note)), QUrl.fromLocalFile(str(binary))])
    refused: list[str] = []
    composer.drop_refused.connect(refused.append)
    event = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    composer.dropEvent(event)
    assert composer.toPlainText() == quote("notes.txt", "第一行\nsecond line\n")
    assert composer.toPlainText().startswith("notes.txt:\n\n> 第一行\n> second line")
    assert len(refused) == 1 and "photo.png" in refused[0]


def test_a_long_reply_finished_in_the_background_is_notified(qtbot, make_window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import desktop_app.ui.main_window as main_window

    window = make_window(FakeEngine)
    monkeypatch.setattr(main_window, "LONG_REPLY_S", 0.0)
    assert not window.isActiveWindow()  # never shown: as good as another app in front
    ask_and_wait(qtbot, window, "Hello")
    assert window.notifier.sent and window.notifier.sent[-1][0] == "Inkwell's reply is ready"
    monkeypatch.setattr(main_window, "LONG_REPLY_S", 3600.0)
    ask_and_wait(qtbot, window, "Again")  # a quick reply: nothing more
    assert len(window.notifier.sent) == 1


def test_the_window_reopens_at_the_last_chat_and_mode(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    ask_and_wait(qtbot, window, "Remember me")
    chat_id = window.chat_pane.conversation_id
    window.show_writing_mode()
    window.close()
    again = make_window(FakeEngine)
    again.start()
    assert again.chat_pane.conversation_id == chat_id
    assert again.modes.currentWidget() is again.writing_pane
    again.show_chat_mode()
    again.close()
    third = make_window(FakeEngine)
    third.start()
    assert third.modes.currentWidget() is third.splitter


def test_the_keyboard_reaches_the_actions_of_any_message(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    first = ask_and_wait(qtbot, window, "Hello")
    last = ask_and_wait(qtbot, window, "Again")
    window.show()
    qtbot.waitExposed(window)
    view = window.chat_pane.chat_view
    view.setFocus()

    def menu_for() -> str | None:
        event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, view.cursorRect().center())
        message = view.menu_message(event)
        return message.id if message is not None else None

    qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert menu_for() == last  # the caret at the end: the last reply's actions
    qtbot.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    for _ in range(4):  # down past the first question to the first reply
        qtbot.keyClick(view, Qt.Key.Key_Down)
    assert menu_for() == first


def test_the_floating_actions_never_outlive_the_message_they_were_for(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    reply = ask_and_wait(qtbot, window, "Hello")
    view = window.chat_pane.chat_view
    view.action_bar.show_for(reply, "assistant")
    window.chat_pane.new_chat()  # another chat: the bar must not act on the old one's reply
    assert view.action_bar.message_id is None and view.action_bar.isHidden()
    window.chat_pane.open_conversation(store.conversations.all()[0].id)
    view.action_bar.show_for(reply, "assistant")
    view.action_bar.show_for("x", "user")
    view.action_bar.show_for(reply, "assistant")  # rebuilt for a reply: all four buttons fit
    assert view.action_bar.sizeHint().width() >= sum(b.sizeHint().width() for b in view.action_bar.buttons.values())


def test_every_new_control_has_an_accessible_name_and_takes_the_keyboard(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    ask_and_wait(qtbot, window, "Hello")
    bar = window.chat_pane.chat_view.action_bar
    reply = window.chat_pane.chat_view._messages[-1]
    bar.show_for(reply.id, reply.role)
    controls: list[QWidget] = [
        window.model_picker,
        *window.chat_pane.welcome.suggestions,
        window.chat_pane.send_button,
        window.chat_pane.stop_button,
        *bar.buttons.values(),
    ]
    for control in controls:
        assert control.accessibleName(), control
        assert control.focusPolicy() & Qt.FocusPolicy.TabFocus, control
    assert QApplication.instance() is not None
