"""The system libraries Qt's X11 platform plugin (xcb) needs, checked before Qt starts.

PySide6's wheels carry Qt but not the X11 helper libraries its xcb plugin links to. When
one is missing, QApplication aborts with Qt's own text, which names a library that may not
be the missing one, or none at all. This module asks `ldd` which are missing and says
which packages provide them on Debian/Ubuntu and Fedora. It imports no Qt: it runs before
Qt can fail, and a check that cannot run (no `ldd`, no plugin) never blocks a start.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final, NamedTuple, TypeAlias


class Packages(NamedTuple):
    """The packages that install one library."""

    debian: str  # Debian and Ubuntu (apt)
    fedora: str  # Fedora (dnf)


# Every library Qt 6's xcb plugin (libqxcb.so, libQt6XcbQpa.so.6) links to, directly or
# through libxcb and Xlib: "Qt for X11 Requirements" in Qt's documentation, checked against
# the plugin's own NEEDED entries. Debian's names are lower case; Fedora packages libxcb's
# extension libraries together and splits xcb-util by area (icccm is in xcb-util-wm).
PACKAGES: Final[dict[str, Packages]] = {
    # xcb-util: small helpers that a desktop with X itself often lacks
    "libxcb-cursor.so.0": Packages("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": Packages("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": Packages("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": Packages("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": Packages("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": Packages("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": Packages("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": Packages("libxkbcommon0", "libxkbcommon"),
    # libxcb and its extensions
    "libxcb.so.1": Packages("libxcb1", "libxcb"),
    "libxcb-glx.so.0": Packages("libxcb-glx0", "libxcb"),
    "libxcb-randr.so.0": Packages("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": Packages("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": Packages("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": Packages("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": Packages("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": Packages("libxcb-xfixes0", "libxcb"),
    "libxcb-xinerama.so.0": Packages("libxcb-xinerama0", "libxcb"),
    "libxcb-xinput.so.0": Packages("libxcb-xinput0", "libxcb"),
    "libxcb-xkb.so.1": Packages("libxcb-xkb1", "libxcb"),
    # Xlib
    "libX11.so.6": Packages("libx11-6", "libX11"),
    "libX11-xcb.so.1": Packages("libx11-xcb1", "libX11-xcb"),
    "libXau.so.6": Packages("libxau6", "libXau"),
    "libXdmcp.so.6": Packages("libxdmcp6", "libXdmcp"),
    "libXrender.so.1": Packages("libxrender1", "libXrender"),
    # OpenGL through libglvnd
    "libEGL.so.1": Packages("libegl1", "libglvnd-egl"),
    "libGL.so.1": Packages("libgl1", "libglvnd-glx"),
    "libGLX.so.0": Packages("libglx0", "libglvnd-glx"),
    "libGLdispatch.so.0": Packages("libglvnd0", "libglvnd"),
    "libOpenGL.so.0": Packages("libopengl0", "libglvnd-opengl"),
    # fonts, the session bus, GLib
    "libfontconfig.so.1": Packages("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": Packages("libfreetype6", "freetype"),
    "libdbus-1.so.3": Packages("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": Packages("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": Packages("libglib2.0-0", "glib2"),
}

# What the installed app carries from its build machine (packaging/inkwell.spec): the
# xcb-util family and xkbcommon, small and stable. libxcb, Xlib and OpenGL stay the
# system's own: they must match the X server and the graphics drivers.
BUNDLED: Final[tuple[str, ...]] = (
    "libxcb-cursor.so.0",
    "libxcb-icccm.so.4",
    "libxcb-image.so.0",
    "libxcb-keysyms.so.1",
    "libxcb-render-util.so.0",
    "libxcb-util.so.1",
    "libxkbcommon-x11.so.0",
    "libxkbcommon.so.0",
)

XCB_QPA_LIBRARY: Final = "libQt6XcbQpa.so.6"
_LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(.*?)(?:\s+\(0x[0-9a-fA-F]+\))?\s*$")

Ldd: TypeAlias = Callable[[Path], str | None]  # binary -> what ldd prints, None if it cannot


def will_use_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt would start on its X11 plugin here, as Qt 6.5+ chooses (QGuiApplication).

    QT_QPA_PLATFORM, when set, is the list Qt tries in turn ("wayland;xcb"). Otherwise Qt
    tries wayland first when WAYLAND_DISPLAY is set (even empty) or XDG_SESSION_TYPE is
    "wayland", then xcb. A wayland entry counts only when its socket exists: Qt falls back
    to xcb when it cannot connect, and then needs the X11 libraries after all.
    """
    if not platform.startswith("linux"):
        return False
    requested = environ.get("QT_QPA_PLATFORM", "")
    if requested:
        order = [entry.split(":")[0].strip().lower() for entry in requested.split(";")]
    elif "WAYLAND_DISPLAY" in environ or environ.get("XDG_SESSION_TYPE") == "wayland":
        order = ["wayland", "xcb"]
    else:
        order = ["xcb"]
    for name in order:
        if name == "xcb":
            return True
        if name.startswith("wayland") and not _wayland_reachable(environ):
            continue  # Qt cannot connect there and moves on to the next
        return False  # another plugin comes first: offscreen, a live Wayland, ...
    return False


