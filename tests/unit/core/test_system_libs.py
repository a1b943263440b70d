"""The check before Qt starts: which platform Qt picks, what ldd says is missing, the
packages that provide it, and what a user without them sees."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from desktop_app.core import system_libs
from desktop_app.core.system_libs import (
    BUNDLED,
    PACKAGES,
    advice,
    check_before_qt,
    linked_libraries,
    missing_libraries,
    will_use_xcb,
)

LDD_PLUGIN = """\
\tlinux-vdso.so.1 (0x00007ffd4b1f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f2a1c000000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f2a1bff0000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2a1b800000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f2a1c2a0000)
"""
LDD_QPA = """\
\tlibxcb-icccm.so.4 => not found
\tlibxcb-image.so.0 => not found
\tlibdbus-1.so.3 => /lib/x86_64-linux-gnu/libdbus-1.so.3 (0x00007f2a1b700000)
"""


def qt_tree(root: Path) -> Path:
    """A Qt folder laid out as PySide6's: the plugin, and the library it links to."""
    plugin = root / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(b"")
    (root / "Qt" / "lib").mkdir()
    (root / "Qt" / "lib" / "libQt6XcbQpa.so.6").write_bytes(b"")
    return plugin


def fake_ldd(outputs: Mapping[str, str | None]) -> tuple[list[Path], system_libs.Ldd]:
    asked: list[Path] = []

    def ldd(binary: Path) -> str | None:
        asked.append(binary)
        return outputs[binary.name]

    return asked, ldd


