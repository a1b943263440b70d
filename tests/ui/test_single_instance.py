"""One Inkwell per data folder: the first launch claims it; a second knocks, and the first
hears it (to raise its window); what a crashed instance left behind is taken over."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QDir, QLockFile
from PySide6.QtNetwork import QLocalServer
from PySide6.QtWidgets import QWidget

from desktop_app.core.errors import UserError
from desktop_app.ui.single_instance import LOCK_NAME, SingleInstance, raise_window, server_name

ROOT = Path(__file__).resolve().parents[2]
CHILD = r"""
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer

from desktop_app.ui.single_instance import SingleInstance

app = QCoreApplication([])
instance = SingleInstance(Path(sys.argv[1]))
print("claimed" if instance.claim([]) else "knocked", flush=True)


def on_activation(argv):
    print("activated", *argv, flush=True)
    app.quit()


instance.activation_requested.connect(on_activation)
QTimer.singleShot(30_000, app.quit)
app.exec()
instance.release()
"""


@pytest.fixture
def instances(qtbot):  # type: ignore[no-untyped-def]
    """SingleInstance objects that are released after the test, claimed or not."""
    made: list[SingleInstance] = []

    def make(folder: Path) -> SingleInstance:
        made.append(SingleInstance(folder))
        return made[-1]

    yield make
    for instance in made:
        instance.release()


def start_child(folder: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "claimed\n"
    return child


def test_the_first_claims_and_hears_a_second_launch(qtbot, instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = instances(tmp_path)
    assert first.claim()
    second = instances(tmp_path)
    with qtbot.waitSignal(first.activation_requested, timeout=5000) as knocked:
        assert not second.claim(["--provider", "cpu"])
    assert knocked.args == [["--provider", "cpu"]]
    assert first.is_first and not second.is_first
    assert (tmp_path / LOCK_NAME).exists()


def test_every_knock_is_heard(qtbot, instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = instances(tmp_path)
    assert first.claim()
    heard: list[list[str]] = []
    first.activation_requested.connect(heard.append)
    for n in range(3):
        assert not instances(tmp_path).claim([str(n)])
    qtbot.waitUntil(lambda: len(heard) == 3, timeout=5000)
    assert sorted(heard) == [["0"], ["1"], ["2"]]


def test_a_long_running_first_instance_keeps_the_folder(qtbot, instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = instances(tmp_path)
    assert first.claim()
    an_hour_ago = time.time() - 3600
    os.utime(tmp_path / LOCK_NAME, (an_hour_ago, an_hour_ago))  # an old lock, its owner alive
    with qtbot.waitSignal(first.activation_requested, timeout=5000):
        assert not instances(tmp_path).claim([])


def test_another_folder_is_claimed_independently(qtbot, instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert instances(tmp_path / "a").claim()
    assert instances(tmp_path / "b").claim()
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")


def test_the_name_is_short_plain_and_the_same_for_any_spelling(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    name = server_name(tmp_path / "data")
    assert name == server_name(tmp_path / "data" / ".." / "data")
    assert name.startswith("inkwell-") and name.isascii() and "/" not in name and len(name) < 48


@pytest.mark.skipif(os.name != "posix", reason="Windows pipes vanish with the process that made them")
def test_a_socket_file_left_by_a_crash_is_removed_and_claimed(qtbot, instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    leftover = Path(QDir.tempPath()) / server_name(tmp_path)
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(leftover))  # the file stays; nobody listens on it any more
    dead.close()
    try:
        first = instances(tmp_path)
        assert first.claim()
        with qtbot.waitSignal(first.activation_requested, timeout=5000):
            assert not instances(tmp_path).claim([])
    finally:
        leftover.unlink(missing_ok=True)


def test_a_server_nobody_holds_the_folder_for_is_replaced(qtbot, instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    abandoned = QLocalServer()  # listening, but its instance is gone: it holds no lock
    assert abandoned.listen(server_name(tmp_path))
    try:
        first = instances(tmp_path)
        assert first.claim()
        with qtbot.waitSignal(first.activation_requested, timeout=5000):
            assert not instances(tmp_path).claim([])
    finally:
        abandoned.close()


def test_release_lets_a_new_instance_claim(qtbot, instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = instances(tmp_path)
    assert first.claim()
    first.release()
    assert not first.is_first
    second = instances(tmp_path)
    assert second.claim()
    with qtbot.waitSignal(second.activation_requested, timeout=5000):
        assert not instances(tmp_path).claim([])


def test_a_holder_that_never_answers_is_reported(qtbot, instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    silent = QLockFile(str(tmp_path / LOCK_NAME))  # holds the folder, listens nowhere
    assert silent.tryLock(0)
    try:
        with pytest.raises(UserError, match="does not answer"):
            instances(tmp_path).claim([], timeout_s=0.3)
    finally:
        silent.unlock()


def test_a_second_process_reaches_the_first(qtbot, instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    child = start_child(tmp_path)
    try:
        assert not instances(tmp_path).claim(["open", "notes.md"])
        assert child.stdout is not None
        assert child.stdout.readline() == "activated open notes.md\n"
        assert child.wait(timeout=10) == 0
    finally:
        child.kill()
        child.wait()


def test_the_folder_of_a_killed_instance_is_taken_over(qtbot, instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    child = start_child(tmp_path)
    child.kill()  # no release(): its lock file and socket stay behind
    child.wait()
    assert (tmp_path / LOCK_NAME).exists()
    first = instances(tmp_path)
    assert first.claim()
    with qtbot.waitSignal(first.activation_requested, timeout=5000):
        assert not instances(tmp_path).claim([])


def test_raise_window_restores_a_minimised_window(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = QWidget()
    qtbot.addWidget(window)
    window.showMaximized()
    window.showMinimized()
    assert window.isMinimized()
    raise_window(window)
    assert window.isVisible() and not window.isMinimized() and window.isMaximized()


def test_raise_window_shows_a_hidden_window(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = QWidget()
    qtbot.addWidget(window)
    raise_window(window)
    assert window.isVisible() and not window.isMinimized()
