"""One Inkwell window per data folder: the first launch listens on a local socket named for
the folder; a second launch finds it, asks it to raise its window, and exits.

Who is first is decided by a QLockFile in the data folder, held for as long as the first
instance runs. The lock file names its owner's process, so the lock of one that crashed is
taken over at once, never after a delay. The socket only carries the message. QLocalServer
alone cannot settle two launches at the same moment: on Windows two servers may listen on
one name, and on Unix the socket file a crashed instance left must be removed before
listening, which would race with a second launch removing it too. Whoever holds the lock
knows that any socket of that name is a leftover, and removes it safely.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Qt, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.core.errors import UserError

log = logging.getLogger(__name__)

LOCK_NAME = "instance.lock"
ACTIVATE = "activate"
KNOCK_TIMEOUT_MS = 1000
# How long a launch keeps trying when the lock is held by an instance that is not listening:
# one that has just taken the lock, or is closing.
CLAIM_TIMEOUT_S = 5.0
RETRY_S = 0.05
MAX_MESSAGE_BYTES = 64 * 1024


def server_name(folder: Path) -> str:
    """The socket's name: short, plain ASCII, the same for every spelling of the folder."""
    resolved = os.path.normcase(str(folder.expanduser().resolve()))
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"inkwell-{_user_id()}-{digest}"


def _user_id() -> str:
    """The user's id (Windows pipe names are shared by all users, Unix /tmp is too)."""
    getuid = getattr(os, "getuid", None)
    if getuid is not None:
        return str(getuid())
    return hashlib.sha256(getpass.getuser().encode("utf-8", "surrogatepass")).hexdigest()[:8]


class SingleInstance(QObject):
    """Claims the data folder for this process, or knocks on the instance that has it."""

    activation_requested = Signal(list)  # the second launch's arguments (sys.argv[1:])

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.name = server_name(folder)
        self._lock = QLockFile(str(folder / LOCK_NAME))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, however old
        self._server: QLocalServer | None = None
        self._incoming: dict[QLocalSocket, bytearray] = {}

    @property
    def is_first(self) -> bool:
        return self._lock.isLocked() or self._server is not None

    def claim(self, argv: Sequence[str] | None = None, timeout_s: float = CLAIM_TIMEOUT_S) -> bool:
        """True: this process is the first and now listens. False: the first instance was
        sent `argv` (default: this process's arguments) and asked to raise its window.

        Raises UserError if another process holds the folder but never answers.
        """
        if self.is_first:
            return True
        message = json.dumps({"command": ACTIVATE, "argv": list(sys.argv[1:] if argv is None else argv)})
        deadline = time.monotonic() + timeout_s
        while True:
            if self._lock.tryLock(0):
                self._listen()
                return True
            if self._lock.error() != QLockFile.LockError.LockFailedError:
                return self._claim_without_lock(message)
            if self._knock(message):
                return False
            if time.monotonic() >= deadline:
                raise self._no_answer()
            time.sleep(RETRY_S)

    def release(self) -> None:
        """Stop listening and let go of the folder (at shutdown)."""
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None
        for socket in list(self._incoming):
            self._drop(socket)
        if self._lock.isLocked():
            self._lock.unlock()

    # ---- the first instance ----

    def _listen(self) -> None:
        # With the lock ours, no live instance uses the name: whatever is there was left by one
        # that crashed (a socket file on Unix; Windows pipes vanish with their process).
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # Still the only instance (the lock says so), one that a second launch cannot reach.
            log.warning("Cannot listen on %s (%s); a second launch cannot raise this window.", self.name,
                        server.errorString())  # fmt: skip
            server.deleteLater()
            return
        server.newConnection.connect(self._on_server_new_connection)
        self._server = server

    @Slot()
    def _on_server_new_connection(self) -> None:
        while self._server is not None and self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._incoming[socket] = bytearray()
            socket.readyRead.connect(functools.partial(self._on_socket_ready_read, socket))
            socket.disconnected.connect(functools.partial(self._on_socket_disconnected, socket))
            self._on_socket_ready_read(socket)  # what came with the connection
            if socket in self._incoming and socket.state() == QLocalSocket.LocalSocketState.UnconnectedState:
                self._on_socket_disconnected(socket)

    def _on_socket_ready_read(self, socket: QLocalSocket) -> None:
        buffer = self._incoming.get(socket)
        if buffer is None:
            return
        buffer += bytes(socket.readAll().data())
        if b"\n" in buffer:
            self._handle(socket)
        elif len(buffer) > MAX_MESSAGE_BYTES:
            log.warning("Ignored an oversized message on %s", self.name)
            self._drop(socket)

    def _on_socket_disconnected(self, socket: QLocalSocket) -> None:
        if socket in self._incoming:
            self._incoming[socket] += bytes(socket.readAll().data())
            self._handle(socket)

    def _handle(self, socket: QLocalSocket) -> None:
        line = self._incoming.get(socket, bytearray()).split(b"\n", 1)[0]
        self._drop(socket)
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        argv = message.get("argv") if isinstance(message, dict) else None
        if message is None or message.get("command") != ACTIVATE or not isinstance(argv, list):
            log.warning("Ignored a message that is not an activation on %s", self.name)
            return
        self.activation_requested.emit([str(arg) for arg in argv])

    def _drop(self, socket: QLocalSocket) -> None:
        self._incoming.pop(socket, None)
        socket.abort()
        socket.deleteLater()

    # ---- a second launch ----

    def _knock(self, message: str) -> bool:
        """Deliver `message` to the instance listening on the name; False if none does."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(KNOCK_TIMEOUT_MS):
            return False
        _let_others_take_focus()
        socket.write((message + "\n").encode())
        # The first instance reads it whenever its event loop runs (it may still be starting).
        while socket.bytesToWrite() and socket.waitForBytesWritten(KNOCK_TIMEOUT_MS):
            pass
        delivered = not socket.bytesToWrite()
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(KNOCK_TIMEOUT_MS)
        return delivered

    def _claim_without_lock(self, message: str) -> bool:
        """The folder takes no lock file (read-only, say): the socket alone decides."""
        log.warning("Cannot lock %s (%s); two launches at once may both open.", self._lock.fileName(),
                    self._lock.error().name)  # fmt: skip
        if self._knock(message):
            return False
        self._listen()
        return True

    def _no_answer(self) -> UserError:
        info = self._lock.getLockInfo()
        owner = f" (process {info[0]} on {info[1]})" if isinstance(info, tuple) and len(info) >= 2 else ""
        return UserError(
            f"Another Inkwell{owner} is using the data folder {self.folder} but does not answer.",
            hint=f"Close it and start again. If no Inkwell is running, delete {self._lock.fileName()}.",
        )


def _let_others_take_focus() -> None:
    """Windows gives the foreground only to the process the user last used (this one): let
    the first instance take it, or its activateWindow() only flashes the taskbar."""
    if sys.platform == "win32":
        import ctypes

        ctypes.windll.user32.AllowSetForegroundWindow(-1)  # ASFW_ANY


def raise_window(window: QWidget) -> None:
    """Show the window, un-minimised (maximised or full screen again if it was), in front,
    with the focus; where the window manager refuses the focus, ask for attention instead."""
    state = window.windowState()
    if state & Qt.WindowState.WindowMinimized:
        window.setWindowState((state & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
    window.show()
    window.raise_()
    window.activateWindow()
    if not window.isActiveWindow():
        QApplication.alert(window)
