"""Settings › Model servers: add or remove an OpenAI-compatible server, and see where each
server's API key is kept (the system keyring, or a private file)."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import UserError
from desktop_app.session.servers import ServerRegistry

EXPLANATION = QT_TRANSLATE_NOOP(
    "ModelServersWidget",
    "Models on these servers are offered as SERVER:MODEL beside the ones on this computer. "
    "Text you send to such a model goes to that server; Inkwell asks once before the first use. "
    "With no server here, Inkwell opens no network connection.",
)


class ModelServersWidget(QGroupBox):
    def __init__(self, servers: ServerRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Model servers"))
        self.servers = servers
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Model servers"))
        self.list.setMaximumHeight(110)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("gpu-box")
        self.name_edit.setAccessibleName(self.tr("Server name"))
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("http://192.168.1.20:8000/v1")
        self.url_edit.setAccessibleName(self.tr("Server address"))
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(self.tr("optional"))
        self.key_edit.setAccessibleName(self.tr("API key"))
        self.add_button = QPushButton(self.tr("Add server"))
        self.remove_button = QPushButton(self.tr("Remove"))
        self.message = QLabel("")
        self.message.setWordWrap(True)
        explanation = QLabel(QCoreApplication.translate("ModelServersWidget", EXPLANATION))
        explanation.setWordWrap(True)
        self.key_place = QLabel(self.tr("API keys are kept in {place}.").format(place=servers.keys.describe()))
        self.key_place.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("Name"), self.name_edit)
        form.addRow(self.tr("Address"), self.url_edit)
        form.addRow(self.tr("API key"), self.key_edit)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.remove_button)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addWidget(self.list)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.key_place)
        layout.addWidget(self.message)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for server in self.servers.list():
            allowed = self.tr("allowed") if server.consented else self.tr("asks before first use")
            self.list.addItem(
                self.tr("{name} — {url} — key: {place}; {allowed}").format(
                    name=server.name, url=server.url, place=self.servers.key_place(server), allowed=allowed
                )
            )
        self.remove_button.setEnabled(False)

    @Slot(int)
    def _on_list_current_row_changed(self, row: int) -> None:
        self.remove_button.setEnabled(row >= 0)

    @Slot()
    def _on_add_button_clicked(self) -> None:
        try:
            server = self.servers.add(
                self.name_edit.text().strip(), self.url_edit.text(), self.key_edit.text().strip() or None
            )
        except UserError as exc:
            self.message.setText(str(exc))
            return
        self.key_edit.clear()
        self.name_edit.clear()
        self.url_edit.clear()
        self.message.setText(self.tr("Added {name}: its models are listed as {name}:MODEL.").format(name=server.name))
        self.refresh()

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        row = self.list.currentRow()
        names = [s.name for s in self.servers.list()]
        if 0 <= row < len(names):
            self.servers.remove(names[row])
            self.message.setText(self.tr("Removed {name} and its key.").format(name=names[row]))
            self.refresh()
