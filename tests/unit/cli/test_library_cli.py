"""inkwell chats | export | import | drafts | settings, on a real database in a temp data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.store import open_store


@pytest.fixture
def library() -> list[str]:
    store = open_store()
    ids = []
    for title, text in (("Refunds", "Where is my refund?"), ("Lesson plan", "Fractions for year 5")):
        c = store.conversations.create(title)
        store.conversations.add_message(c.id, "user", text)
        store.conversations.add_message(c.id, "assistant", f"About {title.lower()}: here is help.")
        ids.append(c.id)
    store.drafts.create("Reply to Anna", "Dear Anna,\n\nThanks for writing.")
    store.close()
    return ids


def test_chats_list_search_show(library: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chats", "list", "--json"]) == 0
    assert {c["title"] for c in json.loads(capsys.readouterr().out)} == {"Refunds", "Lesson plan"}
    assert main(["chats", "search", "refund"]) == 0
    out = capsys.readouterr().out
    assert "[refund]" in out and "Refunds" in out
    assert main(["chats", "show", library[1]]) == 0
    assert "Fractions for year 5" in capsys.readouterr().out


def test_export_all_then_import_into_a_fresh_data_dir(
    library: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "everything.json"
    assert main(["export", "--all", "--out", str(out)]) == 0
    assert main(["export", library[0], "--out", str(tmp_path / "one.html")]) == 0
    assert "<h1>Refunds</h1>" in (tmp_path / "one.html").read_text()
    assert main(["export", library[0], "--out", str(out)]) == 2  # exists: not replaced
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setenv("INKWELL_DATA_DIR", str(tmp_path / "other"))
    assert main(["import", str(out)]) == 0
    assert "Imported 2 conversations" in capsys.readouterr().out
    assert main(["chats", "list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_drafts_list_and_export(library: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drafts", "list", "--json"]) == 0
    [draft] = json.loads(capsys.readouterr().out)
    for fmt in ("md", "docx", "odt", "pdf"):
        target = tmp_path / f"anna.{fmt}"
        assert main(["drafts", "export", draft["id"], "--out", str(target)]) == 0
        assert target.stat().st_size > 0


def test_bad_import_is_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "inkwell-transcript", "version": 1, "conversations": [')
    assert main(["import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not valid JSON" in err and "Traceback" not in err


def test_provider_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "provider", "cpu"]) == 0
    assert main(["settings", "provider"]) == 0
    assert capsys.readouterr().out.strip().endswith('"cpu"')
    assert main(["settings", "provider", "tpu"]) == 2


def test_a_corrupt_database_is_reported_not_a_traceback(private_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (private_dirs / "inkwell.db").write_bytes(b"garbage" * 1000)
    assert main(["chats", "list"]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "has not been changed" in err and "Traceback" not in err


def test_database_check_and_set_aside(private_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    open_store().close()
    assert main(["database", "check"]) == 0
    assert "passed the integrity check" in capsys.readouterr().out
    (private_dirs / "inkwell.db").write_bytes(b"garbage" * 1000)
    assert main(["database", "check"]) == 2
    assert "damaged" in capsys.readouterr().err
    assert main(["database", "set-aside"]) == 0
    assert "Nothing was deleted" in capsys.readouterr().out
    moved = [p for p in private_dirs.iterdir() if p.name.startswith("inkwell.db.set-aside-")]
    main_file = [p for p in moved if not p.name.endswith(("-wal", "-shm"))]
    assert len(main_file) == 1 and main_file[0].read_bytes() == b"garbage" * 1000
    assert not (private_dirs / "inkwell.db").exists()
    assert main(["chats", "list"]) == 0  # a new database starts
