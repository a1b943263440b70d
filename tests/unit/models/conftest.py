"""Until desktop_app.models.gguf_blocks lands (another branch), the tests use a stand-in."""

from __future__ import annotations

import importlib.util
import sys

if importlib.util.find_spec("desktop_app.models.gguf_blocks") is None:
    from tests.unit.models import gguf_blocks_standin

    sys.modules["desktop_app.models.gguf_blocks"] = gguf_blocks_standin
