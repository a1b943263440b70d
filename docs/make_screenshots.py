"""Screenshots of Inkwell's views, light and dark, in English and Chinese.

    .venv/bin/python docs/make_screenshots.py                  # README's, in docs/screenshots/
    .venv/bin/python docs/make_screenshots.py --references DIR # every view, theme, language, 100% and 200%

The README's run loads the prepared default model so the status bar is what a user sees. The
references use a stand-in model that answers nothing, so they are the same on every run: the
tests render them again and compare (tests/ui/test_screenshots.py). Both run offscreen in a
throwaway data folder with example chats; nothing in your own data is touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"

EXAMPLE = [
    ("user", "A customer says their order #1042 arrived damaged. Draft a short, friendly reply."),
    (
        "assistant",
        "Here is a reply you can send:\n\n> Hi Sam, I'm so sorry your order arrived damaged. "
        "I've arranged a replacement, which ships today, and you don't need to return the "
        "damaged item. If anything else goes wrong, just reply to this email.\n\n"
        "**Why it works**\n\n- It apologises first.\n- It gives the fix and the date.\n"
        "- It ends with an offer to help.",
    ),
    ("user", "Now give me a Python one-liner that counts words in a file."),
    (
        "assistant",
        "```python\nprint(len(open('notes.txt', encoding='utf-8').read().split()))\n```\n\n"
        "| Part | What it does |\n|---|---|\n| `read()` | the whole file as text |\n"
        "| `split()` | words, split on whitespace |",
    ),
]


SCALES = (1, 2)
LANGUAGES = ("en", "zh_CN")
THEMES = ("light", "dark")
REFERENCE_SIZE = (1120, 720)  # the window, in logical pixels
EXAMPLE_ZH = [
    ("user", "客户说订单 #1042 到货时已经损坏。请帮我写一段简短、友好的回复。"),
    (
        "assistant",
        "可以这样回复：\n\n> 您好，很抱歉您的订单到货时已损坏。我们已为您安排补发，今天发出，"
        "损坏的商品无需退回。如有其他问题，请直接回复这封邮件。\n\n**为什么这样写**\n\n- 先道歉。\n"
        "- 给出解决办法和时间。\n- 最后主动提供帮助。",
    ),
]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args[:1] == ["--references"] and len(args) == 2:
        return _references(Path(args[1]))
    if args[:1] == ["--render"] and len(args) == 3:  # one scale, in a process of its own
        with tempfile.TemporaryDirectory(prefix="inkwell-shots-") as folder:
            os.environ["INKWELL_DATA_DIR"] = folder
            return _render_references(Path(args[1]), int(args[2]), Path(folder))
    if args:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="inkwell-shots-") as folder:
        os.environ["INKWELL_DATA_DIR"] = folder
        code = _shoot(Path(folder))
    return code or _welcome_pages()


README_FROM_REFERENCES = ("welcome-en-light@1x.png", "welcome-zh_CN-light@1x.png", "chat-zh_CN-dark@1x.png")


def _welcome_pages() -> int:
    """The welcome page in English and Chinese, and a Chinese chat, for the README."""
    import shutil

    with tempfile.TemporaryDirectory(prefix="inkwell-shots-") as folder:
        code = _references(Path(folder))
        for name in README_FROM_REFERENCES:
            shutil.copy(Path(folder) / name, OUT / name.replace("@1x", ""))
    return code


def _references(out: Path) -> int:
    """Each scale in its own process: Qt reads the scale factor once, when it starts."""
    import subprocess

    out.mkdir(parents=True, exist_ok=True)
    for scale in SCALES:
        env = {**os.environ, "QT_SCALE_FACTOR": str(scale), "QT_QPA_PLATFORM": "offscreen"}
        done = subprocess.run([sys.executable, __file__, "--render", str(out), str(scale)], env=env, check=False)
        if done.returncode:
            return done.returncode
    return 0


class _StandInEngine:
    """A model that loads at once and names itself; the references never ask it anything."""

    def __init__(self) -> None:
        from types import SimpleNamespace

        self.manifest = SimpleNamespace(id="smollm2-135m-instruct", name="SmolLM2-135M-Instruct")
        self.provider = SimpleNamespace(name="cpu", label="CPU", reason="")
        self.variant = SimpleNamespace(quantization="q4")
        self.context_length = 8192

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, request: object, cancel: object = None) -> object:
        return iter(())


def _render_references(out: Path, scale: int, folder: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QCoreApplication, QEvent, QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import _wait_until
    from desktop_app.core.presets import system_presets
    from desktop_app.session.settings import AppSettings, ModelChoice
    from desktop_app.store import open_store
    from desktop_app.ui.generation import QtScheduler
    from desktop_app.ui.i18n import install_language
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.services import WindowServices
    from desktop_app.ui.settings_dialog import SettingsDialog
    from desktop_app.ui.theme import apply_appearance

    app = QApplication.instance() or QApplication([sys.argv[0]])
    models = [ModelChoice("smollm2-135m-instruct", "SmolLM2-135M-Instruct (smollm2-135m-instruct)")]
    for language in LANGUAGES:
        install_language(app, language)  # type: ignore[arg-type]
        store = open_store(folder / f"{language}.db")
        example = EXAMPLE_ZH if language == "zh_CN" else EXAMPLE[:2]
        chat = store.conversations.create(example[0][1][:24])
        for role, text in example:
            store.conversations.add_message(chat.id, role, text)
        services = WindowServices(presets=system_presets(language), list_models=lambda: models, data_folder=folder)
        scheduler = QtScheduler(_StandInEngine)
        window = MainWindow(store, scheduler, QSettings(str(folder / "w.ini"), QSettings.Format.IniFormat), services)
        window.resize(*REFERENCE_SIZE)
        window.show()
        scheduler.start()
        _wait_until(lambda w=window: w.model_status.engine_info is not None, 30)
        for theme in THEMES:
            apply_appearance(app, theme, 11)  # type: ignore[arg-type]
            name = f"{language}-{theme}@{scale}x"
            window.chat_pane.new_chat()
            _settle(app)
            window.grab().save(str(out / f"welcome-{name}.png"))
            window.list_pane.refresh()
            window.list_pane.sidebar.select_conversation(chat.id)
            _settle(app)
            window.grab().save(str(out / f"chat-{name}.png"))
            dialog = SettingsDialog(AppSettings.load(store), models, Path("~/.local/share/Inkwell"), window)
            dialog.show()
            _settle(app)
            dialog.grab().save(str(out / f"settings-{name}.png"))
            dialog.close()
        window.close()
        window.deleteLater()  # gone before the next window's style sheet: it would read its closed store
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        store.close()
    return 0


def _shoot(folder: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from desktop_app.app import _build, _wait_until
    from desktop_app.session.settings import AppSettings
    from desktop_app.ui.settings_dialog import SettingsDialog
    from desktop_app.ui.theme import apply_appearance

    app, store, controller, window = _build(None, folder / "window.ini", interactive=False)
    for title in ("Lesson plan: fractions", "Refund policy questions", "Poem for Mum's birthday"):
        chat = store.conversations.create(title)
        store.conversations.add_message(chat.id, "user", f"Help me with: {title.lower()}")
        store.conversations.add_message(chat.id, "assistant", "Of course. Here is a first idea.")
    chat = store.conversations.create("Damaged order reply", system_prompt="")
    for role, text in EXAMPLE:
        store.conversations.add_message(chat.id, role, text)
    window.resize(1280, 800)
    window.show()
    controller.start()
    if not _wait_until(lambda: window.model_status.engine_info is not None, 120):
        print("The model did not load; prepare it with `inkwell models prepare`.", file=sys.stderr)
    window.list_pane.refresh()
    window.list_pane.sidebar.select_conversation(chat.id)
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        for theme in ("light", "dark"):
            apply_appearance(app, theme, 11)
            window.settings_dock.hide()
            _settle(app)
            window.grab().save(str(OUT / f"chat-{theme}.png"))
            window.chat_pane.settings_pane.apply_preset("customer-service")
            window.settings_dock.show()
            _settle(app)
            window.grab().save(str(OUT / f"chat-settings-panel-{theme}.png"))
            dialog = SettingsDialog(AppSettings.load(store), window.services.list_models(), folder, window)
            dialog.show()
            _settle(app)
            dialog.grab().save(str(OUT / f"settings-{theme}.png"))
            dialog.close()
        _documents(app, store, window, folder)
        _writing(app, store, window)
    finally:
        window.close()
        store.close()
    print(f"Saved screenshots to {OUT}")
    return 0


LETTER = (
    "Hi Sam,\n\nThank you for letting us know about order #1042. Im very sorry it arrived "
    "damaged, that is not the experience we want for you.\n\nA replacement ships today and "
    "you dont need to return anything.\n\nBest wishes,\nAna"
)


def _writing(app: object, store: object, window: object) -> None:
    """The writing mode with a real co-writer suggestion (grammar) shown as tracked changes."""
    from PySide6.QtGui import QTextCursor

    from desktop_app.app import _wait_until
    from desktop_app.ui.theme import apply_appearance

    pane = window.writing_pane  # type: ignore[attr-defined]
    window.show_writing_mode()  # type: ignore[attr-defined]
    pane.drafts.new_draft("customer-reply")
    pane.editor_pane.title_edit.setText("Reply to Sam: damaged order")
    pane.editor.setPlainText(LETTER)
    pane.save()
    start = LETTER.index("Thank")
    end = LETTER.index("you.") + len("you.")
    cursor = pane.editor.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    pane.editor.setTextCursor(cursor)
    done: list[bool] = []
    pane.suggestion_ready.connect(lambda: done.append(True))
    pane.cowriter.run_action("grammar")
    _wait_until(lambda: bool(done), 120)
    for theme in ("light", "dark"):
        apply_appearance(app, theme, 11)  # type: ignore[arg-type]
        _settle(app)
        window.grab().save(str(OUT / f"writing-{theme}.png"))  # type: ignore[attr-defined]


def _documents(app: object, store: object, window: object, folder: Path) -> None:
    """A chat that answered from a collection (the reply and its sources as stored), and the
    Documents dialog."""
    from desktop_app.session.documents import DocumentIndexer
    from desktop_app.ui.theme import apply_appearance

    docs = folder / "Shop policies"
    docs.mkdir()
    (docs / "returns.md").write_text(
        "# Returns\n\nUnused products may be returned within 45 days of delivery for a full refund. "
        "Opened software and gift cards cannot be returned.\n",
        encoding="utf-8",
    )
    (docs / "shipping.md").write_text(
        "# Shipping\n\nExpress shipping costs 12 euros and arrives the next working day.\n", encoding="utf-8"
    )
    DocumentIndexer(store).add([docs], "Shop policies")  # type: ignore[arg-type]
    chat = store.conversations.create("Returns and shipping")  # type: ignore[attr-defined]
    store.documents.attach(chat.id, ["Shop policies"])  # type: ignore[attr-defined]
    store.conversations.add_message(chat.id, "user", "Can a customer return an opened game, and how fast is express?")  # type: ignore[attr-defined]
    reply = store.conversations.add_message(  # type: ignore[attr-defined]
        chat.id,
        "assistant",
        "No: opened software cannot be returned, though unused products can be within 45 days [1]. "
        "Express shipping costs 12 euros and arrives the next working day [2].",
    )
    passages = [p for name in ("returns.md", "shipping.md") for p in store.documents.search(name.split(".")[0])]  # type: ignore[attr-defined]
    store.documents.save_sources(reply.id, passages[:2], [1, 2])  # type: ignore[attr-defined]
    window.list_pane.refresh()  # type: ignore[attr-defined]
    window.list_pane.sidebar.select_conversation(chat.id)  # type: ignore[attr-defined]
    apply_appearance(app, "light", 11)  # type: ignore[arg-type]
    window.settings_dock.hide()  # type: ignore[attr-defined]
    _settle(app)
    window.grab().save(str(OUT / "documents-chat-light.png"))  # type: ignore[attr-defined]
    dialog = window.open_documents()  # type: ignore[attr-defined]
    _settle(app)
    dialog.grab().save(str(OUT / "documents-dialog-light.png"))
    dialog.hide()


def _settle(app: object) -> None:
    from desktop_app.app import _wait_until

    _wait_until(lambda: False, 0.3)  # let layouts and repaints finish


if __name__ == "__main__":
    raise SystemExit(main())
