"""Generation settings as a form, and the per-conversation panel (system prompt, presets)."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.generation import GenerationSettings
from desktop_app.core.presets import Preset
from desktop_app.session.scheduler import EngineInfo

NO_SEED = -1  # the seed box's "Random" value
NO_BUDGET = -1  # the thinking budget's "No limit"


class GenerationForm(QWidget):
    """Temperature, top-p, top-k, repetition penalty, max new tokens and seed."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = GenerationSettings()
        self.temperature = self._double(
            0.0, 2.0, 0.05, self.tr("Temperature"), self.tr("0 always picks the likeliest word (greedy)")
        )
        self.top_p = self._double(
            0.05, 1.0, 0.05, self.tr("Top-p"), self.tr("Sample only from the likeliest words that add up to this")
        )
        self.repetition_penalty = self._double(
            0.5, 2.0, 0.05, self.tr("Repetition penalty"), self.tr("Above 1 discourages repeats")
        )
        self.top_k = self._int(0, 1000, self.tr("Top-k"), self.tr("Sample only from this many words (0: no limit)"))
        self.max_new_tokens = self._int(1, 32_768, self.tr("Max new tokens"), self.tr("The longest reply, in tokens"))
        self.seed = self._int(
            NO_SEED, 2**31 - 1, self.tr("Seed"), self.tr("The same seed and settings give the same reply")
        )
        self.seed.setSpecialValueText(self.tr("Random"))
        self.beams = self._int(
            1,
            8,
            self.tr("Beam search"),
            self.tr("Keep this many likeliest replies at each word and give the best (slower; no streaming)"),
        )
        self.beams.setSpecialValueText(self.tr("Off"))
        self.thinking = QComboBox()
        self.thinking.setAccessibleName(self.tr("Thinking"))
        for mode, label in (("auto", self.tr("Model's default")), ("on", self.tr("On")), ("off", self.tr("Off"))):
            self.thinking.addItem(label, mode)
        self.reasoning_budget = self._int(
            NO_BUDGET,
            32_768,
            self.tr("Thinking budget"),
            self.tr("After this many tokens of thinking, the model is told to answer"),
        )
        self.reasoning_budget.setSpecialValueText(self.tr("No limit"))
        self.set_thinking("")
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow(self.tr("&Temperature"), self.temperature)
        layout.addRow(self.tr("Top-&p"), self.top_p)
        layout.addRow(self.tr("Top-&k"), self.top_k)
        layout.addRow(self.tr("&Repetition penalty"), self.repetition_penalty)
        layout.addRow(self.tr("&Max new tokens"), self.max_new_tokens)
        layout.addRow(self.tr("&Seed"), self.seed)
        layout.addRow(self.tr("&Beam search"), self.beams)
        layout.addRow(self.tr("T&hinking"), self.thinking)
        layout.addRow(self.tr("Thinking bu&dget"), self.reasoning_budget)
        self.thinking.currentIndexChanged.connect(self.changed)
        self.reasoning_budget.valueChanged.connect(self.changed)
        for box in (self.temperature, self.top_p, self.repetition_penalty):
            box.valueChanged.connect(self.changed)
        for spin in (self.top_k, self.max_new_tokens, self.seed, self.beams):
            spin.valueChanged.connect(self.changed)

    def _double(self, low: float, high: float, step: float, name: str, tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(low, high)
        box.setSingleStep(step)
        box.setDecimals(2)
        box.setAccessibleName(name)
        box.setToolTip(tip)
        return box

    def _int(self, low: int, high: int, name: str, tip: str) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setAccessibleName(name)
        box.setToolTip(tip)
        return box

    def set_thinking(self, thinking: str) -> None:
        """What the model allows: "switch" (its template turns thinking on and off),
        "always" (it thinks; only the budget applies, and Off closes it at once), "" (it does
        not think), or "any" (defaults for whichever model runs)."""
        tips = {
            "switch": self.tr("Whether the model thinks before it answers (its template's switch)"),
            "always": self.tr("This model always thinks; Off stops its thinking as soon as it starts"),
            "any": self.tr("For models that think before they answer"),
            "": self.tr("The loaded model does not think before answering"),
        }
        self.thinking.setEnabled(bool(thinking))
        self.reasoning_budget.setEnabled(bool(thinking))
        self.thinking.setToolTip(tips.get(thinking, tips[""]))

    def set_settings(self, settings: GenerationSettings) -> None:
        self._base = settings
        widgets = (
            self.temperature,
            self.top_p,
            self.repetition_penalty,
            self.top_k,
            self.max_new_tokens,
            self.seed,
            self.beams,
            self.thinking,
            self.reasoning_budget,
        )
        for widget in widgets:
            widget.blockSignals(True)
        self.temperature.setValue(settings.temperature)
        self.top_p.setValue(settings.top_p)
        self.repetition_penalty.setValue(settings.repetition_penalty)
        self.top_k.setValue(settings.top_k)
        self.max_new_tokens.setValue(settings.max_new_tokens)
        self.seed.setValue(NO_SEED if settings.seed is None else settings.seed)
        self.beams.setValue(settings.num_beams)
        self.thinking.setCurrentIndex(max(0, self.thinking.findData(settings.thinking)))
        self.reasoning_budget.setValue(settings.reasoning_budget)
        for widget in widgets:
            widget.blockSignals(False)

    def settings(self) -> GenerationSettings:
        """The form's values over the settings it was given (other fields kept)."""
        return dataclasses.replace(
            self._base,
            temperature=round(self.temperature.value(), 2),
            top_p=round(self.top_p.value(), 2),
            repetition_penalty=round(self.repetition_penalty.value(), 2),
            top_k=self.top_k.value(),
            max_new_tokens=self.max_new_tokens.value(),
            seed=None if self.seed.value() == NO_SEED else self.seed.value(),
            num_beams=self.beams.value(),
            thinking=self.thinking.currentData() or "auto",
            reasoning_budget=self.reasoning_budget.value(),
            num_alternatives=min(self._base.num_alternatives, self.beams.value())
            if self.beams.value() > 1
            else self._base.num_alternatives,
        )


class ConversationSettingsPane(QWidget):
    """The open conversation's system prompt and generation settings.

    Emits `changed` on every edit; the window saves them to the conversation (or keeps
    them for the chat about to be created). "Save as default" makes them the defaults.
    """

    changed = Signal()
    save_as_default_requested = Signal()

    CUSTOM = QT_TRANSLATE_NOOP("ConversationSettingsPane", "Custom")  # the preset box's first item

    def __init__(self, presets: tuple[Preset, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presets = presets
        self.preset_box = QComboBox()
        self.preset_box.setAccessibleName(self.tr("Preset"))
        self.preset_box.addItem(QCoreApplication.translate("ConversationSettingsPane", self.CUSTOM))
        for preset in presets:
            self.preset_box.addItem(preset.name, preset.id)  # named in the window's language by core/
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setAccessibleName(self.tr("System prompt"))
        self.system_prompt.setPlaceholderText(self.tr("How the assistant should behave in this chat (optional)"))
        self.system_prompt.setTabChangesFocus(True)
        self.form = GenerationForm()
        self.default_button = QPushButton(self.tr("Save as default"))
        self.default_button.setAccessibleName(self.tr("Save these settings as the default for new chats"))
        self.default_button.setToolTip(self.tr("New chats start with these settings"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>{}</b>".format(self.tr("This chat"))))
        preset_row = QHBoxLayout()
        preset_label = QLabel(self.tr("Pre&set"))
        preset_label.setBuddy(self.preset_box)
        preset_row.addWidget(preset_label)
        preset_row.addWidget(self.preset_box, 1)
        layout.addLayout(preset_row)
        prompt_label = QLabel(self.tr("S&ystem prompt"))
        prompt_label.setBuddy(self.system_prompt)
        layout.addWidget(prompt_label)
        layout.addWidget(self.system_prompt, 1)
        layout.addWidget(self.form)
        layout.addWidget(self.default_button)
        self.preset_box.activated.connect(self._on_preset_box_activated)
        self.system_prompt.textChanged.connect(self._on_system_prompt_text_changed)
        self.form.changed.connect(self.changed)
        self.default_button.clicked.connect(self.save_as_default_requested)

    def load(self, system_prompt: str, settings: GenerationSettings) -> None:
        self.system_prompt.blockSignals(True)
        self.system_prompt.setPlainText(system_prompt)
        self.system_prompt.blockSignals(False)
        self.form.set_settings(settings)
        self._show_matching_preset()

    def set_engine_info(self, info: EngineInfo | None) -> None:
        self.form.set_thinking(info.thinking if info is not None else "")

    def generation_settings(self) -> GenerationSettings:
        return self.form.settings()

    def system_prompt_text(self) -> str:
        return self.system_prompt.toPlainText().strip()

    def apply_preset(self, preset_id: str) -> None:
        preset = next(p for p in self.presets if p.id == preset_id)
        self.system_prompt.blockSignals(True)
        self.system_prompt.setPlainText(preset.system_prompt)
        self.system_prompt.blockSignals(False)
        self.form.set_settings(dataclasses.replace(self.form.settings(), temperature=preset.temperature))
        self._show_matching_preset()
        self.changed.emit()

    @Slot(int)
    def _on_preset_box_activated(self, index: int) -> None:
        preset_id = self.preset_box.itemData(index)
        if preset_id:
            self.apply_preset(preset_id)

    @Slot()
    def _on_system_prompt_text_changed(self) -> None:
        self._show_matching_preset()
        self.changed.emit()

    def _show_matching_preset(self) -> None:
        text = self.system_prompt_text()
        index = next((i + 1 for i, p in enumerate(self.presets) if p.system_prompt == text), 0)
        self.preset_box.setCurrentIndex(index)
