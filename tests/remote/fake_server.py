"""A minimal scripted OpenAI-compatible server (stdlib http.server) for the faults a real one
rarely shows on demand. The model named in the request picks the behaviour:

ok        streams "Hello", " world", "!" then finish_reason "stop" and [DONE]
dies      streams two pieces, then closes the connection (no finish, no [DONE])
busy      429 with Retry-After: 0 the first `busy_times` requests, then as ok
unavail   503 every time
broken    500 with OpenAI's error JSON
denied    403
slow      says nothing for `slow_s` seconds
trickle   a piece every 50 ms, 400 of them; notes when the client hangs up
ignores-stop  streams "one two STOP three" whatever `stop` says
Anything needs "Authorization: Bearer <api_key>" when `api_key` is set (else 401).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODELS = ("ok", "dies", "busy", "unavail", "broken", "denied", "slow", "trickle", "ignores-stop")


class FakeServer:
    def __init__(self, api_key: str | None = None, busy_times: int = 2, slow_s: float = 3.0) -> None:
        self.api_key = api_key
        self.busy_times = busy_times
        self.slow_s = slow_s
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []  # (path, body, headers)
        self.counts: dict[str, int] = {}
        self.client_hung_up = threading.Event()
        self.pieces_sent = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                owner.requests.append((self.path, {}, dict(self.headers)))
                if not owner._authorized(self):
                    return
                if self.path == "/v1/models":
                    data = [{"id": m, "object": "model"} for m in MODELS]
                    data[0]["context_length"] = 2048
                    self._json(200, {"object": "list", "data": data})
                else:
                    self._json(404, {"error": {"message": "no such route"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append((self.path, body, dict(self.headers)))
                if not owner._authorized(self):
                    return
                if self.path not in ("/v1/chat/completions", "/v1/completions"):
                    self._json(404, {"error": {"message": "no such route"}})
                    return
                owner._answer(self, body)

            def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.handler = Handler
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-openai", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def _authorized(self, handler: Any) -> bool:
        if self.api_key is None or handler.headers.get("Authorization") == f"Bearer {self.api_key}":
            return True
        handler._json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
        return False

    def _answer(self, handler: Any, body: dict[str, Any]) -> None:
        model = body.get("model", "")
        self.counts[model] = self.counts.get(model, 0) + 1
        chat = handler.path.endswith("/chat/completions")
        if model == "busy" and self.counts[model] <= self.busy_times:
            handler._json(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "0"})
            return
        if model == "unavail":
            handler._json(503, {"error": {"message": "Loading"}}, {"Retry-After": "0"})
            return
        if model == "broken":
            handler._json(500, {"error": {"message": "CUDA out of memory", "type": "server_error"}})
            return
        if model == "denied":
            handler._json(403, {"error": {"message": "This key cannot use that model"}})
            return
        if model not in MODELS:
            handler._json(404, {"error": {"message": f"The model `{model}` does not exist"}})
            return
        if model == "slow":
            time.sleep(self.slow_s)
            return
        pieces = {
            "dies": ["Partial ", "answer"],
            "trickle": ["tick "] * 400,
            "ignores-stop": ["one ", "two ", "ST", "OP three"],
        }.get(model, ["Hello", " world", "!"])
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            for piece in pieces:
                delta = {"delta": {"content": piece}} if chat else {"text": piece}
                self._event(handler, {"choices": [{"index": 0, **delta, "finish_reason": None}]})
                self.pieces_sent += 1
                if model == "trickle":
                    time.sleep(0.05)
            if model == "dies":
                handler.close_connection = True
                handler.connection.shutdown(2)  # mid-reply: no finish_reason, no [DONE]
                return
            end = {"delta": {}} if chat else {"text": ""}
            self._event(handler, {"choices": [{"index": 0, **end, "finish_reason": "stop"}]})
            handler.wfile.write(b"data: [DONE]\n\n")
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.client_hung_up.set()

    @staticmethod
    def _event(handler: Any, chunk: dict[str, Any]) -> None:
        handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        handler.wfile.flush()
