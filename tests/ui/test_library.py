"""The document library in the window: the Documents dialog (adding on its own thread,
failed files with reasons, removing), a chat's Sources menu, and citations that open their
passage."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.store import Store
from tests.ui.conftest import FakeEngine, ask_and_wait, click_action


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "returns.md").write_text(
        "# Returns\n\nUnused products may be returned within 45 days.\n", encoding="utf-8"
    )
    (folder / "hours.txt").write_text("The shop opens at nine.\n", encoding="utf-8")
    (folder / "blob.txt").write_bytes(b"\x00\x01binary")
    return folder


def add_and_wait(qtbot, dialog, paths: list[Path], collection: str) -> None:  # type: ignore[no-untyped-def]
    dialog.target.setCurrentText(collection)
    dialog.index(paths)
    assert dialog.indexing
    # Polled: waiting on the worker thread's signal would stop pytest-qt's timer from that thread.
    qtbot.waitUntil(lambda: not dialog.indexing, timeout=20_000)


def test_the_documents_dialog_adds_a_folder_on_its_thread_and_lists_each_files_state(  # type: ignore[no-untyped-def]
    qtbot, make_window, store: Store, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window(FakeEngine)
    dialog = window.open_documents()
    add_and_wait(qtbot, dialog, [docs], "Shop")
    assert "2 added" in dialog.progress_label.text() and "1 not read" in dialog.progress_label.text()
    assert dialog.collection_name() == "Shop"
    states = {dialog.files.topLevelItem(i).text(0): dialog.files.topLevelItem(i).text(2) for i in range(3)}
    assert dialog.files.topLevelItem(0).text(3) == str(docs.resolve())
    assert states["returns.md"] == "1 passage" and states["blob.txt"].startswith("Not read: It is a binary file")
    assert store.documents.search("return products", ["Shop"])  # the window's own connection sees them
    dialog.files.topLevelItem(0).setSelected(True)  # blob.txt, first by path
    dialog.remove_button.click()
    assert "Removed 1 file" in dialog.progress_label.text()
    assert {Path(d.path).name for d in store.documents.documents("Shop")} == {"hours.txt", "returns.md"}
    assert docs.joinpath("blob.txt").exists()
    answers = [False, True]
    monkeypatch.setattr(dialog, "confirm", lambda question, detail: answers.pop(0))
    dialog.files.clearSelection()
    dialog.remove_button.click()  # nothing chosen: the whole collection, asked first
    assert store.documents.collections() and answers == [True]
    dialog.remove_button.click()
    assert store.documents.collections() == [] and "Removed the collection Shop" in dialog.progress_label.text()


def test_a_chats_sources_answer_it_and_its_citations_open_their_passage(  # type: ignore[no-untyped-def]
    qtbot, make_window, store: Store, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = FakeEngine(tokens=["Within ", "45 ", "days ", "[1]."])
    window = make_window(lambda: engine)
    dialog = window.open_documents()
    add_and_wait(qtbot, dialog, [docs / "returns.md"], "Shop")
    button = window.chat_pane.sources_button
    assert button.text() == "Sources: none"
    button.toggle("Shop", True)  # on a new chat: kept until the chat exists
    assert button.text() == "Sources: Shop"
    reply = ask_and_wait(qtbot, window, "How long for returns?")
    conversation = window.chat_pane.conversation_id
    assert store.documents.attached(conversation) == ["Shop"]
    system = engine.requests[-1].messages[0]
    assert system.role == "system" and "[1] returns.md, lines 1-3 — Returns" in system.content
    html = window.chat_pane.chat_view.toHtml()
    assert f"inkwell:source/{reply}/1" in html and "Sources:" in html
    shown = []
    monkeypatch.setattr("desktop_app.ui.chat.chat_pane.show_passage", lambda _parent, n, p: shown.append((n, p.text)))
    click_action(qtbot, window, "source", f"{reply}/1")
    assert shown == [(1, "Returns\n\nUnused products may be returned within 45 days.")]
    window.chat_pane.new_chat()
    assert button.text() == "Sources: none"  # each new chat chooses its own
    window.chat_pane.open_conversation(conversation)
    button.toggle("Shop", False)
    assert store.documents.attached(conversation) == [] and button.text() == "Sources: none"


def test_the_library_reads_what_changed_at_start_and_while_its_folders_change(  # type: ignore[no-untyped-def]
    qtbot, store: Store, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import QObject

    from desktop_app.session.documents import DocumentIndexer
    from desktop_app.ui import library_indexer

    DocumentIndexer(store).add([docs], "Shop")
    (docs / "new.md").write_text("# New\n\nWritten while Inkwell was closed.\n", encoding="utf-8")
    monkeypatch.setattr(library_indexer, "WATCH_DELAY_MS", 50)
    owner = QObject()
    library = library_indexer.LibraryIndexer(store, lambda: False, owner)
    try:
        library.refresh()  # as the window does at start
        qtbot.waitUntil(lambda: not library.busy, timeout=20_000)
        assert "new.md" in {Path(d.path).name for d in store.documents.documents("Shop")}
        assert str(docs.resolve()) in library.watcher.directories()
        (docs / "later.md").write_text("# Later\n\nWritten while Inkwell runs.\n", encoding="utf-8")
        qtbot.waitUntil(
            lambda: "later.md" in {Path(d.path).name for d in store.documents.documents("Shop")}, timeout=20_000
        )
        (docs / "returns.md").write_text("# Returns\n\nWithin 60 days now.\n", encoding="utf-8")  # edited in place
        qtbot.waitUntil(lambda: bool(store.documents.search("60 days", ["Shop"])), timeout=20_000)
    finally:
        library.shutdown()


def test_passages_go_to_a_remote_model_only_once_the_user_allows_it(  # type: ignore[no-untyped-def]
    qtbot, make_window, store: Store, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    engine = FakeEngine(
        provider=SimpleNamespace(name="remote:http://box:8000/v1", label="box:8000", reason="a server you added")
    )
    window = make_window(lambda: engine)
    dialog = window.open_documents()
    add_and_wait(qtbot, dialog, [docs / "returns.md"], "Shop")
    button = window.chat_pane.sources_button
    button.toggle("Shop", True)
    answers, asked = [False, True], []
    monkeypatch.setattr(button, "ask_remote", lambda names, where: asked.append((names, where)) or answers.pop(0))
    monkeypatch.setattr(window.reporter, "problem", lambda title, text: asked.append(("problem", text)))
    window.chat_pane.composer.setPlainText("How long for returns?")
    window.chat_pane.send()
    assert asked[0] == ("Shop", "box:8000") and "chose not to send" in asked[1][1]
    assert engine.requests == [] and window.chat_pane.conversation_id is None  # nothing sent, nothing saved
    ask_and_wait(qtbot, window, "How long for returns?")
    assert len(asked) == 3 and "returns.md" in engine.requests[-1].messages[0].content
    ask_and_wait(qtbot, window, "And for gift cards?")  # allowed: not asked again
    assert len(asked) == 3


def test_the_co_writer_answers_from_documents_and_accepting_adds_footnotes(  # type: ignore[no-untyped-def]
    qtbot, make_window, store: Store, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.session.documents import DocumentIndexer
    from desktop_app.ui.main_window import WindowServices

    DocumentIndexer(store).add([docs / "returns.md"], "Shop")
    engine = FakeEngine(tokens=["Unused ", "items ", "come ", "back ", "within ", "45 ", "days ", "[1]."])
    window = make_window(lambda: engine, WindowServices())
    window.menu_actions.writing_mode.trigger()
    pane = window.writing_pane
    pane.drafts.new_draft()
    pane.editor.setPlainText("Dear Anna,\n\nThanks.[^1]\n\n[^1]: A note of mine.")
    cursor = pane.editor.textCursor()
    cursor.setPosition(len("Dear Anna,\n\nThanks."))
    pane.editor.setTextCursor(cursor)
    monkeypatch.setattr(pane.cowriter, "ask_documents", lambda: ("How long for returns?", ["Shop"]))
    with qtbot.waitSignal(pane.suggestion_ready, timeout=10_000):
        pane.cowriter.run_action("docs")
    system = engine.requests[-1].messages[0].content
    assert "[1] returns.md, lines 1-3 — Returns" in system
    pane.cowriter.accept_suggestion()
    text = pane.editor.toPlainText()
    assert text.startswith("Dear Anna,\n\nThanks. Unused items come back within 45 days [^2].[^1]")
    assert text.endswith("[^1]: A note of mine.\n\n[^2]: returns.md, lines 1-3 — Returns\n")
    pane.editor.undo()  # one step takes the answer and its footnote away
    assert pane.editor.toPlainText() == "Dear Anna,\n\nThanks.[^1]\n\n[^1]: A note of mine."
