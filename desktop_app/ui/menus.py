"""The window's actions, their shortcuts and its menus, in one place."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSizePolicy, QToolBar, QWidget

from desktop_app.ui.chat.conversation_list import ConversationListPane
from desktop_app.ui.icons import icon

# Shown translated: QCoreApplication.translate("Shortcuts", text).
SHORTCUTS = [
    (QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+N"), QT_TRANSLATE_NOOP("Shortcuts", "New chat")),
    (QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+K or Ctrl+F"), QT_TRANSLATE_NOOP("Shortcuts", "Search chats")),
    (QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+PgDown / Ctrl+PgUp"), QT_TRANSLATE_NOOP("Shortcuts", "Next / previous chat")),
    (
        QT_TRANSLATE_NOOP("Shortcuts", "↑ ↓ in the list, Enter"),
        QT_TRANSLATE_NOOP("Shortcuts", "Move between chats, then type a message"),
    ),
    (QT_TRANSLATE_NOOP("Shortcuts", "Enter / Shift+Enter"), QT_TRANSLATE_NOOP("Shortcuts", "Send / new line")),
    (QT_TRANSLATE_NOOP("Shortcuts", "Esc"), QT_TRANSLATE_NOOP("Shortcuts", "Stop the reply")),
    (QT_TRANSLATE_NOOP("Shortcuts", "F2"), QT_TRANSLATE_NOOP("Shortcuts", "Rename the chat")),
    (QT_TRANSLATE_NOOP("Shortcuts", "Delete"), QT_TRANSLATE_NOOP("Shortcuts", "Move the chat to the trash")),
    (QT_TRANSLATE_NOOP("Shortcuts", "F9"), QT_TRANSLATE_NOOP("Shortcuts", "Show or hide the chat settings")),
    (
        QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+1 / Ctrl+2 / Ctrl+3"),
        QT_TRANSLATE_NOOP("Shortcuts", "Chat / writing / compare mode"),
    ),
    (
        QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+Shift+P"),
        QT_TRANSLATE_NOOP("Shortcuts", "Writing: the co-writer's commands"),
    ),
    (
        QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+Shift+Enter"),
        QT_TRANSLATE_NOOP("Shortcuts", "Writing: continue from the cursor"),
    ),
    (QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+F, Ctrl+H"), QT_TRANSLATE_NOOP("Shortcuts", "Writing: find and replace")),
    (QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+Shift+M"), QT_TRANSLATE_NOOP("Shortcuts", "Writing: Markdown preview")),
    (
        QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+E / Ctrl+Shift+E"),
        QT_TRANSLATE_NOOP("Shortcuts", "Export the chat / all chats"),
    ),
    (QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+I"), QT_TRANSLATE_NOOP("Shortcuts", "Import chats")),
    (
        QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+Shift+L / Ctrl+Shift+O"),
        QT_TRANSLATE_NOOP("Shortcuts", "Models / import a model you have"),
    ),
    (
        QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+Shift+D"),
        QT_TRANSLATE_NOOP("Shortcuts", "Documents: the files chats answer from"),
    ),
    (QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+,"), QT_TRANSLATE_NOOP("Shortcuts", "Settings")),
]


class WindowActions:
    """Builds the menu bar and the mode bar of `window`; the window connects the actions."""

    def __init__(self, window: QMainWindow, settings_dock: QDockWidget, chats: ConversationListPane) -> None:
        self.window = window

        def action(text: str, shortcut: Any = None) -> QAction:
            made = QAction(QCoreApplication.translate("WindowActions", text), window)
            if shortcut is not None:
                made.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
            return made

        self.new = action(QT_TRANSLATE_NOOP("WindowActions", "&New chat"), QKeySequence.StandardKey.New)
        self.import_chats = action(QT_TRANSLATE_NOOP("WindowActions", "&Import chats…"), "Ctrl+I")
        self.export = action(QT_TRANSLATE_NOOP("WindowActions", "&Export chat…"), "Ctrl+E")
        self.export_all = action(QT_TRANSLATE_NOOP("WindowActions", "Export &all chats…"), "Ctrl+Shift+E")
        self.settings = action(
            QT_TRANSLATE_NOOP("WindowActions", "&Settings…"),
            [QKeySequence("Ctrl+,"), QKeySequence.StandardKey.Preferences],
        )
        self.settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.quit = action(QT_TRANSLATE_NOOP("WindowActions", "&Quit"), QKeySequence.StandardKey.Quit)
        self.search = action(
            QT_TRANSLATE_NOOP("WindowActions", "&Search"),
            [QKeySequence("Ctrl+K"), QKeySequence(QKeySequence.StandardKey.Find)],
        )
        self.next = action(QT_TRANSLATE_NOOP("WindowActions", "Next chat"), "Ctrl+PgDown")
        self.previous = action(QT_TRANSLATE_NOOP("WindowActions", "Previous chat"), "Ctrl+PgUp")
        self.pane = settings_dock.toggleViewAction()
        self.pane.setText(QCoreApplication.translate("WindowActions", "Chat settings &panel"))
        self.pane.setShortcut(QKeySequence("F9"))
        self.prepare = action(QT_TRANSLATE_NOOP("WindowActions", "&Prepare the default model…"))
        self.models = action(QT_TRANSLATE_NOOP("WindowActions", "&Models…"), "Ctrl+Shift+L")
        self.import_model = action(QT_TRANSLATE_NOOP("WindowActions", "&Import a model…"), "Ctrl+Shift+O")
        self.documents = action(QT_TRANSLATE_NOOP("WindowActions", "&Documents…"), "Ctrl+Shift+D")
        self.tools = action(QT_TRANSLATE_NOOP("WindowActions", "&Tools…"))
        self.data_folder = action(QT_TRANSLATE_NOOP("WindowActions", "Open the &data folder"))
        self.shortcuts = action(
            QT_TRANSLATE_NOOP("WindowActions", "&Keyboard shortcuts"), QKeySequence.StandardKey.HelpContents
        )
        self.about = action(QT_TRANSLATE_NOOP("WindowActions", "&About Inkwell"))
        self.chat_mode = action(QT_TRANSLATE_NOOP("WindowActions", "&Chat"), "Ctrl+1")
        self.writing_mode = action(QT_TRANSLATE_NOOP("WindowActions", "&Writing"), "Ctrl+2")
        # Two models or settings answer one prompt blind; the votes rank them.
        self.compare_mode = action(QT_TRANSLATE_NOOP("WindowActions", "C&ompare"), "Ctrl+3")
        self.modes = {"chat": self.chat_mode, "writing": self.writing_mode, "compare": self.compare_mode}
        for mode in self.modes.values():
            mode.setCheckable(True)
        self.chat_mode.setChecked(True)
        self.refresh_icons()
        self.mode_bar = mode_bar = QToolBar(QCoreApplication.translate("WindowActions", "Mode"))
        mode_bar.setObjectName("mode-bar")
        mode_bar.setMovable(False)
        mode_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        mode_bar.addActions(list(self.modes.values()))
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        mode_bar.addWidget(spacer)  # the window puts the model picker after it, on the right
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, mode_bar)

        menus = window.menuBar()
        file_menu = menus.addMenu(QCoreApplication.translate("WindowActions", "&File"))
        file_menu.addActions([self.new, self.import_chats, self.export, self.export_all])
        file_menu.addSeparator()
        file_menu.addActions([self.settings, self.tools])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        chat_menu = menus.addMenu(QCoreApplication.translate("WindowActions", "&Chat"))
        chat_menu.addActions([self.search, self.next, self.previous])
        chat_menu.addSeparator()
        chat_menu.addAction(self.documents)
        chat_menu.addSeparator()
        chat_menu.addActions([chats.rename_action, chats.pin_action, chats.archive_action, chats.delete_action])
        view_menu = menus.addMenu(QCoreApplication.translate("WindowActions", "&View"))
        view_menu.addActions(list(self.modes.values()))
        view_menu.addSeparator()
        view_menu.addAction(self.pane)
        model_menu = menus.addMenu(QCoreApplication.translate("WindowActions", "&Model"))
        model_menu.addActions([self.models, self.import_model])
        model_menu.addSeparator()
        model_menu.addAction(self.prepare)
        help_menu = menus.addMenu(QCoreApplication.translate("WindowActions", "&Help"))
        help_menu.addActions([self.shortcuts, self.data_folder, self.about])
        # Window-wide shortcuts work even when the menu bar is hidden (some desktops do).
        window.addActions([self.new, self.search, self.next, self.previous, *self.modes.values()])

    def show_mode(self, mode: str) -> None:
        """Check the action of `mode` ("chat", "writing" or "compare") alone."""
        for name, action in self.modes.items():
            action.setChecked(name == mode)

    def refresh_icons(self) -> None:
        for name, action in self.modes.items():
            action.setIcon(icon(name))
