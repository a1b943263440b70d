"""Inkwell's look: light or dark (or the system's choice of the two), its style sheet from
resources/themes/, the matching palette, and the colours the chat transcript is drawn in."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from desktop_app.core.paths import resources_dir


@dataclass(frozen=True)
class Colours:
    """One theme's colours, for the palette and for the HTML the chat view renders."""

    window: str
    surface: str
    text: str
    muted: str
    accent: str
    accent_text: str  # the speaker's name
    soft: str  # the user's messages
    border: str
    code: str
    dark: bool


LIGHT = Colours(
    window="#f6f7f9",
    surface="#ffffff",
    text="#1f2328",
    muted="#656d76",
    accent="#4f46e5",
    accent_text="#4338ca",
    soft="#f0f1fb",
    border="#d8dee4",
    code="#f6f8fa",
    dark=False,
)
DARK = Colours(
    window="#1b1c1f",
    surface="#222328",
    text="#e6e7ea",
    muted="#9aa0a8",
    accent="#8b8cff",
    accent_text="#a5a6ff",
    soft="#2c2e3a",
    border="#33363d",
    code="#1a1b1f",
    dark=True,
)


def resolve_theme(theme: str) -> str:
    """ "light" or "dark": the choice, or for "system" the desktop's colour scheme."""
    if theme in ("light", "dark"):
        return theme
    scheme = QGuiApplication.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def colours_for(palette: QPalette) -> Colours:
    """The colours matching a widget's palette (dark when its window colour is dark)."""
    return DARK if palette.color(QPalette.ColorRole.Window).lightness() < 128 else LIGHT


def _palette(c: Colours) -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.window,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.surface,
        QPalette.ColorRole.AlternateBase: c.soft,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.Button: c.surface if c.dark else "#ffffff",
        QPalette.ColorRole.ButtonText: c.text,
        QPalette.ColorRole.Highlight: c.accent,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: c.text,
        QPalette.ColorRole.ToolTipText: c.window,
        QPalette.ColorRole.PlaceholderText: c.muted,
        QPalette.ColorRole.Link: c.accent,
        QPalette.ColorRole.Mid: c.border,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#8c9199" if c.dark else "#a0a6ae"))
    return palette


def style_sheet(name: str) -> str:
    return (resources_dir() / "themes" / f"{name}.qss").read_text(encoding="utf-8")


def apply_appearance(app: QApplication, theme: str, font_size: int) -> str:
    """Fusion with Inkwell's palette and style sheet for `theme` ("system", "light", "dark")
    and the font size; returns the theme applied ("light" or "dark")."""
    name = resolve_theme(theme)
    if not app.property("inkwell_fusion"):  # once: replacing the style under a style sheet crashes Qt
        app.setStyle("Fusion")
        app.setProperty("inkwell_fusion", True)
    app.setPalette(_palette(DARK if name == "dark" else LIGHT))
    font = QFont(app.font())
    font.setPointSize(max(6, min(int(font_size), 40)))
    app.setFont(font)
    app.setStyleSheet(style_sheet(name))
    return name
