"""The window as rendered, light and dark, English and Chinese, at 100% and 200%: compared with
the references stored in tests/ui/screenshots/, so a layout regression fails.

References are kept small (greyscale, COMPARE_WIDTH wide) and compared with a tolerance that
forgives anti-aliasing but not a moved, missing or resized widget. After a deliberate change
of the look, renew them and look at them before committing:

    INKWELL_UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/ui/test_screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = Path(__file__).resolve().parent / "screenshots"
SCRIPT = ROOT / "docs" / "make_screenshots.py"
COMPARE_WIDTH = 560
# A pixel differs when its grey level moves by more than PIXEL_STEP; a render passes when
# fewer than TOLERANCE of its pixels differ.
PIXEL_STEP = 48
TOLERANCE = 0.02
VIEWS = ("welcome", "chat", "settings")
SHOTS = [
    f"{view}-{language}-{theme}@{scale}x.png"
    for view in VIEWS
    for language in ("en", "zh_CN")
    for theme in ("light", "dark")
    for scale in (1, 2)
]


def shrink(image: QImage) -> np.ndarray:
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8).scaledToWidth(
        COMPARE_WIDTH, Qt.TransformationMode.SmoothTransformation
    )
    width, height = grey.width(), grey.height()
    rows = np.frombuffer(grey.constBits(), dtype=np.uint8, count=grey.bytesPerLine() * height)
    return rows.reshape(height, grey.bytesPerLine())[:, :width].copy()


def differing(a: np.ndarray, b: np.ndarray) -> float:
    """The share of pixels that differ (1.0 when the images' shapes differ)."""
    if a.shape != b.shape:
        return 1.0
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16)) > PIXEL_STEP))


def to_image(pixels: np.ndarray) -> QImage:
    height, width = pixels.shape
    data = np.ascontiguousarray(pixels)
    return QImage(data.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("renders")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_SCALE_FACTOR", "INKWELL_LANGUAGE")}
    subprocess.run([sys.executable, str(SCRIPT), "--references", str(out)], check=True, env=env, timeout=300)
    return out


def test_the_renders_match_the_stored_references(qapp, renders: Path) -> None:  # type: ignore[no-untyped-def]
    update = os.environ.get("INKWELL_UPDATE_SCREENSHOTS") == "1"
    if update:
        REFERENCES.mkdir(exist_ok=True)
    failures = []
    for name in SHOTS:
        render = QImage(str(renders / name))
        assert not render.isNull(), f"{name} was not rendered"
        scale = int(name.rsplit("@", 1)[1][0])
        if not name.startswith("settings"):  # the window itself, at the scale's size
            assert (render.width(), render.height()) == (1120 * scale, 720 * scale), name
        small = shrink(render)
        if update:
            assert to_image(small).save(str(REFERENCES / name))
            continue
        reference = QImage(str(REFERENCES / name))
        assert not reference.isNull(), f"no reference for {name}: see this module's docstring"
        share = differing(small, shrink(reference))
        if share > TOLERANCE:
            failures.append(f"{name}: {share:.1%} of pixels differ")
    assert not failures, "The window looks different from its references:\n" + "\n".join(failures)


def test_a_moved_widget_is_caught_and_anti_aliasing_is_not(qapp) -> None:  # type: ignore[no-untyped-def]
    """The tolerance itself: a 6-pixel shift of the chat fails, a faint change passes."""
    reference = shrink(QImage(str(REFERENCES / "chat-en-light@1x.png")))
    shifted = np.roll(reference, 6, axis=0)
    assert differing(reference, shifted) > TOLERANCE
    faint = np.clip(reference.astype(np.int16) + 20, 0, 255).astype(np.uint8)
    assert differing(reference, faint) <= TOLERANCE
