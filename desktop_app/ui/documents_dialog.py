"""Documents: the library of the user's files that chats answer from. Add files or folders
(buttons or drag and drop) to a collection, see each file's state (and why one could not be
read), remove them, read again what changed. Indexing runs on a thread of its own with its
own database connection (ui.library_indexer), with progress and Cancel."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QLocale, Qt, Signal, Slot
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
from desktop_app.ui.library_indexer import LibraryIndexer
from desktop_app.ui.status import StatusReporter, reports_problems

log = logging.getLogger(__name__)

DOCUMENT_PATTERNS = (
    "*.pdf *.docx *.odt *.epub *.rtf *.md *.markdown *.txt *.html *.htm *.rst *.csv *.json *.py *.js *.ts"
)

# The first collection's suggested name (the store's own default is "Documents").
DEFAULT_COLLECTION_LABEL = QT_TRANSLATE_NOOP("DocumentsDialog", "Documents")


def human_size(size: int) -> str:
    """A size in the window's locale, in SI units (kB, MB) as file managers show them."""
    return QLocale().formattedDataSize(size, 1 if size >= 1_000_000 else 0, QLocale.DataSizeFormat.DataSizeSIFormat)


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
        self.setWindowTitle(self.tr("Documents"))
        self.setAcceptDrops(True)
        self.resize(860, 500)
        self.store = store
        self.reporter = reporter
        self.collections = QListWidget()
        self.collections.setAccessibleName(self.tr("Collections"))
        self.files = QTreeWidget()
        self.files.setAccessibleName(self.tr("Files in the collection"))
        self.files.setHeaderLabels([self.tr("File"), self.tr("Size"), self.tr("State"), self.tr("Folder")])
        self.files.setRootIsDecorated(False)
        self.files.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.target = QComboBox()
        self.target.setEditable(True)
        self.target.setAccessibleName(self.tr("Add to the collection"))
        self.target.setToolTip(self.tr("Type a new name to start a collection"))
        self.add_files_button = QPushButton(self.tr("Add files…"))
        self.add_folder_button = QPushButton(self.tr("Add a folder…"))
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setToolTip(self.tr("Forget the chosen files (they stay on disk)"))
        self.refresh_button = QPushButton(self.tr("Read changes"))
        self.refresh_button.setToolTip(self.tr("Read again the files that changed on disk"))
        self.progress = QProgressBar()
        self.progress.setAccessibleName(self.tr("Indexing progress"))
        self.progress_label = QLabel(
            self.tr("Drop files or folders here, or use the buttons. Files are read where they are.")
        )
        self.progress_label.setWordWrap(True)
        self.search_label = QLabel()
        self.search_label.setWordWrap(True)
        self.search_label.setToolTip(
            self.tr("Importing a sentence-embedding model (Model › Models…, Import a folder) adds search by meaning")
        )
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.hide()
        self.progress.hide()
        split = QSplitter()
        split.addWidget(self.collections)
        split.addWidget(self.files)
        split.setSizes([220, 640])
        adding = QHBoxLayout()
        adding.addWidget(QLabel(self.tr("Collection:")))
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
        locale = QLocale()
        for c in self.store.documents.collections():
            files, size = locale.toString(c["documents"]), human_size(c["bytes"])
            if c["failed"]:
                counts = self.tr("{files} files, {failed} not read, {size}").format(
                    files=files, failed=locale.toString(c["failed"]), size=size
                )
            else:
                counts = self.tr("{files} files, {size}").format(files=files, size=size)
            item = QListWidgetItem(f"{c['name']}\n{counts}")
            item.setData(Qt.ItemDataRole.UserRole, c["name"])
            self.collections.addItem(item)
            names.append(c["name"])
            if c["name"] == current:
                self.collections.setCurrentItem(item)
        if self.collections.currentItem() is None and self.collections.count():
            self.collections.setCurrentRow(0)
        typed = self.target.currentText()
        self.target.clear()
        first = self.default_collection()
        self.target.addItems(names or [first])
        self.target.setCurrentText(typed or (current or (names[0] if names else first)))
        self.search_label.setText(self.tr("Search: {how}").format(how=self.search.describe()))
        self._show_files()

    def collection_name(self) -> str | None:
        item = self.collections.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def default_collection(self) -> str:
        """The first collection's suggested name, in the window's language ("Documents")."""
        return self.tr(DEFAULT_COLLECTION_LABEL)

    def _show_files(self) -> None:
        self.files.clear()
        name = self.collection_name()
        if name is None:
            return
        for d in self.store.documents.documents(name):
            state = self._state(d.status, d.chunks, d.reason)
            path = Path(d.path)
            item = QTreeWidgetItem([path.name, human_size(d.size), state, str(path.parent)])
            item.setData(0, Qt.ItemDataRole.UserRole, d.path)
            item.setToolTip(0, d.path)
            item.setToolTip(2, state)
            self.files.addTopLevelItem(item)
        for column in (0, 1, 2):
            self.files.resizeColumnToContents(column)
        self.files.setColumnWidth(2, min(self.files.columnWidth(2), 420))  # a long reason: its tooltip

    def _state(self, status: str, passages: int, reason: str) -> str:
        """A file's state as its row shows it."""
        if status == "indexed":
            text = self.tr("{count} passage") if passages == 1 else self.tr("{count} passages")
            return text.format(count=QLocale().toString(passages))
        if status == "pending":
            return self.tr("Waiting to be read")
        return self.tr("Not read: {reason}").format(reason=reason)

    @Slot(object, object)
    def _on_collections_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.target.setCurrentText(str(current.data(Qt.ItemDataRole.UserRole)))
        self._show_files()

    # ---- adding, removing, reading again ----

    def ask_paths(self, folder: bool) -> list[Path]:
        """The platform's Open dialog (tests replace it)."""
        if folder:
            chosen = QFileDialog.getExistingDirectory(self, self.tr("Add a folder to the library"), str(Path.home()))
            return [Path(chosen)] if chosen else []
        filters = ";;".join(
            (
                self.tr("Documents ({patterns})").format(patterns=DOCUMENT_PATTERNS),
                self.tr("All files ({patterns})").format(patterns="*"),
            )
        )
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Add files to the library"), str(Path.home()), filters)
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
            self.reporter.show(self.tr("Wait for the files being read, or cancel them."), 3000)
            return
        collection = " ".join(self.target.currentText().split()) or self.default_collection()
        self._set_indexing(True)
        self.progress_label.setText(self.tr("Reading…"))
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
        locale = QLocale()
        if p.phase == "embedding":
            self.progress.setRange(0, max(p.passages_total, 1))
            self.progress.setValue(p.passages_done)
            self.progress_label.setText(
                self.tr("Embedding passages for search by meaning: {done} of {total}").format(
                    done=locale.toString(p.passages_done), total=locale.toString(p.passages_total)
                )
            )
            return
        self.progress.setRange(0, max(p.files_total, 1))
        self.progress.setValue(p.files_done)
        name = Path(p.path).name if p.path else ""
        counts = self.tr("{done} of {total} files, {bytes_done} of {bytes_total}").format(
            done=locale.toString(p.files_done),
            total=locale.toString(p.files_total),
            bytes_done=human_size(p.bytes_done),
            bytes_total=human_size(p.bytes_total),
        )
        self.progress_label.setText(self.tr("{counts}: {name}").format(counts=counts, name=name) if name else counts)

    @Slot(object)
    def _on_library_done(self, report: IndexReport) -> None:
        self._set_indexing(False)
        n = QLocale().toString
        parts = [
            self.tr("{count} added").format(count=n(report.added)),
            self.tr("{count} updated").format(count=n(report.updated)),
            self.tr("{count} unchanged").format(count=n(report.unchanged)),
        ]
        if report.failed:
            parts.append(self.tr("{count} not read (see their state)").format(count=n(len(report.failed))))
        if report.skipped:
            parts.append(self.tr("{count} of other types skipped").format(count=n(report.skipped)))
        if report.embedded:
            parts.append(self.tr("{count} passages embedded").format(count=n(report.embedded)))
        if report.embedding_problem:
            parts.append(report.embedding_problem.rstrip("."))
        summary = self.tr(", ", "between the parts of a list").join(parts)
        if report.cancelled:
            self.progress_label.setText(self.tr("Cancelled: {summary}.").format(summary=summary))
        else:
            self.progress_label.setText(self.tr("Done: {summary}.").format(summary=summary))
        self.reload()
        self.library_changed.emit()

    @Slot(str)
    def _on_library_failed(self, message: str) -> None:
        self._set_indexing(False)
        self.progress_label.setText(message)
        self.reload()

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not remove the files"))
    def _on_remove_clicked(self) -> None:
        name = self.collection_name()
        chosen = [str(item.data(0, Qt.ItemDataRole.UserRole)) for item in self.files.selectedItems()]
        if name is None:
            return
        if not chosen:
            if not self.confirm(
                self.tr("Remove the collection {name}?").format(name=name),
                self.tr("Chats stop answering from it. The files stay on disk."),
            ):
                return
            removed = self.store.documents.remove_collection(name)
            self.progress_label.setText(
                self.tr("Removed the collection {name} ({count} files; they stay on disk).").format(
                    name=name, count=QLocale().toString(removed)
                )
            )
        else:
            removed = sum(self.store.documents.remove(path, name) for path in chosen)
            if removed == 1:
                text = self.tr("Removed {count} file (they stay on disk).")
            else:
                text = self.tr("Removed {count} files (they stay on disk).")
            self.progress_label.setText(text.format(count=QLocale().toString(removed)))
        self.reload()
        self.library_changed.emit()

    def confirm(self, question: str, detail: str) -> bool:
        """Yes or no (tests replace it)."""
        answer = QMessageBox.question(self, self.tr("Documents"), f"{question}\n\n{detail}")
        return answer == QMessageBox.StandardButton.Yes

    # ---- drag and drop ----

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and not self.library.busy:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        event.acceptProposedAction()
        self.index(paths)
