"""The Save dialog of the exports.

The window's export code also finds here, for now, the names that moved out of ui/:
safe_file_stem and export_target (desktop_app.transcripts.export) and write_rich
(desktop_app.qt_documents). Import those from their homes; the re-exports go once
main_window.py and writing_view.py do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog

from desktop_app.qt_documents import write_rich
from desktop_app.transcripts.export import export_target, safe_file_stem

__all__ = ["ask_save_path", "export_target", "safe_file_stem", "write_rich"]


def ask_save_path(parent: Any, title: str, suggested: str, filters: list[str]) -> tuple[str, str]:
    """The platform's Save dialog, starting in the home folder: (path, chosen filter), or
    ("", "") when cancelled. It asks before replacing an existing file."""
    return QFileDialog.getSaveFileName(parent, title, str(Path.home() / suggested), ";;".join(filters))
