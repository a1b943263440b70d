"""Writing a user's file whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it into place:
    an interruption leaves the old file (or none), never half of the new one. The file is
    readable by the user alone, as everything Inkwell writes of the user's text is."""
    path = path.expanduser()
    if not path.parent.is_dir():
        raise UserError(translate("Errors", "The folder {folder} does not exist.").format(folder=path.parent))
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise UserError(
                translate("Errors", "Could not write {path}: {error}.").format(path=path, error=exc.strerror or exc)
            ) from None
        raise
