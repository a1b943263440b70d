"""Model › Models… and Import…: the list with details, use, delete, import with progress."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.models.registry import ModelRegistry
from desktop_app.store import Store
from desktop_app.ui.services import WindowServices
from tests.ui.conftest import FakeEngine


def copy_model(source: Path, root: Path, model_id: str, name: str) -> Path:
    target = root / model_id
    shutil.copytree(source, target)
    manifest = json.loads((target / "manifest.json").read_text())
    (target / "manifest.json").write_text(json.dumps(manifest | {"id": model_id, "name": name}))
    return target


@pytest.fixture
def models_root(tiny_model_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "models"
    copy_model(tiny_model_dir, root, "alpha", "Alpha")
    copy_model(tiny_model_dir, root, "beta", "Beta")
    return root


def services_for(root: Path, importer=None) -> WindowServices:  # type: ignore[no-untyped-def]
    registry = ModelRegistry([root])
    return WindowServices(
        installed_models=registry.list,
        default_model_id=registry.default_id,
        delete_model=registry.delete,
        import_model=importer,
    )


def test_the_page_lists_details_and_switches_the_model(qtbot, make_window, store: Store, models_root: Path) -> None:  # type: ignore[no-untyped-def]
    reloads: list[object] = []
    window = make_window(FakeEngine, services_for(models_root))
    window.model_status.engine_changed.connect(reloads.append)
    dialog = window.open_models()
    assert [dialog.list.item(i).text().split("\n")[0] for i in range(dialog.list.count())] == ["Alpha (in use)", "Beta"]
    dialog.list.setCurrentRow(1)
    details = dialog.details.toPlainText()
    assert "Architecture" in details and "llama" in details and "Context" in details and "Source sha256" in details
    assert dialog.use_button.isEnabled()
    dialog.use_button.click()
    assert store.settings.get("model", "") == "beta"
    assert dialog.list.item(1).text().startswith("Beta (in use)") and not dialog.use_button.isEnabled()
    assert reloads and reloads[0] is None  # the window reloads the model


def test_deleting_asks_first_and_forgets_the_setting(qtbot, make_window, store: Store, models_root: Path) -> None:  # type: ignore[no-untyped-def]
    store.settings.set("model", "beta")
    window = make_window(FakeEngine, services_for(models_root))
    dialog = window.open_models()
    dialog.list.setCurrentRow(1)
    dialog.confirm_delete = lambda model: False
    dialog.delete_button.click()
    assert (models_root / "beta").is_dir()
    dialog.confirm_delete = lambda model: True
    dialog.delete_button.click()
    assert not (models_root / "beta").exists() and store.settings.get("model", "") == ""
    assert dialog.list.count() == 1 and "Deleted Beta" in window.statusBar().currentMessage()


def test_import_shows_progress_can_be_cancelled_and_selects_the_new_model(
    qtbot, make_window, models_root: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()
    seen: list[str] = []

    def importer(source: Path, progress, cancel: threading.Event) -> Path:  # type: ignore[no-untyped-def]
        seen.append(source.name)
        progress(1, 3, "Reading the file")
        release.wait(10)
        if cancel.is_set():
            raise UserError("Model preparation was cancelled; nothing was installed.")
        return copy_model(tiny_model_dir, models_root, "gamma", "Gamma")

    source = tmp_path / "gamma.gguf"
    source.write_bytes(b"GGUF" + bytes(100))
    window = make_window(FakeEngine, services_for(models_root, importer))
    dialog = window.open_models()

    def cancel_then_wait(import_dialog) -> bool:  # type: ignore[no-untyped-def]
        qtbot.waitUntil(lambda: "Step 1 of 3: Reading the file" in import_dialog.status.text(), timeout=5_000)
        import_dialog.reject()  # Cancel: honoured between steps
        assert "Cancelling" in import_dialog.status.text()
        release.set()
        qtbot.waitUntil(lambda: not import_dialog.running, timeout=5_000)
        qtbot.wait(50)
        return bool(import_dialog.result())

    dialog.run_dialog = cancel_then_wait
    dialog.import_from(str(source))
    assert seen == ["gamma.gguf"] and not (models_root / "gamma").exists() and dialog.list.count() == 2

    release.clear()

    def let_it_finish(import_dialog) -> bool:  # type: ignore[no-untyped-def]
        release.set()
        qtbot.waitUntil(lambda: import_dialog.prepared is not None, timeout=5_000)
        return True

    dialog.run_dialog = let_it_finish
    dialog.import_from(str(source))
    assert dialog.list.count() == 3 and dialog.selected() is not None and dialog.selected().id == "gamma"
    assert "Imported gamma.gguf" in window.statusBar().currentMessage()


def test_the_model_menu_offers_models_and_import(qtbot, make_window, models_root: Path) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine, services_for(models_root))
    texts = [a.text() for a in window.menuBar().actions()[3].menu().actions() if a.text()]
    assert texts[:2] == ["&Models…", "&Import a model…"]


def test_an_embedding_model_is_listed_for_document_search_and_its_vectors_are_made(
    qtbot, make_window, store: Store, models_root: Path, tiny_embedding_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from tests.documents_corpus import write_corpus

    shutil.copytree(tiny_embedding_dir / "tiny-minilm", models_root / "tiny-minilm")
    registry = ModelRegistry([models_root])
    services = WindowServices(
        installed_models=lambda: registry.list(kind=None),
        default_model_id=registry.default_id,
        delete_model=registry.delete,
        model_registry=registry,
    )
    store.settings.set("documents_embedding_model", "off")
    window = make_window(FakeEngine, services)
    window.library.index([write_corpus(tmp_path / "docs")], "Support")
    qtbot.waitUntil(lambda: not window.library.busy, timeout=20000)
    store.settings.set("documents_embedding_model", "")
    vectors = window.retriever.vector_key()
    store.settings.set("documents_embedding_model", "off")
    assert vectors is not None and store.vectors.counts(vectors)[0] == 0
    dialog = window.open_models()
    rows = [dialog.list.item(i).text().split("\n")[0] for i in range(dialog.list.count())]
    assert rows == ["Alpha (in use)", "Beta", "tiny-minilm"]
    dialog.list.setCurrentRow(2)
    assert "searching your documents by meaning" in dialog.details.toPlainText()
    assert dialog.use_button.text() == "Use for document search" and dialog.use_button.isEnabled()
    dialog.use_button.click()
    assert store.settings.get("documents_embedding_model", "") == "tiny-minilm"
    assert dialog.list.item(2).text().startswith("tiny-minilm (searches documents)")
    assert not dialog.use_button.isEnabled()
    qtbot.waitUntil(lambda: not window.library.busy and store.vectors.counts(vectors)[0] > 0, timeout=20000)
    done, total = store.vectors.counts(vectors)
    assert done == total
    dialog.list.setCurrentRow(0)
    assert dialog.use_button.text() == "Use this model"
    documents = window.open_documents()
    assert documents.search_label.text() == "Search: By words (BM25) and meaning (tiny-minilm)."
    found = window.session.library.search("reimbursement period for purchases", ["Support"], limit=1)
    assert found and "7 business days" in found[0].text
