# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one HTTP fetcher: CRLs, DigiCert root downloads and the Platform API.

Over Ansible's ``open_url`` (or anything shaped like it, injected by tests), with three
defences every caller gets:

* **no redirects**: ``follow_redirects="none"``; a 3xx comes back as an answer with its status,
  never followed, so a peer's CRL URL cannot send this host to an address of the peer's
  choosing (SSRF), and a bearer token never leaves the host it was meant for;
* **a total deadline** per request (connect, headers and body together): the request runs in a
  worker thread and the caller stops waiting at the deadline; a server that drips one byte a
  second cannot keep it alive (the socket timeout alone applies per read, not per request);
* **a size cap**: the body is read in chunks and refused past ``max_bytes``.

Only ``http`` and ``https`` URLs are fetched. Under Ansible the transport is always Ansible's
(``open_url``'s ``Request``, with its proxy and certificate handling). The one caller that runs
without Ansible, the SBC's CRL refresher (``byoc-crl-refresh``, from a timer), passes an
``open_url``-shaped opener of its own; the defences above stay the ones here.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import FetchError

CHUNK = 64 * 1024
SCHEMES = ("http", "https")
USER_AGENT = "byoc.secure_trunk (Ansible collection)"


class TransportError(FetchError):
    """No (complete) HTTP answer: name resolution, connection, TLS, deadline or size cap."""


@dataclass
class HttpResponse:
    status: int
    headers: Dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    url: str = ""

    def header(self, name: str) -> Optional[str]:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


def origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc)


def _socket_of(response: Any) -> Optional[socket.socket]:
    raw = getattr(getattr(response, "fp", None), "raw", None)
    return getattr(raw, "_sock", None)


class _Call:
    """One request in a worker thread; the caller waits at most until the deadline."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.cancelled = threading.Event()
        self.response: Any = None
        self.result: Optional[HttpResponse] = None
        self.errors: List[BaseException] = []  # at most one: what the worker raised

    def cancel(self) -> None:
        self.cancelled.set()
        sock = _socket_of(self.response)
        if sock is not None:  # wake the worker out of a dripping read
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _read_capped(response: Any, max_bytes: int, call: _Call, label: str) -> bytes:
    reader = getattr(response, "read1", None) or response.read
    chunks: List[bytes] = []
    size = 0
    while True:
        chunk = reader(CHUNK)
        if call.cancelled.is_set():
            raise TransportError(label, "cancelled at the deadline", "")
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise TransportError(label, "the answer is larger than %d bytes" % max_bytes,
                                 "check the URL: nothing this collection fetches is that large")
        chunks.append(chunk)


def _work(call: _Call, open_fn: Callable[[float], Any], url: str, timeout: float, max_bytes: int) -> None:
    try:
        try:
            response = call.response = open_fn(timeout)
        except urllib.error.HTTPError as exc:  # a non-2xx answer (3xx too: redirects are not followed)
            call.response = exc
            body = _read_capped(exc, max_bytes, call, url) if exc.fp is not None else b""
            call.result = HttpResponse(exc.code, dict(exc.headers.items()) if exc.headers else {}, body, url)
            return
        status = getattr(response, "status", None) or response.getcode()
        body = _read_capped(response, max_bytes, call, url)
        call.result = HttpResponse(status, dict(response.headers.items()), body, url)
    except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
        call.errors.append(exc)
    finally:
        try:
            if call.response is not None:
                call.response.close()
        except (OSError, http.client.HTTPException):
            pass
        call.done.set()


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason if reason is not None else exc) or type(exc).__name__


def transport_fix(exc: BaseException) -> str:
    text = _reason(exc).lower()
    if "certificate" in text or "ssl" in text or "tls" in text:
        return ("the server's TLS certificate was not accepted: give ca_path (the CA of an intercepting "
                "proxy or mirror) or check the system clock; never point this at an untrusted server")
    return "check DNS and the firewall or proxy toward this host"


def perform(open_fn: Callable[[float], object], url: str, timeout: float, max_bytes: int,
            transport_errors: Sequence[type] = ()) -> HttpResponse:
    """Run ``open_fn(socket_timeout)`` (an ``open_url``-shaped call that raises ``HTTPError`` for
    non-2xx answers) under a total deadline of ``timeout`` seconds and a ``max_bytes`` cap.
    Returns every HTTP answer; raises TransportError when there is no complete answer."""
    if urllib.parse.urlsplit(url).scheme.lower() not in SCHEMES:
        raise TransportError(url, "is not an http(s) URL", "only http and https are fetched")
    started = time.monotonic()
    call = _Call()
    worker = threading.Thread(target=_work, args=(call, open_fn, url, timeout, max_bytes),
                              name="byoc-http", daemon=True)
    worker.start()
    if not call.done.wait(timeout):
        call.cancel()
        raise TransportError(url, "no complete answer within %g s (the total deadline)" % timeout,
                             "check the server, or raise timeout")
    if not call.errors and call.result is not None:
        return call.result
    exc = call.errors[0]
    if isinstance(exc, FetchError):
        raise exc
    no_answer = (urllib.error.URLError, OSError, ssl.SSLError, http.client.HTTPException,
                 ValueError) + tuple(transport_errors)
    if isinstance(exc, no_answer):
        elapsed = time.monotonic() - started
        raise TransportError(origin(url), "no answer (%s) after %.1f s" % (_reason(exc), elapsed),
                             transport_fix(exc)) from None
    raise exc


_CONTEXTS: Dict[tuple, ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def _tls_context(validate_certs: bool, ca_path: Optional[str]) -> ssl.SSLContext:
    """One TLS context per (validate_certs, ca_path) and process, built on first use: loading the
    system CA store costs ~60 ms of CPU, which every CRL fetch (plain http) used to pay."""
    key = (bool(validate_certs), ca_path)
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(key)
        if context is None:
            from ansible.module_utils.urls import make_context  # here: see the module doc (no Ansible on a timer)

            context = make_context(cafile=ca_path, validate_certs=validate_certs)
            _CONTEXTS[key] = context
        return context


_PLAIN = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # handed to handlers for http:// URLs; never used


def _needs_tls(url: str) -> bool:
    return urllib.parse.urlsplit(url).scheme.lower() == "https"


def _ansible_open(url: str, headers: Optional[Dict[str, str]] = None, method: str = "GET", timeout: float = 10,
                  follow_redirects: str = "none", validate_certs: bool = True, ca_path: Optional[str] = None,
                  **kwargs: Any) -> Any:
    """``open_url`` with a shared TLS context (``Request.open`` is what ``open_url`` calls)."""
    from ansible.module_utils.urls import Request as AnsibleRequest

    context = _tls_context(validate_certs, ca_path) if _needs_tls(url) else _PLAIN
    return AnsibleRequest().open(method, url, headers=headers, timeout=timeout, follow_redirects=follow_redirects,
                                 validate_certs=validate_certs, ca_path=ca_path, context=context, **kwargs)


def ansible_transport_errors() -> Tuple[type, ...]:
    """The exceptions Ansible's ``open_url`` raises for "no answer" (beside OSError and URLError)."""
    from ansible.module_utils.urls import ConnectionError as UrlsConnectionError  # here: see the module doc

    return (UrlsConnectionError,)


