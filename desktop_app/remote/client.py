"""A small client for OpenAI-compatible servers: list the models, stream a completion.

Every fault a user can meet (no connection, a bad certificate, a refused key, an unknown
model, a busy or broken server, a server that stops answering) becomes a UserError that
says what happened and what to do. 429 and 503 are retried with backoff, honouring
Retry-After within a bound. A stream that breaks after text has arrived is not an error:
the caller gets what came, marked interrupted.

Cancelling closes the stream: the cancel event is checked between the server's chunks (and
a silent server is bounded by the read timeout).
"""

from __future__ import annotations

import email.utils
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 503)


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 10.0
    read_s: float = 120.0  # between two chunks of a stream: a big model's first token can take a while
    models_s: float = 3.0  # listing models: a dead server must not hold up `models list`


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # the first try and three retries
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0  # a longer Retry-After is refused rather than waited for


@dataclass(frozen=True)
class Delta:
    """New text of the completion."""

    text: str


@dataclass(frozen=True)
class StreamEnd:
    """The stream is over. `finish_reason` is the server's ("stop", "length", ...), None when it
    gave none; `interrupted` when the connection broke or the server stopped answering."""

    finish_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    cancelled: bool = False
    detail: str = ""


StreamEvent = Delta | StreamEnd


def normalize_base_url(url: str) -> str:
    """The base URL up to and including /v1 ("http://host:8000" and "http://host:8000/v1/"
    both give "http://host:8000/v1"); UserError for what is not an http(s) URL."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(
            translate("Errors", "{url} is not a server address.").format(url=repr(url)),
            hint=translate(
                "Errors", "Give the server's base URL, e.g. http://192.168.1.20:8000 or https://api.example.com/v1."
            ),
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UserError(
            translate("Errors", "{url} carries a query, a fragment or a password; give the plain base URL.").format(
                url=repr(url)
            ),
            hint=translate("Errors", "An API key goes in an environment variable: --api-key-env VAR."),
        )
    return text if text.endswith("/v1") else f"{text}/v1"


def host_of(base_url: str) -> str:
    """What the window shows as where text goes: host[:port]."""
    parts = urlsplit(base_url)
    return parts.netloc or base_url


class RemoteClient:
    """One OpenAI-compatible server. Not shared across threads (one generation thread uses it)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float, threading.Event | None], None] | None = None,
    ) -> None:
        self.name = name
        self.base_url = normalize_base_url(base_url)
        self.host = host_of(self.base_url)
        self._api_key = api_key
        self.timeouts = timeouts
        self.retry = retry
        self._sleep = sleep or _wait

    def __repr__(self) -> str:  # never the key
        return f"RemoteClient({self.name!r}, {self.base_url!r})"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _client(self, read_s: float) -> httpx.Client:
        timeout = httpx.Timeout(connect=self.timeouts.connect_s, read=read_s, write=read_s, pool=read_s)
        # trust_env=False: no proxy or .netrc the user did not set up for Inkwell
        return httpx.Client(timeout=timeout, headers=self._headers(), trust_env=False, follow_redirects=False)

    # ---- models ----

    def models(self, timeout_s: float | None = None) -> list[dict[str, Any]]:
        """GET /v1/models: the server's model objects (each with at least an "id"). The default
        timeout is the short one for listing; loading a model waits longer (a busy server)."""
        timeout_s = timeout_s or self.timeouts.models_s
        with self._client(timeout_s) as client:
            try:
                response = client.get(f"{self.base_url}/models", timeout=timeout_s)
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, timeout_s) from None
            if response.status_code != 200:
                raise self._status_error(response.status_code, response.text, response.headers, model=None)
            try:
                data = response.json()["data"]
                return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]
            except (ValueError, KeyError, TypeError):
                raise UserError(
                    translate(
                        "Errors", "{name} ({host}) answered /v1/models with something that is not a model list."
                    ).format(name=self.name, host=self.host),
                    hint=translate(
                        "Errors", "Check that the URL is an OpenAI-compatible API (it usually ends in /v1)."
                    ),
                ) from None

    # ---- completions ----

    def stream(
        self, path: str, body: dict[str, Any], cancel: threading.Event | None = None
    ) -> Generator[StreamEvent, None, None]:
        """POST a streamed completion to `path` ("/chat/completions" or "/completions"): Delta
        events, then one StreamEnd. UserError when no text could be had at all."""
        body = {**body, "stream": True}
        model = str(body.get("model", ""))
        url = f"{self.base_url}{path}"
        with self._client(self.timeouts.read_s) as client:
            for attempt in range(self.retry.attempts):
                if cancel is not None and cancel.is_set():
                    yield StreamEnd(cancelled=True)
                    return
                try:
                    with client.stream("POST", url, json=body) as response:
                        if response.status_code == 200:
                            yield from self._read_stream(response, cancel)
                            return
                        text = response.read().decode("utf-8", "replace")
                        status, headers = response.status_code, response.headers
                except httpx.HTTPError as exc:
                    raise self._transport_error(exc, self.timeouts.read_s) from None
                last_try = attempt == self.retry.attempts - 1
                delay = self._retry_delay(status, headers, attempt)
                if status not in RETRY_STATUSES or last_try or delay is None:
                    raise self._status_error(status, text, headers, model)
                log.info("%s answered %s; trying again in %.1f s", self.name, status, delay)
                self._sleep(delay, cancel)

    def _read_stream(self, response: httpx.Response, cancel: threading.Event | None) -> Iterator[StreamEvent]:
        finish: str | None = None
        usage: dict[str, Any] = {}
        try:
            for line in response.iter_lines():
                if cancel is not None and cancel.is_set():
                    yield StreamEnd(finish, usage, cancelled=True)  # leaving the block closes the stream
                    return
                if not line.startswith("data:"):
                    continue  # comments (": ping"), event names, blank separators
                data = line[5:].strip()
                if data == "[DONE]":
                    yield StreamEnd(finish, usage)
                    return
                try:
                    chunk = json.loads(data)
                except ValueError:
                    log.warning("%s sent a line that is not JSON; skipped", self.name)
                    continue
                if not isinstance(chunk, dict):
                    continue
                if "error" in chunk:
                    yield StreamEnd(finish, usage, interrupted=True, detail=_error_text(chunk))
                    return
                if isinstance(chunk.get("usage"), dict):
                    usage = chunk["usage"]
                for choice in chunk.get("choices") or []:
                    if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                        continue
                    delta = choice.get("delta")
                    text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
                    if isinstance(text, str) and text:
                        yield Delta(text)
                    if choice.get("finish_reason"):
                        finish = str(choice["finish_reason"])
        except httpx.TimeoutException:
            yield StreamEnd(finish, usage, interrupted=True, detail=f"no data for {self.timeouts.read_s:.0f} s")
            return
        except httpx.HTTPError as exc:
            yield StreamEnd(finish, usage, interrupted=True, detail=f"the connection broke ({type(exc).__name__})")
            return
        # The server closed the stream without [DONE]: complete if it said why it stopped.
        yield StreamEnd(finish, usage, interrupted=finish is None, detail="" if finish else "the stream ended early")

    # ---- faults in plain words ----

    def _retry_delay(self, status: int, headers: httpx.Headers, attempt: int) -> float | None:
        """Seconds to wait before the next try; None when the server asks for longer than we wait."""
        backoff: float = min(self.retry.base_delay_s * (2**attempt), self.retry.max_delay_s)
        after = _retry_after_s(headers.get("retry-after"))
        if after is None:
            return backoff
        return after if after <= self.retry.max_delay_s else None

    def _transport_error(self, exc: httpx.HTTPError, timeout_s: float) -> UserError:
        where = f"{self.name} ({self.host})"
        if _is_tls_error(exc):
            return UserError(
                translate("Errors", "The secure connection to {where} failed: {reason}.").format(
                    where=where, reason=_tls_reason(exc)
                ),
                hint=translate(
                    "Errors",
                    "Check the server's certificate (it must be valid for this host name and trusted by this "
                    "computer), or use an http:// address for a server on your own network.",
                ),
            )
        if isinstance(exc, httpx.ConnectTimeout):
            return UserError(
                translate("Errors", "{where} did not answer within {seconds} s.").format(
                    where=where, seconds=f"{self.timeouts.connect_s:.0f}"
                ),
                hint=translate("Errors", "Check that the server is running and reachable from this computer."),
            )
        if isinstance(exc, httpx.TimeoutException):
            return UserError(
                translate("Errors", "{where} stopped answering (nothing for {seconds} s).").format(
                    where=where, seconds=f"{timeout_s:.0f}"
                ),
                hint=translate("Errors", "The server may be overloaded or the model still loading; try again later."),
            )
        if isinstance(exc, httpx.ConnectError):
            return UserError(
                translate("Errors", "Inkwell could not connect to {where}.").format(where=where),
                hint=translate(
                    "Errors", "Check that the server is running and that the address (inkwell servers list) is right."
                ),
            )
        return UserError(
            translate("Errors", "The connection to {where} failed ({kind}).").format(
                where=where, kind=type(exc).__name__
            ),
            hint=translate("Errors", "Check the server and the network, then try again."),
        )

    def _status_error(self, status: int, text: str, headers: httpx.Headers, model: str | None) -> UserError:
        where = f"{self.name} ({self.host})"
        said = _error_text(_json_or_none(text)) or text.strip()[:200]
        said_part = " " + translate("Errors", "The server said: {said}").format(said=said) if said else ""
        if status == 401:
            if not self._api_key:
                return UserError(
                    translate("Errors", "{where} needs an API key.{said_part}").format(
                        where=where, said_part=said_part
                    ),
                    hint=translate(
                        "Errors",
                        "Add the server again with its key: inkwell servers add {name} URL --api-key-env VAR (or in "
                        "Settings › Model servers).",
                    ).format(name=self.name),
                )
            return UserError(
                translate("Errors", "{where} refused the API key.{said_part}").format(where=where, said_part=said_part),
                hint=translate(
                    "Errors", "Check the key, then add the server again with the right one (inkwell servers add)."
                ),
            )
        if status == 403:
            return UserError(
                translate("Errors", "{where} does not allow this key to do that.{said_part}").format(
                    where=where, said_part=said_part
                ),
                hint=translate("Errors", "Check the key's permissions on the server, or use another model."),
            )
        if status == 404:
            what = (
                translate("Errors", "the model {model}").format(model=repr(model))
                if model
                else translate("Errors", "this address")
            )
            return UserError(
                translate("Errors", "{where} does not know {what} (404).{said_part}").format(
                    where=where, what=what, said_part=said_part
                ),
                hint=translate(
                    "Errors",
                    "Check the model's name (inkwell models list) and that the server's URL is its API base "
                    "(usually ending in /v1).",
                ),
            )
        if status == 429:
            return UserError(
                translate(
                    "Errors", "{where} is limiting requests (429) and still refused after waiting.{said_part}"
                ).format(where=where, said_part=said_part),
                hint=translate("Errors", "Wait a minute and try again, or check your plan's limits with the provider."),
            )
        if status == 503:
            return UserError(
                translate("Errors", "{where} is unavailable (503) and still was after waiting.{said_part}").format(
                    where=where, said_part=said_part
                ),
                hint=translate("Errors", "The server may be starting or overloaded; try again later."),
            )
        if status >= 500:
            return UserError(
                translate("Errors", "{where} had an error of its own ({status}).{said_part}").format(
                    where=where, status=status, said_part=said_part
                ),
                hint=translate("Errors", "Try again; if it keeps happening, the server's log says why."),
            )
        return UserError(
            translate("Errors", "{where} refused the request ({status}).{said_part}").format(
                where=where, status=status, said_part=said_part
            ),
            hint=translate(
                "Errors", "A prompt longer than the server's context is a common cause: start a new chat or shorten it."
            ),
        )


def _wait(seconds: float, cancel: threading.Event | None) -> None:
    if cancel is None:
        time.sleep(seconds)
    else:
        cancel.wait(seconds)


def _retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _error_text(data: Any) -> str:
    """The message of OpenAI's error JSON ({"error": {"message": ...}}) or FastAPI's {"detail": ...}."""
    if not isinstance(data, dict):
        return ""
    error: Any = data.get("error", data.get("detail"))
    if isinstance(error, dict):
        error = error.get("message")
    return str(error)[:300] if error else ""


def _is_tls_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen) or "SSL" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _tls_reason(exc: BaseException) -> str:
    text = str(exc)
    for needle, reason in (
        ("CERTIFICATE_VERIFY_FAILED", translate("Errors", "its certificate is not trusted")),
        ("certificate has expired", translate("Errors", "its certificate has expired")),
        ("Hostname mismatch", translate("Errors", "its certificate is for another host name")),
        ("WRONG_VERSION_NUMBER", translate("Errors", "it does not speak TLS on this port (try http://)")),
    ):
        if needle.lower() in text.lower():
            return reason
    return text[:200] or translate("Errors", "a TLS error")
