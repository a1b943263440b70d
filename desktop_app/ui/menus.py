"""The window's actions, their shortcuts and its menus, in one place."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar

from desktop_app.ui.chat.conversation_list import ConversationListPane

SHORTCUTS = [
    ("Ctrl+N", "New chat"),
    ("Ctrl+K or Ctrl+F", "Search chats"),
    ("Ctrl+PgDown / Ctrl+PgUp", "Next / previous chat"),
    ("↑ ↓ in the list, Enter", "Move between chats, then type a message"),
    ("Enter / Shift+Enter", "Send / new line"),
    ("Esc", "Stop the reply"),
    ("F2", "Rename the chat"),
    ("Delete", "Move the chat to the trash"),
    ("F9", "Show or hide the chat settings"),
    ("Ctrl+1 / Ctrl+2", "Chat / writing mode"),
    ("Ctrl+Shift+P", "Writing: the co-writer's commands"),
    ("Ctrl+Shift+Enter", "Writing: continue from the cursor"),
    ("Ctrl+F, Ctrl+H", "Writing: find and replace"),
    ("Ctrl+Shift+M", "Writing: Markdown preview"),
    ("Ctrl+E / Ctrl+Shift+E", "Export the chat / all chats"),
    ("Ctrl+I", "Import chats"),
    ("Ctrl+Shift+L / Ctrl+Shift+O", "Models / import a model you have"),
    ("Ctrl+Shift+D", "Documents: the files chats answer from"),
    ("Ctrl+,", "Settings"),
]


class WindowActions:
    """Builds the menu bar and the mode bar of `window`; the window connects the actions."""

    def __init__(self, window: QMainWindow, settings_dock: QDockWidget, chats: ConversationListPane) -> None:
        self.window = window

        def action(text: str, shortcut: Any = None) -> QAction:
            made = QAction(text, window)
            if shortcut is not None:
                made.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
            return made

        self.new = action("&New chat", QKeySequence.StandardKey.New)
        self.import_chats = action("&Import chats…", "Ctrl+I")
        self.export = action("&Export chat…", "Ctrl+E")
        self.export_all = action("Export &all chats…", "Ctrl+Shift+E")
        self.settings = action("&Settings…", [QKeySequence("Ctrl+,"), QKeySequence.StandardKey.Preferences])
        self.settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.quit = action("&Quit", QKeySequence.StandardKey.Quit)
        self.search = action("&Search", [QKeySequence("Ctrl+K"), QKeySequence(QKeySequence.StandardKey.Find)])
        self.next = action("Next chat", "Ctrl+PgDown")
        self.previous = action("Previous chat", "Ctrl+PgUp")
        self.pane = settings_dock.toggleViewAction()
        self.pane.setText("Chat settings &panel")
        self.pane.setShortcut(QKeySequence("F9"))
        self.prepare = action("&Prepare the default model…")
        self.models = action("&Models…", "Ctrl+Shift+L")
        self.import_model = action("&Import a model…", "Ctrl+Shift+O")
        self.documents = action("&Documents…", "Ctrl+Shift+D")
        self.data_folder = action("Open the &data folder")
        self.shortcuts = action("&Keyboard shortcuts", QKeySequence.StandardKey.HelpContents)
        self.about = action("&About Inkwell")
        self.chat_mode = action("&Chat", "Ctrl+1")
        self.writing_mode = action("&Writing", "Ctrl+2")
        for mode in (self.chat_mode, self.writing_mode):
            mode.setCheckable(True)
        self.chat_mode.setChecked(True)
        mode_bar = QToolBar("Mode")
        mode_bar.setObjectName("mode-bar")
        mode_bar.setMovable(False)
        mode_bar.addActions([self.chat_mode, self.writing_mode])
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, mode_bar)

        menus = window.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.addActions([self.new, self.import_chats, self.export, self.export_all])
        file_menu.addSeparator()
        file_menu.addAction(self.settings)
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        chat_menu = menus.addMenu("&Chat")
        chat_menu.addActions([self.search, self.next, self.previous])
        chat_menu.addSeparator()
        chat_menu.addAction(self.documents)
        chat_menu.addSeparator()
        chat_menu.addActions([chats.rename_action, chats.pin_action, chats.archive_action, chats.delete_action])
        view_menu = menus.addMenu("&View")
        view_menu.addActions([self.chat_mode, self.writing_mode])
        view_menu.addSeparator()
        view_menu.addAction(self.pane)
        model_menu = menus.addMenu("&Model")
        model_menu.addActions([self.models, self.import_model])
        model_menu.addSeparator()
        model_menu.addAction(self.prepare)
        help_menu = menus.addMenu("&Help")
        help_menu.addActions([self.shortcuts, self.data_folder, self.about])
        # Window-wide shortcuts work even when the menu bar is hidden (some desktops do).
        window.addActions([self.new, self.search, self.next, self.previous, self.chat_mode, self.writing_mode])

    def show_mode(self, writing: bool) -> None:
        self.chat_mode.setChecked(not writing)
        self.writing_mode.setChecked(writing)
