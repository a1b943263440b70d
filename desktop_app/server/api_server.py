"""The OpenAI-compatible HTTP server, on the standard library's ThreadingHTTPServer.

Each connection has its own thread; a generation request is submitted to the app's one
Scheduler as Source.API (so the window's chat and co-writer go first) and its handle's
events are turned into a JSON answer or a stream of server-sent events. The answer's
status is decided before any byte of it is sent: the server waits for the prompt to be
prepared, so a prompt that does not fit is a 400, not a broken stream.
"""

from __future__ import annotations

import hmac
import json
import logging
import select
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import desktop_app.engine
from desktop_app.core.errors import UserError
from desktop_app.core.i18n import english
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, ReasoningChunk, TextChunk
from desktop_app.server.protocol import ApiCall, ApiError, bad, parse_chat, parse_completion, parse_json
from desktop_app.server.relay import StreamRelay, chunk_encoder, sse
from desktop_app.server.responses import Shapes, model_object, usage
from desktop_app.session.scheduler import (
    CONTEXT_LENGTH_EXCEEDED,
    Completed,
    EngineInfo,
    Failed,
    GenerationHandle,
    HandleEvent,
    Source,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
IDLE_TIMEOUT_S = 60.0  # a connection that sends nothing (or reads nothing) for this long is closed


@dataclass(frozen=True)
class ServerConfig:
    api_key: str
    host: str = "127.0.0.1"
    port: int = 8750  # 0: any free port (tests)
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = MAX_BODY_BYTES
    # API requests waiting or running at once; one more is answered 429.
    max_pending: int = 16
    default_max_tokens: int = 512  # for chat completions that set no max_tokens
    model_wait_s: float = 30.0  # how long a request waits for a model that is still loading


class SchedulerLike(Protocol):
    @property
    def info(self) -> EngineInfo | None: ...

    def wait_until_loaded(self, timeout_s: float | None = None) -> EngineInfo: ...

    def submit(
        self, request: GenerationRequest, source: Source, listener: Callable[[HandleEvent], None] | None = None
    ) -> GenerationHandle: ...


class HistoryLike(Protocol):
    def record(self, request: GenerationRequest, model_id: str, provider: str, results: list[Finished]) -> None: ...


class ClientGone(Exception):
    """The client closed the connection before its answer was complete."""


class ApiServer:
    """Serves the scheduler's model over HTTP until shutdown(); safe to start and stop from any thread."""

    def __init__(
        self,
        scheduler: SchedulerLike,
        config: ServerConfig,
        history: HistoryLike | None = None,
        on_request: Callable[[int], None] | None = None,
    ) -> None:
        if not config.api_key:
            raise ValueError("the API server needs a key")
        self.scheduler = scheduler
        self.config = config
        self.history = history
        self.on_request = on_request  # called with the count of generation requests so far
        self._lock = threading.Lock()
        self._pending = 0
        self._served = 0
        self._handles: set[GenerationHandle] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- life cycle ----

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"api": self})
        try:
            httpd = _HttpServer((self.config.host, self.config.port), handler)
        except OSError as exc:
            raise UserError(
                f"The API server cannot listen on {self.config.host}:{self.config.port}: {exc.strerror or exc}.",
                hint="Another program may use that port: choose another one.",
            ) from None
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="inkwell-api-server", daemon=True)
        self._thread.start()
        log.info("API server listening on %s", self.url)

    def shutdown(self) -> None:
        """Stop listening and cancel what the API asked for (each stops within a token)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            for handle in self._handles:
                handle.cancel()
        if self._thread is not None:
            self._thread.join(5)
        log.info("API server stopped")

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def address(self) -> tuple[str, int]:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/v1"

    @property
    def requests_served(self) -> int:
        return self._served

    @property
    def pending(self) -> int:
        return self._pending

    # ---- what the handlers share ----

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), self.config.api_key.encode())

    def model_info(self) -> EngineInfo:
        info = self.scheduler.info
        if info is not None:
            return info
        try:
            return self.scheduler.wait_until_loaded(self.config.model_wait_s)
        except UserError as exc:
            raise ApiError(503, f"The model is not ready: {exc.message}", error_type="server_error") from None

    def submit(self, call: ApiCall, listener: Callable[[HandleEvent], None] | None = None) -> GenerationHandle:
        with self._lock:
            if self._pending >= self.config.max_pending:
                raise ApiError(
                    429,
                    f"Too many requests are waiting for the model ({self._pending}); try again shortly.",
                    error_type="rate_limit_error",
                    code="rate_limit_exceeded",
                    headers={"Retry-After": "1"},
                )
            self._pending += 1
        try:
            handle = self.scheduler.submit(call.request, Source.API, listener)
        except UserError as exc:
            with self._lock:
                self._pending -= 1
            raise ApiError(503, exc.message, error_type="server_error") from None
        with self._lock:
            self._handles.add(handle)
        return handle

    def release(self, handle: GenerationHandle) -> None:
        with self._lock:
            self._pending -= 1
            self._handles.discard(handle)
            self._served += 1
            served = self._served
        if self.on_request is not None:
            try:
                self.on_request(served)
            except Exception:
                log.exception("The request counter's listener failed")


class _HttpServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its connection is no error (the standard library prints a
        traceback to the terminal for it); anything else goes to the log."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            log.exception("The API server failed on a connection from %s", client_address[0])


class _Handler(BaseHTTPRequestHandler):
    api: ApiServer
    _body_read = False
    protocol_version = "HTTP/1.1"
    server_version = "Inkwell"
    timeout = IDLE_TIMEOUT_S
    # TCP_NODELAY: a stream is many small writes; Nagle's algorithm would hold each one back
    # until the client acknowledged the last.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return self.server_version  # not Python's version: nothing for a scanner to match

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # ---- plumbing ----

    def _cors_headers(self) -> dict[str, str]:
        origin = self.headers.get("Origin")
        if origin and origin.rstrip("/") in self.api.config.cors_origins:
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in {**self._cors_headers(), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error(self, error: ApiError) -> None:
        try:
            self._send_json(error.status, error.body(), error.headers)
        except OSError:
            self.close_connection = True

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise ApiError(411, "Send the body with a Content-Length (chunked bodies are not accepted).")
        length_text = self.headers.get("Content-Length")
        try:
            length = int(length_text) if length_text is not None else 0
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise bad("The Content-Length header is not a number.")
        if length > self.api.config.max_body_bytes:
            self.close_connection = True  # the body is left unread
            raise ApiError(
                413,
                f"The request body is {length} bytes; the limit is {self.api.config.max_body_bytes}.",
                code="request_too_large",
            )
        body = self.rfile.read(length)
        self._body_read = True
        return body

    def _client_gone(self) -> bool:
        """The client closed its end (it is not expected to send more while it waits)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _route(self, method: str) -> None:
        self._body_read = False
        with english():  # answered in English whatever the window shows: clients read the words
            try:
                if method != "OPTIONS" and not self.api.authorized(self.headers.get("Authorization")):
                    raise ApiError(
                        401,
                        "Missing or wrong API key: send 'Authorization: Bearer KEY' with the key shown in Inkwell's settings.",
                        code="invalid_api_key",
                    )
                path = self.path.split("?", 1)[0].rstrip("/")
                if method == "OPTIONS":
                    self._preflight()
                elif method == "GET" and path == "/v1/models":
                    self._send_json(200, {"object": "list", "data": [model_object(self.api.model_info().model_id)]})
                elif method == "GET" and path.startswith("/v1/models/"):
                    self._one_model(path[len("/v1/models/") :])
                elif method == "POST" and path == "/v1/chat/completions":
                    self._generate(lambda data: parse_chat(data, self.api.config.default_max_tokens))
                elif method == "POST" and path == "/v1/completions":
                    self._generate(parse_completion)
                else:
                    if method == "POST":
                        self._read_body()  # leave the connection clean for the next request
                    raise ApiError(404, f"There is no {method} {path} here.", code="unknown_url")
            except ApiError as error:
                if not self._body_read and self.headers.get("Content-Length", "0") != "0":
                    self.close_connection = True  # the unread body would be taken for the next request
                self._send_error(error)
            except ClientGone:
                self.close_connection = True
            except OSError:
                self.close_connection = True
            except Exception:
                log.exception("The API server failed on %s %s", method, self.path)
                self.close_connection = True
                self._send_error(
                    ApiError(500, "Something went wrong in Inkwell (see its log).", error_type="server_error")
                )

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_OPTIONS(self) -> None:
        self._route("OPTIONS")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _preflight(self) -> None:
        origin = self.headers.get("Origin", "")
        if not origin or origin.rstrip("/") not in self.api.config.cors_origins:
            raise ApiError(403, "Cross-origin requests from this origin are not allowed.", code="origin_not_allowed")
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", origin)
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Vary", "Origin")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _one_model(self, model_id: str) -> None:
        info = self.api.model_info()
        if model_id != info.model_id:
            raise ApiError(404, f"The model {model_id!r} does not exist here.", param="model", code="model_not_found")
        self._send_json(200, model_object(info.model_id))

    # ---- generation ----

    def _generate(self, parse: Callable[[dict[str, Any]], ApiCall]) -> None:
        call = parse(parse_json(self._read_body()))
        info = self.api.model_info()
        if call.model != info.model_id:
            raise ApiError(
                404,
                f"The model {call.model!r} does not exist here; this server runs {info.model_id!r}.",
                param="model",
                code="model_not_found",
            )
        if call.request.response_format is not None and not getattr(
            desktop_app.engine, "supports_response_format", False
        ):
            raise bad("response_format is not supported by this server yet", "response_format", "unsupported_parameter")
        shapes = Shapes(call.kind, info.model_id)
        results: list[Finished] = []
        relay = None
        if call.stream:
            relay = StreamRelay(self.connection, self._stream_head(), chunk_encoder(call, shapes, results))
        handle = self.api.submit(call, relay.put if relay is not None else None)
        try:
            if relay is not None:
                relay.handle = handle
            self._answer(call, info, shapes, results, handle, relay)
        finally:
            if not handle.done.is_set():
                handle.cancel()
                handle.done.wait()  # the scheduler stops within a token
            if relay is not None:
                relay.close()
            self.api.release(handle)

    def _answer(
        self,
        call: ApiCall,
        info: EngineInfo,
        shapes: Shapes,
        results: list[Finished],
        handle: GenerationHandle,
        relay: StreamRelay | None,
    ) -> None:
        events = relay.events() if relay is not None else handle.events(poll_s=0.05)
        prepared = self._until_prepared(call, events, handle)
        if relay is not None:
            self._stream(call, info, shapes, prepared, relay, results)
        else:
            for event in events:
                if self._client_gone():
                    raise ClientGone
                if isinstance(event, Finished):
                    results.append(event)
                elif isinstance(event, Failed):
                    raise ApiError(500, event.message, error_type="server_error")
            self._record(call, info, results)
            self._send_json(200, shapes.whole(results, self._usage(prepared, results)))

    def _record(self, call: ApiCall, info: EngineInfo, results: list[Finished]) -> None:
        """Hand the exchange to the history (when saving is on) before the client hears the
        end, so that whoever reads the history after an answer finds it there."""
        if self.api.history is not None:
            self.api.history.record(call.request, info.model_id, info.provider_name, results)

    def _until_prepared(self, call: ApiCall, events: Iterator[HandleEvent], handle: GenerationHandle) -> PromptPrepared:
        for event in events:
            if isinstance(event, PromptPrepared):
                if event.dropped_messages:
                    # The window drops old turns to fit; an API client is told instead, as OpenAI does.
                    handle.cancel()
                    raise bad(
                        f"The messages do not fit the model's context of {event.context_length} tokens with room for "
                        f"{call.request.settings.max_new_tokens} new ones; shorten them or lower max_tokens.",
                        "messages",
                        CONTEXT_LENGTH_EXCEEDED,
                    )
                return event
            if isinstance(event, Failed):
                if event.code == CONTEXT_LENGTH_EXCEEDED:
                    raise bad(event.message, "messages", CONTEXT_LENGTH_EXCEEDED)
                raise ApiError(500, event.message, error_type="server_error")
            if isinstance(event, Completed):
                break
            if self._client_gone():
                raise ClientGone
        raise ApiError(500, "The model ended the request without preparing it.", error_type="server_error")

    @staticmethod
    def _usage(prepared: PromptPrepared, results: list[Finished]) -> dict[str, Any]:
        completion = sum(f.stats.generated_tokens for f in results)
        return usage(prepared.prompt_tokens, completion, prepared.reused_tokens)

    def _write_event(self, payload: dict[str, Any] | str) -> None:
        self._write(sse(payload))

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            raise ClientGone from None

    def _stream_head(self) -> bytes:
        """A stream's status line and headers (sent by the relay, with its first text)."""
        headers = {
            "Server": self.version_string(),
            "Date": self.date_time_string(),
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "Transfer-Encoding": "chunked",
            **self._cors_headers(),
        }
        lines = [f"{self.protocol_version} 200 OK", *(f"{name}: {value}" for name, value in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _stream(
        self,
        call: ApiCall,
        info: EngineInfo,
        shapes: Shapes,
        prepared: PromptPrepared,
        relay: StreamRelay,
        results: list[Finished],
    ) -> None:
        self.log_request(200)
        relay.open()
        for event in relay.events():
            if isinstance(event, TextChunk | ReasoningChunk | Finished):  # on a socket the relay may not write to
                self._write(relay.encode(event))
            elif isinstance(event, Failed):
                self._write_event(ApiError(500, event.message, error_type="server_error").body())
                break
        if relay.gone:
            raise ClientGone
        self._record(call, info, results)
        if call.include_usage and results:
            self._write_event(shapes.usage_chunk(self._usage(prepared, results)))
        self._write_event("[DONE]")
        self._write(b"0\r\n\r\n")
