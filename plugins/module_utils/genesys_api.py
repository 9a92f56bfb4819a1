# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for the Genesys Cloud Platform API: OAuth client credentials, GET, paging.

Nothing here imports Ansible. The HTTP transport is injected: an *opener* is a callable
``opener(method, url, headers, body, timeout) -> HttpResponse`` that returns every HTTP
status (2xx or not) and raises ``TransportError`` only when no answer came back (DNS,
refused connection, TLS failure, timeout). ``open_url_adapter`` builds one from Ansible's
``open_url`` (or anything shaped like it, injected by tests).

What the client follows (Genesys Cloud developer documentation and its SDKs):

* token: ``POST https://login.<cloud domain>/oauth/token``, HTTP Basic ``client_id:secret``,
  form body ``grant_type=client_credentials``; answer ``{"access_token", "token_type",
  "expires_in"}``; refusals are OAuth errors ``{"error", "error_description"}``.
* API: ``GET https://api.<cloud domain>/api/v2/...`` with ``Authorization: Bearer <token>``;
  errors are ``ErrorBody`` objects ``{"message", "code", "status", ...}``; 429 carries
  ``Retry-After`` (seconds).
* listings: ``{"entities": [...], "pageSize", "pageNumber", "total", "pageCount",
  "selfUri", "firstUri", "nextUri", "previousUri", "lastUri"}``; the next page is taken from
  ``nextUri`` when present, else ``pageNumber=n+1`` while ``pageNumber < pageCount``.

The client secret and the bearer token are never put into an error message: every message
is passed through ``redact`` first, and headers are never quoted.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import json
import time
import urllib.parse
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.byoc.secure_trunk.plugins.module_utils import http_fetch
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import FetchError

TOKEN_PATH = "/oauth/token"
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 1.0
DEFAULT_MAX_DELAY = 60.0
MAX_PAGES = 200
USER_AGENT = http_fetch.USER_AGENT


# One transport for the collection (http_fetch): the names stay importable from here.
TransportError = http_fetch.TransportError
HttpResponse = http_fetch.HttpResponse
MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # a CA listing is a few kB a page


Opener = Callable[[str, str, Dict[str, str], Optional[bytes], float], HttpResponse]


# ------------------------------------------------------------------ transports


def open_url_adapter(open_url_fn: Optional[Callable[..., Any]] = None, transport_errors: Sequence[type] = (),
                     max_bytes: int = MAX_RESPONSE_BYTES, **fixed_kwargs: Any) -> Opener:
    """An opener over the collection's one HTTP path (http_fetch.request).

    ``open_url_fn``: None for Ansible's ``open_url`` (the modules), or anything shaped like it
    (``open_url_fn(url, data=, headers=, method=, timeout=, **fixed_kwargs)`` returning a response
    with ``.status``/``.getcode()``, ``.headers`` and ``.read()`` and raising
    ``urllib.error.HTTPError`` for non-2xx answers), injected by tests. ``transport_errors`` adds
    exception types that mean "no answer". ``timeout`` is a total deadline for the answer
    (headers and body), and a body over ``max_bytes`` is refused; redirects are never followed.
    """

    def opener(method: str, url: str, headers: Dict[str, str], body: Optional[bytes],
               timeout: float) -> HttpResponse:
        try:
            return http_fetch.request(method, url, timeout, max_bytes, open_url_fn, headers, body,
                                      transport_errors, **fixed_kwargs)
        except TransportError as exc:
            raise TransportError(_origin(url), exc.defect, exc.fix or _transport_fix(exc)) from None

    return opener


def _transport_fix(exc: BaseException) -> str:
    return (http_fetch.transport_fix(exc) + ", and the region or api_base_url/login_base_url")


def _origin(url: str) -> str:
    return http_fetch.origin(url)


# -------------------------------------------------------------------- retries


def retry_delay(attempt: int, retry_after: Optional[str], backoff: float = DEFAULT_BACKOFF,
                max_delay: float = DEFAULT_MAX_DELAY, now: Optional[datetime.datetime] = None) -> float:
    """Seconds to wait before retry ``attempt`` (0-based).

    ``Retry-After`` wins when the server sends it (seconds or an HTTP date), capped at
    ``max_delay``; otherwise ``backoff * 2**attempt``, capped the same way.
    """
    if retry_after:
        value = retry_after.strip()
        if value.isdigit():
            return min(float(value), max_delay)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=datetime.timezone.utc)
            current = now or datetime.datetime.now(datetime.timezone.utc)
            return min(max((when - current).total_seconds(), 0.0), max_delay)
    return min(backoff * (2 ** attempt), max_delay)


