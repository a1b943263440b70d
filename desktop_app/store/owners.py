"""Which process is writing a streaming reply or a running evaluation.

The window and `inkwell` commands may have the same database open at once. A process that
opens it marks the replies left streaming, and the evaluations left running, as
interrupted: their process died mid-way. Without knowing whose they are, an `inkwell`
command started beside the window would also mark the window's reply of the moment (and
the window a command's running evaluation), and a killed evaluation nobody marked stayed
"running" for good.

So each open store holds an owner: a random token, and an exclusive lock on a file named
after it in a folder beside the database, held until the store is closed or its process
ends (the operating system lets go of a dead process's locks). A streaming reply and a
running evaluation carry their owner's token; a process opening the store marks interrupted
those whose owner's lock it can take (or that carry no token: written before this existed).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import uuid
from pathlib import Path

from desktop_app.core.paths import ensure_private_dir

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


log = logging.getLogger(__name__)

TOKEN = re.compile(r"[0-9a-f]{32}")
SUFFIX = ".lock"


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def owners_folder(database: Path) -> Path:
    """The folder of the lock files of a database's owners, beside it (the file itself, where
    the path is a link to it, as SQLite's -wal is)."""
    database = database.resolve()
    return database.with_name(database.name + "-writers")


class Owner:
    """This process's claim on what it writes to one database (see the module's text).
    `token` is None when no lock file could be made (a read-only folder): what this store
    writes then carries no token, and another process marks it interrupted as before."""

    def __init__(self, database: Path) -> None:
        self.folder = owners_folder(database)
        self.token: str | None = None
        self._fd: int | None = None
        for _ in range(3):
            token = uuid.uuid4().hex
            path = self.folder / f"{token}{SUFFIX}"
            try:
                ensure_private_dir(self.folder)
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            except FileNotFoundError:  # another process removed the folder, empty, just then
                continue
            except OSError as exc:
                log.warning("No owner lock beside %s (%s): other processes take its work as interrupted", database, exc)
                return
            # Locked, and still the file under that name: another process sweeping the folder
            # can find it between its making and its locking, take it for a dead owner's and
            # remove it.
            if _try_lock(fd) and _same_file(fd, path):
                self.token, self._fd = token, fd
                break
            os.close(fd)
        else:
            log.warning("No owner lock beside %s: other processes take its work as interrupted", database)
            return
        self._forget_the_dead()

    def alive(self, token: str | None) -> bool:
        """Whether the owner with this token still holds its lock (its store is open)."""
        if token is None or TOKEN.fullmatch(token) is None:
            return False
        if token == self.token:
            return True
        path = self.folder / f"{token}{SUFFIX}"
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False
        except OSError:
            return True  # cannot tell: leave its work alone
        try:
            if not _try_lock(fd):
                return True
            # A dead owner's file. On POSIX its name goes while the lock is held: a new owner
            # that took the file between an unlock and the unlink would hold a nameless one,
            # taken for dead by all; this way it finds its name gone and makes another. Windows
            # removes no file that is open, so there the name goes after.
            if sys.platform != "win32":
                with contextlib.suppress(OSError):
                    path.unlink()
            _unlock(fd)
        finally:
            os.close(fd)
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            with contextlib.suppress(OSError):  # kept while another process has it open
                path.unlink()
        return False

    def release(self) -> None:
        """Let go of the lock and remove its file, and the folder if that was the last one
        (the store is closing)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        path, self.token = self.folder / f"{self.token}{SUFFIX}", None  # a store still using it writes no token
        with contextlib.suppress(OSError):
            _unlock(fd)
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        with contextlib.suppress(OSError):  # the last one out: no folder left beside a closed database
            self.folder.rmdir()

    def _forget_the_dead(self) -> None:
        """Remove the lock files of owners that are gone (a process killed with no rows)."""
        with contextlib.suppress(OSError):
            for path in self.folder.iterdir():
                if path.name.endswith(SUFFIX):
                    self.alive(path.name[: -len(SUFFIX)])
