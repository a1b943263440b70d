"""The document library end to end below the window: indexing files and folders, change
detection, failures with reasons, search with positions, and retrieval quality on a small
corpus the test writes (recall@5 of the passage holding each answer)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.session.documents import DocumentIndexer, Progress
from desktop_app.store import Store
from tests.documents_corpus import MANUAL, QUESTIONS, write_corpus


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "docs")


def test_recall_at_5_of_the_answering_passage_is_at_least_90_percent(store: Store, corpus: Path) -> None:
    report = DocumentIndexer(store).add([corpus], "Support")
    assert report.added == 3 and report.skipped == 1 and not report.failed
    found = 0
    for question, answer in QUESTIONS:
        passages = store.documents.search(question, ["Support"], limit=5)
        found += any(answer in p.text for p in passages)
    assert found / len(QUESTIONS) >= 0.9, f"recall@5 {found}/{len(QUESTIONS)}"


def test_search_gives_the_file_and_where_in_it(store: Store, corpus: Path) -> None:
    DocumentIndexer(store).add([corpus])
    [best, *_] = store.documents.search("factory reset paper clip")
    assert best.path == str((corpus / "manual.md").resolve())
    assert best.heading == "Aurora X2 router: user manual › Factory reset"
    heading_line = MANUAL.splitlines().index("## Factory reset") + 1
    assert best.where == f"lines {heading_line}-{heading_line + 3}" and best.score > 0
    assert store.documents.search("the of and") == []  # nothing but common words
    assert store.documents.search('"unbalanced AND (') == []  # FTS5 syntax is not read as such


def test_a_second_run_reads_nothing_unchanged_and_an_edit_replaces_the_passages(store: Store, corpus: Path) -> None:
    indexer = DocumentIndexer(store)
    indexer.add([corpus])
    again = indexer.add([corpus])
    assert (again.added, again.updated, again.unchanged, again.bytes_read) == (0, 0, 3, 0)
    manual = corpus / "manual.md"
    stat = manual.stat()
    os.utime(manual, (stat.st_atime, stat.st_mtime + 10))  # saved again, same content
    touched = indexer.refresh()
    assert (touched.updated, touched.unchanged) == (0, 3) and touched.bytes_read == manual.stat().st_size
    manual.write_text(MANUAL.replace("fifteen seconds", "thirty seconds"), encoding="utf-8")
    os.utime(manual, (stat.st_atime, stat.st_mtime + 20))
    edited = indexer.refresh()
    assert edited.updated == 1
    assert not any("fifteen" in p.text for p in store.documents.search("reset button seconds"))
    assert any("thirty seconds" in p.text for p in store.documents.search("reset button seconds"))
    count = store.conn.execute("SELECT COUNT(*) FROM doc_chunks_fts").fetchone()[0]
    assert count == store.conn.execute("SELECT COUNT(*) FROM doc_chunks").fetchone()[0]  # no stale index rows


def test_failed_files_are_listed_with_their_reason_and_the_rest_goes_on(store: Store, corpus: Path) -> None:
    (corpus / "dump.txt").write_bytes(b"\x00\x01\x02binary")
    (corpus / "empty.md").write_text("\n\n", encoding="utf-8")
    report = DocumentIndexer(store).add([corpus, corpus / "logo.png"])
    assert report.added == 3
    reasons = {Path(path).name: reason for path, reason in report.failed}
    assert set(reasons) == {"dump.txt", "empty.md", "logo.png"}
    assert "binary" in reasons["dump.txt"] and "no text" in reasons["empty.md"] and ".png" in reasons["logo.png"]
    listed = {Path(d.path).name: d for d in store.documents.documents()}
    assert listed["dump.txt"].status == "failed" and listed["dump.txt"].reason == reasons["dump.txt"]
    assert listed["manual.md"].status == "indexed" and listed["manual.md"].chunks > 3
    assert "secret.md" not in listed  # hidden folders are left out


def test_a_file_gone_from_disk_is_marked_and_its_passages_leave_the_index(store: Store, corpus: Path) -> None:
    indexer = DocumentIndexer(store)
    indexer.add([corpus])
    (corpus / "notes.docx").unlink()
    report = indexer.refresh()
    assert [(Path(p).name, r) for p, r in report.failed] == [("notes.docx", "The file is no longer there.")]
    assert not any("escalate" in p.text.lower() for p in store.documents.search("escalate second line"))


def test_collections_filter_searches_and_removing_forgets_only_the_library_entry(store: Store, corpus: Path) -> None:
    indexer = DocumentIndexer(store)
    indexer.add([corpus / "manual.md"], "Product")
    indexer.add([corpus / "policies"], "Policies")
    assert {p.collection for p in store.documents.search("warranty router", ["Policies"])} == {"Policies"}
    assert {c["name"]: c["documents"] for c in store.documents.collections()} == {"Policies": 1, "Product": 1}
    assert store.documents.remove(str((corpus / "policies").resolve())) == 1  # a folder: the files under it
    assert store.documents.search("refund", ["Policies"]) == []
    assert store.documents.remove_collection("product") == 1  # names are case-insensitive
    assert (corpus / "manual.md").exists()
    with pytest.raises(UserError, match="no collection named"):
        store.documents.search("x", ["Nope"])


def test_progress_is_reported_and_cancel_stops_between_files(store: Store, corpus: Path) -> None:
    cancel = threading.Event()
    seen: list[Progress] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.files_done == 1:
            cancel.set()

    report = DocumentIndexer(store, progress, cancel).add([corpus])
    assert report.cancelled and report.added == 1
    assert seen[0].files_total == 3 and seen[0].bytes_total > 0
    assert sorted(d.status for d in store.documents.documents()) == [
        "indexed",
        "pending",
        "pending",
    ]  # none half-written
    resumed = DocumentIndexer(store).add([corpus])
    assert (resumed.added, resumed.unchanged) == (2, 1)


def test_a_path_that_does_not_exist_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no file or folder"):
        DocumentIndexer(store).add([tmp_path / "missing"])


def test_the_data_folder_itself_is_never_indexed(store: Store) -> None:
    (store.path.parent / "stray.md").write_text("# Stray\n\nin the data folder", encoding="utf-8")
    report = DocumentIndexer(store).add([store.path.parent])
    assert report.added == 0 and store.documents.documents() == []


def test_indexing_waits_between_files_while_asked_to_pause(store: Store, corpus: Path) -> None:
    asked = []

    def pause() -> bool:
        asked.append(sum(d.status == "indexed" for d in store.documents.documents()))
        return len(asked) in (2, 3)  # before the second file: twice "wait", then go on

    report = DocumentIndexer(store, should_pause=pause).add([corpus])
    assert report.added == 3 and asked[:4] == [0, 1, 1, 1]


def test_a_large_library_leaves_out_words_most_passages_hold(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop_app.store.documents as documents

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(30):
        topic = "The firmware update takes ten minutes." if i == 17 else f"Item {i} has the colour code c{i}."
        (folder / f"note{i:02d}.md").write_text(f"# Router note {i}\n\nThe router is fine. {topic}\n", encoding="utf-8")
    DocumentIndexer(store).add([folder])
    monkeypatch.setattr(documents, "PRUNE_FROM", 10)  # as if the library held many thousand passages
    monkeypatch.setattr(documents, "COMMON_SHARE", 0.2)
    assert store.documents._search_words("router firmware update nonexistentword") == ["firmware", "update"]
    assert store.documents._search_words("router note fine") == ["router"]  # all common: the first alone
    [best, *_] = store.documents.search("router firmware update")
    assert "firmware update takes ten minutes" in best.text


def test_a_folders_new_files_are_read_by_the_next_refresh_and_a_stopped_run_is_finished(
    store: Store, corpus: Path
) -> None:
    cancel = threading.Event()
    stopped = DocumentIndexer(store, lambda p: cancel.set() if p.files_done == 1 else None, cancel).add([corpus])
    assert stopped.cancelled and stopped.added == 1  # as if the app had been killed there
    (corpus / "policies" / "new.md").write_text("# New\n\nA policy added later.\n", encoding="utf-8")
    resumed = DocumentIndexer(store).refresh()
    assert (resumed.added, resumed.unchanged) == (3, 1)
    assert store.documents.folders() == [("Documents", str(corpus.resolve()))]
    store.documents.remove(str(corpus.resolve()))  # the folder leaves: it is not read again
    (corpus / "later.md").write_text("# Later\n\nNot for the library.\n", encoding="utf-8")
    assert DocumentIndexer(store).refresh().added == 0 and store.documents.folders() == []


def test_what_is_removed_from_inside_an_added_folder_stays_out_until_added_again(store: Store, corpus: Path) -> None:
    indexer = DocumentIndexer(store)
    indexer.add([corpus])
    assert store.documents.remove(str((corpus / "policies").resolve())) == 1
    assert store.documents.remove(str((corpus / "notes.docx").resolve())) == 1
    assert indexer.refresh().added == 0  # not brought back by the folder's refresh
    assert {Path(d.path).name for d in store.documents.documents()} == {"manual.md"}
    indexer.add([corpus / "policies"])
    assert indexer.refresh().added == 0 and len(store.documents.documents()) == 2


def test_windows_paths_are_removed_by_folder_too(store: Store) -> None:
    collection = store.documents.collection_id("Docs", create=True)
    for name in ("a.md", "sub\\b.md"):
        store.documents.save(collection, f"C:\\Docs\\{name}", "markdown", 1, 0.0, "x")
    store.documents.save(collection, "C:\\Docs2\\c.md", "markdown", 1, 0.0, "x")
    assert store.documents.remove("C:\\Docs\\") == 2
    assert [d.path for d in store.documents.documents()] == ["C:\\Docs2\\c.md"]


def test_a_file_that_breaks_the_reader_is_recorded_and_the_run_goes_on(
    store: Store, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop_app.session.documents as indexing

    real = indexing.chunk_blocks

    def fragile(blocks):  # type: ignore[no-untyped-def]
        if any("Escalate" in b.text for b in blocks):
            raise RuntimeError("a reader's bug")
        return real(blocks)

    monkeypatch.setattr(indexing, "chunk_blocks", fragile)
    report = DocumentIndexer(store).add([corpus])
    assert report.added == 2 and [Path(p).name for p, _r in report.failed] == ["notes.docx"]
    assert "unexpected error" in report.failed[0][1]


def test_rtf_emoji_and_names_that_are_not_text_do_not_stop_indexing(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "smile.rtf").write_bytes(rb"{\rtf1\ansi Happy \uc1\u-10179?\u-8704? customers\par }")
    if os.name == "posix":
        (folder / os.fsdecode(b"caf\xe9.txt")).write_text("a Latin-1 name", encoding="utf-8")
    report = DocumentIndexer(store).add([folder])
    assert report.added == 1
    assert [p.text for p in store.documents.search("customers")] == ["Happy 😀 customers"]
    if os.name == "posix":
        assert [r for _p, r in report.failed] == ["Its name is not valid text (rename the file to index it)."]


def test_a_large_file_is_written_in_parts_and_a_run_killed_half_way_leaves_the_old_version(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop_app.store.documents as documents

    monkeypatch.setattr(documents, "SAVE_BATCH", 3)  # as if the file had many thousand passages
    folder = tmp_path / "big"
    folder.mkdir()
    big = folder / "guide.md"
    big.write_text("\n\n".join(f"## Part {i}\n\nOld text {i}." for i in range(10)), encoding="utf-8")
    commits = []
    transaction = store.transaction

    def counted():  # type: ignore[no-untyped-def]
        commits.append(1)
        return transaction()

    monkeypatch.setattr(store, "transaction", counted)
    DocumentIndexer(store).add([folder])
    assert len(commits) >= 5  # the passages went in over several transactions
    assert store.documents.documents()[0].chunks == 10 and store.documents.search("old text part")

    big.write_text("\n\n".join(f"## Part {i}\n\nNew text {i}." for i in range(10)), encoding="utf-8")
    os.utime(big, (1, 1))

    def killed(_document_id: str) -> None:
        raise KeyboardInterrupt  # the app dies after the new passages went in, before the switch

    monkeypatch.setattr(store.documents, "_delete_passages", killed)
    with pytest.raises(KeyboardInterrupt):
        DocumentIndexer(store).refresh()
    [shown] = store.documents.documents()
    assert shown.path == str(big.resolve()) and shown.chunks == 10
    assert all("Old text" in p.text for p in store.documents.search("text part", limit=20))  # the old version
    monkeypatch.undo()
    report = DocumentIndexer(store).refresh()  # the next run clears the half-written one and reads again
    assert report.updated == 1
    assert all("New text" in p.text for p in store.documents.search("text part", limit=20))
    count = store.conn.execute("SELECT COUNT(*) FROM doc_chunks").fetchone()[0]
    assert count == 10 == store.conn.execute("SELECT COUNT(*) FROM doc_chunks_fts").fetchone()[0]
    assert store.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 1


def test_files_added_one_by_one_are_listed_at_once_and_read_by_the_next_run_if_stopped(
    store: Store, corpus: Path
) -> None:
    cancel = threading.Event()
    files = [corpus / "manual.md", corpus / "notes.docx", corpus / "policies" / "customer-policies.md"]
    stopped = DocumentIndexer(store, lambda p: cancel.set() if p.files_done == 1 else None, cancel).add(files)
    assert stopped.cancelled and stopped.added == 1
    states = sorted(d.status for d in store.documents.documents())
    assert states == ["indexed", "pending", "pending"]  # the others wait, listed
    resumed = DocumentIndexer(store).refresh()
    assert (resumed.added, resumed.unchanged) == (2, 1)
    assert {d.status for d in store.documents.documents()} == {"indexed"}
