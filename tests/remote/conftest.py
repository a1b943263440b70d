"""Servers the remote tests talk to, all started here on 127.0.0.1 with an ephemeral port and
stopped at the end: the scripted fake (faults), llama.cpp's own server (a real one).

Inkwell's own `inkwell serve` is the third: see test_inkwell_serve.py."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.remote.fake_server import FakeServer


@pytest.fixture(autouse=True)
def file_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys in the private file, never in the keyring of whoever runs the tests."""
    monkeypatch.setenv("INKWELL_KEYRING", "file")


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def keyed_server() -> Iterator[FakeServer]:
    server = FakeServer(api_key="sk-test-secret-1234").start()
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LLAMA_ALIAS = "smollm2"


@pytest.fixture(scope="session")
def llama_server(llama_cpp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """llama.cpp's OpenAI-compatible server (llama-cpp-python) on the default model's GGUF;
    yields its base URL."""
    from desktop_app.models.workspace import locate_default_gguf

    gguf = locate_default_gguf()
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "llama_cpp.server",
                "--model", str(gguf), "--model_alias", LLAMA_ALIAS,
                "--host", "127.0.0.1", "--port", str(port),
                "--n_ctx", "1024", "--n_threads", "2", "--verbose", "False",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama.cpp's server exited ({process.returncode}):\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"llama.cpp's server did not start within 90 s:\n{log.read_text(errors='replace')[-2000:]}")
