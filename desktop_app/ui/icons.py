"""Inkwell's interface icons: the SVGs in resources/icons/ui, drawn in a theme's colour."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from desktop_app.core.paths import resources_dir

SIZES = (16, 20, 24, 32, 48)


def icon_path(name: str) -> str:
    return str(resources_dir() / "icons" / "ui" / f"{name}.svg")


@cache
def _svg(name: str) -> str:
    with open(icon_path(name), encoding="utf-8") as file:
        return file.read()


@cache
def _coloured_icon(name: str, colour: str, disabled: str) -> QIcon:
    icon = QIcon()
    for mode, fill in ((QIcon.Mode.Normal, colour), (QIcon.Mode.Disabled, disabled)):
        renderer = QSvgRenderer(QByteArray(_svg(name).replace("currentColor", fill).encode()))
        for size in SIZES:
            for ratio in (1, 2):
                pixmap = QPixmap(size * ratio, size * ratio)
                pixmap.fill(Qt.GlobalColor.transparent)
                painter = QPainter(pixmap)
                renderer.render(painter, QRectF(0, 0, size * ratio, size * ratio))
                painter.end()
                pixmap.setDevicePixelRatio(ratio)
                icon.addPixmap(pixmap, mode)
    return icon


def icon(name: str, colour: QColor | str | None = None) -> QIcon:
    """The icon `name` in `colour` (default: the application palette's text colour)."""
    palette = QGuiApplication.palette()
    if colour is None:
        colour = palette.color(QPalette.ColorRole.WindowText)
    fill = QColor(colour).name()
    disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText).name()
    return _coloured_icon(name, fill, disabled)
