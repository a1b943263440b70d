"""inkwell docs add | list | search | refresh | remove, on a real database in a temp data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.cli import main


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "returns.md").write_text(
        "# Returns\n\nCustomers may return unused products within 45 days for a full refund.\n", encoding="utf-8"
    )
    (docs / "hours.txt").write_text("The shop opens at nine and closes at six.\n", encoding="utf-8")
    (docs / "blob.txt").write_bytes(b"\x00\x00binary")
    return docs


def test_add_search_list_and_remove(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "add", str(folder), "--collection", "Shop"]) == 1  # one file could not be read
    out = capsys.readouterr().out
    assert "2 added" in out and "Not read:" in out and "blob.txt" in out and "binary" in out
    assert main(["docs", "search", "how many days to return a product", "--json"]) == 0
    [best, *_] = json.loads(capsys.readouterr().out)
    assert best["path"] == str((folder / "returns.md").resolve())
    assert best["collection"] == "Shop" and best["where"] == "lines 1-3" and "45 days" in best["text"]
    assert main(["docs", "search", "when does the shop open"]) == 0
    assert "hours.txt, line 1\n" in capsys.readouterr().out
    assert main(["docs", "list"]) == 0
    assert "Shop: 3 files, 1 not read" in capsys.readouterr().out
    assert main(["docs", "list", "--collection", "Shop", "--json"]) == 0
    assert {Path(d["path"]).name: d["status"] for d in json.loads(capsys.readouterr().out)} == {
        "blob.txt": "failed",
        "hours.txt": "indexed",
        "returns.md": "indexed",
    }
    assert main(["docs", "refresh"]) == 1  # the binary file still fails
    assert "0 added, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert main(["docs", "remove", str(folder / "hours.txt")]) == 0
    assert "Removed 1 file" in capsys.readouterr().out
    assert main(["docs", "remove", "--collection", "Shop"]) == 0
    assert main(["docs", "list"]) == 0
    assert "library is empty" in capsys.readouterr().out
    assert (folder / "hours.txt").exists()


def test_bad_input_gets_a_message_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "add", str(tmp_path / "nowhere")]) == 2
    assert "There is no file or folder" in capsys.readouterr().err
    assert main(["docs", "search", "x", "--collection", "Nope"]) == 2
    assert "no collection named 'Nope'" in capsys.readouterr().err
    assert main(["docs", "remove"]) == 2


@pytest.mark.slow
def test_ask_with_docs_returns_the_text_and_its_sources(
    folder: Path,
    default_model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / default_model_dir.name).symlink_to(default_model_dir, target_is_directory=True)
    monkeypatch.setenv("INKWELL_MODELS_DIR", str(tmp_path / "models"))
    main(["docs", "add", str(folder / "returns.md"), str(folder / "hours.txt"), "--collection", "Shop"])
    capsys.readouterr()
    code = main(["ask", "How many days to return?", "--docs", "Shop", "--json", "--max-new-tokens", "4", "--seed", "1"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert isinstance(result["text"], str) and result["prompt_tokens"] > 40  # the sources went in
    sources = {Path(s["path"]).name: s for s in result["sources"]}
    assert set(sources) == {"hours.txt", "returns.md"}  # small enough to go in whole
    assert sources["returns.md"]["where"] == "lines 1-3" and "45 days" in sources["returns.md"]["snippet"]
    assert {s["number"] for s in result["sources"]} == {1, 2} and all(
        s["cited"] in (True, False) for s in sources.values()
    )
    assert main(["ask", "x", "--docs", "Nope"]) == 2
    assert "no collection named" in capsys.readouterr().err


def test_an_embedding_model_imported_on_the_command_line_searches_by_meaning(
    tiny_embedding_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.documents_corpus import write_corpus

    monkeypatch.setenv("INKWELL_MODELS_DIR", str(tmp_path / "models"))
    corpus = write_corpus(tmp_path / "docs")
    assert main(["docs", "add", str(corpus), "--collection", "Support"]) == 0
    assert "passages embedded" not in capsys.readouterr().out
    assert main(["docs", "search", "reimbursement period for purchases"]) == 0
    assert "No passage matches." in capsys.readouterr().out  # words alone: none of these words is there
    assert main(["models", "import", str(tiny_embedding_source)]) == 0
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if "tiny-minilm" in line]
    assert line.endswith("(embeddings, for document search)")
    assert main(["docs", "refresh"]) == 0
    assert "passages embedded" in capsys.readouterr().out
    assert main(["docs", "list"]) == 0
    assert "Search: By words (BM25) and meaning (tiny-minilm)." in capsys.readouterr().out
    assert main(["docs", "search", "reimbursement period for purchases", "--json", "--limit", "1"]) == 0
    [best] = json.loads(capsys.readouterr().out)
    assert "7 business days" in best["text"] and best["path"].endswith("customer-policies.md")
    assert main(["docs", "embeddings", "off"]) == 0
    assert "Search: By words (BM25)." in capsys.readouterr().out
    assert main(["docs", "embeddings", "nope"]) == 2
    assert "not installed" in capsys.readouterr().err
    assert main(["docs", "embeddings", "tiny-minilm"]) == 0
    assert "meaning (tiny-minilm)" in capsys.readouterr().out
    assert main(["ask", "--model", "tiny-minilm", "hello"]) == 2
    assert "is an embedding model" in capsys.readouterr().err
    assert main(["models", "delete", "tiny-minilm"]) == 0
    assert main(["docs", "list"]) == 0
    assert "Search: By words (BM25)." in capsys.readouterr().out
