"""A local HTTPS stand-in for the Genesys Cloud Platform API: the parts ``org_ca`` uses.

This is NOT Genesys Cloud. It follows the documented endpoints, models and OAuth flow closely
enough to test the client: it binds 127.0.0.1 on an ephemeral port, serves TLS with a
throwaway CA made by ``support.pki`` (``standin.ca_file`` is what the client must trust), and
stops by itself after ``lifetime`` seconds if the test does not stop it first::

    from support import pki
    from support.genesys_standin import GenesysStandIn, authority

    org_ca = pki.make_root("Example Org CA")
    with GenesysStandIn(tmp_path, [authority(org_ca)], page_size=1) as api:
        api.base_url, api.ca_file, api.client_id, api.client_secret
        api.fail_next("/api/v2/telephony/providers/edges/certificateauthorities", 429, retry_after=1)
        api.log          # [(method, path, status), ...]
        api.issued_tokens

Standalone (a lab, a molecule scenario run on this host), from the ``tests`` directory::

    python3 -m support.genesys_standin --workdir /tmp/standin --authority lab-org-ca.pem --lifetime 900

prints one JSON line (``base_url``, ``ca_file``, ``client_id``, ``client_secret``) when it is ready
and serves until the lifetime ends or it is stopped. It still binds 127.0.0.1 only: run the
``org_ca`` task on this host (``delegate_to: localhost``) and copy the result to the SBC.

What it models:

* ``POST /oauth/token``: HTTP Basic ``client_id:client_secret``, form
  ``grant_type=client_credentials``; answers ``{"access_token", "token_type": "bearer",
  "expires_in"}``; wrong client -> 401 ``{"error": "invalid_client", ...}``; other grant ->
  400 ``unsupported_grant_type``.
* ``GET /api/v2/telephony/providers/edges/certificateauthorities``: bearer check (401
  ``bad.credentials``), permission ``telephony:plugin:all`` (403 ``missing.any.permissions``),
  a ``CertificateAuthorityEntityListing`` paged by ``pageSize``/``pageNumber`` with
  ``pageCount``, ``total`` and ``self/first/next/previous/lastUri`` (``next_uri=False`` leaves
  the URIs out so a client must page by ``pageCount``); ``.../{id}`` returns one authority.
* ``DomainCertificateAuthority`` objects (``authority()``): id, name, description, version,
  dates, state, certificate (PEM), type, services, certificateDetails, selfUri.
* Errors as ``ErrorBody`` (``message``, ``code``, ``status``, ``contextId``, ``details``,
  ``errors``); any other path -> 404 ``not.found``; scripted faults (``fail_next``) give
  429 with ``Retry-After`` and 5xx answers, in order, before the real answer.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import http.server
import json
import os
import secrets
import ssl
import threading
import urllib.parse
import uuid
from typing import Dict, List, Optional, Sequence, Tuple

from support import pki

CA_PATH = "/api/v2/telephony/providers/edges/certificateauthorities"
PERMISSION = "telephony:plugin:all"
_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}
_CODES = {400: "bad.request", 401: "bad.credentials", 403: "missing.any.permissions", 404: "not.found",
          429: "too.many.requests", 500: "internal.server.error", 502: "bad.gateway",
          503: "service.unavailable", 504: "gateway.timeout"}


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _x500(name) -> str:
    """certificateDetails writes names as comma-separated key=value pairs."""
    return name.rfc4514_string()


def authority(issued: Optional["pki.Issued"] = None, *, name: Optional[str] = None, type: str = "MANAGED",
              services: Sequence[str] = ("SIP",), state: Optional[str] = "active",
              certificate: Optional[str] = None, **extra) -> dict:
    """A ``DomainCertificateAuthority`` for a ``pki.Issued`` (or a raw ``certificate`` string)."""
    ident = str(uuid.uuid4())
    now = datetime.datetime.now(datetime.timezone.utc)
    entity = {
        "id": ident,
        "name": name or (issued.common_name if issued is not None else "Certificate authority"),
        "description": "",
        "version": 1,
        "dateCreated": _iso(now - datetime.timedelta(days=30)),
        "dateModified": _iso(now - datetime.timedelta(days=30)),
        "modifiedBy": "system",
        "createdBy": "system",
        "modifiedByApp": "edge",
        "createdByApp": "edge",
        "certificate": certificate if certificate is not None else issued.pem.decode("ascii"),
        "type": type,
        "services": list(services),
        "selfUri": "%s/%s" % (CA_PATH, ident),
    }
    if state is not None:
        entity["state"] = state
    if issued is not None:
        cert = issued.cert
        end = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
        start = (getattr(cert, "not_valid_before_utc", None)
                 or cert.not_valid_before.replace(tzinfo=datetime.timezone.utc))
        entity["certificateDetails"] = [{
            "issuer": _x500(cert.issuer),
            "subject": _x500(cert.subject),
            "expirationDate": _iso(end),
            "issueDate": _iso(start),
            "expired": end < now,
            "valid": start <= now <= end,
            "signatureValid": True,
        }]
    entity.update(extra)
    return entity


class GenesysStandIn:
    """The stand-in server. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(self, workdir, authorities: Sequence[dict] = (), *, page_size: int = 25, next_uri: bool = True,
                 permissions: Sequence[str] = (PERMISSION,), token_lifetime: int = 86399,
                 lifetime: float = 300.0, client_id: Optional[str] = None,
                 client_secret: Optional[str] = None) -> None:
        self.authorities: List[dict] = list(authorities)
        self.page_size = page_size
        self.next_uri = next_uri
        self.permissions = set(permissions)
        self.token_lifetime = token_lifetime
        self.client_id = client_id or str(uuid.uuid4())
        self.client_secret = client_secret or secrets.token_urlsafe(32)
        self.issued_tokens: List[str] = []
        self.revoked_tokens: set = set()
        self.log: List[Tuple[str, str, int]] = []
        self._faults: Dict[str, List[Tuple[int, Optional[str]]]] = {}
        self._lock = threading.Lock()
        self.server_ca = pki.make_root("byoc stand-in API root CA", organization="genesys stand-in")
        leaf = pki.make_leaf(self.server_ca, ["localhost"], ips=["127.0.0.1"], organization="genesys stand-in")
        paths = leaf.write(os.fspath(workdir), stem="standin")
        self.ca_file = os.path.join(os.fspath(workdir), "standin-ca.pem")
        with open(self.ca_file, "wb") as handle:
            handle.write(self.server_ca.pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(paths["cert"], paths["key"])
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self.base_url = "https://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="genesys-standin-%d" % self.port, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True
        self._stopped = False
        self._done = threading.Event()

    # -- life cycle
    def start(self) -> "GenesysStandIn":
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._done.set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the stand-in has stopped (its lifetime ended or ``stop()`` was called)."""
        return self._done.wait(timeout)

    def __enter__(self) -> "GenesysStandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- scripting
    def fail_next(self, path: str, status: int, *, times: int = 1, retry_after: Optional[str] = None) -> None:
        """The next ``times`` requests to ``path`` get ``status`` (with ``Retry-After`` if given)."""
        with self._lock:
            self._faults.setdefault(path, []).extend([(status, retry_after)] * times)

    def revoke_tokens(self) -> None:
        """Every token issued so far stops working (as if it expired)."""
        with self._lock:
            self.revoked_tokens.update(self.issued_tokens)

    def _take_fault(self, path: str) -> Optional[Tuple[int, Optional[str]]]:
        with self._lock:
            queue = self._faults.get(path)
            return queue.pop(0) if queue else None

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.log.append((method, path, status))

    def requests_to(self, path: str) -> List[Tuple[str, str, int]]:
        return [entry for entry in self.log if entry[1].split("?", 1)[0] == path]


def _handler(standin: GenesysStandIn):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "genesys-standin"

        def log_message(self, *args):  # quiet
            pass

        # -- replies
        def _reply(self, status: int, payload, headers: Optional[dict] = None) -> None:
            body = json.dumps(payload).encode("utf-8")
            self.send_response(status, _REASONS.get(status))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            standin._record(self.command, self.path, status)

        def _error(self, status: int, message: str, headers: Optional[dict] = None) -> None:
            self._reply(status, {"message": message, "code": _CODES.get(status, "error"), "status": status,
                                 "contextId": str(uuid.uuid4()), "details": [], "errors": []}, headers)

        def _fault(self, path: str) -> bool:
            fault = standin._take_fault(path)
            if fault is None:
                return False
            status, retry_after = fault
            headers = {"Retry-After": retry_after} if retry_after is not None else None
            self._error(status, "Scripted fault from the stand-in", headers)
            return True

        # -- OAuth
        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode("ascii", "replace"))
            if path != "/oauth/token":
                return self._error(404, "The requested resource was not found.")
            if self._fault(path):
                return None
            expected = base64.b64encode(("%s:%s" % (standin.client_id, standin.client_secret)).encode()).decode()
            if self.headers.get("Authorization") != "Basic " + expected:
                return self._reply(401, {"error": "invalid_client", "description": "client not found",
                                         "error_description": "client not found"})
            if form.get("grant_type") != ["client_credentials"]:
                return self._reply(400, {"error": "unsupported_grant_type",
                                         "description": "grant type not supported",
                                         "error_description": "grant type not supported"})
            token = secrets.token_urlsafe(48)
            with standin._lock:
                standin.issued_tokens.append(token)
            return self._reply(200, {"access_token": token, "token_type": "bearer",
                                     "expires_in": standin.token_lifetime})

        # -- API
        def do_GET(self):
            parts = urllib.parse.urlsplit(self.path)
            path = parts.path.rstrip("/")
            if not path.startswith(CA_PATH):
                return self._error(404, "The requested resource was not found.")
            if self._fault(path):
                return None
            auth = self.headers.get("Authorization") or ""
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
            if token not in standin.issued_tokens or token in standin.revoked_tokens:
                return self._error(401, "Invalid login credentials.")
            if PERMISSION not in standin.permissions:
                return self._error(403, "Unable to perform the requested action. You must have at least one of "
                                        "the following permissions assigned: [%s]" % PERMISSION)
            if path == CA_PATH:
                return self._listing(urllib.parse.parse_qs(parts.query))
            ident = path[len(CA_PATH) + 1:]
            for entity in standin.authorities:
                if entity["id"] == ident:
                    return self._reply(200, entity)
            return self._error(404, "certificate authority %s not found" % ident)

        def _listing(self, query):
            try:
                size = int(query.get("pageSize", [standin.page_size])[0])
                number = int(query.get("pageNumber", ["1"])[0])
            except ValueError:
                return self._error(400, "pageSize and pageNumber must be integers")
            size = max(1, min(size, 100))
            total = len(standin.authorities)
            count = max(1, -(-total // size))
            page = standin.authorities[(number - 1) * size:number * size] if number >= 1 else []
            listing = {"entities": page, "pageSize": size, "pageNumber": number, "total": total,
                       "pageCount": count}
            if standin.next_uri:
                def uri(n):
                    return "%s?pageSize=%d&pageNumber=%d" % (CA_PATH, size, n)
                listing.update(selfUri=uri(number), firstUri=uri(1), lastUri=uri(count))
                if number < count:
                    listing["nextUri"] = uri(number + 1)
                if number > 1:
                    listing["previousUri"] = uri(number - 1)
            return self._reply(200, listing)

    return Handler


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Genesys Cloud Platform API stand-in (not Genesys Cloud)")
    parser.add_argument("--workdir", required=True, help="where the stand-in's TLS files go")
    parser.add_argument("--authority", action="append", default=[],
                        help="PEM file of a CA to list as a MANAGED SIP authority (repeatable)")
    parser.add_argument("--page-size", type=int, default=25)
    parser.add_argument("--lifetime", type=float, default=600.0, help="seconds before it stops by itself")
    args = parser.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    authorities = []
    for path in args.authority:
        with open(path, encoding="ascii") as handle:
            pem = handle.read()
        authorities.append(authority(None, name=os.path.splitext(os.path.basename(path))[0], certificate=pem))
    with GenesysStandIn(args.workdir, authorities, page_size=args.page_size, lifetime=args.lifetime) as api:
        print(json.dumps({"base_url": api.base_url, "ca_file": api.ca_file, "client_id": api.client_id,
                          "client_secret": api.client_secret}), flush=True)
        try:
            api.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
