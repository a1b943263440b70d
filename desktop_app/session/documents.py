"""Indexing the user's files into the document library, and keeping it current.

Files are read where they are (never copied). A file is read again only when its size or
time changed, and its passages replaced only when its content (SHA-256) changed. Each file
is saved in its own transaction, so a run stopped half-way (cancelled, or the app killed)
leaves every file either as it was or fully updated, and the next run picks up the rest.
A file that cannot be read is recorded as failed with the reason, and the others go on.
No Qt: the command line runs it in the foreground, the window on a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.documents import SUPPORTED, ExtractionFailed, chunk_blocks, extract, kind_of
from desktop_app.documents.extract import MAX_FILE_BYTES
from desktop_app.session.retrieval import Retriever
from desktop_app.store import Store
from desktop_app.store.documents import DEFAULT_COLLECTION

log = logging.getLogger(__name__)

PAUSE_POLL_S = 0.2
EMBED_BATCH = 64  # passages embedded and saved together
# Folders that hold tools' files rather than the user's documents.
SKIPPED_FOLDERS = {"node_modules", "__pycache__", "venv", ".venv", "site-packages"}


@dataclass
class IndexReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # in a folder, of a type the library does not read
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    bytes_read: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    embedded: int = 0  # passages given a vector for searching by meaning
    embedding_seconds: float = 0.0
    embedding_problem: str = ""  # why passages were left without vectors, if they were


@dataclass(frozen=True)
class Progress:
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    path: str
    # "reading" the files (files_done of files_total); "embedding": passages_done of
    # passages_total given a vector by the embedding model
    phase: str = "reading"
    passages_done: int = 0
    passages_total: int = 0


class DocumentIndexer:
    def __init__(
        self,
        store: Store,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        should_pause: Callable[[], bool] | None = None,
        library: Retriever | None = None,
    ) -> None:
        self.store = store
        self.repo = store.documents
        self.library = library  # its embedding model, if any, gives the passages vectors
        self.on_progress = on_progress
        self.cancel = cancel or threading.Event()
        # Asked between files: the window pauses indexing while the model writes a reply.
        self.should_pause = should_pause or (lambda: False)

    def add(self, paths: Sequence[Path], collection: str = DEFAULT_COLLECTION) -> IndexReport:
        """Add files and folders (folders with everything the library reads below them)."""
        report = IndexReport()
        files: list[Path] = []
        folders: list[Path] = []
        for given in paths:
            path = Path(given).expanduser()
            if not path.exists():
                raise UserError(translate("Errors", "There is no file or folder {path}.").format(path=path))
            if path.is_dir():
                folders.append(path.resolve())
                found = list(_walk(path, skip=self.store.path.parent.resolve()))
                files += [f for f in found if f.suffix.lower() in SUPPORTED]
                report.skipped += len(found) - sum(1 for f in found if f.suffix.lower() in SUPPORTED)
            else:
                files.append(path)  # of any type: one the library cannot read is listed as failed
        collection_id = self.repo.collection_id(collection, create=True)
        for folder in folders:  # first: a run stopped half-way is finished by the next refresh
            self.repo.add_folder(collection_id, str(folder))
        for given in paths:  # added again after being removed from inside a folder
            self.repo.include(collection_id, str(Path(given).expanduser().resolve()))
        files = [f.resolve() for f in files]
        # Listed at once; a run stopped before reaching them leaves them for the next one.
        self.repo.mark_pending(
            collection_id, [str(f) for f in files if _storable(f)], lambda p: kind_of(Path(p)) or "other"
        )
        self._index(collection_id, files, report)
        return report if report.cancelled else self.embed_missing(report)

    def refresh(self, collection: str | None = None) -> IndexReport:
        """Read again what changed on disk since it was indexed (files gone are marked so),
        and the files new in the folders that were added."""
        report = IndexReport()
        for name in [collection] if collection else [c["name"] for c in self.repo.collections()]:
            collection_id = self.repo.collection_id(name)
            paths = [Path(d.path) for d in self.repo.documents(name)]
            known = set(paths)
            left_out = [Path(p) for p in self.repo.excluded(collection_id)]
            for _name, folder in self.repo.folders(name):  # files new in the folders added
                if Path(folder).is_dir():
                    skip = self.store.path.parent.resolve()
                    found = (f.resolve() for f in _walk(Path(folder), skip) if f.suffix.lower() in SUPPORTED)
                    paths += [
                        f for f in found if f not in known and not any(f == x or x in f.parents for x in left_out)
                    ]
            self._index(collection_id, paths, report)
            if report.cancelled:
                break
        return report if report.cancelled else self.embed_missing(report)

    def _index(self, collection_id: str, files: list[Path], report: IndexReport) -> IndexReport:
        started = time.perf_counter()
        self.repo.discard_unfinished()  # a large file a killed run left half-written
        sizes = []
        for path in files:
            try:
                sizes.append(path.stat().st_size)
            except OSError:
                sizes.append(0)
        total, done = sum(sizes), 0
        for number, (path, size) in enumerate(zip(files, sizes, strict=True)):
            if self.on_progress is not None:
                self.on_progress(Progress(number, len(files), done, total, str(path)))
            while self.should_pause() and not self.cancel.is_set():
                self.cancel.wait(PAUSE_POLL_S)
            if self.cancel.is_set():
                report.cancelled = True
                break
            self._one(collection_id, path, report)
            done += size
        if self.on_progress is not None and not report.cancelled:
            self.on_progress(Progress(len(files), len(files), total, total, ""))
        report.seconds += time.perf_counter() - started
        return report

    def embed_missing(self, report: IndexReport) -> IndexReport:
        """Give every passage without a vector one from the library's embedding model, a
        batch (one transaction) at a time: a run stopped part-way is picked up by the next,
        and a model installed after the files were read embeds them all. A failure leaves
        the rest without vectors (searched by words) and says why in the report."""
        key = self.library.vector_key() if self.library is not None else None
        if key is None or self.library is None:
            return report
        started = time.perf_counter()
        vectors = self.store.vectors
        vectors.forget_other_models(key)
        if not vectors.missing(1):
            return report  # nothing to embed: the model is not even loaded
        embedder = self.library.embedder()
        if embedder is None:
            report.embedding_problem = f"{self.library.problem} Passages are searched by words."
            return report
        done, total = vectors.counts(key)
        after = 0
        try:
            while True:
                batch = vectors.missing(EMBED_BATCH, after)
                if not batch:
                    break
                if self.on_progress is not None:
                    self.on_progress(Progress(0, 0, 0, 0, "", "embedding", done, total))
                while self.should_pause() and not self.cancel.is_set():
                    self.cancel.wait(PAUSE_POLL_S)
                if self.cancel.is_set():
                    report.cancelled = True
                    break
                vectors.save(key, [n for n, _ in batch], embedder.embed([t for _, t in batch]))
                after = batch[-1][0]
                done += len(batch)
                report.embedded += len(batch)
        except UserError:
            raise  # the disk is full
        except Exception:
            log.exception("Embedding passages failed")
            report.embedding_problem = "Some passages could not be embedded (see the log); they are searched by words."
        report.embedding_seconds += time.perf_counter() - started
        return report

    def _one(self, collection_id: str, path: Path, report: IndexReport) -> None:
        """One file, whatever happens to it: a file that breaks anything is recorded as not
        read, and the run goes on with the next."""
        if not _storable(path):  # a name in another encoding (Linux): the database cannot hold it
            report.failed.append((str(path), "Its name is not valid text (rename the file to index it)."))
            return
        try:
            self._read(collection_id, path, report)
        except UserError:
            raise  # the disk is full: no point going on
        except Exception:
            log.exception("Indexing %s failed", path)
            reason = "It could not be read because of an unexpected error (see the log)."
            report.failed.append((str(path), reason))
            with contextlib.suppress(Exception):
                self.repo.save(collection_id, str(path), kind_of(path) or "other", 0, 0.0, "", failure=reason)

    def _read(self, collection_id: str, path: Path, report: IndexReport) -> None:
        kind = kind_of(path) or "other"
        known = self.repo.known(collection_id, str(path))
        try:
            stat = path.stat()
        except OSError:
            reason = "The file is no longer there." if known else "The file cannot be opened."
            self.repo.save(collection_id, str(path), kind, 0, 0.0, "", failure=reason)
            report.failed.append((str(path), reason))
            return
        if known and known.size == stat.st_size and known.mtime == stat.st_mtime and known.status == "indexed":
            report.unchanged += 1
            return
        if stat.st_size > MAX_FILE_BYTES:
            reason = f"It is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB."
            self.repo.save(collection_id, str(path), kind, stat.st_size, stat.st_mtime, "", failure=reason)
            report.failed.append((str(path), reason))
            return
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = f"It cannot be read: {exc.strerror or exc}."
            self.repo.save(collection_id, str(path), kind, stat.st_size, stat.st_mtime, "", failure=reason)
            report.failed.append((str(path), reason))
            return
        report.bytes_read += len(data)
        digest = hashlib.sha256(data).hexdigest()
        if known and known.sha256 == digest and known.status == "indexed":
            self.repo.touch(known.document_id, stat.st_mtime)
            report.unchanged += 1
            return
        try:
            chunks = chunk_blocks(extract(path, data))
        except ExtractionFailed as exc:
            self.repo.save(collection_id, str(path), kind, len(data), stat.st_mtime, digest, failure=exc.reason)
            report.failed.append((str(path), exc.reason))
            return
        self.repo.save(collection_id, str(path), kind, len(data), stat.st_mtime, digest, chunks)
        if known and known.status != "pending":
            report.updated += 1
        else:
            report.added += 1


def _walk(folder: Path, skip: Path) -> Iterator[Path]:
    """Every file below `folder`, in a stable order, leaving out hidden and tool folders and
    `skip` (Inkwell's own data folder: its database and log are no documents)."""
    for root, dirs, names in os.walk(folder):
        if Path(root).resolve() == skip:
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        for name in sorted(names):
            if not name.startswith("."):
                yield Path(root) / name


def _storable(path: Path) -> bool:
    """Whether the database can hold the path (a name in another encoding cannot)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
