"""Loopback servers for tests and benchmarks: TLS peers, a CRL web server, a latency proxy.

Everything binds 127.0.0.1 on an ephemeral port, runs in daemon threads, and stops on
``stop()`` or when used as a context manager::

    with TLSServer(paths["chain"], paths["key"]) as peer:      # TLS 1.2, policy suites, secp384r1
        peer.port
    with TLSServer(chain, key, max_version=ssl.TLSVersion.TLSv1_3, group=None) as peer: ...
    with CRLServer() as crls:
        url = crls.url("inter.crl"); crls.put("inter.crl", der_bytes); crls.hits("inter.crl")
        crls.redirect("moved.crl", other.url("inter.crl")); crls.drip("slow.crl", der_bytes)
    with LatencyProxy(peer.port, one_way=0.05) as slow:        # every byte delayed 50 ms each way
        slow.port

``TLSServer`` options: ``min_version``/``max_version`` (``ssl.TLSVersion``), ``ciphers``
(OpenSSL string; ``@SECLEVEL=0`` is appended so TLS 1.0/1.1 and small keys can be served),
``group`` (one ECDHE group for ``set_ecdh_curve``, or ``None`` for OpenSSL's defaults, which
accept X25519, P-256, P-384 ...), ``client_cert`` (``"none"``, ``"optional"``,
``"required"``; needs ``client_ca`` for the latter two).

``silent_port()`` gives a port that accepts TCP but never speaks (a handshake timeout), and
``closed_port()`` a port nobody listens on (connection refused).
"""

from __future__ import annotations

import asyncio
import http.server
import socket
import ssl
import threading
import time
from typing import Dict, Optional

POLICY_CIPHERS = ("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:"
                  "ECDHE-RSA-AES256-SHA:AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA256:AES256-SHA")

__all__ = ["TLSServer", "CRLServer", "LatencyProxy", "silent_port", "closed_port", "POLICY_CIPHERS"]


class TLSServer:
    """A TLS listener on 127.0.0.1 that completes handshakes and closes (one thread per connection)."""

    def __init__(self, certfile: str, keyfile: str, *, min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
                 max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2, ciphers: str = POLICY_CIPHERS,
                 group: Optional[str] = "secp384r1", client_cert: str = "none", client_ca: Optional[str] = None,
                 host: str = "127.0.0.1") -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_ciphers(ciphers + ":@SECLEVEL=0")  # before the key: small test keys are allowed
        ctx.load_cert_chain(certfile, keyfile)
        # Lower bounds first: OpenSSL refuses a minimum above the current maximum.
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = max_version
        ctx.minimum_version = min_version
        ctx.set_ciphers(ciphers + ":@SECLEVEL=0")
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
        if group:
            ctx.set_ecdh_curve(group)
        if client_cert != "none":
            ctx.verify_mode = ssl.CERT_REQUIRED if client_cert == "required" else ssl.CERT_OPTIONAL
            if client_ca:
                ctx.load_verify_locations(client_ca)
        self.context = ctx
        self.handshakes = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(256)
        self.host = host
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tls-server-%d" % self.port, daemon=True)

    def start(self) -> "TLSServer":
        self._thread.start()
        return self

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _unused = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
            with self._lock:
                self.handshakes += 1
            try:
                tls.recv(1)  # until the client closes
            except (OSError, ssl.SSLError):
                pass
            tls.close()
        except (OSError, ssl.SSLError):
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=2)

    def __enter__(self) -> "TLSServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _CRLHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        server = self.server
        name = self.path.lstrip("/")
        with server.lock:
            server.counts[name] = server.counts.get(name, 0) + 1
            body = server.files.get(name)
            location = server.redirects.get(name)
            drip = server.drips.get(name)
        if location is not None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if drip is not None:
            self._drip(body or b"", *drip)
            return
        if body is None:
            self.send_error(404, "no such CRL")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-crl")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, body: bytes, interval: float, limit: float, in_headers: bool) -> None:
        """One byte every ``interval`` s (in a header, or in the body) until ``limit`` s have
        passed, then the rest at once: a client without a total deadline waits ``limit`` s."""
        deadline = time.monotonic() + limit
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body))
            if in_headers:
                self.wfile.write(b"X-Drip: ")
            else:
                self.wfile.write(b"\r\n")
            self.wfile.flush()
            sent = 0
            while time.monotonic() < deadline and (in_headers or sent < len(body) - 1):
                self.wfile.write(b"a" if in_headers else body[sent:sent + 1])
                self.wfile.flush()
                sent += 0 if in_headers else 1
                time.sleep(interval)
            self.wfile.write((b"\r\n\r\n" if in_headers else b"") + body[sent:])
            self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


