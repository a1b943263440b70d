"""The Simplified Chinese translation: every string lupdate collects is translated, and the
window, its menus and its dialogs built in zh_CN show no English words of their own."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from desktop_app.core import i18n
from desktop_app.core.generation import GenerationSettings
from desktop_app.session.settings import AppSettings, ModelChoice
from desktop_app.store import Store
from desktop_app.ui.i18n import install_language, resolve_language
from tests.ui.conftest import FakeEngine

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "resources" / "translations" / "inkwell_zh_CN.ts"
BIN = Path(sys.executable).parent
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
# Names and terms that stay as they are in a Chinese interface, and data the tests put there.
KEPT = re.compile(
    r"Inkwell|SmolLM2|NVIDIA|CUDA|CPU|GPU|API|URL|HTTPS?|JSON|JSONL|CSV|HTML|PDF|DOCX|Markdown|GGUF|ONNX|"
    r"OpenAI|Hugging Face|Ollama|vLLM|llama\.cpp|TGI|LM Studio|Bearer|CORS|localhost|"
    r"Ctrl|Shift|Alt|Esc|Enter|PgUp|PgDown|F\d+|English|简体中文|tokens?/s|%p%|\bpt\b|"
    r"fake-model|Fake model|a fake for tests|q4|q8|fp16|fp32|int8|sk-\w+|\bv\d"
)


def compile_translations() -> None:
    """What `make translations` does, for a pytest run that did not go through make."""
    qm = TS.with_suffix(".qm")
    if not qm.exists() or qm.stat().st_mtime < TS.stat().st_mtime:
        subprocess.run([str(BIN / "pyside6-lrelease"), "-silent", str(TS), "-qm", str(qm)], check=True)


def untranslated(text: str) -> bool:
    """Whether `text` is English the translation should have replaced."""
    plain = re.sub(r"<[^>]+>", " ", text).replace("&amp;", " ").replace("&", "")
    if CJK.search(plain) or ("/" in plain and " " not in plain.strip()):  # translated, or a path
        return False
    return bool(re.search(r"[A-Za-z]{2,}", KEPT.sub(" ", plain)))


def visible_texts(top: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) for what a user sees of `top` and its visible children."""
    yield "window title", top.windowTitle()
    for widget in [top, *top.findChildren(QWidget)]:
        if widget is not top and not widget.isVisibleTo(top):
            continue
        where = f"{type(widget).__name__} {widget.objectName()}"
        if widget.toolTip():
            yield where + " tooltip", widget.toolTip()
        if isinstance(widget, (QLabel, QAbstractButton)):
            yield where, widget.text()
        elif isinstance(widget, QGroupBox):
            yield where, widget.title()
        elif isinstance(widget, (QLineEdit, QPlainTextEdit, QTextEdit)):
            yield where + " placeholder", widget.placeholderText()
        elif isinstance(widget, QComboBox):
            for i in range(widget.count()):
                yield where + " item", widget.itemText(i)


def menu_texts(menu: QMenu) -> Iterator[tuple[str, str]]:
    yield "menu", menu.title()
    for action in menu.actions():
        if action.menu() is not None:
            yield from menu_texts(action.menu())
        elif not action.isSeparator():
            yield f"menu {menu.title()}", action.text()


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[str]:  # type: ignore[no-untyped-def]
    compile_translations()
    language = install_language(qapp, "zh_CN")
    yield language
    install_language(qapp, "en")
    QLocale.setDefault(QLocale("en_US"))


def test_every_string_lupdate_collects_has_a_chinese_translation(tmp_path: Path) -> None:
    """lupdate over today's sources into a copy of the .ts: nothing new, nothing unfinished."""
    copy = tmp_path / TS.name
    shutil.copy(TS, copy)
    sources = sorted(str(p) for p in (ROOT / "desktop_app").rglob("*.py"))
    subprocess.run(
        [
            str(BIN / "pyside6-lupdate"),
            *sources,
            "-tr-function-alias",
            "QT_TRANSLATE_NOOP+=marked",
            "-locations",
            "none",
            "-no-obsolete",
            "-silent",
            "-ts",
            str(copy),
        ],
        check=True,
    )
    text = copy.read_text(encoding="utf-8")
    missing = re.findall(r"<source>(.*?)</source>\s*<translation type=\"unfinished\"", text, re.S)
    assert not missing, f"{len(missing)} strings lack a zh_CN translation (make translations-update): {missing[:10]}"
    assert text.count("<message") > 400


