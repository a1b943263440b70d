"""Inkwell's one SQLite file: conversations as message trees, drafts, settings, search.

No Qt here. The GUI thread owns the connection; other threads open their own.
"""

from desktop_app.store.db import Store, open_store

__all__ = ["Store", "open_store"]
