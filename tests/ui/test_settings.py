"""Per-chat settings with presets, the settings dialog, and the first run with no model."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.core.presets import system_presets
from desktop_app.session.settings import AppSettings, ModelChoice
from desktop_app.store import Store
from desktop_app.ui.main_window import WindowServices
from desktop_app.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import FakeEngine, ask_and_wait


def services(**overrides) -> WindowServices:  # type: ignore[no-untyped-def]
    return WindowServices(presets=system_presets(), **overrides)


def test_the_presets_cover_the_everyday_jobs() -> None:
    names = [p.name for p in system_presets()]
    assert names == ["Plain assistant", "Customer-service reply", "Tutor", "Editor", "Translator"]
    assert all(p.system_prompt and 0 <= p.temperature <= 1 for p in system_presets())


def test_a_preset_and_settings_go_with_the_new_chat_and_into_the_prompt(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    engine = FakeEngine()
    window = make_window(lambda: engine, services())
    pane = window.chat_pane.settings_pane
    pane.apply_preset("customer-service")
    assert pane.preset_box.currentText() == "Customer-service reply"
    pane.form.top_k.setValue(12)
    pane.form.seed.setValue(42)
    ask_and_wait(qtbot, window, "My parcel is late")
    conversation = store.conversations.get(window.chat_pane.conversation_id)
    assert conversation.system_prompt.startswith("You help a support agent")
    assert (conversation.settings["temperature"], conversation.settings["top_k"], conversation.settings["seed"]) == (
        0.5,
        12,
        42,
    )
    request = engine.requests[0]
    assert request.messages[0].role == "system" and request.messages[0].content == conversation.system_prompt
    assert (request.settings.temperature, request.settings.top_k, request.settings.seed) == (0.5, 12, 42)


def test_editing_the_panel_saves_to_the_open_chat_and_reopening_shows_it(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine, services())
    ask_and_wait(qtbot, window, "Hello")
    chat = window.chat_pane.conversation_id
    window.chat_pane.settings_pane.system_prompt.setPlainText("Answer in French.")
    window.chat_pane.settings_pane.form.temperature.setValue(0.2)
    assert window.chat_pane.settings_pane.preset_box.currentText() == "Custom"
    qtbot.waitUntil(lambda: store.conversations.get(chat).system_prompt == "Answer in French.", timeout=5_000)
    assert store.conversations.get(chat).settings["temperature"] == 0.2
    window.chat_pane.new_chat()
    assert window.chat_pane.settings_pane.system_prompt_text() == ""
    assert window.chat_pane.settings_pane.generation_settings().temperature == GenerationSettings().temperature
    window.chat_pane.open_conversation(chat)
    assert window.chat_pane.settings_pane.system_prompt_text() == "Answer in French."
    assert window.chat_pane.settings_pane.generation_settings().temperature == 0.2


def test_switching_chats_right_after_an_edit_saves_it_to_the_right_chat(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    first = store.conversations.create("First").id
    second = store.conversations.create("Second").id
    window = make_window(FakeEngine, services())
    window.chat_pane.open_conversation(first)
    window.chat_pane.settings_pane.system_prompt.setPlainText("Be brief.")
    window.chat_pane.open_conversation(second)  # before the save timer fires
    assert store.conversations.get(first).system_prompt == "Be brief."
    assert store.conversations.get(second).system_prompt == ""


def test_save_as_default_applies_to_new_chats(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine, services())
    window.chat_pane.settings_pane.form.max_new_tokens.setValue(64)
    qtbot.mouseClick(window.chat_pane.settings_pane.default_button, Qt.MouseButton.LeftButton)
    assert store.settings.get("generation", {})["max_new_tokens"] == 64
    assert AppSettings.load(store).generation.max_new_tokens == 64


def test_the_settings_dialog_saves_applies_the_theme_and_reloads_the_model(
    qtbot, make_window, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    loads: list[tuple[str, str]] = []

    def factory(model_id: str, provider: str, _speedup: object = None):  # type: ignore[no-untyped-def]
        loads.append((model_id, provider))
        return FakeEngine

    models = [ModelChoice("fake", "Fake model"), ModelChoice("other", "Other model")]
    window = make_window(FakeEngine, services(list_models=lambda: models, engine_factory=factory, data_folder=tmp_path))
    seen: list[SettingsDialog] = []

    def fill_in(dialog: SettingsDialog) -> bool:
        seen.append(dialog)
        assert dialog.model_box.count() == 2
        dialog.model_box.setCurrentIndex(1)
        dialog.provider_box.setCurrentIndex(dialog.provider_box.findData("cpu"))
        dialog.theme_box.setCurrentIndex(dialog.theme_box.findData("dark"))
        dialog.font_size.setValue(14)
        dialog.generation_form.temperature.setValue(0.3)
        return True

    window.run_dialog = fill_in
    try:
        window.menu_actions.settings.trigger()
        assert seen and loads == [("other", "cpu")]
        saved = AppSettings.load(store)
        assert (saved.model, saved.provider, saved.theme, saved.font_size) == ("other", "cpu", "dark", 14)
        assert saved.generation.temperature == 0.3
        app = QApplication.instance()
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
        assert app.font().pointSize() == 14
        qtbot.waitUntil(lambda: window.model_status.engine_info is not None, timeout=10_000)  # reloaded
        assert window.chat_pane.settings_pane.generation_settings().temperature == 0.3  # the new chat's defaults
    finally:
        from desktop_app.ui.theme import apply_appearance

        apply_appearance(QApplication.instance(), "system", 10)


def test_the_settings_dialog_shows_the_data_folder_and_restores_defaults(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    current = AppSettings("", "cuda", "dark", 16, GenerationSettings(temperature=1.5))
    dialog = SettingsDialog(current, [], tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.model_box.currentText() == "No model is prepared"
    labels = [label.text() for label in dialog.findChildren(QLabel)]
    assert str(tmp_path) in labels
    assert dialog.chosen().provider == "cuda" and dialog.chosen().generation.temperature == 1.5
    dialog.restore_button.click()
    chosen = dialog.chosen()
    assert (chosen.provider, chosen.theme, chosen.generation) == ("auto", "system", GenerationSettings())


def test_beams_for_chats_and_for_the_cowriter_are_set_in_the_dialog(qtbot, tmp_path: Path, store: Store) -> None:  # type: ignore[no-untyped-def]
    current = AppSettings("", "auto", "system", 11, GenerationSettings(num_beams=3), cowriter_beams=2)
    dialog = SettingsDialog(current, [], tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.generation_form.beams.value() == 3 and dialog.cowriter_beams.value() == 2
    dialog.generation_form.beams.setValue(1)
    assert dialog.generation_form.beams.text() == "Off"
    dialog.cowriter_beams.setValue(5)
    chosen = dialog.chosen()
    assert (chosen.generation.num_beams, chosen.cowriter_beams) == (1, 5)
    chosen.save(store)
    assert AppSettings.load(store) == chosen
    dialog.restore_button.click()
    assert dialog.cowriter_beams.value() == 4


def test_reasoning_goes_into_window_exports_only_when_the_setting_says(qtbot, tmp_path: Path, store: Store) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.ui.status import StatusReporter
    from desktop_app.ui.transfer import TransferController

    dialog = SettingsDialog(AppSettings("", "auto", "system", 11, GenerationSettings()), [], tmp_path)
    qtbot.addWidget(dialog)
    assert not dialog.export_reasoning.isChecked()
    conversation = store.conversations.create(system_prompt="", model_id="m", settings={})
    store.conversations.add_message(conversation.id, "user", "Hi")
    store.conversations.add_message(conversation.id, "assistant", "Hello.", reasoning="Greet back.")
    saved: list[bytes] = []
    from PySide6.QtWidgets import QStatusBar

    transfer = TransferController(store, StatusReporter(QStatusBar(), dialog, ""), dialog)
    transfer._save = lambda _title, _name, _filters, make: saved.append(make("md")) or None  # type: ignore[method-assign]
    transfer.export_chats([conversation.id], "Hi")
    dialog.export_reasoning.setChecked(True)
    dialog.chosen().save(store)
    transfer.export_chats([conversation.id], "Hi")
    assert b"Greet back." not in saved[0] and b"Greet back." in saved[1]


def test_bad_stored_settings_fall_back_to_the_defaults(store: Store) -> None:
    store.settings.set("generation", {"temperature": -3})
    store.settings.set("theme", "purple")
    loaded = AppSettings.load(store)
    assert loaded.generation == GenerationSettings() and loaded.theme == "system"


def test_first_run_with_no_model_prepares_it_with_progress_and_loads_it(qtbot, make_window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prepared: list[Path] = []
    release = threading.Event()

    def prepare(progress, cancel: threading.Event) -> Path:  # type: ignore[no-untyped-def]
        progress(1, 3, "Loading")
        progress(2, 3, "Exporting")
        release.wait(10)
        prepared.append(tmp_path)
        return tmp_path

    window = make_window(
        FakeEngine,
        services(list_models=lambda: [ModelChoice("fake", "Fake")] if prepared else [], prepare_default_model=prepare),
        start=False,
    )
    window.show()
    window.start()
    dialog = window.model_status.first_run_dialog
    assert dialog is not None and dialog.isVisible() and "No model is ready" in dialog.explanation.text()
    assert window.model_status.label.text() == "No model prepared"
    qtbot.mouseClick(dialog.prepare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Step 2 of 3: Exporting" in dialog.status.text(), timeout=5_000)
    assert dialog.progress.value() == 2 and not dialog.prepare_button.isEnabled()
    release.set()
    qtbot.waitUntil(lambda: window.model_status.engine_info is not None, timeout=10_000)
    assert prepared == [tmp_path] and window.model_status.first_run_dialog is None


def test_first_run_reports_what_is_missing_and_can_try_again(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    attempts: list[int] = []

    def prepare(progress, cancel):  # type: ignore[no-untyped-def]
        attempts.append(1)
        raise UserError("Preparing models needs the export extra.", hint="pip install 'inkwell[export]'")

    window = make_window(FakeEngine, services(list_models=list, prepare_default_model=prepare), start=False)
    window.start()
    dialog = window.model_status.first_run_dialog
    dialog.start()
    qtbot.waitUntil(lambda: "export extra" in dialog.status.text(), timeout=5_000)
    assert "pip install" in dialog.status.text() and dialog.prepare_button.text() == "Try again"
    dialog.start()
    qtbot.waitUntil(lambda: len(attempts) == 2 and dialog.prepare_button.isEnabled(), timeout=5_000)
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert window.model_status.first_run_dialog is None and window.model_status.engine_info is None


def test_cancelling_the_first_run_waits_for_the_step_and_closes(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    started = threading.Event()

    def prepare(progress, cancel: threading.Event):  # type: ignore[no-untyped-def]
        started.set()
        cancel.wait(10)
        raise UserError("Model preparation was cancelled; nothing was installed.")

    window = make_window(FakeEngine, services(list_models=list, prepare_default_model=prepare), start=False)
    window.start()
    dialog = window.model_status.first_run_dialog
    dialog.start()
    assert started.wait(5)
    dialog.reject()  # "Cancel"
    assert "Cancelling" in dialog.status.text() and window.model_status.first_run_dialog is dialog
    qtbot.waitUntil(lambda: window.model_status.first_run_dialog is None, timeout=5_000)
    assert window.model_status.engine_info is None


def test_every_control_has_an_accessible_name(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
        QListWidget,
        QPlainTextEdit,
        QTextEdit,
    )

    window = make_window(FakeEngine, services())
    dialog = SettingsDialog(AppSettings.load(window.store), [], Path.home(), window)
    qtbot.addWidget(dialog)
    unnamed = []
    for root in (window, dialog):
        for kind in (QAbstractSpinBox, QComboBox, QLineEdit, QListWidget, QPlainTextEdit, QTextEdit):
            for widget in root.findChildren(kind):
                if isinstance(widget.parent(), (QAbstractSpinBox, QComboBox)):
                    continue  # the line edit inside a spin box or combo box
                if not widget.accessibleName():
                    unnamed.append(f"{type(widget).__name__} {widget.objectName()}")
        for button in root.findChildren(QAbstractButton):
            if button.isVisibleTo(root) and not (button.accessibleName() or button.text()):
                unnamed.append(f"button {button.objectName()}")
    assert unnamed == []


def test_the_app_loads_the_weights_picked_in_settings(
    qtbot, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.app import _build

    monkeypatch.setenv("INKWELL_MODELS_DIR", str(tiny_model_dir.parent))
    _app, store, controller, window = _build("cpu", tmp_path / "qt.ini", interactive=False)
    try:
        make = window.services.engine_factory
        assert make("tiny-llama:fp32", "cpu")().variant.quantization == "fp32"
        assert make("tiny-llama:q4", "cpu")().variant.quantization == "q4"
        assert make("tiny-llama", "cpu")().variant.quantization == "q4"  # automatic: the CPU variant
    finally:
        window.close()
        controller.shutdown()
        store.close()


def test_speed_up_and_its_draft_model_are_set_in_the_dialog(qtbot, tmp_path: Path, store: Store) -> None:  # type: ignore[no-untyped-def]
    models = [ModelChoice("big", "Big model (big)"), ModelChoice("other", "Other family (other)")]
    drafts = {"big": [ModelChoice("small", "Small model (small)")]}
    current = AppSettings("big", "auto", "system", 11, GenerationSettings())
    dialog = SettingsDialog(current, models, tmp_path, drafts=lambda model: drafts.get(model, []))
    qtbot.addWidget(dialog)
    assert dialog.speedup_box.currentData() == "auto"
    assert [dialog.draft_box.itemData(i) for i in range(dialog.draft_box.count())] == ["", "small"]
    assert dialog.draft_box.isEnabled()
    dialog.draft_box.setCurrentIndex(1)
    chosen = dialog.chosen()
    assert (chosen.speedup, chosen.draft_model) == ("auto", "small")
    chosen.save(store)
    assert AppSettings.load(store) == chosen
    dialog.speedup_box.setCurrentIndex(dialog.speedup_box.findData("lookup"))
    assert not dialog.draft_box.isEnabled()  # only Automatic asks a draft model
    dialog.model_box.setCurrentIndex(1)  # a model the small one cannot serve
    assert dialog.draft_box.count() == 1 and dialog.chosen().draft_model == ""
    dialog.speedup_box.setCurrentIndex(dialog.speedup_box.findData("off"))
    assert dialog.chosen().speedup == "off"
    dialog.restore_button.click()
    assert (dialog.chosen().speedup, dialog.chosen().draft_model) == ("auto", "")


def test_the_status_bar_shows_the_accepted_share_beside_the_speed(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QStatusBar, QWidget

    from desktop_app.core.generation import FinishReason, GenerationStats
    from desktop_app.ui.status import StatusReporter

    parent = QWidget()
    qtbot.addWidget(parent)
    reporter = StatusReporter(QStatusBar(), parent, "")
    stats = GenerationStats(10, 120, 30.0, 181.4, FinishReason.STOP_TOKEN, 1, proposed_tokens=90, accepted_tokens=72)
    reporter.show_speed(stats)
    assert reporter.speed_label.text() == "181 tokens/s · 80% accepted"
    assert "72 of 90" in reporter.speed_label.toolTip()
    reporter.show_speed(replace(stats, proposed_tokens=0, accepted_tokens=0))
    assert reporter.speed_label.text() == "181 tokens/s" and not reporter.speed_label.toolTip()