class CRLServer:
    """An HTTP server on 127.0.0.1 that serves CRLs (or any bytes) by name and counts requests."""

    def __init__(self) -> None:
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CRLHandler)
        self._httpd.daemon_threads = True
        self._httpd.files: Dict[str, bytes] = {}
        self._httpd.counts: Dict[str, int] = {}
        self._httpd.redirects: Dict[str, str] = {}
        self._httpd.drips: Dict[str, tuple] = {}
        self._httpd.lock = threading.Lock()
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)

    def url(self, name: str) -> str:
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def put(self, name: str, body: bytes) -> None:
        with self._httpd.lock:
            self._httpd.files[name] = body

    def redirect(self, name: str, location: str) -> None:
        """Answer ``name`` with 302 to ``location``."""
        with self._httpd.lock:
            self._httpd.redirects[name] = location

    def drip(self, name: str, body: bytes, interval: float = 0.2, limit: float = 6.0,
             in_headers: bool = False) -> None:
        """Serve ``name`` one byte per ``interval`` s for ``limit`` s (body, or a header line)."""
        with self._httpd.lock:
            self._httpd.files[name] = body
            self._httpd.drips[name] = (interval, limit, in_headers)

    def hits(self, name: str) -> int:
        with self._httpd.lock:
            return self._httpd.counts.get(name, 0)

    def start(self) -> "CRLServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "CRLServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class LatencyProxy:
    """A TCP relay on 127.0.0.1 that delays every chunk by ``one_way`` seconds in each direction.

    A TLS 1.2 full handshake through it costs two round trips, 4 x ``one_way``, on top of
    the peer's own time. The TCP handshake with the proxy itself happens at loopback speed;
    ``connect_delay`` (one round trip, 2 x ``one_way``, to model it) holds the client's first
    bytes that long before they are relayed. Several proxies may share one event loop: pass
    ``loop_owner`` (another LatencyProxy).
    """

    def __init__(self, target_port: int, one_way: float, target_host: str = "127.0.0.1",
                 loop_owner: Optional["LatencyProxy"] = None, connect_delay: float = 0.0) -> None:
        self.target = (target_host, target_port)
        self.one_way = one_way
        self.connect_delay = connect_delay
        self._tasks: set = set()
        self._own_loop = loop_owner is None
        self._loop = asyncio.new_event_loop() if self._own_loop else loop_owner._loop
        self._thread = None
        if self._own_loop:
            self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
            self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0, backlog=512), self._loop)
        self._server = future.result(timeout=5)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _pump(self, reader, writer) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    try:
                        writer.write_eof()
                    except (OSError, RuntimeError):
                        pass
                    return
                writer.write(data)
                try:
                    await writer.drain()
                except OSError:
                    return

        task = asyncio.ensure_future(deliver())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((loop.time() + self.one_way, data or None))
                if not data:
                    break
        except OSError:
            queue.put_nowait((loop.time(), None))
        await task

    async def _client(self, reader, writer) -> None:
        # asyncio keeps only weak references to tasks: hold this one until it is done.
        task = asyncio.current_task()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if self.connect_delay:  # stands for the TCP handshake's round trip
            await asyncio.sleep(self.connect_delay)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer),
                                 return_exceptions=True)
        finally:
            for w in (writer, up_writer):
                w.close()

    def start(self) -> "LatencyProxy":
        return self

    def stop(self) -> None:
        async def close() -> None:
            self._server.close()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        if self._own_loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=2)

    def __enter__(self) -> "LatencyProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class _Silent:
    """A listener that never accepts: TCP connects (backlog), TLS never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "_Silent":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def silent_port() -> _Silent:
    """A context manager whose ``.port`` accepts TCP but never answers TLS."""
    return _Silent()


def closed_port() -> int:
    """A loopback port that was just free: connecting to it is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
