"""The settings dialog's "Local API server" section: on/off, port, network, key, CORS, history."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desktop_app.core.errors import UserError
from desktop_app.session.settings import ServerSettings, new_api_key, validate_setting

NETWORK_WARNING = QT_TRANSLATE_NOOP(
    "ServerSettingsGroup",
    "Other computers on your network will be able to reach the server. Anyone who has the key "
    "can use the model, and the connection is not encrypted.",
)


class ServerSettingsGroup(QGroupBox):
    """What the user chose is read with `chosen()` (a UserError names a bad CORS origin)."""

    def __init__(self, current: ServerSettings, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Local API server"))
        self.enabled = QCheckBox(self.tr("Serve an OpenAI-compatible API to other programs on this computer"))
        self.enabled.setChecked(current.enabled)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(current.port)
        self.port.setAccessibleName(self.tr("Server port"))
        self.allow_network = QCheckBox(self.tr("Allow other computers on the network"))
        self.allow_network.setChecked(current.allow_network)
        self.network_warning = QLabel(QCoreApplication.translate("ServerSettingsGroup", NETWORK_WARNING))
        self.network_warning.setWordWrap(True)
        self.network_warning.setObjectName("warning")
        self.key = QLineEdit(key)
        self.key.setReadOnly(True)
        self.key.setAccessibleName(self.tr("API key"))
        self.copy_button = QPushButton(self.tr("Copy"))
        self.copy_button.setAccessibleName(self.tr("Copy the API key"))
        self.regenerate_button = QPushButton(self.tr("Regenerate"))
        self.regenerate_button.setAccessibleName(self.tr("Regenerate the API key"))
        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.copy_button)
        key_row.addWidget(self.regenerate_button)
        self.cors = QLineEdit(", ".join(current.cors_origins))
        self.cors.setPlaceholderText(self.tr("none (web pages cannot call the server)"))
        self.cors.setAccessibleName(self.tr("CORS origins"))
        self.save_history = QCheckBox(self.tr("Save API requests to the chat history"))
        self.save_history.setChecked(current.save_history)
        form = QFormLayout(self)
        form.addRow(self.enabled)
        form.addRow(self.tr("&Port"), self.port)
        form.addRow(self.allow_network)
        form.addRow(self.network_warning)
        form.addRow(self.tr("API &key"), key_row)
        key_label = form.labelForField(key_row)
        if isinstance(key_label, QLabel):  # a row of widgets has no buddy of its own: the key's field
            key_label.setBuddy(self.key)
        form.addRow(self.tr("&Web origins allowed (CORS)"), self.cors)
        form.addRow(self.save_history)
        self.network_warning.setVisible(current.allow_network)
        self.allow_network.toggled.connect(self._on_allow_network_toggled)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.regenerate_button.clicked.connect(self._on_regenerate_button_clicked)

    def chosen(self) -> tuple[ServerSettings, str]:
        origins = validate_setting("server_cors_origins", self.cors.text())
        settings = ServerSettings(
            self.enabled.isChecked(),
            self.port.value(),
            self.allow_network.isChecked(),
            tuple(origins),
            self.save_history.isChecked(),
        )
        return settings, self.key.text()

    def validate(self) -> str | None:
        """None when the choices can be saved, else what is wrong."""
        try:
            self.chosen()
        except UserError as exc:
            return str(exc)
        return None

    @Slot(bool)
    def _on_allow_network_toggled(self, checked: bool) -> None:
        self.network_warning.setVisible(checked)

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.key.text())

    @Slot()
    def _on_regenerate_button_clicked(self) -> None:
        self.key.setText(new_api_key())  # saved with OK; the old key works until then
