"""The document library's indexing for the window: a thread of its own with its own
database connection (so the window never waits on it), paused while the model writes a
reply; what changed is read again at start and whenever a folder or file of the library
changes while the app runs."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QThread, QTimer, Signal, Slot

from desktop_app.core.errors import UserError
from desktop_app.models.registry import ModelRegistry
from desktop_app.session.documents import DocumentIndexer, IndexReport
from desktop_app.session.retrieval import Retriever
from desktop_app.store import Store, open_store

log = logging.getLogger(__name__)

WATCH_DELAY_MS = 3000  # after a change, wait for the burst of changes to settle
MAX_WATCHED = 2000  # folders and files a desktop's watcher can afford


class IndexWorker(QObject):
    """Runs a DocumentIndexer on its thread, on a connection of its own to the database."""

    progressed = Signal(object)  # Progress
    done = Signal(object)  # IndexReport
    failed = Signal(str)
    watch_list = Signal(list)  # the folders and files to watch, found on this thread after a run

    def __init__(self, db_path: Path, should_pause: Callable[[], bool], registry: ModelRegistry | None = None) -> None:
        super().__init__()
        self.db_path = db_path
        self.should_pause = should_pause
        self.registry = registry  # where the embedding model that gives passages vectors is found
        self.cancel = threading.Event()

    @Slot(object, str)
    def run(self, paths: list[Path] | None, collection: str) -> None:
        """Add `paths` to `collection`, or (paths None) read again what changed everywhere."""
        self.cancel.clear()
        try:
            store = open_store(self.db_path)
            try:
                library = Retriever(store, self.registry)
                indexer = DocumentIndexer(store, self.progressed.emit, self.cancel, self.should_pause, library)
                report = indexer.add(paths, collection) if paths is not None else indexer.refresh()
                self.watch_list.emit(watch_paths(store))
            finally:
                store.close()
        except UserError as exc:
            self.failed.emit(str(exc))
            return
        except Exception:  # shown as a message; the details go to the log
            log.exception("Indexing documents failed")
            # tr() on this thread is fine: QCoreApplication.translate is thread-safe.
            self.failed.emit(self.tr("Indexing stopped because of an unexpected error (see the log)."))
            return
        self.done.emit(report)


class LibraryIndexer(QObject):
    """Starts index runs (one at a time) and reports them; watches the library's folders."""

    progressed = Signal(object)  # Progress
    done = Signal(object)  # IndexReport
    failed = Signal(str)
    _start = Signal(object, str)

    def __init__(
        self,
        store: Store,
        should_pause: Callable[[], bool],
        parent: QObject | None = None,
        registry: ModelRegistry | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.busy = False
        self._again = False  # a change came while a run was going: refresh after it
        self._thread = QThread(self)
        self.worker = IndexWorker(store.path, should_pause, registry)
        self.worker.moveToThread(self._thread)
        self._thread.start()
        self._start.connect(self.worker.run)
        self.worker.progressed.connect(self.progressed)
        self.worker.done.connect(self._on_worker_done)
        self.worker.failed.connect(self._on_worker_failed)
        self.worker.watch_list.connect(self._on_worker_watch_list)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._on_watcher_changed)
        self.watcher.fileChanged.connect(self._on_watcher_changed)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(WATCH_DELAY_MS)
        self._settle.timeout.connect(self.refresh)

    def index(self, paths: list[Path] | None, collection: str = "") -> bool:
        """Add `paths` to `collection`, or (None) read again what changed; False if busy."""
        if self.busy:
            return False
        self.busy = True
        self._start.emit(paths, collection)
        return True

    @Slot()
    def refresh(self) -> None:
        """Read again what changed (at start, and after a change on disk settles)."""
        if not self.store.documents.collections():
            return
        if not self.index(None):
            self._again = True

    def cancel(self) -> None:
        self.worker.cancel.set()

    @Slot(list)
    def _on_worker_watch_list(self, wanted: list[str]) -> None:
        """Watch what the worker found (the folders and files of the library)."""
        watched = set(self.watcher.directories()) | set(self.watcher.files())
        keep = set(wanted)
        stale = [p for p in watched if p not in keep]
        if stale:
            self.watcher.removePaths(stale)
        fresh = [p for p in dict.fromkeys(wanted) if p not in watched and Path(p).exists()]
        if fresh:
            self.watcher.addPaths(fresh)

    @Slot(str)
    def _on_watcher_changed(self, _path: str) -> None:
        self._settle.start()

    @Slot(object)
    def _on_worker_done(self, report: IndexReport) -> None:
        self._finished()
        self.done.emit(report)

    @Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        self._finished()
        self.failed.emit(message)

    def _finished(self) -> None:
        self.busy = False
        if self._again:  # a change came during the run
            self._again = False
            self._settle.start()

    def shutdown(self) -> None:
        """Stop a run between two files (what was read is kept) and end the thread."""
        self._settle.stop()
        self.worker.cancel.set()
        self._thread.quit()
        self._thread.wait()


def watch_paths(store: Store) -> list[str]:
    """The library's folders (and those below, hidden ones left out) and indexed files, up to
    what a desktop's watcher affords (MAX_WATCHED)."""
    wanted: list[str] = []
    for _name, folder in store.documents.folders():
        base = Path(folder)
        if not base.is_dir():
            continue
        wanted.append(str(base))
        for root, dirs, _files in os.walk(base):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for d in dirs:
                if len(wanted) >= MAX_WATCHED:
                    return wanted
                wanted.append(str(Path(root) / d))
    for document in store.documents.documents():
        if len(wanted) >= MAX_WATCHED:
            break
        if document.status == "indexed":
            wanted.append(document.path)
    return wanted