def _wayland_reachable(environ: Mapping[str, str]) -> bool:
    """Whether a Wayland client would find a compositor's socket (libwayland's rules)."""
    if environ.get("WAYLAND_SOCKET"):
        return True  # an already-open connection handed over by the compositor
    name = environ.get("WAYLAND_DISPLAY", "wayland-0")
    if not name:
        return False
    if os.path.isabs(name):
        return Path(name).exists()
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    return bool(runtime) and (Path(runtime) / name).exists()


def qt_folder() -> Path | None:
    """PySide6's Qt folder: in the installed app's bundle, else beside the PySide6 package
    (found without importing it, so without loading Qt)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "PySide6" / "Qt"
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt"


def xcb_plugin(qt: Path | None = None) -> Path | None:
    """The xcb platform plugin, libqxcb.so, or None where there is none."""
    qt = qt or qt_folder()
    plugin = qt / "plugins" / "platforms" / "libqxcb.so" if qt else None
    return plugin if plugin and plugin.is_file() else None


def run_ldd(binary: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """What `ldd` prints for a binary (with `environ`'s LD_LIBRARY_PATH), or None when it
    cannot run. Inside the installed app, the bundle's folder is on LD_LIBRARY_PATH."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        done = subprocess.run(
            [ldd, str(binary)],
            capture_output=True,
            text=True,
            timeout=15,
            env=dict(environ) if environ is not None else None,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def linked_libraries(binary: Path, ldd: Ldd = run_ldd) -> dict[str, Path | None]:
    """Each library `binary` loads (sonames, in ldd's order) and where it was found; None
    where it was not. Empty when ldd cannot say."""
    output = ldd(binary)
    found: dict[str, Path | None] = {}
    for line in (output or "").splitlines():
        match = _LDD_LINE.match(line)
        if match is None:  # the vdso, the loader itself, "statically linked"
            continue
        name, target = match.groups()
        found[name] = None if target == "not found" else Path(target)
    return found


def missing_libraries(plugin: Path | None = None, ldd: Ldd = run_ldd) -> list[str]:
    """The sonames ldd reports "not found" for the xcb plugin and for libQt6XcbQpa.so.6,
    in the order ldd lists them; empty when ldd or the plugin is not there."""
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return []
    binaries = [plugin]
    if len(plugin.parents) > 2:  # Qt/plugins/platforms/libqxcb.so -> Qt/lib/libQt6XcbQpa.so.6
        binaries.append(plugin.parents[2] / "lib" / XCB_QPA_LIBRARY)
    missing: list[str] = []
    for binary in binaries:
        if not binary.is_file():
            continue
        for name, where in linked_libraries(binary, ldd).items():
            if where is None and name not in missing:
                missing.append(name)
    return missing


def advice(missing: list[str]) -> str:
    """What to tell the user: the missing libraries and the commands that install them."""
    known = [name for name in missing if name in PACKAGES]
    unknown = [name for name in missing if name not in PACKAGES]
    debian = list(dict.fromkeys(PACKAGES[name].debian for name in known))
    fedora = list(dict.fromkeys(PACKAGES[name].fedora for name in known))
    lines = [
        "The window cannot open: Qt's X11 support needs system libraries that are not installed: "
        + ", ".join(missing)
        + "."
    ]
    if known:
        lines += [
            "Install them, then start Inkwell again:",
            "  Debian, Ubuntu:  sudo apt install " + " ".join(debian),
            "  Fedora:          sudo dnf install " + " ".join(fedora),
        ]
    for name in unknown:
        lines.append(f"  {name}: find its package with `apt-file search {name}` or `dnf provides '*/{name}'`")
    return "\n".join(lines)


def check_before_qt(environ: Mapping[str, str] = os.environ) -> str | None:
    """The advice when Qt would start on X11 and libraries it needs are missing, else None."""
    if not will_use_xcb(environ):
        return None
    missing = missing_libraries()
    return advice(missing) if missing else None
