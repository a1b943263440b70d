"""Inkwell's main window: the frame, its menus, the switch between chat and writing, and
the wiring between the panes. The panes do the work."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QLocale,
    QSettings,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QCloseEvent, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from desktop_app.core.errors import UserError
from desktop_app.session.chat import ChatSession
from desktop_app.session.retrieval import Retriever
from desktop_app.session.settings import AppSettings, ServerSettings, api_key
from desktop_app.store import Store
from desktop_app.store.ids import parse_iso
from desktop_app.ui.chat.chat_pane import ChatPane
from desktop_app.ui.chat.conversation_list import ConversationListPane
from desktop_app.ui.compare.mode import CompareMode
from desktop_app.ui.documents_dialog import DocumentsDialog
from desktop_app.ui.generation import QtScheduler
from desktop_app.ui.icons import icon
from desktop_app.ui.library_indexer import LibraryIndexer
from desktop_app.ui.menus import SHORTCUTS, WindowActions
from desktop_app.ui.model_picker import ModelPickerWidget
from desktop_app.ui.model_status import ModelStatus
from desktop_app.ui.models_dialog import ModelsDialog
from desktop_app.ui.notifier import LONG_REPLY_S, Notifier
from desktop_app.ui.server_status import ApiServerControl
from desktop_app.ui.services import WindowServices
from desktop_app.ui.settings_dialog import SettingsDialog
from desktop_app.ui.status import StatusReporter, reports_problems
from desktop_app.ui.theme import apply_appearance
from desktop_app.ui.tool_catalog import ToolCatalog
from desktop_app.ui.tools_dialog import ToolsDialog
from desktop_app.ui.transfer import TransferController
from desktop_app.ui.writing.writing_pane import WritingPane

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    reply_finished = Signal(str)  # message id: the reply is complete and saved

    def __init__(
        self,
        store: Store,
        scheduler: QtScheduler,
        qsettings: QSettings | None = None,
        services: WindowServices | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.scheduler = scheduler
        self.qsettings = qsettings
        self.services = services or WindowServices()
        self.setWindowTitle("Inkwell")
        self.resize(1100, 760)
        self.reporter = StatusReporter(self.statusBar(), self, self.services.log_hint)
        self.transfer = TransferController(store, self.reporter, self)
        # The library's search: by words, and by meaning where an embedding model is installed.
        self.retriever = Retriever(store, self.services.model_registry)
        # The tools the chats offer (Settings › Tools): listed in the background, run with consent.
        self.tools = ToolCatalog(store, self.retriever, self)
        self.session = ChatSession(
            store, lambda: AppSettings.load(store).generation, self.retriever, self.tools.toolbox
        )
        self.list_pane = ConversationListPane(store, self.reporter)
        self.chat_pane = ChatPane(self.session, scheduler, self.reporter, self.services.presets)
        self.chat_pane.tools = self.tools
        self.writing_pane = WritingPane(
            store,
            scheduler,
            self.services.templates,
            self.reporter,
            self.transfer,
            lambda: self.chat_pane.engine_info,
            library=self.retriever,
        )
        self.model_status = ModelStatus(scheduler, self.store, self.services, self.reporter, self)
        self.api_server = ApiServerControl(scheduler.scheduler, self.services.start_api_server, self)
        self._dock_was_visible = False
        self._closed = False  # the store may be closed after this: nothing reads it then
        self.models_dialog: ModelsDialog | None = None
        self.documents_dialog: DocumentsDialog | None = None
        # The document library's indexing: paused while the model writes a reply.
        self.library = LibraryIndexer(store, lambda: self.scheduler.busy, self, self.services.model_registry)
        self._build()
        self.menu_actions = WindowActions(self, self.settings_dock, self.list_pane)
        servers = self.services.servers
        self.model_picker = ModelPickerWidget(
            self.services.list_models,
            self._model_setting,
            (lambda setting: servers.split_ref(setting) is not None) if servers is not None else (lambda _s: False),
            self,
        )
        self.menu_actions.mode_bar.addWidget(self.model_picker)
        self.compare = CompareMode(self)  # its page among the modes, its action, its own models
        self.notifier = Notifier(self)
        self._connect_signals()
        self._restore_window_state()
        self.list_pane.refresh()

    def _build(self) -> None:
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.list_pane)
        self.splitter.addWidget(self.chat_pane)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 840])
        self.modes = QStackedWidget()
        self.modes.addWidget(self.splitter)
        self.modes.addWidget(self.writing_pane)
        self.setCentralWidget(self.modes)
        self.settings_dock = QDockWidget(self.tr("Chat settings"), self)
        self.settings_dock.setObjectName("chat-settings")
        self.settings_dock.setWidget(self.chat_pane.settings_pane)
        self.settings_dock.setAllowedAreas(Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.settings_dock)
        self.settings_dock.hide()
        status = self.statusBar()
        status.addWidget(self.model_status.label, 1)
        status.addPermanentWidget(self.reporter.undo_button)
        status.addPermanentWidget(self.api_server.label)
        status.addPermanentWidget(self.chat_pane.speed_label)
        status.addPermanentWidget(self.chat_pane.context_meter)

    def _connect_signals(self) -> None:
        a, chat, chats, writing = self.menu_actions, self.chat_pane, self.list_pane, self.writing_pane
        a.new.triggered.connect(chat.new_chat)
        a.import_chats.triggered.connect(self.transfer.import_chats)
        a.export.triggered.connect(self.export_chats)
        a.export_all.triggered.connect(self.transfer.export_all_chats)
        a.settings.triggered.connect(self.open_settings)
        a.quit.triggered.connect(self.close)
        a.search.triggered.connect(chats.focus_search)
        a.next.triggered.connect(lambda: chats.step(1))
        a.previous.triggered.connect(lambda: chats.step(-1))
        a.prepare.triggered.connect(self.model_status.offer_preparation)
        a.models.triggered.connect(self.open_models)
        a.documents.triggered.connect(self.open_documents)
        a.tools.triggered.connect(lambda: ToolsDialog(self.tools, self).open())
        self.tools.calls_done.connect(chat.continue_after_tools)
        self.tools.refresh()  # the built-ins at once, the servers' tools in the background
        chat.sources_button.manage_requested.connect(self.open_documents)
        self.api_server.conversation_saved.connect(lambda _id: chats.refresh())  # an API request saved
        a.import_model.triggered.connect(self.import_model)
        a.data_folder.triggered.connect(self._on_data_folder_action_triggered)
        a.shortcuts.triggered.connect(self._on_shortcuts_action_triggered)
        a.about.triggered.connect(self._on_about_action_triggered)
        a.chat_mode.triggered.connect(self.show_chat_mode)
        a.writing_mode.triggered.connect(self.show_writing_mode)
        chats.new_chat_requested.connect(chat.new_chat)
        chats.open_requested.connect(chat.open_conversation)
        chats.activated.connect(chat.composer.setFocus)
        chats.removed.connect(chat.leave)
        chats.restored.connect(chat.open_conversation)
        chats.export_requested.connect(self.export_chats)
        chat.conversation_changed.connect(chats.show_current)
        chat.conversations_changed.connect(chats.refresh)
        chat.reply_finished.connect(self.reply_finished)
        chat.to_draft_requested.connect(self._on_chat_pane_to_draft_requested)
        writing.discuss_requested.connect(self._on_writing_pane_discuss_requested)
        self.transfer.chats_imported.connect(chats.refresh)
        self.model_status.engine_changed.connect(chat.set_engine_info)
        self.model_status.engine_changed.connect(writing.on_engine_changed)
        self.model_status.model_unavailable.connect(lambda _text: chat.welcome.set_engine_info(None, failed=True))
        self.model_picker.model_chosen.connect(self._on_model_picker_model_chosen)
        chat.reply_finished.connect(self._on_chat_pane_reply_finished)
        writing.suggestion_ready.connect(self._on_writing_pane_suggestion_ready)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)

    def _restore_window_state(self) -> None:
        if self.qsettings is None:
            return
        for key, restore in (
            ("window/geometry", self.restoreGeometry),
            ("window/splitter", self.splitter.restoreState),
            ("window/state", self.restoreState),
        ):
            value = self.qsettings.value(key)
            if value is not None:
                restore(value)

    def _restore_place(self) -> None:
        """Open the chat and the mode the user left (a chat since deleted is skipped)."""
        if self.qsettings is None:
            return
        last = self.qsettings.value("chat/last")
        if isinstance(last, str) and last:
            try:
                conversation = self.store.conversations.get(last)
            except UserError:
                conversation = None
            if conversation is not None and conversation.deleted_at is None and not conversation.archived:
                self.chat_pane.open_conversation(last)
        mode = self.qsettings.value("window/mode")
        if mode == "writing":
            self.show_writing_mode()
        elif mode == "compare":
            self.compare.show()

    def start(self) -> None:
        """Load the model in the background, or, when none is prepared, offer to prepare it;
        serve the API if the settings say so."""
        self._restore_place()
        self.model_status.start()
        self.apply_server_settings()
        self.library.refresh()  # what changed on disk since the last run, then watched

    @reports_problems(QT_TRANSLATE_NOOP("Problems", "The local API server could not start"))
    def apply_server_settings(self) -> None:
        settings = ServerSettings.load(self.store)
        key = api_key(self.store) if settings.enabled else self.api_server.key
        self.api_server.apply(settings, key)

    @Slot(str)
    def show_database_damage(self, text: str) -> None:
        self.reporter.problem(
            self.tr("Your database is damaged"),
            self.tr(
                "{problem}\n\nExport what you need now (File › Export all chats), then quit and run "
                "`inkwell database set-aside` to start a new database; the old file is kept."
            ).format(problem=text),
        )

    # ---- chats and drafts ----

    @Slot()
    def export_chats(self) -> None:
        """The chats selected in the list, else the open one."""
        ids = self.list_pane.selected_conversation_ids() or (
            [self.chat_pane.conversation_id] if self.chat_pane.conversation_id else []
        )
        if not ids:
            self.reporter.show(self.tr("Open or select a chat to export."))
            return
        title = (
            self.store.conversations.get(ids[0]).title
            if len(ids) == 1
            else self.tr("{count} chats").format(count=QLocale().toString(len(ids)))
        )
        self.transfer.export_chats(ids, title or self.tr("Chat"))

    @Slot(str)
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not add to the draft"))
    def _on_chat_pane_to_draft_requested(self, text: str) -> None:
        draft_id, accepted = self.ask_for_draft()
        if accepted:
            draft_id = self.writing_pane.append_to_draft(draft_id, text)
            title = self.store.drafts.get(draft_id).title
            self.reporter.show(
                self.tr("Added to the draft “{title}” (Ctrl+2 opens the writing mode).").format(title=title), 6000
            )

    def ask_for_draft(self) -> tuple[str | None, bool]:
        """Which draft gets a chat reply: (draft id or None for a new one, accepted)."""
        drafts = self.store.drafts.all()
        choices = [self.tr("A new draft"), *[d.title for d in drafts]]
        choice, ok = QInputDialog.getItem(
            self, self.tr("Send to draft"), self.tr("Add the reply to the end of:"), choices, 0, False
        )
        if not ok:
            return None, False
        index = choices.index(choice)
        return (drafts[index - 1].id if index > 0 else None), True

    @Slot(str)
    def _on_writing_pane_discuss_requested(self, text: str) -> None:
        """A new chat with the selection quoted in the message box, ready to ask about."""
        self.show_chat_mode()
        self.chat_pane.new_chat()
        quoted = "\n".join(f"> {line}" for line in text.strip().splitlines())
        composer = self.chat_pane.composer
        composer.setPlainText(self.tr("About this passage from my draft:") + f"\n\n{quoted}\n\n")
        composer.moveCursor(composer.textCursor().MoveOperation.End)
        composer.setFocus()

    # ---- modes ----

    def leave_mode(self, to: QWidget) -> None:
        """Before the mode `to` shows: the draft is saved, the chat settings go with the chat
        (and come back with it), Compare's own models are unloaded."""
        current = self.modes.currentWidget()
        self.writing_pane.save()
        if current is self.splitter and to is not self.splitter:
            self._dock_was_visible = self.settings_dock.isVisibleTo(self)
            self.settings_dock.hide()
        elif current is not self.splitter and to is self.splitter and self._dock_was_visible:
            self.settings_dock.show()  # the chat settings belong to the chat mode
        if current is self.compare.pane and to is not current:
            self.compare.leave()

    @Slot()
    def show_chat_mode(self) -> None:
        self.leave_mode(self.splitter)
        self.modes.setCurrentWidget(self.splitter)
        self.menu_actions.show_mode("chat")
        self.chat_pane.composer.setFocus()

    @Slot()
    def show_writing_mode(self) -> None:
        self.leave_mode(self.writing_pane)
        self.modes.setCurrentWidget(self.writing_pane)
        self.menu_actions.show_mode("writing")
        self.writing_pane.refresh_list()
        self.writing_pane.editor.setFocus()

    # ---- settings and help ----

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not save the settings"))
    def open_settings(self) -> None:
        current = AppSettings.load(self.store)
        server, key = ServerSettings.load(self.store), api_key(self.store)
        services = self.services
        dialog = SettingsDialog(
            current, services.list_models(), services.data_folder, self, server, key, services.servers, services.drafts
        )
        if not self.run_dialog(dialog):
            return
        chosen = dialog.chosen()
        chosen.save(self.store)
        chosen_server, chosen_key = dialog.chosen_server()
        chosen_server.save(self.store)
        if chosen_key != key:
            self.store.settings.set("server_api_key", chosen_key)
        self.apply_server_settings()
        app = QApplication.instance()
        if isinstance(app, QApplication) and (chosen.theme, chosen.font_size) != (current.theme, current.font_size):
            apply_appearance(app, chosen.theme, chosen.font_size)
        if (chosen.model, chosen.provider, chosen.speedup, chosen.draft_model) != (
            current.model,
            current.provider,
            current.speedup,
            current.draft_model,
        ):
            self.model_status.reload()
        self.model_picker.refresh()
        if self.chat_pane.conversation_id is None:
            self.chat_pane.keeper.load()  # a new chat starts from the new defaults

    @Slot()
    def open_models(self) -> ModelsDialog:
        """The models page (its import, delete and "use" buttons act at once)."""
        dialog = ModelsDialog(self.store, self.services, self.reporter, self)
        dialog.model_chosen.connect(self._on_models_dialog_model_chosen)
        dialog.search_model_changed.connect(self._on_models_dialog_search_model_changed)
        self.models_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def open_documents(self) -> DocumentsDialog:
        """The document library (its indexing runs on the library's thread)."""
        if self.documents_dialog is None:
            self.documents_dialog = DocumentsDialog(self.store, self.library, self.reporter, self, self.retriever)
            self.documents_dialog.library_changed.connect(self.chat_pane.sources_button.refresh)
        self.documents_dialog.show()
        self.documents_dialog.raise_()
        return self.documents_dialog

    @Slot()
    def import_model(self) -> None:
        """Model › Import…: the file dialog, then the conversion with its progress."""
        dialog = self.open_models()
        dialog.import_from(dialog.ask_import_path(folder=False))

    @Slot(str)
    def _on_models_dialog_model_chosen(self, _model_id: str) -> None:
        self.model_status.reload()
        self.model_picker.refresh()

    def _model_setting(self) -> str:
        """The model in use: the setting, or the default model when it names none."""
        return AppSettings.load(self.store).model or self.services.default_model_id(None) or ""

    @Slot(str)
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not switch the model"))
    def _on_model_picker_model_chosen(self, setting: str) -> None:
        replace(AppSettings.load(self.store), model=setting).save(self.store)
        self.model_status.reload()

    # ---- notifications and the look ----

    @Slot(str)
    def _on_chat_pane_reply_finished(self, message_id: str) -> None:
        """Tell the user a long reply is ready when they are in another window."""
        if not self.notifier.in_background():
            return
        message = self.store.conversations.message(message_id)
        waited = (datetime.now(timezone.utc) - parse_iso(message.created)).total_seconds()
        if waited >= LONG_REPLY_S:
            title = self.store.conversations.get(message.conversation_id).title or self.tr("New chat")
            self.notifier.notify(self.tr("Inkwell's reply is ready"), title)

    @Slot()
    def _on_writing_pane_suggestion_ready(self) -> None:
        self.notifier.notify(self.tr("The co-writer's suggestion is ready"), self.tr("Review it in the writing mode."))

    @Slot()
    def _on_color_scheme_changed(self) -> None:
        """The desktop switched between light and dark: follow it if the theme says so."""
        settings = AppSettings.load(self.store)
        app = QApplication.instance()
        if settings.theme == "system" and isinstance(app, QApplication):
            apply_appearance(app, settings.theme, settings.font_size)

    @Slot()
    def _on_models_dialog_search_model_changed(self) -> None:
        """An embedding model was imported, chosen or deleted: the library's passages get
        their vectors from it now, on the library's thread."""
        self.library.refresh()
        if self.documents_dialog is not None:
            self.documents_dialog.reload()

    def run_dialog(self, dialog: Any) -> bool:
        """Show a modal dialog; True if accepted (tests replace it)."""
        return bool(dialog.exec())

    @Slot()
    def _on_data_folder_action_triggered(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.services.data_folder)))

    @Slot()
    def _on_shortcuts_action_triggered(self) -> None:
        def tr(text: str) -> str:
            return QCoreApplication.translate("Shortcuts", text)

        rows = "".join(f"<tr><td><b>{tr(keys)}</b></td><td>{tr(what)}</td></tr>" for keys, what in SHORTCUTS)
        QMessageBox.information(self, self.tr("Keyboard shortcuts"), f"<table cellpadding='3'>{rows}</table>")

    @Slot()
    def _on_about_action_triggered(self) -> None:
        from desktop_app import __version__

        what = self.tr(
            "A private assistant for chat and writing. The model runs on this computer; nothing you write leaves it."
        )
        where = self.tr("Your chats are kept in {folder}.").format(folder=self.services.data_folder)
        QMessageBox.about(self, self.tr("About Inkwell"), f"<h3>Inkwell {__version__}</h3><p>{what}</p><p>{where}</p>")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._closed:
            self._refresh_icons()  # drawn in the new theme's colours

    def _refresh_icons(self) -> None:
        self.menu_actions.refresh_icons()
        self.chat_pane.stop_button.setIcon(icon("stop"))
        self.chat_pane.welcome.refresh_icons()
        self.chat_pane.chat_view.action_bar.refresh_icons()
        self.model_picker.refresh()

    # ---- closing ----

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        self.chat_pane.shutdown()  # a reply being written keeps what it has
        self.library.shutdown()  # indexing stops between two files
        self.writing_pane.shutdown()
        self.compare.shutdown()  # its own models' threads stop and are waited for
        for timer in self.findChildren(QTimer):  # nothing may touch the store once it closes
            timer.stop()
        self.api_server.stop()  # its requests are cancelled before the scheduler stops
        self.scheduler.shutdown()
        if self.qsettings is not None:
            self.qsettings.setValue("window/geometry", self.saveGeometry())
            self.qsettings.setValue("window/splitter", self.splitter.saveState())
            self.qsettings.setValue("window/state", self.saveState())
            modes = {self.writing_pane: "writing", self.compare.pane: "compare"}
            self.qsettings.setValue("window/mode", modes.get(self.modes.currentWidget(), "chat"))
            self.qsettings.setValue("chat/last", self.chat_pane.conversation_id or "")
        self.notifier.hide()
        super().closeEvent(event)
