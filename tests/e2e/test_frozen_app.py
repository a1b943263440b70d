"""The installed app: build it with PyInstaller from packaging/inkwell.spec, then run it as a
user would, on a new account (an empty HOME) and with no network.

A missing hidden import or resource fails here, not on a user's first start.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_app.core import system_libs
from desktop_app.core.manifest import ModelManifest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def frozen_app(prepared: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    model_dir, _ = prepared
    out = tmp_path_factory.mktemp("frozen")
    env = dict(os.environ, INKWELL_FLAVOUR="cpu", INKWELL_BUNDLE_MODEL=str(model_dir))
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    done = subprocess.run(
        [str(pyinstaller), "--noconfirm", "--log-level", "WARN", "--distpath", str(out / "dist"),
         "--workpath", str(out / "build"), str(ROOT / "packaging" / "inkwell.spec")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )  # fmt: skip
    (out / "pyinstaller.log").write_text(done.stderr)  # what the build said, beside dist/
    assert done.returncode == 0, done.stderr[-3000:]
    return out / "dist" / "Inkwell"


def new_account(tmp_path: Path) -> dict[str, str]:
    """An environment like a new user's: an empty HOME, no Inkwell variables, a UTF-8 locale."""
    home = tmp_path / "home"
    home.mkdir()
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
    return keep | {"HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}


def offline(command: list[str]) -> list[str]:
    """Run in a network namespace of its own (no network at all) when the system allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn", *command]
    pytest.skip("unshare -rn is not available here, so 'no network' cannot be enforced")


def test_the_bundle_has_the_model_and_none_of_the_export_tools(frozen_app: Path) -> None:
    internal = frozen_app / "_internal"
    assert (frozen_app / "Inkwell").stat().st_mode & stat.S_IXUSR
    for heavy in ("torch", "transformers", "optimum", "llama_cpp", "gguf"):
        assert not (internal / heavy).exists(), heavy
    assert (internal / "onnx").is_dir()  # GGUF imports write their graphs with it
    # Inkwell's operators on GGUF blocks, which ONNX Runtime loads by path
    assert list((internal / "desktop_app" / "engine").glob("_ggml_ops*"))
    model = internal / "onnx_models" / "smollm2-135m-instruct"
    manifest = ModelManifest.read(model)
    assert [v.quantization for v in manifest.variants] == ["q4"]  # the CPU flavour
    assert (model / "model.q4.onnx").is_file() and not (model / "model.fp16.onnx").exists()
    assert (model / "model.q4.onnx.data").is_file()  # the weights, beside the graph
    assert not list(internal.glob("**/libonnxruntime_providers_cuda*"))
    assert (internal / "resources" / "icons" / "inkwell.svg").is_file()
    # response_format's grammar library: its extension, and the metadata it reads on import
    assert list((internal / "llguidance").glob("_lib*")) and list(internal.glob("llguidance-*.dist-info"))


def bundled_ldd(frozen_app: Path) -> system_libs.Ldd:
    """ldd as the installed app's loader sees: the bundle's folder on LD_LIBRARY_PATH, as
    its bootloader sets it."""
    return functools.partial(
        system_libs.run_ldd, environ=dict(os.environ, LD_LIBRARY_PATH=str(frozen_app / "_internal"))
    )


def test_the_bundle_carries_the_x11_libraries_the_build_machine_has_and_names_the_others(frozen_app: Path) -> None:
    internal = frozen_app / "_internal"
    plugin = system_libs.xcb_plugin(internal / "PySide6" / "Qt")
    assert plugin is not None
    here = system_libs.xcb_plugin()
    assert here is not None and system_libs.run_ldd(here) is not None, "no xcb plugin or no ldd on this machine"
    on_this_machine = system_libs.linked_libraries(here)
    lacking = system_libs.missing_libraries(here)
    in_bundle = system_libs.linked_libraries(plugin, bundled_ldd(frozen_app))
    for soname in system_libs.BUNDLED:
        if on_this_machine.get(soname):  # loaded from the bundle first, so a machine without it runs
            assert (internal / soname).is_file() and in_bundle[soname] == internal / soname, soname
    build_log = (frozen_app.parents[1] / "pyinstaller.log").read_text()
    for soname in lacking:
        assert f"WARNING: {soname} is not on this build machine" in build_log
    # The bundle misses only what this machine lacks; Qt's own libraries resolve inside it.
    assert sorted(system_libs.missing_libraries(plugin, bundled_ldd(frozen_app))) == sorted(lacking)


def test_the_installed_app_without_x11_libraries_names_the_packages_to_install(
    frozen_app: Path, tmp_path: Path
) -> None:
    plugin = system_libs.xcb_plugin(frozen_app / "_internal" / "PySide6" / "Qt")
    assert plugin is not None
    lacking = system_libs.missing_libraries(plugin, bundled_ldd(frozen_app))
    if not lacking:
        pytest.skip("the bundle carries every library Qt's xcb plugin needs (the build machine had them all)")
    env = {k: v for k, v in new_account(tmp_path).items() if k != "QT_QPA_PLATFORM"} | {"DISPLAY": ":99"}
    done = subprocess.run([str(frozen_app / "Inkwell")], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "could not load the qt platform plugin" not in done.stderr.lower() and "Traceback" not in done.stderr
    assert "sudo apt install" in done.stderr and "sudo dnf install" in done.stderr
    for soname in lacking:
        assert soname in done.stderr
        if soname in system_libs.PACKAGES:
            packages = system_libs.PACKAGES[soname]
            assert packages.debian in done.stderr and packages.fedora in done.stderr


def test_the_installed_app_with_every_x11_library_loads_qts_x11_plugin(frozen_app: Path, tmp_path: Path) -> None:
    """No advice where nothing is missing: Qt's X11 plugin loads and looks for the display."""
    plugin = system_libs.xcb_plugin(frozen_app / "_internal" / "PySide6" / "Qt")
    assert plugin is not None
    if system_libs.missing_libraries(plugin, bundled_ldd(frozen_app)):
        pytest.skip("the bundle lacks libraries this machine lacks too (the test above covers it)")
    if Path("/tmp/.X11-unix/X4711").exists():
        pytest.skip("an X server answers at :4711 here")
    env = {k: v for k, v in new_account(tmp_path).items() if k != "QT_QPA_PLATFORM"} | {"DISPLAY": ":4711"}
    done = subprocess.run([str(frozen_app / "Inkwell")], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "could not connect to display" in done.stderr and "sudo apt install" not in done.stderr


def test_the_self_test_passes_with_no_network(frozen_app: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        offline([str(frozen_app / "Inkwell"), "--self-test"]),
        env=new_account(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "self-test passed" in done.stdout and "on CPU" in done.stdout
    assert "Paris" in done.stdout


def test_the_installed_app_speaks_chinese_from_its_bundled_translation(frozen_app: Path, tmp_path: Path) -> None:
    resources = frozen_app / "_internal" / "resources"
    assert (resources / "translations" / "inkwell_zh_CN.qm").is_file()
    assert (resources / "fonts" / "InkwellFallbackSC.otf").is_file()
    assert list((frozen_app / "_internal" / "PySide6" / "Qt" / "translations").glob("qtbase_zh_CN.qm"))
    env = new_account(tmp_path) | {"LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"}  # the system's language
    done = subprocess.run(
        [str(frozen_app / "Inkwell"), "--self-test"], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "运行于 CPU" in done.stdout  # the status bar's text, as the self-test reports it


def test_the_first_start_on_a_new_account_makes_a_private_data_folder_and_loads_the_model(
    frozen_app: Path, tmp_path: Path
) -> None:
    env = new_account(tmp_path)
    data = Path(env["HOME"]) / ".local" / "share" / "Inkwell"
    log = data / "logs" / "inkwell.log"
    app = subprocess.Popen(
        offline([str(frozen_app / "Inkwell")]), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and app.poll() is None:
            if log.is_file() and "Model loaded: smollm2-135m-instruct (q4) on CPU" in log.read_text():
                break
            time.sleep(0.2)
        assert app.poll() is None, app.stdout.read() if app.stdout else ""
        assert "Model loaded" in log.read_text()
    finally:
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    database = data / "inkwell.db"
    assert database.is_file() and stat.S_IMODE(database.stat().st_mode) == 0o600


def test_the_cli_works_frozen_and_preparing_models_says_why_not(frozen_app: Path, tmp_path: Path) -> None:
    env = new_account(tmp_path)
    listed = subprocess.run(
        [str(frozen_app / "Inkwell"), "models", "list", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    [model] = json.loads(listed.stdout)
    assert model["id"] == "smollm2-135m-instruct" and model["default"] and model["quantizations"] == ["q4"]
    prepare = subprocess.run(
        [str(frozen_app / "Inkwell"), "models", "prepare", "--force"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert prepare.returncode == 2
    assert "ready to run" in prepare.stderr and "models import" in prepare.stderr and "Traceback" not in prepare.stderr
    # A folder of a type the stream route knows needs no export tools: a broken one is told
    # what is wrong with it; another type needs the export tools the bundle leaves out.
    for model_type, wanted in (("llama", "num_attention_heads"), ("gpt2", "export tools")):
        hf_folder = tmp_path / f"hf-{model_type}"
        hf_folder.mkdir()
        (hf_folder / "config.json").write_text(json.dumps({"model_type": model_type}))
        (hf_folder / "model.safetensors").write_bytes(b"")
        refused = subprocess.run(
            [str(frozen_app / "Inkwell"), "models", "import", str(hf_folder)], env=env, capture_output=True, text=True
        )
        assert refused.returncode == 2
        assert wanted in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert "GGUF" in refused.stderr  # the export tools' message names the other way in


def test_the_installed_app_imports_a_gguf_file_and_runs_it(frozen_app: Path, tmp_path: Path) -> None:
    """No transformers, torch or gguf package in the bundle: the tokenizer comes from the
    file's metadata through `tokenizers`, the graph is written with onnx."""
    from tests.unit.models.gguf_fixtures import write_gguf

    env = new_account(tmp_path)
    gguf = write_gguf(tmp_path / "tiny.gguf", "qwen2")
    imported = subprocess.run(
        offline([str(frozen_app / "Inkwell"), "models", "import", str(gguf), "--id", "tiny"]),
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stdout + imported.stderr
    asked = subprocess.run(
        offline([str(frozen_app / "Inkwell"), "ask", "--model", "tiny", "--raw", "--max-new-tokens", "4", "Hello"]),
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert asked.returncode == 0 and "Traceback" not in asked.stderr, asked.stdout + asked.stderr


def test_the_installed_app_scores_the_shipped_evaluation_set(frozen_app: Path, tmp_path: Path) -> None:
    """sacrebleu picks its tokenizer by name and rouge-score stems with nltk: both must be in
    the bundle, with the metadata the report names their versions from."""
    env = new_account(tmp_path)
    done = subprocess.run(
        offline([str(frozen_app / "Inkwell"), "eval", "run", "--limit", "2", "--max-new-tokens", "8", "--json"]),
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    report = json.loads(done.stdout)
    [system] = report["systems"]
    assert system["items_done"] == 2 and {"bleu", "chrf", "rougeL"} <= set(system["scores"])
    assert "unknown" not in (report["metrics"]["rouge_score"], report["metrics"]["nltk"])
    assert report["metrics"]["signatures"]["bleu"].endswith(
        "tok:13a|smooth:exp|version:" + report["metrics"]["sacrebleu"]
    )


def test_install_puts_a_valid_menu_entry_and_uninstall_removes_it(frozen_app: Path, tmp_path: Path) -> None:
    env = new_account(tmp_path)
    home = Path(env["HOME"])
    done = subprocess.run(
        ["sh", str(ROOT / "packaging" / "install.sh"), str(frozen_app)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    entry = home / ".local" / "share" / "applications" / "inkwell.desktop"
    text = entry.read_text()
    app = home / ".local" / "share" / "inkwell-app" / "app" / "Inkwell"
    assert f"Exec={app}\n" in text and "Icon=inkwell\n" in text and "Terminal=false\n" in text
    assert (home / ".local" / "share" / "icons" / "hicolor" / "256x256" / "apps" / "inkwell.png").is_file()
    assert os.path.realpath(home / ".local" / "bin" / "inkwell") == str(app)
    validator = shutil.which("desktop-file-validate")
    if validator:  # Debian's desktop-file-utils; our own checks above run everywhere
        checked = subprocess.run([validator, str(entry)], capture_output=True, text=True)
        assert checked.returncode == 0 and checked.stdout == "", checked.stdout + checked.stderr
    listed = subprocess.run(
        [str(home / ".local" / "bin" / "inkwell"), "models", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0 and "smollm2-135m-instruct" in listed.stdout
    removed = subprocess.run(
        ["sh", str(home / ".local" / "share" / "inkwell-app" / "uninstall.sh")], env=env, capture_output=True, text=True
    )
    assert removed.returncode == 0, removed.stderr
    assert not entry.exists() and not app.exists() and not (home / ".local" / "bin" / "inkwell").exists()


def test_the_installed_app_lists_and_calls_an_mcp_servers_tools(frozen_app: Path, tmp_path: Path) -> None:
    """The MCP SDK frozen: a stdio server (the tests' own, run by this Python) is listed and
    a built-in tool runs, with no network."""
    env = new_account(tmp_path)
    app = str(frozen_app / "Inkwell")
    server = str(ROOT / "tests" / "unit" / "tools" / "mcp_server.py")
    env_with_sdk = env | {"PYTHONPATH": os.pathsep.join(sys.path)}  # the server is this Python's, with its SDK
    added = subprocess.run(
        [app, "mcp", "add", "demo", "--", sys.executable, server], env=env, capture_output=True, text=True
    )
    assert added.returncode == 0, added.stderr
    listed = subprocess.run(
        offline([app, "mcp", "list", "--json"]), env=env_with_sdk, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    [demo] = json.loads(listed.stdout)["servers"]
    assert [tool["name"] for tool in demo["tools"]] == ["add", "refuse", "nap", "crash"], demo
