"""The models page: the prepared models with their details; choose the one Inkwell uses,
import a GGUF file or a Hugging Face folder you have, delete one. The added servers' models
follow (as last heard), to use with what sending text there means spelled out."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_app.models.registry import EMBEDDING, InstalledModel, split_model_setting
from desktop_app.session.retrieval import EMBEDDING_OFF, EMBEDDING_SETTING
from desktop_app.session.settings import AppSettings, ModelChoice
from desktop_app.store import Store
from desktop_app.ui.first_run import PreparationDialog
from desktop_app.ui.services import WindowServices
from desktop_app.ui.status import StatusReporter, reports_problems


class ModelsDialog(QDialog):
    """Lists the models; the window reloads the model when `model_chosen` says so."""

    model_chosen = Signal(str)  # the id the settings now name
    search_model_changed = Signal()  # the embedding model the library searches with

    def __init__(
        self, store: Store, services: WindowServices, reporter: StatusReporter, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Models"))
        self.resize(820, 480)
        self.store = store
        self.services = services
        self.reporter = reporter
        self.models: list[InstalledModel] = []
        self.remote: list[ModelChoice] = []  # after the local models in the list
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Models"))
        self.details = QTextBrowser()
        self.details.setAccessibleName(self.tr("Model details"))
        self.use_button = QPushButton(self.tr("Use this model"))
        self.delete_button = QPushButton(self.tr("Delete…"))
        self.import_button = QPushButton(self.tr("Import a GGUF file…"))
        self.import_folder_button = QPushButton(self.tr("Import a folder…"))
        for button, name in (
            (self.use_button, self.tr("Use this model")),
            (self.delete_button, self.tr("Delete the model")),
            (self.import_button, self.tr("Import a GGUF file")),
            (self.import_folder_button, self.tr("Import a Hugging Face folder")),
        ):
            button.setAccessibleName(name)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.details)
        split.setSizes([280, 540])
        row = QHBoxLayout()
        for button in (self.import_button, self.import_folder_button):
            row.addWidget(button)
        row.addStretch(1)
        for button in (self.delete_button, self.use_button):
            row.addWidget(button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(row)
        layout.addWidget(close)
        close.rejected.connect(self.reject)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.use_button.clicked.connect(self.use_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.import_button.clicked.connect(self._on_import_button_clicked)
        self.import_folder_button.clicked.connect(self._on_import_folder_button_clicked)
        self.refresh()

    def _default(self) -> str | None:
        """The model Inkwell uses: the one the settings name, else the registry's default."""
        preferred = split_model_setting(AppSettings.load(self.store).model)[0]
        return self.services.default_model_id(preferred)

    def _in_use(self) -> str | None:
        """The remote model the settings name, else the local model in use."""
        setting = AppSettings.load(self.store).model
        servers = self.services.servers
        return setting if servers is not None and servers.split_ref(setting) is not None else self._default()

    def _remote_models(self) -> list[ModelChoice]:
        servers = self.services.servers
        if servers is None or not servers.list():
            return []  # no server added: no connection
        return [choice for choice in self.services.list_models() if servers.split_ref(choice.id) is not None]

    def refresh(self, select: str | None = None) -> None:
        current = self.selected_id()
        self.models = self.services.installed_models()
        self.remote = self._remote_models()
        in_use = self._in_use()
        self.list.clear()
        rows = [(m.id, m.manifest.name) for m in self.models] + [(c.id, c.label) for c in self.remote]
        searching = self._search_model()
        for model_id, name in rows:
            label = name
            if model_id == searching:
                label = self.tr("{name} (searches documents)").format(name=name)
            elif model_id == in_use:
                label = self.tr("{name} (in use)").format(name=name)
            item = QListWidgetItem(f"{label}\n   {model_id}")
            item.setData(Qt.ItemDataRole.UserRole, model_id)
            self.list.addItem(item)
        wanted = select or current or in_use
        ids = [model_id for model_id, _ in rows]
        self.list.setCurrentRow(ids.index(wanted) if wanted in ids else (0 if ids else -1))
        if not self.models and not self.remote:
            self.details.setHtml(
                "<p>{}</p>".format(
                    html.escape(
                        self.tr(
                            "No model is prepared yet. Import a GGUF file you have, or prepare "
                            "the default model (Model › Prepare the default model)."
                        )
                    )
                )
            )
        self._update_buttons()

    def selected(self) -> InstalledModel | None:
        row = self.list.currentRow()
        return self.models[row] if 0 <= row < len(self.models) else None

    def selected_remote(self) -> ModelChoice | None:
        row = self.list.currentRow() - len(self.models)
        return self.remote[row] if 0 <= row < len(self.remote) else None

    def selected_id(self) -> str | None:
        model, remote = self.selected(), self.selected_remote()
        return model.id if model is not None else (remote.id if remote is not None else None)

    def _search_model(self) -> str | None:
        """The embedding model the document library searches with: the one chosen, else the
        first installed; None when turned off or none is installed."""
        setting = self.store.settings.get(EMBEDDING_SETTING, "")
        ids = [m.id for m in self.models if m.manifest.kind == EMBEDDING]
        if setting == EMBEDDING_OFF:
            return None
        return setting if setting in ids else (ids[0] if ids else None)

    def _update_buttons(self) -> None:
        chosen = self.selected_id()
        model = self.selected()
        if model is not None and model.manifest.kind == EMBEDDING:
            self.use_button.setText(self.tr("Use for document search"))
            self.use_button.setEnabled(model.id != self._search_model())
        else:
            self.use_button.setText(self.tr("Use this model"))
            self.use_button.setEnabled(chosen is not None and chosen != self._in_use())
        self.delete_button.setEnabled(self.selected() is not None)  # a server's model is removed with the server
        can_import = self.services.import_model is not None
        self.import_button.setEnabled(can_import)
        self.import_folder_button.setEnabled(can_import)

    @Slot(int)
    def _on_list_current_row_changed(self, _row: int) -> None:
        model, remote = self.selected(), self.selected_remote()
        found = self.services.servers.split_ref(remote.id) if remote and self.services.servers else None
        if found is not None:
            server, name = found
            where = html.escape(
                self.tr(
                    "On the model server {server} ({url}). While you use it, what you write in chats and drafts "
                    "is sent to that server, which writes the replies."
                )
            ).format(server=f"<b>{html.escape(server.name)}</b>", url=html.escape(server.url))
            self.details.setHtml(
                "<h3>{}</h3><p>{}</p><p>{}</p>".format(
                    html.escape(name),
                    where,
                    html.escape(self.tr("Settings › Model servers adds and removes servers.")),
                )
            )
        if model is not None:
            rows = "".join(
                f"<tr><td><b>{html.escape(label)}</b></td><td>{html.escape(value)}</td></tr>"
                for label, value in model.details()
            )
            self.details.setHtml(f"<h3>{html.escape(model.manifest.name)}</h3><table cellpadding='3'>{rows}</table>")
        self._update_buttons()

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not change the model"))
    def use_selected(self) -> None:
        chosen = self.selected_id()
        if chosen is None:
            return
        model = self.selected()
        if model is not None and model.manifest.kind == EMBEDDING:
            self.store.settings.set(EMBEDDING_SETTING, chosen)
            self.refresh(chosen)
            self.search_model_changed.emit()
            return
        self.store.settings.set("model", chosen)
        self.refresh(chosen)
        self.model_chosen.emit(chosen)

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not delete the model"))
    def delete_selected(self) -> None:
        model = self.selected()
        if model is None or not self.confirm_delete(model):
            return
        in_use = model.id == self._default()
        searching = model.id == self._search_model()
        self.services.delete_model(model.id)
        if split_model_setting(AppSettings.load(self.store).model)[0] == model.id:
            self.store.settings.set("model", "")
        self.refresh()
        self.reporter.show(
            self.tr("Deleted {name}. Its source file, if any, is untouched.").format(name=model.manifest.name), 6000
        )
        if in_use:
            self.model_chosen.emit(self._default() or "")
        if searching:
            self.search_model_changed.emit()

    def confirm_delete(self, model: InstalledModel) -> bool:
        """Ask before deleting (tests replace it)."""
        answer = QMessageBox.question(
            self,
            self.tr("Delete the model"),
            self.tr(
                "Delete {name} ({size})? The file it was made from is not touched; you can import it again."
            ).format(name=model.manifest.name, size=data_size(model.size_bytes)),
        )
        return answer == QMessageBox.StandardButton.Yes

    # ---- importing ----

    def ask_import_path(self, folder: bool) -> str:
        """The file or folder to import, "" when cancelled (tests replace it)."""
        if folder:
            return QFileDialog.getExistingDirectory(
                self, self.tr("Import a Hugging Face model folder"), str(Path.home())
            )
        filters = ";;".join(
            (
                self.tr("GGUF models ({patterns})").format(patterns="*.gguf"),
                self.tr("All files ({patterns})").format(patterns="*"),
            )
        )
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Import a GGUF model"), str(Path.home()), filters)
        return str(path)

    @Slot()
    def _on_import_button_clicked(self) -> None:
        self.import_from(self.ask_import_path(folder=False))

    @Slot()
    def _on_import_folder_button_clicked(self) -> None:
        self.import_from(self.ask_import_path(folder=True))

    def import_from(self, path_text: str) -> None:
        """Convert the file or folder with a progress bar and Cancel; select it when done."""
        importer = self.services.import_model
        if not path_text or importer is None:
            return
        source = Path(path_text)
        size = _size_text(source)

        def prepare(progress, cancel):  # type: ignore[no-untyped-def]
            return importer(source, progress, cancel)

        dialog = PreparationDialog(
            prepare,
            self,
            title=self.tr("Import a model"),
            explanation="<h3>{}</h3><p>{}</p><p>{}</p>".format(
                html.escape(self.tr("Import {name}").format(name=source.name)),
                html.escape(
                    self.tr(
                        "Inkwell converts the model once into a form it runs fast on this computer. "
                        "The file itself is not changed, and nothing is downloaded."
                    )
                ),
                html.escape(size),
            ),
            start_text=self.tr("Import"),
        )
        self.import_dialog = dialog
        dialog.start()
        if self.run_dialog(dialog) and dialog.prepared is not None:
            imported = dialog.prepared.name
            self.refresh(imported)
            model = self.selected()
            if model is not None and model.manifest.kind == EMBEDDING:
                if self._search_model() == model.id:
                    text = self.tr("Imported {name}: your documents are searched by meaning too.")
                    self.reporter.show(text.format(name=source.name), 8000)
                    self.search_model_changed.emit()
                else:
                    text = self.tr("Imported {name}. “Use for document search” switches to it.")
                    self.reporter.show(text.format(name=source.name), 8000)
            else:
                self.reporter.show(
                    self.tr("Imported {name}. “Use this model” switches to it.").format(name=source.name), 8000
                )

    def run_dialog(self, dialog: QDialog) -> bool:
        """Show a modal dialog; True if accepted (tests replace it)."""
        return bool(dialog.exec())


def data_size(size: int) -> str:
    """A model's size in the window's locale: megabytes whole, gigabytes to two places."""
    return QLocale().formattedDataSize(size, 2 if size >= 1e9 else 0, QLocale.DataSizeFormat.DataSizeSIFormat)


def _size_text(path: Path) -> str:
    try:
        size = path.stat().st_size if path.is_file() else sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    except OSError:
        return ""
    return QCoreApplication.translate("ModelsDialog", "{name}: {size}").format(name=path.name, size=data_size(size))