# --- which platform Qt picks ---


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, True),  # Qt's default on Linux
        ({"DISPLAY": ":0"}, True),
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": ""}, True),  # empty counts as unset, as in Qt
        ({"QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "XCB:nograb"}, True),  # plugin arguments after the colon
        ({"QT_QPA_PLATFORM": "xcb;wayland", "WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, False),
        ({"QT_QPA_PLATFORM": "minimal;xcb"}, False),
        ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, False),  # no fallback to xcb: Qt fails on its own
    ],
)
def test_qt_picks_xcb_by_default_and_when_asked(environ: dict[str, str], expected: bool) -> None:
    assert will_use_xcb(environ, platform="linux") is expected


@pytest.mark.parametrize(
    "wayland",
    [
        {"WAYLAND_DISPLAY": "wayland-1"},
        {"XDG_SESSION_TYPE": "wayland"},  # libwayland's default socket, wayland-0
        {"WAYLAND_DISPLAY": "wayland-1", "XDG_SESSION_TYPE": "wayland"},
        {"WAYLAND_DISPLAY": "wayland-1", "QT_QPA_PLATFORM": "wayland;xcb"},
    ],
)
def test_a_wayland_session_prefers_wayland_while_its_compositor_answers(
    wayland: dict[str, str], tmp_path: Path
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    environ = {"DISPLAY": ":0", "XDG_RUNTIME_DIR": str(runtime), **wayland}
    assert will_use_xcb(environ, platform="linux")  # no socket: Qt falls back to xcb
    socket = runtime / environ.get("WAYLAND_DISPLAY", "wayland-0")
    socket.touch()
    assert not will_use_xcb(environ, platform="linux")


def test_wayland_sockets_are_found_as_libwayland_finds_them(tmp_path: Path) -> None:
    socket = tmp_path / "my-compositor"
    socket.touch()
    assert not will_use_xcb({"WAYLAND_DISPLAY": str(socket)}, platform="linux")  # an absolute path
    assert will_use_xcb({"WAYLAND_DISPLAY": "my-compositor"}, platform="linux")  # no XDG_RUNTIME_DIR
    assert will_use_xcb({"WAYLAND_DISPLAY": "", "XDG_RUNTIME_DIR": str(tmp_path)}, platform="linux")
    assert not will_use_xcb({"WAYLAND_DISPLAY": "gone", "WAYLAND_SOCKET": "3"}, platform="linux")


@pytest.mark.parametrize("platform", ["win32", "darwin", "freebsd14"])
def test_only_linux_is_checked(platform: str) -> None:
    assert not will_use_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, platform=platform)


# --- what ldd says ---


def test_ldd_lines_give_each_library_and_where_it_was_found() -> None:
    found = linked_libraries(Path("libqxcb.so"), lambda _: LDD_PLUGIN)
    assert list(found) == [
        "libQt6XcbQpa.so.6",
        "libxcb-cursor.so.0",
        "libxcb-icccm.so.4",
        "libxcb-keysyms.so.1",
        "libc.so.6",
    ]  # the vdso and the loader are no libraries to find
    assert found["libxcb-cursor.so.0"] == Path("/lib/x86_64-linux-gnu/libxcb-cursor.so.0")
    assert found["libxcb-icccm.so.4"] is None
    assert linked_libraries(Path("x"), lambda _: "\tstatically linked\n") == {}
    assert linked_libraries(Path("x"), lambda _: None) == {}


def test_missing_libraries_come_from_the_plugin_and_qts_xcb_library(tmp_path: Path) -> None:
    plugin = qt_tree(tmp_path)
    asked, ldd = fake_ldd({"libqxcb.so": LDD_PLUGIN, "libQt6XcbQpa.so.6": LDD_QPA})
    missing = missing_libraries(plugin, ldd)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-image.so.0"]  # once each
    assert [p.name for p in asked] == ["libqxcb.so", "libQt6XcbQpa.so.6"]


def test_a_check_that_cannot_run_finds_nothing_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = qt_tree(tmp_path)
    assert missing_libraries(plugin, lambda _: None) == []  # ldd failed
    asked, ldd = fake_ldd({})
    assert missing_libraries(tmp_path / "no-plugin.so", ldd) == [] and asked == []
    monkeypatch.setenv("PATH", str(tmp_path))  # no ldd at all
    assert system_libs.run_ldd(plugin) is None
    assert missing_libraries(plugin) == []


def test_the_installed_qt_plugin_is_found_without_importing_qt() -> None:
    code = (
        "import sys; from desktop_app.core import system_libs as s; p = s.xcb_plugin(); "
        "print(p.name if p else None, sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    expected = "libqxcb.so" if sys.platform.startswith("linux") else "None"
    assert done.stdout.split() == [expected, "[]"]


# --- the packages ---


def test_every_x11_library_the_installed_plugin_loads_has_its_packages() -> None:
    plugin = system_libs.xcb_plugin()
    if plugin is None or system_libs.run_ldd(plugin) is None:
        pytest.skip("no xcb plugin or no ldd here")
    loaded = linked_libraries(plugin)
    x11 = [name for name in loaded if re.match(r"lib(xcb|X|xkbcommon|E?GL|OpenGL|fontconfig|dbus)", name)]
    assert "libxcb-icccm.so.4" in x11 and "libxcb-cursor.so.0" in x11
    assert [name for name in x11 if name not in PACKAGES] == []


def test_the_table_is_well_formed() -> None:
    for soname, packages in PACKAGES.items():
        assert re.fullmatch(r"lib[\w.+-]+\.so\.\d+", soname), soname
        assert re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", packages.debian), packages  # Debian policy: lower case
        assert re.fullmatch(r"[\w.+-]+", packages.fedora), packages
    assert set(BUNDLED) <= set(PACKAGES)
    assert PACKAGES["libxcb-cursor.so.0"] == ("libxcb-cursor0", "xcb-util-cursor")
    assert PACKAGES["libxcb-icccm.so.4"] == ("libxcb-icccm4", "xcb-util-wm")
    assert PACKAGES["libxcb-keysyms.so.1"] == ("libxcb-keysyms1", "xcb-util-keysyms")
    assert PACKAGES["libxkbcommon-x11.so.0"] == ("libxkbcommon-x11-0", "libxkbcommon-x11")


def test_advice_names_the_libraries_and_the_apt_and_dnf_lines() -> None:
    text = advice(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-randr.so.0", "libxcb-shape.so.0"])
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1, libxcb-randr.so.0, libxcb-shape.so.0" in text
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1 libxcb-randr0 libxcb-shape0\n" in text
    assert text.endswith("sudo dnf install xcb-util-wm xcb-util-keysyms libxcb")  # libxcb once


def test_advice_lists_unknown_libraries_as_they_are() -> None:
    text = advice(["libxcb-cursor.so.0", "libunheard-of.so.3"])
    assert "libxcb-cursor.so.0, libunheard-of.so.3." in text
    assert "sudo apt install libxcb-cursor0\n" in text and "sudo dnf install xcb-util-cursor\n" in text
    assert "apt-file search libunheard-of.so.3" in text and "dnf provides '*/libunheard-of.so.3'" in text
    alone = advice(["libunheard-of.so.3"])
    assert "libunheard-of.so.3" in alone and "sudo apt install" not in alone and "sudo dnf install" not in alone


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt uses no X11 plugin here")
def test_check_before_qt_speaks_only_when_xcb_will_load_and_lacks_something(monkeypatch: pytest.MonkeyPatch) -> None:
    missing: list[str] = ["libxcb-icccm.so.4"]
    calls: list[None] = []

    def fake_missing() -> list[str]:
        calls.append(None)
        return missing

    monkeypatch.setattr(system_libs, "missing_libraries", fake_missing)
    text = check_before_qt({"DISPLAY": ":0"})
    assert text is not None and "sudo apt install libxcb-icccm4" in text
    assert check_before_qt({"QT_QPA_PLATFORM": "offscreen"}) is None and len(calls) == 1  # ldd not even run
    missing.clear()
    assert check_before_qt({"DISPLAY": ":0"}) is None


# --- what a user without the libraries sees ---


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not missing_libraries(),
    reason="this machine has every library Qt's xcb plugin needs",
)
def test_the_window_on_a_machine_without_them_names_the_packages_to_install(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env |= {"DISPLAY": ":99", "HOME": str(tmp_path), "INKWELL_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "desktop_app"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "could not load the qt platform plugin" not in done.stderr.lower()
    for soname in missing_libraries():
        assert soname in done.stderr
        if soname in PACKAGES:
            assert PACKAGES[soname].debian in done.stderr and PACKAGES[soname].fedora in done.stderr
    assert "sudo apt install" in done.stderr and "sudo dnf install" in done.stderr
    assert "Traceback" not in done.stderr