def request(method: str, url: str, timeout: float, max_bytes: int, opener: Optional[Callable[..., Any]] = None,
            headers: Optional[Dict[str, str]] = None, data: Optional[bytes] = None,
            transport_errors: Sequence[type] = (), **open_kwargs: Any) -> HttpResponse:
    """One request with ``open_url`` (Ansible's, with a shared TLS context) or an ``open_url``-shaped
    ``opener``: redirects never followed, a total deadline of ``timeout`` seconds, at most
    ``max_bytes`` of body. Every HTTP answer is returned; no answer raises TransportError."""
    if opener is None:
        opener = _ansible_open
        transport_errors = tuple(transport_errors) + ansible_transport_errors()
    merged = {"User-Agent": USER_AGENT}
    merged.update(headers or {})
    open_kwargs["follow_redirects"] = "none"  # whatever the caller asked: see the module doc
    if data is not None:
        open_kwargs["data"] = data

    def open_fn(socket_timeout: float) -> Any:
        return opener(url, headers=merged, method=method, timeout=socket_timeout, **open_kwargs)

    return perform(open_fn, url, timeout, max_bytes, transport_errors)


def get(url: str, timeout: float, max_bytes: int, opener: Optional[Callable[..., Any]] = None,
        headers: Optional[Dict[str, str]] = None, **open_kwargs: Any) -> HttpResponse:
    """GET ``url`` (``request``)."""
    return request("GET", url, timeout, max_bytes, opener, headers, **open_kwargs)


def get_ok(url: str, timeout: float, max_bytes: int, **kwargs: Any) -> bytes:
    """The body of a 200 answer; any other answer (a redirect too) is a FetchError."""
    response = get(url, timeout, max_bytes, **kwargs)
    if response.status == 200:
        return response.body
    if 300 <= response.status < 400:
        raise FetchError(url, "redirects (%d) to %s, and redirects are not followed"
                         % (response.status, response.header("Location") or "?"),
                         "publish the file at the URL itself")
    raise FetchError(url, "answered HTTP %d" % response.status, "check the URL and the server")
