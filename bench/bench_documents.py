"""Benchmark: the document library (issue 18's targets).

- Indexing speed: a folder of Markdown and text files (about 40 MB, written here from a
  fixed-seed vocabulary, Zipf-distributed words, headings every few paragraphs) indexed by
  `DocumentIndexer` in a process of its own; MB of text a minute and the process's peak
  memory. Target: at least 20 MB a minute on 2 cores, memory bounded whatever the size
  (so the same is measured on half the corpus: the peak must not grow with it).
- Search: median and slowest of 50 questions over a library of 100,000 passages. Target:
  under 50 ms. Then the same with vectors for every passage (random unit vectors of
  all-MiniLM-L6-v2's 384 dimensions; each question embedded by the model below), fused
  with BM25 as the app does.
- With embeddings: a model of all-MiniLM-L6-v2's shape (bench/embedding_model.py, random
  weights: speed depends on the shape alone), imported through `inkwell models import`;
  a smaller corpus indexed with it, MB a minute and passages a second (reported, no target).
- The window: the longest stretch the GUI thread is blocked while the Documents dialog
  indexes the corpus (a 1 ms timer, as bench_gui measures streaming). Target: 50 ms.

    python bench/bench_documents.py --write bench/RESULTS.md      (make bench)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import machine, publish  # noqa: E402

CORPUS_MB = 40
EMBEDDED_MB = 3
SEARCH_PASSAGES = 100_000
QUESTIONS = 50


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(2, 11))))
    return sorted(words)


def paragraph(rng: random.Random, words: list[str], weights: list[float], count: int) -> str:
    picked = rng.choices(words, weights, k=count)
    sentences, start = [], 0
    while start < count:
        length = rng.randint(8, 22)
        sentences.append(" ".join(picked[start : start + length]).capitalize() + ".")
        start += length
    return " ".join(sentences)


def write_corpus(folder: Path, megabytes: int, seed: int = 7) -> int:
    """Files of ~200 KB, Markdown with headings and plain text; the bytes written."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf, as natural text
    folder.mkdir(parents=True, exist_ok=True)
    written, number = 0, 0
    while written < megabytes * 1_000_000:
        parts = []
        markdown = number % 3 != 0
        for _section in range(40):
            if markdown:
                parts.append(f"## {paragraph(rng, words, weights, 4).rstrip('.')}")
            parts += [paragraph(rng, words, weights, rng.randint(40, 120)) for _ in range(4)]
        text = "\n\n".join(parts) + "\n"
        path = folder / f"doc{number:04d}.{'md' if markdown else 'txt'}"
        path.write_text(text, encoding="utf-8")
        written += len(text.encode())
        number += 1
    return written


INDEX_CODE = """
import json, sys, time
from pathlib import Path
from desktop_app.models.registry import ModelRegistry
from desktop_app.store import open_store
from desktop_app.session.documents import DocumentIndexer
from desktop_app.session.retrieval import Retriever
sys.path.insert(0, 'bench')
from bench_engine import peak_rss_mb  # this program's own peak, not its parent's
store = open_store(Path(sys.argv[1]))
library = Retriever(store, ModelRegistry([Path(sys.argv[3])])) if len(sys.argv) > 3 else None
started = time.perf_counter()
report = DocumentIndexer(store, library=library).add([Path(sys.argv[2])], "Bench")
seconds = time.perf_counter() - started
passages = store.conn.execute("SELECT COUNT(*) FROM doc_chunks").fetchone()[0]
store.close()
print(json.dumps({"seconds": seconds, "bytes": report.bytes_read, "files": report.added, "passages": passages,
                  "failed": len(report.failed), "peak_mb": peak_rss_mb(),
                  "embedded": report.embedded, "embedding_seconds": report.embedding_seconds}))
"""


def index_in_a_process(db: Path, folder: Path, models: Path | None = None) -> dict[str, float]:
    env = dict(os.environ, INKWELL_DATA_DIR=str(db.parent))
    command = [sys.executable, "-c", INDEX_CODE, str(db), str(folder)] + ([str(models)] if models else [])
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def embedding_model(corpus: Path, work: Path) -> Path:
    """The MiniLM-shaped model, imported as a user would; the models folder holding it."""
    from embedding_model import build_minilm_shaped

    from desktop_app.models.prepare import prepare_model

    texts = [path.read_text(encoding="utf-8") for path in sorted(corpus.iterdir())[:20]]
    prepare_model(build_minilm_shaped(work / "st" / "minilm-shaped", texts), work / "models")
    return work / "models"


