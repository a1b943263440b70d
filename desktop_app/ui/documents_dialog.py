"""Documents: the library of the user's files that chats answer from. Add files or folders
(buttons or drag and drop) to a collection, see each file's state (and why one could not be
read), remove them, read again what changed. Indexing runs on a thread of its own with its
own database connection (ui.library_indexer), with progress and Cancel."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.session.documents import IndexReport, Progress
from desktop_app.session.retrieval import Retriever
from desktop_app.store import Store
from desktop_app.store.documents import DEFAULT_COLLECTION
from desktop_app.ui.library_indexer import LibraryIndexer
from desktop_app.ui.status import StatusReporter, reports_problems

log = logging.getLogger(__name__)

FILE_FILTER = (
    "Documents (*.pdf *.docx *.odt *.epub *.rtf *.md *.markdown *.txt *.html *.htm *.rst *.csv *.json *.py *.js *.ts);;"
    "All files (*)"
)


def human_size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1e6:.1f} MB"


class DocumentsDialog(QDialog):
    """The library: collections on the left, the chosen one's files on the right."""

    library_changed = Signal()  # collections or files changed (the chat's Sources menu listens)

    def __init__(
        self,
        store: Store,
        library: LibraryIndexer,
        reporter: StatusReporter,
        parent: QWidget | None = None,
        search: Retriever | None = None,
    ) -> None:
        super().__init__(parent)
        self.search = search or Retriever(store)  # says how the library is searched
        self.setWindowTitle("Documents")
        self.setAcceptDrops(True)
        self.resize(860, 500)
        self.store = store
        self.reporter = reporter
        self.collections = QListWidget()
        self.collections.setAccessibleName("Collections")
        self.files = QTreeWidget()
        self.files.setAccessibleName("Files in the collection")
        self.files.setHeaderLabels(["File", "Size", "State", "Folder"])
        self.files.setRootIsDecorated(False)
        self.files.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.target = QComboBox()
        self.target.setEditable(True)
        self.target.setAccessibleName("Add to the collection")
        self.target.setToolTip("Type a new name to start a collection")
        self.add_files_button = QPushButton("Add files…")
        self.add_folder_button = QPushButton("Add a folder…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget the chosen files (they stay on disk)")
        self.refresh_button = QPushButton("Read changes")
        self.refresh_button.setToolTip("Read again the files that changed on disk")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Indexing progress")
        self.progress_label = QLabel("Drop files or folders here, or use the buttons. Files are read where they are.")
        self.progress_label.setWordWrap(True)
        self.search_label = QLabel()
        self.search_label.setWordWrap(True)
        self.search_label.setToolTip(
            "Importing a sentence-embedding model (Model › Models…, Import a folder) adds search by meaning"
        )
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.progress.hide()
        split = QSplitter()
        split.addWidget(self.collections)
        split.addWidget(self.files)
        split.setSizes([220, 640])
        adding = QHBoxLayout()
        adding.addWidget(QLabel("Collection:"))
        adding.addWidget(self.target, 1)
        for button in (self.add_files_button, self.add_folder_button, self.remove_button, self.refresh_button):
            adding.addWidget(button)
        status = QHBoxLayout()
        status.addWidget(self.progress_label, 1)
        status.addWidget(self.progress)
        status.addWidget(self.cancel_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(adding)
        layout.addWidget(self.search_label)
        layout.addLayout(status)
        layout.addWidget(close)
        self.library = library
        self._connect_signals()
        self.reload()

    def _connect_signals(self) -> None:
        self.library.progressed.connect(self._on_library_progressed)
        self.library.done.connect(self._on_library_done)
        self.library.failed.connect(self._on_library_failed)
        self.collections.currentItemChanged.connect(self._on_collections_current_changed)
        self.add_files_button.clicked.connect(self._on_add_files_clicked)
        self.add_folder_button.clicked.connect(self._on_add_folder_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.refresh_button.clicked.connect(lambda: self.index(None))
        self.cancel_button.clicked.connect(self.library.cancel)

    # ---- what is shown ----

    def reload(self) -> None:
        current = self.collection_name()
        self.collections.clear()
        names = []
        for c in self.store.documents.collections():
            failed = f", {c['failed']} not read" if c["failed"] else ""
            item = QListWidgetItem(f"{c['name']}\n{c['documents']} files{failed}, {human_size(c['bytes'])}")
            item.setData(Qt.ItemDataRole.UserRole, c["name"])
            self.collections.addItem(item)
            names.append(c["name"])
            if c["name"] == current:
                self.collections.setCurrentItem(item)
        if self.collections.currentItem() is None and self.collections.count():
            self.collections.setCurrentRow(0)
        typed = self.target.currentText()
        self.target.clear()
        self.target.addItems(names or [DEFAULT_COLLECTION])
        self.target.setCurrentText(typed or (current or (names[0] if names else DEFAULT_COLLECTION)))
        self.search_label.setText(f"Search: {self.search.describe()}")
        self._show_files()

    def collection_name(self) -> str | None:
        item = self.collections.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _show_files(self) -> None:
        self.files.clear()
        name = self.collection_name()
        if name is None:
            return
        for d in self.store.documents.documents(name):
            passages = f"{d.chunks} passage{'s' if d.chunks != 1 else ''}"
            state = {"indexed": passages, "pending": "Waiting to be read"}.get(d.status, f"Not read: {d.reason}")
            path = Path(d.path)
            item = QTreeWidgetItem([path.name, human_size(d.size), state, str(path.parent)])
            item.setData(0, Qt.ItemDataRole.UserRole, d.path)
            item.setToolTip(0, d.path)
            item.setToolTip(2, state)
            self.files.addTopLevelItem(item)
        for column in (0, 1, 2):
            self.files.resizeColumnToContents(column)
        self.files.setColumnWidth(2, min(self.files.columnWidth(2), 420))  # a long reason: its tooltip

    @Slot(object, object)
    def _on_collections_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.target.setCurrentText(str(current.data(Qt.ItemDataRole.UserRole)))
        self._show_files()

    # ---- adding, removing, reading again ----

    def ask_paths(self, folder: bool) -> list[Path]:
        """The platform's Open dialog (tests replace it)."""
        if folder:
            chosen = QFileDialog.getExistingDirectory(self, "Add a folder to the library", str(Path.home()))
            return [Path(chosen)] if chosen else []
        files, _ = QFileDialog.getOpenFileNames(self, "Add files to the library", str(Path.home()), FILE_FILTER)
        return [Path(f) for f in files]

    @Slot()
    def _on_add_files_clicked(self) -> None:
        self.index(self.ask_paths(folder=False))

    @Slot()
    def _on_add_folder_clicked(self) -> None:
        self.index(self.ask_paths(folder=True))

    def index(self, paths: list[Path] | None) -> None:
        """Add `paths` to the collection named in the box (None: read changes everywhere)."""
        if paths is not None and not paths:
            return
        if self.library.busy:
            self.reporter.show("Wait for the files being read, or cancel them.", 3000)
            return
        collection = " ".join(self.target.currentText().split()) or DEFAULT_COLLECTION
        self._set_indexing(True)
        self.progress_label.setText("Reading…")
        self.library.index(paths, collection)

    @property
    def indexing(self) -> bool:
        return self.library.busy

    def _set_indexing(self, on: bool) -> None:
        self.cancel_button.setVisible(on)
        self.progress.setVisible(on)
        for button in (self.add_files_button, self.add_folder_button, self.remove_button, self.refresh_button):
            button.setEnabled(not on)

    @Slot(object)
    def _on_library_progressed(self, p: Progress) -> None:
        self._set_indexing(True)
        if p.phase == "embedding":
            self.progress.setRange(0, max(p.passages_total, 1))
            self.progress.setValue(p.passages_done)
            self.progress_label.setText(
                f"Embedding passages for search by meaning: {p.passages_done:,} of {p.passages_total:,}"
            )
            return
        self.progress.setRange(0, max(p.files_total, 1))
        self.progress.setValue(p.files_done)
        name = Path(p.path).name if p.path else ""
        self.progress_label.setText(
            f"{p.files_done} of {p.files_total} files, {p.bytes_done / 1e6:.1f} of {p.bytes_total / 1e6:.1f} MB"
            + (f": {name}" if name else "")
        )

    @Slot(object)
    def _on_library_done(self, report: IndexReport) -> None:
        self._set_indexing(False)
        parts = [f"{report.added} added", f"{report.updated} updated", f"{report.unchanged} unchanged"]
        if report.failed:
            parts.append(f"{len(report.failed)} not read (see their state)")
        if report.skipped:
            parts.append(f"{report.skipped} of other types skipped")
        if report.embedded:
            parts.append(f"{report.embedded:,} passages embedded")
        if report.embedding_problem:
            parts.append(report.embedding_problem.rstrip("."))
        self.progress_label.setText(("Cancelled: " if report.cancelled else "Done: ") + ", ".join(parts) + ".")
        self.reload()
        self.library_changed.emit()

    @Slot(str)
    def _on_library_failed(self, message: str) -> None:
        self._set_indexing(False)
        self.progress_label.setText(message)
        self.reload()

    @Slot()
    @reports_problems("Could not remove the files")
    def _on_remove_clicked(self) -> None:
        name = self.collection_name()
        chosen = [str(item.data(0, Qt.ItemDataRole.UserRole)) for item in self.files.selectedItems()]
        if name is None:
            return
        if not chosen:
            if not self.confirm(
                f"Remove the collection {name}?", "Chats stop answering from it. The files stay on disk."
            ):
                return
            removed = self.store.documents.remove_collection(name)
            self.progress_label.setText(f"Removed the collection {name} ({removed} files; they stay on disk).")
        else:
            removed = sum(self.store.documents.remove(path, name) for path in chosen)
            self.progress_label.setText(f"Removed {removed} file{'s' if removed != 1 else ''} (they stay on disk).")
        self.reload()
        self.library_changed.emit()

    def confirm(self, question: str, detail: str) -> bool:
        """Yes or no (tests replace it)."""
        answer = QMessageBox.question(self, "Documents", f"{question}\n\n{detail}")
        return answer == QMessageBox.StandardButton.Yes

    # ---- drag and drop ----

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and not self.library.busy:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        event.acceptProposedAction()
        self.index(paths)
