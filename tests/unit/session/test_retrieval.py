"""Search by meaning beside words: the indexer gives passages vectors from the installed
embedding model (resuming where a run stopped), the retriever fuses BM25 with the nearest
vectors, and the library is searched by words alone when no model is there or it is off."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from desktop_app.models.registry import ModelRegistry
from desktop_app.session.documents import DocumentIndexer, Progress
from desktop_app.session.retrieval import EMBEDDING_OFF, EMBEDDING_SETTING, Retriever
from desktop_app.store import Store
from tests.documents_corpus import QUESTIONS, write_corpus


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "docs")


@pytest.fixture
def library(store: Store, tiny_embedding_dir: Path) -> Retriever:
    return Retriever(store, ModelRegistry([tiny_embedding_dir]), threads=1)


def key(library: Retriever) -> str:
    found = library.vector_key()
    assert found is not None and found.startswith("tiny-minilm@")
    return found


def recall_at_5(search: Retriever, collection: str = "Support") -> int:
    return sum(any(answer in p.text for p in search.search(q, [collection], limit=5)) for q, answer in QUESTIONS)


def test_hybrid_ranking_runs_and_is_no_worse_than_words_alone(store: Store, library: Retriever, corpus: Path) -> None:
    report = DocumentIndexer(store, library=library).add([corpus], "Support")
    passages = store.documents.collections()[0]["passages"]
    assert report.embedded == passages > 0 and not report.embedding_problem
    assert store.vectors.counts(key(library)) == (passages, passages)
    words_only = recall_at_5(Retriever(store))
    hybrid = recall_at_5(library)
    assert hybrid >= words_only and hybrid / len(QUESTIONS) >= 0.9, (hybrid, words_only)
    assert "meaning (tiny-minilm)" in library.describe()


def test_a_question_in_other_words_is_found_by_meaning_and_not_by_words(
    store: Store, library: Retriever, corpus: Path
) -> None:
    DocumentIndexer(store, library=library).add([corpus], "Support")
    question = "reimbursement period for purchases"  # the policy says "refunds" and "orders"
    assert Retriever(store).search(question, ["Support"], limit=5) == []
    found = library.search(question, ["Support"], limit=3)
    assert found and "7 business days" in found[0].text
    assert found[0].score > 0 and found[0].chunk > 0


def test_words_and_meaning_both_count_in_the_fused_ranking(store: Store, library: Retriever, corpus: Path) -> None:
    DocumentIndexer(store, library=library).add([corpus], "Support")
    question = "How long does a refund take?"
    fused = library.search(question, ["Support"], limit=5)
    by_words = Retriever(store).search(question, ["Support"], limit=5)
    assert {p.chunk for p in fused} & {p.chunk for p in by_words}
    # a fused score is a sum of weight / (60 + rank) over the two rankings
    assert all(0 < p.score <= 1.0 / 61 + 0.8 / 61 + 1e-9 for p in fused)
    assert [p.score for p in fused] == sorted((p.score for p in fused), reverse=True)
    assert library.search("the of and what", ["Support"]) == []  # no telling word: no nearest passage either


def test_collections_filter_the_nearest_vectors_too(store: Store, library: Retriever, corpus: Path) -> None:
    indexer = DocumentIndexer(store, library=library)
    indexer.add([corpus / "manual.md"], "Manual")
    indexer.add([corpus / "policies"], "Policies")
    found = library.search("reimbursement for purchases", ["Manual"], limit=5)
    assert found and all(p.collection == "Manual" for p in found)
    assert library.search("reimbursement for purchases", ["Policies"], limit=1)[0].collection == "Policies"


def test_a_stopped_run_is_resumed_and_a_model_added_later_embeds_what_is_there(
    store: Store, library: Retriever, corpus: Path
) -> None:
    DocumentIndexer(store).add([corpus], "Support")  # no embedding model: words only
    total = store.documents.collections()[0]["passages"]
    assert store.vectors.counts(key(library)) == (0, total)
    cancel = threading.Event()
    seen: list[Progress] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.phase == "embedding" and p.passages_done > 0:
            cancel.set()  # after the first batch

    import desktop_app.session.documents as documents_module

    batch = documents_module.EMBED_BATCH
    documents_module.EMBED_BATCH = 8
    try:
        stopped = DocumentIndexer(store, progress, cancel, library=library).refresh()
    finally:
        documents_module.EMBED_BATCH = batch
    assert stopped.cancelled and 0 < stopped.embedded < total
    assert seen[-1].phase == "embedding" and seen[-1].passages_total == total
    resumed = DocumentIndexer(store, library=library).refresh()
    assert resumed.embedded == total - stopped.embedded and resumed.unchanged == 3
    assert store.vectors.counts(key(library)) == (total, total)
    assert DocumentIndexer(store, library=library).refresh().embedded == 0


def test_vectors_leave_with_their_document_and_searches_see_changes(
    store: Store, library: Retriever, corpus: Path
) -> None:
    indexer = DocumentIndexer(store, library=library)
    indexer.add([corpus], "Support")
    assert library.search("reimbursement for purchases", limit=1)  # the vectors are now held in memory
    policies = str((corpus / "policies" / "customer-policies.md").resolve())
    gone = {n for (n,) in store.conn.execute("SELECT k.n FROM doc_chunks k JOIN documents d ON d.id = k.document_id"
                                              " WHERE d.path = ?", (policies,))}  # fmt: skip
    store.documents.remove(policies)
    embedder = library.embedder()
    assert embedder is not None
    query = embedder.embed(["reimbursement for purchases"], query=True)[0]
    nearest = {n for n, _ in store.vectors.nearest(key(library), query, limit=100)}
    assert nearest and not nearest & gone  # the vectors in memory were read again
    assert all(p.path != policies for p in library.search("reimbursement for purchases", limit=10))
    done, total = store.vectors.counts(key(library))
    assert done == total and store.conn.execute("SELECT COUNT(*) FROM doc_vectors").fetchone()[0] == total


def test_another_models_vectors_are_replaced(store: Store, library: Retriever, corpus: Path) -> None:
    DocumentIndexer(store).add([corpus], "Support")
    chunks = [n for (n,) in store.conn.execute("SELECT n FROM doc_chunks").fetchall()]
    store.vectors.save("some-other-model", chunks, np.ones((len(chunks), 8), dtype=np.float32))
    assert library.search("reimbursement for purchases", limit=5) == []  # other vectors are never compared
    report = DocumentIndexer(store, library=library).refresh()
    assert report.embedded == len(chunks)
    models = {m for (m,) in store.conn.execute("SELECT DISTINCT model FROM doc_vectors")}
    assert models == {key(library)}


def test_turned_off_or_not_installed_the_library_is_searched_by_words(
    store: Store, library: Retriever, corpus: Path, tmp_path: Path
) -> None:
    store.settings.set(EMBEDDING_SETTING, EMBEDDING_OFF)
    report = DocumentIndexer(store, library=library).add([corpus], "Support")
    assert report.embedded == 0 and library.embedder() is None
    assert library.describe() == "By words (BM25)."
    assert library.search("reimbursement period for purchases", limit=5) == []
    store.settings.set(EMBEDDING_SETTING, "")  # automatic: the first installed
    assert library.embedder() is not None
    nothing = Retriever(store, ModelRegistry([tmp_path / "no-models"]))
    assert nothing.embedder() is None and nothing.describe() == "By words (BM25)."


def test_a_damaged_embedding_model_leaves_search_by_words(
    store: Store, tiny_embedding_dir: Path, corpus: Path, tmp_path: Path
) -> None:
    import shutil

    models = tmp_path / "models"
    shutil.copytree(tiny_embedding_dir, models)
    for graph in (models / "tiny-minilm").glob("model.*.onnx"):
        graph.write_bytes(b"not a graph")
    damaged = Retriever(store, ModelRegistry([models]))
    report = DocumentIndexer(store, library=damaged).add([corpus], "Support")
    assert report.added == 3 and report.embedded == 0 and "cannot be loaded" in report.embedding_problem
    assert damaged.describe().startswith("By words (BM25). The embedding model tiny-minilm cannot be loaded")
    assert any("7 business days" in p.text for p in damaged.search("How long does a refund take?", limit=5))