def search_library(work: Path, models: Path) -> dict[str, float]:
    """100,000 passages written straight to a library, then 50 questions, by words; then
    with a vector for each passage, by words and meaning."""
    import numpy as np

    from desktop_app.documents import Chunk
    from desktop_app.models.registry import ModelRegistry
    from desktop_app.session.retrieval import Retriever
    from desktop_app.store import open_store

    rng = random.Random(11)
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    store = open_store(work / "search" / "inkwell.db")
    collection = store.documents.collection_id("Bench", create=True)
    per_file = 500
    for number in range(SEARCH_PASSAGES // per_file):
        chunks = [
            Chunk(paragraph(rng, words, weights, 170), f"Section {i}", None, None, i * 10 + 1, i * 10 + 9)
            for i in range(per_file)
        ]
        store.documents.save(collection, f"/bench/doc{number}.md", "markdown", 1, 0.0, str(number), chunks)
    questions = [" ".join(rng.choices(words, weights, k=6)) + " " + rng.choice(words[2000:]) for _ in range(QUESTIONS)]
    store.documents.search(questions[0])  # warm the page cache
    timings = []
    for question in questions:
        started = time.perf_counter()
        store.documents.search(question, limit=8)
        timings.append((time.perf_counter() - started) * 1000)
    passages = store.conn.execute("SELECT COUNT(*) FROM doc_chunks").fetchone()[0]
    chunks = [n for (n,) in store.conn.execute("SELECT n FROM doc_chunks ORDER BY n")]
    library = Retriever(store, ModelRegistry([models]))
    embedder = library.embedder()
    assert embedder is not None
    vectors = np.random.default_rng(5).standard_normal((len(chunks), embedder.dimensions)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for start in range(0, len(chunks), 5000):
        store.vectors.save(embedder.key, chunks[start : start + 5000], vectors[start : start + 5000])
    assert store.vectors.counts(embedder.key) == (len(chunks), len(chunks)), "the vectors are not the model's"
    started = time.perf_counter()
    library.search(questions[0])  # reads the vectors into memory
    first_ms = (time.perf_counter() - started) * 1000
    assert store.vectors.nearest(embedder.key, vectors[0], limit=1)[0][0] == chunks[0], "no search by meaning"
    hybrid = []
    for question in questions:
        started = time.perf_counter()
        library.search(question, limit=8)
        hybrid.append((time.perf_counter() - started) * 1000)
    store.close()
    return {
        "passages": passages,
        "median_ms": statistics.median(timings),
        "max_ms": max(timings),
        "hybrid_median_ms": statistics.median(hybrid),
        "hybrid_max_ms": max(hybrid),
        "hybrid_first_ms": first_ms,
        "matrix_mb": vectors.nbytes / 1e6,
    }


def window_gaps(folder: Path, work: Path, models: Path | None = None) -> dict[str, float]:
    """The GUI thread's longest block while the Documents dialog indexes `folder` (with the
    embedding model in `models`, if given)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bench_gui import GapMeter
    from PySide6.QtWidgets import QApplication, QStatusBar, QWidget

    from desktop_app.models.registry import ModelRegistry
    from desktop_app.store import open_store
    from desktop_app.ui.documents_dialog import DocumentsDialog
    from desktop_app.ui.library_indexer import LibraryIndexer
    from desktop_app.ui.status import StatusReporter

    app = QApplication.instance() or QApplication([])
    store = open_store(work / ("gui-embedded" if models else "gui") / "inkwell.db")
    window = QWidget()
    library = LibraryIndexer(store, lambda: False, window, ModelRegistry([models]) if models else None)
    dialog = DocumentsDialog(store, library, StatusReporter(QStatusBar(), window, ""), parent=window)
    dialog.show()
    meter = GapMeter()
    meter.start()
    started = time.perf_counter()
    dialog.index([folder])
    while dialog.indexing:
        app.processEvents()
        time.sleep(0.0005)
    seconds = time.perf_counter() - started
    gaps = meter.stop()
    dialog.done(0)
    library.shutdown()
    store.close()
    return {"seconds": seconds, "max_gap_ms": max(gaps), "p99_gap_ms": sorted(gaps)[int(len(gaps) * 0.99)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--megabytes", type=int, default=CORPUS_MB)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inkwell-bench-docs-") as temp:
        work = Path(temp)
        steps = time.perf_counter()

        def step(name: str) -> None:
            nonlocal steps
            print(f"{name}: {time.perf_counter() - steps:.1f} s", file=sys.stderr)
            steps = time.perf_counter()

        whole = write_corpus(work / "corpus", args.megabytes)
        half = write_corpus(work / "half", args.megabytes // 2)
        small = write_corpus(work / "small", EMBEDDED_MB, seed=9)
        step("corpus written")
        full_run = index_in_a_process(work / "full" / "inkwell.db", work / "corpus")
        half_run = index_in_a_process(work / "halfdb" / "inkwell.db", work / "half")
        step("indexed")
        models = embedding_model(work / "half", work)
        step("embedding model imported")
        embedded = index_in_a_process(work / "embedded" / "inkwell.db", work / "small", models)
        words_only = index_in_a_process(work / "words" / "inkwell.db", work / "small")
        step("indexed with embeddings")
        search = search_library(work, models)
        step("searched")
        gui = window_gaps(work / "half", work)
        gui_embedded = window_gaps(work / "small", work, models)
        step("window")
    rate = full_run["bytes"] / 1e6 / (full_run["seconds"] / 60)
    embedded_rate = embedded["bytes"] / 1e6 / (embedded["seconds"] / 60)
    words_rate = words_only["bytes"] / 1e6 / (words_only["seconds"] / 60)
    per_second = embedded["embedded"] / max(embedded["embedding_seconds"], 1e-9)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            f"\n## Document library, run of {stamp}\n",
            f"Machine: {machine()}. Corpus written by the benchmark: Markdown and text files of ~200 KB "
            "(Zipf-distributed words, a heading every four paragraphs in the Markdown ones). The embedding "
            "model has all-MiniLM-L6-v2's shape (6 layers, 384 wide, 30,522 WordPieces, 256 tokens at most) "
            "and random weights, imported by `inkwell models import` (8-bit).\n",
            "| measure | result | target |",
            "|---|---:|---:|",
            f"| indexing {whole / 1e6:.0f} MB ({full_run['files']:.0f} files, {full_run['passages']:.0f} passages) | "
            f"{full_run['seconds']:.1f} s, **{rate:.0f} MB/min** | at least 20 MB/min |",
            f"| peak memory indexing {whole / 1e6:.0f} MB / {half / 1e6:.0f} MB | "
            f"{full_run['peak_mb']:.0f} MB / {half_run['peak_mb']:.0f} MB | bounded (not growing with the size) |",
            f"| search, {search['passages']:.0f} passages, {QUESTIONS} questions | median {search['median_ms']:.1f} ms, "
            f"slowest {search['max_ms']:.1f} ms | under 50 ms |",
            f"| indexing {small / 1e6:.1f} MB ({embedded['passages']:.0f} passages) with the MiniLM-shaped "
            f"embedding model / without | {embedded['seconds']:.0f} s, **{embedded_rate:.1f} MB/min** "
            f"({per_second:.0f} passages/s embedded; peak {embedded['peak_mb']:.0f} MB) / {words_rate:.0f} MB/min "
            "| reported |",
            f"| search by words and meaning, {search['passages']:.0f} passages with vectors "
            f"({search['matrix_mb']:.0f} MB in memory), {QUESTIONS} questions, each embedded | "
            f"median {search['hybrid_median_ms']:.1f} ms, slowest {search['hybrid_max_ms']:.1f} ms; "
            f"first (reads the vectors) {search['hybrid_first_ms']:.0f} ms | under 50 ms |",
            f"| window while the Documents dialog indexes {half / 1e6:.0f} MB ({gui['seconds']:.1f} s) | "
            f"longest block {gui['max_gap_ms']:.1f} ms (99th percentile {gui['p99_gap_ms']:.1f} ms) | at most 50 ms |",
            f"| window while it indexes {small / 1e6:.1f} MB with the embedding model ({gui_embedded['seconds']:.0f} s) | "
            f"longest block {gui_embedded['max_gap_ms']:.1f} ms (99th percentile {gui_embedded['p99_gap_ms']:.1f} ms) "
            "| at most 50 ms |",
        ]
    )
    publish(report + "\n", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
