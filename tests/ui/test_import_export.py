"""Export and import from the window (the Save and Open dialogs replaced), and a refused database at start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.store import Store
from tests.ui.conftest import FakeEngine, ask_and_wait, conversations_with, titles


def test_export_the_open_chat_in_the_chosen_format(qtbot, make_window, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    ask_and_wait(qtbot, window, "Capital of France?")
    asked: list[str] = []

    def save_as(title: str, suggested: str, filters: list[str]) -> tuple[str, str]:
        asked.append(suggested)
        return str(tmp_path / "france"), "PDF (*.pdf)"  # no suffix typed: the filter decides

    window.transfer.ask_save_path = save_as
    window.menu_actions.export.trigger()
    assert asked == ["Capital of France_.md"]
    assert (tmp_path / "france.pdf").read_bytes().startswith(b"%PDF")
    window.transfer.ask_save_path = lambda *a: (str(tmp_path / "france.md"), "PDF (*.pdf)")  # a typed suffix wins
    window.menu_actions.export.trigger()
    assert "Paris is the capital." in (tmp_path / "france.md").read_text()


def test_export_the_selected_chats_and_import_them_back(qtbot, make_window, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conversations_with(store, "Refunds", "Lesson plan", "Poems")
    window = make_window(FakeEngine)
    window.list_pane.refresh()
    items = window.list_pane.sidebar.conversation_items()
    items[0].setSelected(True)
    items[2].setSelected(True)
    window.transfer.ask_save_path = lambda *a: (str(tmp_path / "two.json"), "")
    window.menu_actions.export.trigger()
    exported = json.loads((tmp_path / "two.json").read_text())
    assert sorted(c["title"] for c in exported["conversations"]) == ["Poems", "Refunds"]

    window.transfer.ask_open_path = lambda *a: (str(tmp_path / "two.json"), "")
    window.menu_actions.import_chats.trigger()
    assert sorted(titles(window)) == ["Lesson plan", "Poems", "Poems", "Refunds", "Refunds"]
    assert "Imported 2 conversations" in window.statusBar().currentMessage()


def test_a_bad_import_file_is_reported_and_changes_nothing(qtbot, make_window, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conversations_with(store, "Keep")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "inkwell-transcript", "version": 1, "conversations": [{"title": 3}]}')
    window = make_window(FakeEngine)
    shown: list[tuple[str, str]] = []
    window.reporter.problem_shown.connect(lambda title, text: shown.append((title, text)))
    window.transfer.ask_open_path = lambda *a: (str(bad), "")
    window.menu_actions.import_chats.trigger()
    assert shown and shown[0][0] == "Could not import" and "Nothing was imported" in shown[0][1]
    assert titles(window) == ["Keep"]


def test_export_all_and_cancelled_dialogs(qtbot, make_window, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conversations_with(store, "One", "Two")
    window = make_window(FakeEngine)
    window.transfer.ask_save_path = lambda *a: ("", "")  # cancelled: nothing happens
    window.menu_actions.export_all.trigger()
    assert list(tmp_path.glob("*.md")) == []
    window.transfer.ask_save_path = lambda *a: (str(tmp_path / "all.txt"), "")
    window.menu_actions.export_all.trigger()
    text = (tmp_path / "all.txt").read_text()
    assert "One" in text and "Two" in text


def test_a_refused_database_can_be_set_aside_for_a_new_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app import app
    from desktop_app.store.db import DatabaseRefused
    from desktop_app.ui import dialogs

    monkeypatch.setenv("INKWELL_DATA_DIR", str(tmp_path))
    damaged = tmp_path / "inkwell.db"
    damaged.write_bytes(b"not a database at all" * 100)
    monkeypatch.setattr(dialogs, "ask_about_refused_database", lambda error, path, too_new: False)
    with pytest.raises(DatabaseRefused):
        app.open_store_asking(object())
    assert damaged.read_bytes() == b"not a database at all" * 100  # untouched

    asked: list[bool] = []
    monkeypatch.setattr(
        dialogs, "ask_about_refused_database", lambda error, path, too_new: asked.append(too_new) or True
    )
    store = app.open_store_asking(object())
    try:
        assert asked == [False] and store.conversations.all() == []
        [kept] = tmp_path.glob("inkwell.db.set-aside-*")
        assert kept.read_bytes() == b"not a database at all" * 100
    finally:
        store.close()


def test_the_refused_database_dialog_offers_a_way_forward(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.ui.dialogs import RefusedDatabaseDialog

    dialog = RefusedDatabaseDialog(Exception("The database is damaged."), tmp_path / "inkwell.db", too_new=False)
    qtbot.addWidget(dialog)
    labels = sorted(b.text() for b in dialog.buttons())
    assert labels == ["Open the data folder", "Quit", "Start a new database"]
    assert "kept" in dialog.informativeText() and dialog.defaultButton() is dialog.quit_button
    newer = RefusedDatabaseDialog(Exception("Newer."), tmp_path / "inkwell.db", too_new=True)
    qtbot.addWidget(newer)
    assert "newer version" in newer.informativeText()