# --------------------------------------------------------------------- client


def _error_text(response: HttpResponse) -> str:
    """The server's own words about an error (ErrorBody or OAuth error), short."""
    try:
        data = json.loads(response.body.decode("utf-8", "replace"))
    except ValueError:
        data = None
    if isinstance(data, dict):
        code = data.get("code") or data.get("error") or ""
        message = data.get("message") or data.get("error_description") or data.get("description") or ""
        text = ("%s: %s" % (code, message)) if code and message else (code or message)
        if text:
            return str(text)[:300]
    snippet = response.body[:120].decode("utf-8", "replace").strip()
    return snippet or "no body"


class GenesysClient:
    """OAuth client-credentials session against one Genesys Cloud region (or a stand-in)."""

    def __init__(self, api_base_url: str, login_base_url: str, client_id: str, client_secret: str,
                 opener: Opener, *, timeout: float = 30, retries: int = DEFAULT_RETRIES,
                 backoff: float = DEFAULT_BACKOFF, max_delay: float = DEFAULT_MAX_DELAY,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.api_base_url = api_base_url.rstrip("/")
        self.login_base_url = login_base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._opener = opener
        self.timeout = timeout
        self.retries = max(int(retries), 0)
        self.backoff = backoff
        self.max_delay = max_delay
        self._sleep = sleep
        self._token: Optional[str] = None
        self.requests = 0  # HTTP requests sent, retries included
        self.retried: List[Tuple[str, int, float]] = []  # (url, status, delay) for each retry

    # -- secrets never leave through a message
    def redact(self, text: str) -> str:
        for secret in (self._client_secret, self._token, self._basic_value()):
            if secret:
                text = text.replace(secret, "********")
        return text

    def _basic_value(self) -> str:
        raw = ("%s:%s" % (self._client_id, self._client_secret)).encode("utf-8")
        return base64.b64encode(raw).decode("ascii")

    def _fail(self, obj: str, defect: str, fix: str) -> FetchError:
        return FetchError(self.redact(obj), self.redact(defect), self.redact(fix))

    def _send(self, method: str, url: str, headers: Dict[str, str], body: Optional[bytes]) -> HttpResponse:
        """One request with retries on 429/5xx; returns the last answer."""
        headers = dict(headers, **{"User-Agent": USER_AGENT, "Accept": "application/json"})
        attempt = 0
        while True:
            self.requests += 1
            try:
                response = self._opener(method, url, headers, body, self.timeout)
            except FetchError as exc:
                raise type(exc)(self.redact(exc.obj), self.redact(exc.defect), self.redact(exc.fix)) from None
            if response.status not in RETRY_STATUSES or attempt >= self.retries:
                return response
            delay = retry_delay(attempt, response.header("Retry-After"), self.backoff, self.max_delay)
            self.retried.append((url, response.status, delay))
            self._sleep(delay)
            attempt += 1

    def _gave_up(self, url: str, response: HttpResponse) -> FetchError:
        what = "rate limited (429)" if response.status == 429 else "server error %d" % response.status
        return self._fail(url, "%s after %d attempts (%s)" % (what, self.retries + 1, _error_text(response)),
                          "try again later, or raise retries; Genesys Cloud status: https://status.mypurecloud.com")

    # -- OAuth
    def token(self, refresh: bool = False) -> str:
        if self._token and not refresh:
            return self._token
        if not self._client_id or not self._client_secret:
            raise FetchError("client_id/client_secret", "not set",
                             "pass client_id and client_secret, or set GENESYSCLOUD_OAUTHCLIENT_ID and "
                             "GENESYSCLOUD_OAUTHCLIENT_SECRET")
        url = self.login_base_url + TOKEN_PATH
        headers = {"Authorization": "Basic " + self._basic_value(),
                   "Content-Type": "application/x-www-form-urlencoded"}
        body = urllib.parse.urlencode({"grant_type": "client_credentials"}).encode("ascii")
        response = self._send("POST", url, headers, body)
        if response.status in (400, 401, 403):
            raise self._fail(
                url, "the OAuth client was refused (%d %s)" % (response.status, _error_text(response)),
                "check client_id and client_secret (or GENESYSCLOUD_OAUTHCLIENT_ID/_SECRET), that the OAuth "
                "client uses the Client Credentials grant, and that it belongs to this region's organisation")
        if response.status in RETRY_STATUSES:
            raise self._gave_up(url, response)
        if response.status != 200:
            raise self._fail(url, "unexpected answer %d (%s)" % (response.status, _error_text(response)),
                             "check login_base_url points at the region's login host")
        data = self._json(url, response)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token or str(data.get("token_type", "bearer")).lower() != "bearer":
            raise self._fail(url, "the answer holds no bearer access_token",
                             "check login_base_url points at the Genesys Cloud login host, not a web page")
        self._token = str(token)
        return self._token

    def _json(self, url: str, response: HttpResponse) -> Any:
        try:
            return json.loads(response.body.decode("utf-8"))
        except ValueError:
            raise self._fail(url, "answer is not JSON (%s)" % _error_text(response),
                             "check the base URL points at the Genesys Cloud API, not a proxy's login page") from None

    # -- API
    def url_for(self, path_or_uri: str) -> str:
        """A path (``/api/v2/...``) or a same-origin absolute URI -> absolute URL.

        A path is appended to the base URL, so a mirror with a path prefix keeps it
        (``https://mirror/genesys`` + ``/api/v2/...``).
        """
        if path_or_uri.startswith("/"):
            url = self.api_base_url + path_or_uri
        else:
            url = urllib.parse.urljoin(self.api_base_url + "/", path_or_uri)
        if _origin(url) != _origin(self.api_base_url):
            raise self._fail(path_or_uri, "points outside %s" % _origin(self.api_base_url),
                             "the bearer token is only sent to the API host; check api_base_url")
        return url

    def get_json(self, path: str) -> Any:
        url = self.url_for(path)
        refreshed = False
        while True:
            headers = {"Authorization": "Bearer " + self.token()}
            response = self._send("GET", url, headers, None)
            if response.status == 401 and not refreshed:
                refreshed = True  # the token may have expired between pages: one fresh token
                self.token(refresh=True)
                continue
            break
        if response.status == 200:
            return self._json(url, response)
        raise self._http_error(url, response)

    def _http_error(self, url: str, response: HttpResponse) -> FetchError:
        text = _error_text(response)
        if response.status == 401:
            return self._fail(url, "the access token was not accepted (401 %s)" % text,
                              "the OAuth client must belong to the organisation in this region: check region "
                              "or api_base_url against the login host that issued the token")
        if response.status == 403:
            return self._fail(url, "the OAuth client lacks permission (403 %s)" % text,
                              "give the OAuth client a role with the telephony:plugin:all permission "
                              "(Telephony > Plugin > All)")
        if response.status == 404:
            return self._fail(url, "not found (404 %s)" % text,
                              "check region or api_base_url: the path is /api/v2/telephony/providers/edges/"
                              "certificateauthorities on the region's api host")
        if 300 <= response.status < 400:
            return self._fail(url, "redirected (%d) to %s" % (response.status, response.header("Location") or "?"),
                              "set api_base_url/login_base_url to the final address; redirects are not followed "
                              "so the token stays on the API host")
        if response.status in RETRY_STATUSES:
            return self._gave_up(url, response)
        return self._fail(url, "unexpected answer %d (%s)" % (response.status, text),
                          "check the API base URL and try again")

    def list_entities(self, path: str) -> Tuple[List[dict], int]:
        """Every entity of a paged listing; returns (entities, pages fetched)."""
        entities: List[dict] = []
        seen = set()
        next_path: Optional[str] = path
        pages = 0
        while next_path:
            url = self.url_for(next_path)
            if url in seen or pages >= MAX_PAGES:
                raise self._fail(url, "paging does not end (page seen before or over %d pages)" % MAX_PAGES,
                                 "report this to the API owner; nothing was written")
            seen.add(url)
            data = self.get_json(url)
            pages += 1
            if not isinstance(data, dict) or not isinstance(data.get("entities", []), list):
                raise self._fail(url, "answer is not an entity listing (no 'entities' list)",
                                 "check api_base_url points at the Genesys Cloud Platform API")
            entities.extend(e for e in data.get("entities") or [] if isinstance(e, dict))
            next_path = _next_page(path, data)
        return entities, pages


def _next_page(path: str, data: dict) -> Optional[str]:
    if data.get("nextUri"):
        return str(data["nextUri"])
    number, count = data.get("pageNumber"), data.get("pageCount")
    if isinstance(number, int) and isinstance(count, int) and number < count:
        query = {"pageNumber": number + 1}
        if isinstance(data.get("pageSize"), int):
            query["pageSize"] = data["pageSize"]
        return "%s?%s" % (path.split("?", 1)[0], urllib.parse.urlencode(query))
    return None
