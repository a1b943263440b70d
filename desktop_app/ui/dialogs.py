"""Dialogs shown before the main window exists (a refused database)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget


class RefusedDatabaseDialog(QMessageBox):
    """The database is damaged or from a newer Inkwell: start a new one (the old file is
    kept, renamed), open the data folder, or quit."""

    def __init__(self, error: Exception, path: Path, too_new: bool, parent: QWidget | None = None) -> None:
        super().__init__(QMessageBox.Icon.Critical, "", str(error), parent=parent)
        self.setWindowTitle(self.tr("Inkwell cannot open your chats"))
        if too_new:
            self.setInformativeText(
                self.tr(
                    "This file was written by a newer version of Inkwell: install that version to use it. "
                    "Or start with a new, empty database; the old file is kept, renamed, in the data folder."
                )
            )
        else:
            self.setInformativeText(
                self.tr(
                    "Inkwell has not changed the file. You can start with a new, empty database: the old "
                    "file is kept, renamed, in the data folder, so nothing in it is lost and it can be "
                    "repaired later (for example with sqlite3's .recover)."
                )
            )
        self.start_new_button = self.addButton(self.tr("Start a new database"), QMessageBox.ButtonRole.AcceptRole)
        self.open_folder_button = self.addButton(self.tr("Open the data folder"), QMessageBox.ButtonRole.ActionRole)
        self.quit_button = self.addButton(self.tr("Quit"), QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.quit_button)


def ask_about_refused_database(error: Exception, path: Path, too_new: bool) -> bool:
    """True when the user chooses to set the file aside and start a new database."""
    while True:
        dialog = RefusedDatabaseDialog(error, path, too_new)
        dialog.exec()
        if dialog.clickedButton() is dialog.open_folder_button:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
            continue  # then ask again
        return dialog.clickedButton() is dialog.start_new_button
