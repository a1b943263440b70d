"""The chat's Sources: which document collections the open conversation answers from (a
menu beside the message box), and a cited passage shown with a way to open its file."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QMenu, QMessageBox, QToolButton, QWidget

from desktop_app.core.errors import UserError
from desktop_app.core.records import Passage
from desktop_app.session.scheduler import EngineInfo
from desktop_app.store import Store

NONE_TEXT = QT_TRANSLATE_NOOP("SourcesButton", "Sources: none")
REMOTE_DOCUMENTS_KEY = "documents_remote_allowed"  # ["collection@base URL", ...] the user allowed


class SourcesButton(QToolButton):
    """Ticks the collections the open chat answers from. A new chat keeps the choice until
    it is created (`attach_pending`)."""

    manage_requested = Signal()
    changed = Signal(list)  # the collections now attached

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.conversation_id: str | None = None
        self._pending: list[str] = []
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setAccessibleName(self.tr("Sources"))
        self.setToolTip(self.tr("Answer from your own documents: choose the collections this chat reads"))
        self.setMenu(QMenu(self))
        self.menu().aboutToShow.connect(self._on_menu_about_to_show)
        self.set_conversation(None)

    @property
    def attached(self) -> list[str]:
        if self.conversation_id is None:
            return list(self._pending)
        return self.store.documents.attached(self.conversation_id)

    def set_conversation(self, conversation_id: str | None) -> None:
        self.conversation_id = conversation_id
        if conversation_id is None:
            known = {c["name"] for c in self.store.documents.collections()}
            self._pending = [name for name in self._pending if name in known]
        self._show()

    def attach_pending(self, conversation_id: str) -> None:
        """A new chat was created: it answers from what was ticked before."""
        if self._pending:
            self.store.documents.attach(conversation_id, self._pending)
        self._pending = []
        self.set_conversation(conversation_id)

    def check_remote(self, info: EngineInfo) -> None:
        """Before a reply from a model on another machine: passages from the chat's documents
        would go there too, so ask once for each collection and server (UserError: declined)."""
        if not info.provider_name.startswith("remote:"):
            return
        host = info.provider_name.removeprefix("remote:")
        allowed = set(self.store.settings.get(REMOTE_DOCUMENTS_KEY, []))
        asked = [name for name in self.attached if f"{name}@{host}" not in allowed]
        if not asked:
            return
        if not self.ask_remote(", ".join(asked), info.provider):
            raise UserError(
                self.tr(
                    "Not sent: this chat answers from your documents, and you chose not to send their passages "
                    "to {provider}."
                ).format(provider=info.provider),
                hint=self.tr("Choose a local model, or untick the collections under Sources."),
            )
        self.store.settings.set(REMOTE_DOCUMENTS_KEY, sorted(allowed | {f"{name}@{host}" for name in asked}))

    def ask_remote(self, collections: str, where: str) -> bool:
        """Yes or no (tests replace it)."""
        answer = QMessageBox.question(
            self,
            self.tr("Send passages from your documents?"),
            self.tr(
                "This chat answers from your documents ({collections}), and its model runs on {where}. "
                "Passages from those documents will be sent there with your messages.\n\nSend them?"
            ).format(collections=collections, where=where),
        )
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def refresh(self) -> None:
        """The library changed (a collection removed?): show what is attached now."""
        self.set_conversation(self.conversation_id)

    def _show(self) -> None:
        names = self.attached
        if not names:
            self.setText(QCoreApplication.translate("SourcesButton", NONE_TEXT))
        elif len(names) == 1:
            self.setText(self.tr("Sources: {name}").format(name=names[0]))
        else:
            self.setText(self.tr("Sources: {count}").format(count=QLocale().toString(len(names))))

    @Slot()
    def _on_menu_about_to_show(self) -> None:
        menu = self.menu()
        menu.clear()
        attached = set(self.attached)
        collections = self.store.documents.collections()
        for c in collections:
            text = self.tr("{name} ({count} files)").format(name=c["name"], count=QLocale().toString(c["documents"]))
            action = QAction(text, menu)
            action.setCheckable(True)
            action.setChecked(c["name"] in attached)
            action.toggled.connect(lambda on, name=c["name"]: self.toggle(name, on))
            menu.addAction(action)
        if not collections:
            empty = menu.addAction(self.tr("No documents yet"))
            empty.setEnabled(False)
        menu.addSeparator()
        menu.addAction(self.tr("Manage documents…"), self.manage_requested.emit)

    def toggle(self, name: str, on: bool) -> None:
        names = [n for n in self.attached if n != name] + ([name] if on else [])
        if self.conversation_id is None:
            self._pending = names
        else:
            self.store.documents.attach(self.conversation_id, names)
        self._show()
        self.changed.emit(names)


def file_url(passage: Passage) -> QUrl:
    """The passage's file; a PDF at its page (viewers that read #page=N open there)."""
    url = QUrl.fromLocalFile(passage.path)
    if passage.page is not None and passage.path.lower().endswith(".pdf"):
        url.setFragment(f"page={passage.page}")
    return url


def show_passage(parent: QWidget, number: int, passage: Passage) -> QMessageBox:
    """The cited passage as the reply was given it, and Open the file (at its page)."""
    box = QMessageBox(parent)
    # The number is the citation marker as the reply writes it ("[2]"), so it stays as digits.
    box.setWindowTitle(QCoreApplication.translate("SourcesButton", "Source [{number}]").format(number=number))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(f"<b>[{number}] {html.escape(passage.label)}</b>")
    box.setInformativeText(html.escape(passage.text).replace("\n", "<br>"))
    open_button = box.addButton(
        QCoreApplication.translate("SourcesButton", "Open the file"), QMessageBox.ButtonRole.ActionRole
    )
    box.addButton(QMessageBox.StandardButton.Close)
    exists = Path(passage.path).exists()
    open_button.setEnabled(exists)
    if not exists:
        open_button.setToolTip(QCoreApplication.translate("SourcesButton", "The file is no longer where it was"))
    open_button.clicked.connect(lambda: QDesktopServices.openUrl(file_url(passage)))
    box.open()
    return box
