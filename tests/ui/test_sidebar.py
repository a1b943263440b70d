"""The sidebar: date headings, keyboard navigation."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt

from desktop_app.store import Store
from desktop_app.ui.chat.sidebar import date_group
from tests.ui.conftest import FakeEngine, titles

TODAY = date(2026, 11, 23)


def iso_days_ago(days: int, hour: int = 12) -> str:
    moment = datetime(TODAY.year, TODAY.month, TODAY.day, hour).astimezone() - timedelta(days=days)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("days", "group"),
    [
        (0, "Today"),
        (1, "Yesterday"),
        (3, "Previous 7 days"),
        (6, "Previous 7 days"),
        (7, "Previous 30 days"),
        (29, "Previous 30 days"),
        (60, "September"),
        (400, "2025"),
    ],
)
def test_date_groups(days: int, group: str) -> None:
    assert date_group(iso_days_ago(days), TODAY) == group


def test_a_bad_timestamp_goes_under_older() -> None:
    assert date_group("yesterday-ish", TODAY) == "Older"


def test_headings_group_the_chats_and_the_arrow_keys_skip_them(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    ages = {"Fresh": 0, "Last week": 3, "Pinned one": 40}
    ids = {}
    for title, days in ages.items():
        ids[title] = store.conversations.create(title).id
        moment = datetime(today.year, today.month, today.day, 12).astimezone() - timedelta(days=days)
        with store.transaction():
            store.conn.execute(
                "UPDATE conversations SET updated = ? WHERE id = ?",
                (moment.astimezone(timezone.utc).isoformat(), ids[title]),
            )
    store.conversations.set_pinned(ids["Pinned one"], True)
    window = make_window(FakeEngine)
    window.list_pane.refresh()
    rows = [window.list_pane.sidebar.item(i).text() for i in range(window.list_pane.sidebar.count())]
    assert rows == ["Pinned", "📌 Pinned one", "Today", "Fresh", "Previous 7 days", "Last week"]
    assert titles(window) == ["📌 Pinned one", "Fresh", "Last week"]

    window.list_pane.sidebar.setFocus()
    window.list_pane.sidebar.setCurrentItem(window.list_pane.sidebar.item(1))
    assert window.chat_pane.conversation_id == ids["Pinned one"]
    qtbot.keyClick(window.list_pane.sidebar, Qt.Key.Key_Down)  # over the "Today" heading
    assert window.chat_pane.conversation_id == ids["Fresh"]
    qtbot.keyClick(window.list_pane.sidebar, Qt.Key.Key_Down)
    assert window.chat_pane.conversation_id == ids["Last week"]
    qtbot.keyClick(window.list_pane.sidebar, Qt.Key.Key_Up)
    assert window.chat_pane.conversation_id == ids["Fresh"]
    window.menu_actions.previous.trigger()  # Ctrl+PgUp from anywhere
    assert window.chat_pane.conversation_id == ids["Pinned one"]
    window.menu_actions.next.trigger()
    assert window.chat_pane.conversation_id == ids["Fresh"]
    window.show()
    window.activateWindow()
    window.list_pane.sidebar.setFocus()
    qtbot.keyClick(window.list_pane.sidebar, Qt.Key.Key_Return)  # Enter: on to the message box
    assert window.focusWidget() is window.chat_pane.composer


def test_search_with_no_matches_says_so_and_enter_moves_to_the_first_hit(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    chat = store.conversations.create("Invoices")
    store.conversations.add_message(chat.id, "user", "Where is my invoice for March?")
    window = make_window(FakeEngine)
    window.list_pane.search_box.setText("zebra")
    window.list_pane.refresh()
    assert titles(window) == [] and window.list_pane.sidebar.item(0).text() == "No matches"
    window.list_pane.search_box.setText("invoice")
    window.list_pane.search_box.returnPressed.emit()
    assert window.chat_pane.conversation_id == chat.id


def test_search_hits_show_the_matched_words_highlighted(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.ui.chat.sidebar import HTML_ROLE, hit_html

    assert hit_html("T<1>", "a \x02match\x03 & more", "\x02", "\x03") == (
        "T&lt;1&gt;<br><span style='font-size:small'>a <b style='background-color:#fff3b0; "
        "color:#1f2328'>match</b> &amp; more</span>"
    )
    chat = store.conversations.create("Refunds")
    store.conversations.add_message(chat.id, "user", "Where is my refund for the blue kettle?")
    window = make_window(FakeEngine)
    window.show()
    window.list_pane.search_box.setText("kettle")
    window.list_pane.refresh()
    item = window.list_pane.sidebar.item(0)
    assert "<b style=" in item.data(HTML_ROLE) and ">kettle</b>" in item.data(HTML_ROLE)
    rect = window.list_pane.sidebar.visualItemRect(item)
    assert rect.height() >= 2 * window.list_pane.sidebar.fontMetrics().height()  # title and snippet both fit
    window.list_pane.sidebar.viewport().grab()  # paints through the delegate without error
