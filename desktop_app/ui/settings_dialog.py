"""The settings dialog: model, provider, theme, language, font size, data folder, default
generation, the local API server and model servers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.generation import GenerationSettings
from desktop_app.session.servers import ServerRegistry
from desktop_app.session.settings import (
    DEFAULT_COWRITER_BEAMS,
    DEFAULT_FONT_SIZE,
    FONT_SIZES,
    LANGUAGE_CHOICES,
    MAX_COWRITER_BEAMS,
    PROVIDERS,
    SPEEDUPS,
    THEMES,
    AppSettings,
    ModelChoice,
    ServerSettings,
)
from desktop_app.ui.chat.settings_pane import GenerationForm
from desktop_app.ui.server_settings import ServerSettingsGroup
from desktop_app.ui.servers_section import ModelServersWidget


class SettingsDialog(QDialog):
    def __init__(
        self,
        current: AppSettings,
        models: list[ModelChoice],
        data_folder: Path,
        parent: QWidget | None = None,
        server: ServerSettings | None = None,
        api_key: str = "",
        servers: ServerRegistry | None = None,
        drafts: Callable[[str], list[ModelChoice]] = lambda _model: [],
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.current = current
        self.data_folder = data_folder
        self.model_box = QComboBox()
        self.model_box.setAccessibleName(self.tr("Model"))
        for model in models:
            self.model_box.addItem(model.label, model.id)
        if not models:
            self.model_box.addItem(self.tr("No model is prepared"), "")
        index = self.model_box.findData(current.model)
        if index < 0 and current.model:  # e.g. a server's model not heard from yet: kept, not replaced
            self.model_box.addItem(current.model, current.model)
            index = self.model_box.count() - 1
        self.model_box.setCurrentIndex(max(index, 0))
        self.provider_box = self._combo(self.tr("Provider"), PROVIDERS, current.provider)
        self.speedup_box = self._combo(self.tr("Speed-up"), SPEEDUPS, current.speedup)
        self.speedup_box.setToolTip(
            self.tr(
                "Checks several likely next tokens in one pass over the model: replies come faster, "
                "most of all when they repeat your text (corrections, translations, quotes). "
                "The model's choices stay its own."
            )
        )
        self.draft_box = QComboBox()
        self.draft_box.setAccessibleName(self.tr("Draft model"))
        self.draft_box.setToolTip(
            self.tr("A smaller model with the same vocabulary that proposes tokens for the one you chose")
        )
        self._drafts = drafts
        self._fill_drafts(current.draft_model)
        self.model_box.currentIndexChanged.connect(self._on_model_box_changed)
        self.speedup_box.currentIndexChanged.connect(self._on_speedup_box_changed)
        self._on_speedup_box_changed()
        self.theme_box = self._combo(self.tr("Theme"), THEMES, current.theme)
        self.language_box = self._combo(self.tr("Language"), LANGUAGE_CHOICES, current.language)
        self.language_note = QLabel(self.tr("A new language shows after Inkwell restarts."))
        self.language_note.setVisible(False)
        self.language_box.currentIndexChanged.connect(self._on_language_box_changed)
        self.font_size = QSpinBox()
        self.font_size.setRange(FONT_SIZES.start, FONT_SIZES.stop - 1)
        self.font_size.setSuffix(self.tr(" pt"))
        self.font_size.setValue(current.font_size)
        self.font_size.setAccessibleName(self.tr("Font size"))
        self.cowriter_beams = QSpinBox()
        self.cowriter_beams.setRange(1, MAX_COWRITER_BEAMS)
        self.cowriter_beams.setSpecialValueText(self.tr("Off (write as it streams)"))
        self.cowriter_beams.setValue(current.cowriter_beams)
        self.cowriter_beams.setAccessibleName(self.tr("Beams for the co-writer's corrections"))
        self.cowriter_beams.setToolTip(
            self.tr("Fix grammar, Shorten and Translate search this many ways for the best text (slower)")
        )
        self.export_reasoning = QCheckBox(self.tr("Include thinking models' reasoning in exports"))
        self.export_reasoning.setChecked(current.export_reasoning)
        folder_label = QLabel(str(data_folder))
        folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_folder_button = QPushButton(self.tr("Open"))
        self.open_folder_button.setAccessibleName(self.tr("Open the data folder"))
        folder_row = QHBoxLayout()
        folder_row.addWidget(folder_label, 1)
        folder_row.addWidget(self.open_folder_button)

        general = QFormLayout()
        general.addRow(self.tr("&Model"), self.model_box)
        general.addRow(self.tr("&Run on"), self.provider_box)
        general.addRow(self.tr("Speed-&up"), self.speedup_box)
        general.addRow(self.tr("Dr&aft model"), self.draft_box)
        general.addRow(self.tr("&Theme"), self.theme_box)
        general.addRow(self.tr("&Language"), self.language_box)
        general.addRow("", self.language_note)
        general.addRow(self.tr("&Font size"), self.font_size)
        general.addRow(self.tr("Co-writer &beams"), self.cowriter_beams)
        general.addRow(self.tr("Exports"), self.export_reasoning)
        general.addRow(self.tr("Data folder"), folder_row)
        self.generation_form = GenerationForm()
        self.generation_form.set_settings(current.generation)
        self.generation_form.set_thinking("any")  # defaults for whichever model runs
        defaults = QGroupBox(self.tr("Defaults for new chats"))
        QVBoxLayout(defaults).addWidget(self.generation_form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        layout = QVBoxLayout(self)
        layout.addLayout(general)
        layout.addWidget(defaults)
        self.server_group = ServerSettingsGroup(server or ServerSettings(), api_key)
        layout.addWidget(self.server_group)
        self.servers_widget = ModelServersWidget(servers) if servers is not None else None
        if self.servers_widget is not None:
            layout.addWidget(self.servers_widget)
        layout.addWidget(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.restore_button = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        self.restore_button.clicked.connect(self._on_restore_clicked)
        self.open_folder_button.clicked.connect(self._on_open_folder_clicked)

    def _combo(self, name: str, choices: dict[str, str], current: str) -> QComboBox:
        box = QComboBox()
        box.setAccessibleName(name)
        for key, label in choices.items():
            box.addItem(QCoreApplication.translate("Settings", label), key)
        box.setCurrentIndex(max(box.findData(current), 0))
        return box

    def accept(self) -> None:
        problem = self.server_group.validate()
        if problem is not None:  # a bad CORS origin: say so and keep the dialog open
            QMessageBox.warning(self, self.tr("Settings"), problem)
            return
        super().accept()

    def chosen_server(self) -> tuple[ServerSettings, str]:
        return self.server_group.chosen()

    def chosen(self) -> AppSettings:
        return AppSettings(
            self.model_box.currentData() or "",
            self.provider_box.currentData(),
            self.theme_box.currentData(),
            self.font_size.value(),
            self.generation_form.settings(),
            self.language_box.currentData(),
            self.cowriter_beams.value(),
            self.export_reasoning.isChecked(),
            self.speedup_box.currentData(),
            self.draft_box.currentData() or "",
        )

    def _fill_drafts(self, current: str) -> None:
        """The draft models that suit the chosen model (None first), keeping `current`."""
        self.draft_box.clear()
        self.draft_box.addItem(self.tr("None"), "")
        for choice in self._drafts(self.model_box.currentData() or ""):
            self.draft_box.addItem(choice.label, choice.id)
        index = self.draft_box.findData(current)
        self.draft_box.setCurrentIndex(max(index, 0))

    @Slot()
    def _on_model_box_changed(self) -> None:
        self._fill_drafts(self.draft_box.currentData() or "")

    @Slot()
    def _on_speedup_box_changed(self) -> None:
        self.draft_box.setEnabled(self.speedup_box.currentData() == "auto" and self.draft_box.count() > 1)

    @Slot()
    def _on_restore_clicked(self) -> None:
        self.generation_form.set_settings(GenerationSettings())
        self.theme_box.setCurrentIndex(self.theme_box.findData("system"))
        self.font_size.setValue(DEFAULT_FONT_SIZE)
        self.cowriter_beams.setValue(DEFAULT_COWRITER_BEAMS)
        self.provider_box.setCurrentIndex(self.provider_box.findData("auto"))
        self.speedup_box.setCurrentIndex(self.speedup_box.findData("auto"))
        self.draft_box.setCurrentIndex(0)

    @Slot()
    def _on_language_box_changed(self) -> None:
        self.language_note.setVisible(self.language_box.currentData() != self.current.language)

    @Slot()
    def _on_open_folder_clicked(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_folder)))
