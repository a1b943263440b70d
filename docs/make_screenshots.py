"""Save screenshots of Inkwell's main views to docs/screenshots/ (light and dark).

    .venv/bin/python docs/make_screenshots.py

Runs offscreen in a throwaway data folder with a few example chats, and loads the prepared
default model so the status bar is what a user sees. Nothing in your own data is touched.
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


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="inkwell-shots-") as folder:
        os.environ["INKWELL_DATA_DIR"] = folder
        return _shoot(Path(folder))


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
