"""API keys of model servers: in the system keyring where a usable one exists, else in a file
in the data folder that only the user can read (0600). Never in the database, never logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

log = logging.getLogger(__name__)

KEYRING_SERVICE = "inkwell-model-servers"
KEY_FILE_NAME = "server-keys.json"
KEYRING, FILE = "keyring", "file"


def usable_keyring() -> Any | None:
    """The system keyring backend when one that really stores secrets is there, else None."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration is "no keyring", not a crash
        log.warning("The system keyring could not be opened", exc_info=True)
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return backend


class KeyStore:
    """Where server keys live. `backend` is a keyring backend (None: the 0600 file)."""

    def __init__(self, folder: Path, backend: Any | None = None) -> None:
        self.folder = folder
        self.backend = backend

    @property
    def kind(self) -> str:
        return KEYRING if self.backend is not None else FILE

    @property
    def file(self) -> Path:
        return self.folder / KEY_FILE_NAME

    def describe(self, kind: str | None = None) -> str:
        """Where a key of `kind` is kept, in words (the window and `servers list` show it)."""
        kind = kind or self.kind
        if kind == KEYRING:
            name = getattr(self.backend, "name", None) or type(self.backend).__name__
            return f"the system keyring ({name})" if self.backend is not None else "the system keyring"
        return f"a private file readable only by you ({self.file})"

    def set(self, server: str, key: str) -> str:
        """Keep `key` for `server`; returns where it went (KEYRING or FILE)."""
        if self.backend is not None:
            try:
                self.backend.set_password(KEYRING_SERVICE, server, key)
                self._drop_from_file(server)
                return KEYRING
            except Exception as exc:  # locked or refused: say so and use the file
                log.warning(
                    "The system keyring refused the key for %s (%s); using the private file", server, type(exc).__name__
                )
        keys = self._read_file()
        keys[server] = key
        self._write_file(keys)
        return FILE

    def get(self, server: str, kind: str | None) -> str | None:
        if kind == KEYRING and self.backend is not None:
            try:
                value = self.backend.get_password(KEYRING_SERVICE, server)
                return str(value) if value is not None else None
            except Exception as exc:
                raise UserError(
                    translate("Errors", "The system keyring would not give the API key of {server} ({kind}).").format(
                        server=server, kind=type(exc).__name__
                    ),
                    hint=translate("Errors", "Unlock the keyring, or add the server again."),
                ) from None
        if kind == FILE:
            return self._read_file().get(server)
        return None

    def delete(self, server: str) -> None:
        if self.backend is not None:
            with contextlib.suppress(Exception):  # nothing there is fine
                self.backend.delete_password(KEYRING_SERVICE, server)
        self._drop_from_file(server)

    # ---- the file ----

    def _drop_from_file(self, server: str) -> None:
        keys = self._read_file()
        if server in keys:
            del keys[server]
            self._write_file(keys)

    def _read_file(self) -> dict[str, str]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise UserError(
                translate("Errors", "The key file {file} cannot be read: {error}.").format(file=self.file, error=exc)
            ) from None
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write_file(self, keys: dict[str, str]) -> None:
        """Whole or not at all: a 0600 temporary file beside it, then renamed over it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".server-keys-", dir=self.folder)
        try:
            os.chmod(temporary, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(keys, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.file)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise UserError(
                translate("Errors", "The key file {file} could not be written: {error}.").format(
                    file=self.file, error=exc
                )
            ) from None