def test_the_window_menus_and_dialogs_show_no_untranslated_text(
    qtbot, chinese: str, make_window, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.ui.dialogs import RefusedDatabaseDialog
    from desktop_app.ui.first_run import PreparationDialog
    from desktop_app.ui.settings_dialog import SettingsDialog

    assert chinese == "zh_CN" and i18n.language() == "zh_CN"
    window = make_window(FakeEngine)
    texts = [*visible_texts(window)]
    for action in window.menuBar().actions():
        texts += [*menu_texts(action.menu())]
    window.chat_pane.settings_pane.show()
    texts += [*visible_texts(window.chat_pane.settings_pane)]
    window.show_writing_mode()
    texts += [*visible_texts(window)]
    current = AppSettings("", "auto", "system", 11, GenerationSettings())
    dialogs: list[QWidget] = [
        SettingsDialog(current, [ModelChoice("fake-model", "Fake model")], tmp_path, window),
        window.open_models(),
        window.open_documents(),
        PreparationDialog(lambda progress, cancel: tmp_path, window),
        RefusedDatabaseDialog(ValueError("x"), tmp_path / "inkwell.db", too_new=False, parent=window),
    ]
    for dialog in dialogs:
        texts += [*visible_texts(dialog)]
        dialog.close()
    window.show_chat_mode()  # the transcript's own words: speakers, "Thinking", versions
    window.chat_pane.composer.setPlainText("Hello")
    with qtbot.waitSignal(window.reply_finished, timeout=10_000):
        window.chat_pane.send()
    transcript = window.chat_pane.chat_view.toPlainText()
    assert "You" not in transcript and "Inkwell" in transcript
    for menu in [window.chat_pane.chat_view.createStandardContextMenu(), window.list_pane.findChild(QMenu)]:
        if menu is not None:
            texts += [*menu_texts(menu)]
    shown = [(where, text) for where, text in texts if text and text.strip()]
    assert len(shown) > 150  # the walk really saw the window
    left = sorted({f"{where}: {text!r}" for where, text in shown if untranslated(text) and str(tmp_path) not in text})
    assert not left, "English left in the zh_CN window:\n" + "\n".join(left)


def test_without_a_compiled_qm_the_translation_is_read_from_its_source(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """`pip install .` from a checkout compiles no .qm: the .ts it carries still translates
    (its finished entries; an unfinished one stays in English)."""
    from desktop_app.ui import i18n as ui_i18n

    text = TS.read_text(encoding="utf-8").replace(
        "<source>New chat</source>\n        <translation>新建对话</translation>",
        '<source>New chat</source>\n        <translation type="unfinished">新建对话</translation>',
        1,
    )
    (tmp_path / TS.name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(ui_i18n, "translations_dir", lambda: tmp_path)
    try:
        assert install_language(qapp, "zh_CN") == "zh_CN"
        assert isinstance(ui_i18n._installed[0], ui_i18n.SourceTranslator)
        assert QApplication.translate("Errors", "The run {run} was made with other generation settings.") == (
            "运行 {run} 用的是另一套生成设置。"
        )
        assert i18n.translate("Errors", "The run {run} is running in another Inkwell process.").startswith("运行")
        assert QApplication.translate("ConversationListPane", "New chat") == "New chat"  # unfinished: the source
        assert QApplication.translate("Nowhere", "Not a string of ours") == "Not a string of ours"
        (tmp_path / TS.name).write_text("<TS><context>", encoding="utf-8")  # a damaged file: English, no traceback
        assert install_language(qapp, "zh_CN") == "en"
    finally:
        install_language(qapp, "en")
        QLocale.setDefault(QLocale("en_US"))


def test_the_system_language_decides_unless_the_user_chose(qapp: QApplication) -> None:  # type: ignore[no-untyped-def]
    assert resolve_language("system", QLocale("zh_CN")) == "zh_CN"
    assert resolve_language("system", QLocale("zh_SG")) == "zh_CN"
    assert resolve_language("system", QLocale("zh_TW")) == "en"  # Traditional: not shipped yet
    assert resolve_language("system", QLocale("de_DE")) == "en"
    assert resolve_language("en", QLocale("zh_CN")) == "en"
    assert resolve_language("zh_CN", QLocale("en_US")) == "zh_CN"


def test_dates_and_numbers_follow_the_language(chinese: str) -> None:  # type: ignore[no-untyped-def]
    assert QLocale().name() == "zh_CN"
    assert QLocale().toString(12345) == "12,345"
    assert "月" in QLocale().monthName(3)
