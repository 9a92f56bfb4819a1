"""The Platform API client: OAuth flow, retries, paging, errors, redaction (fake opener and the stand-in)."""

import base64
import datetime
import email.utils
import json
import time
import urllib.parse

import pytest
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.byoc.secure_trunk.plugins.module_utils import genesys_api
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import FetchError
from ansible_collections.byoc.secure_trunk.plugins.module_utils.genesys_api import (
    GenesysClient,
    HttpResponse,
    TransportError,
    retry_delay,
)
from support.genesys_standin import CA_PATH, GenesysStandIn, authority
from support.servers import CRLServer, closed_port

API = "https://api.example.test"
LOGIN = "https://login.example.test"
SECRET = "s3cr3t-value-that-must-not-leak"
TOKEN = "tok-ABCDEF-0123456789"


def reply(status=200, payload=None, headers=None, raw=None):
    body = raw if raw is not None else json.dumps(payload if payload is not None else {}).encode()
    return HttpResponse(status, headers or {}, body)


def token_ok(token=TOKEN):
    return reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 86399})


class Scripted:
    """An opener that answers from a script, in order, and records every call."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, method, url, headers, body, timeout):
        self.calls.append((method, url, dict(headers), body))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(opener, **kwargs):
    sleeps = []
    kwargs.setdefault("retries", 2)
    made = GenesysClient(API, LOGIN, "client-1", SECRET, opener, sleep=sleeps.append, **kwargs)
    made.sleeps = sleeps
    return made


def listing(entities, **extra):
    return reply(200, dict({"entities": entities, "pageSize": 25, "pageNumber": 1, "total": len(entities),
                            "pageCount": 1}, **extra))


# ------------------------------------------------------------------ retry delay

_NOW = datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("attempt, retry_after, expected", [
    (0, None, 1.0),
    (1, None, 2.0),
    (3, None, 8.0),
    (10, None, 60.0),  # capped
    (0, "7", 7.0),  # Retry-After seconds win over backoff
    (4, "2", 2.0),
    (0, "0", 0.0),
    (0, "600", 60.0),  # capped too
    (0, email.utils.format_datetime(_NOW + datetime.timedelta(seconds=30), usegmt=True), 30.0),
    (0, email.utils.format_datetime(_NOW - datetime.timedelta(seconds=30), usegmt=True), 0.0),
    (2, "soon", 4.0),  # unreadable: back off as if absent
], ids=["first", "second", "fourth", "cap", "ra-seconds", "ra-over-backoff", "ra-zero", "ra-cap", "ra-date",
        "ra-past-date", "ra-garbage"])
def test_retry_delay(attempt, retry_after, expected):
    assert retry_delay(attempt, retry_after, backoff=1.0, max_delay=60.0, now=_NOW) == pytest.approx(expected, abs=1)


# ------------------------------------------------------------------ OAuth flow


def test_token_request_follows_the_client_credentials_grant():
    opener = Scripted(token_ok(), listing([]))
    api = client(opener)
    api.list_entities(CA_PATH)
    method, url, headers, body = opener.calls[0]
    assert (method, url) == ("POST", LOGIN + "/oauth/token")
    assert base64.b64decode(headers["Authorization"].split(" ", 1)[1]).decode() == "client-1:" + SECRET
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(body.decode()) == {"grant_type": ["client_credentials"]}
    method, url, headers, body = opener.calls[1]
    assert (method, url, body) == ("GET", API + CA_PATH, None)
    assert headers["Authorization"] == "Bearer " + TOKEN


def test_token_is_reused_across_pages():
    opener = Scripted(token_ok(), listing([{"id": "a"}], nextUri=CA_PATH + "?pageNumber=2"), listing([{"id": "b"}]))
    entities, pages = client(opener).list_entities(CA_PATH)
    assert [e["id"] for e in entities] == ["a", "b"] and pages == 2
    assert [c[0] for c in opener.calls] == ["POST", "GET", "GET"]


@pytest.mark.parametrize("answer, words", [
    (reply(401, {"error": "invalid_client", "error_description": "client not found"}),
     "OAuth client was refused (401 invalid_client: client not found)"),
    (reply(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}),
     "OAuth client was refused (400"),
    (reply(200, raw=b"<html>login</html>"), "is not JSON"),
    (reply(200, {"token_type": "bearer"}), "no bearer access_token"),
    (reply(200, {"access_token": "x", "token_type": "mac"}), "no bearer access_token"),
    (reply(302, headers={"Location": "https://elsewhere"}), "unexpected answer 302"),
], ids=["invalid-client", "bad-grant", "not-json", "no-token", "not-bearer", "redirect"])
def test_token_failures(answer, words):
    with pytest.raises(FetchError) as caught:
        client(Scripted(answer)).token()
    assert words in str(caught.value) and caught.value.fix
    assert caught.value.obj == LOGIN + "/oauth/token"


@pytest.mark.parametrize("client_id, secret", [("", SECRET), ("client-1", ""), (None, None)])
def test_missing_credentials(client_id, secret):
    with pytest.raises(FetchError, match="not set"):
        GenesysClient(API, LOGIN, client_id, secret, Scripted()).token()


def test_expired_token_is_renewed_once():
    opener = Scripted(token_ok("old"), reply(401, {"code": "bad.credentials"}), token_ok("new"), listing([]))
    client(opener).list_entities(CA_PATH)
    assert opener.calls[3][2]["Authorization"] == "Bearer new"


# ------------------------------------------------------------------ retries


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retries_on_rate_limit_and_server_errors(status):
    opener = Scripted(token_ok(), reply(status, {"code": "x"}, {"Retry-After": "3"}), reply(status), listing([]))
    api = client(opener, backoff=0.5)
    api.list_entities(CA_PATH)
    assert api.sleeps == [3.0, 1.0]  # Retry-After honoured, then backoff 0.5 * 2**1
    assert [s for _unused, s, _unused in api.retried] == [status, status] and api.requests == 4


def test_token_endpoint_is_retried_too():
    opener = Scripted(reply(503), token_ok(), listing([]))
    api = client(opener)
    api.list_entities(CA_PATH)
    assert api.sleeps == [1.0]


@pytest.mark.parametrize("status, words", [
    (429, "rate limited (429) after 3 attempts"),
    (503, "server error 503 after 3 attempts"),
])
def test_gives_up_after_the_retries(status, words):
    opener = Scripted(token_ok(), *[reply(status, {"code": "busy", "message": "later"})] * 3)
    api = client(opener)
    with pytest.raises(FetchError) as caught:
        api.list_entities(CA_PATH)
    assert words in str(caught.value) and "busy: later" in str(caught.value)
    assert len(api.sleeps) == 2 and not opener.answers


@pytest.mark.parametrize("status, payload, words", [
    (401, {"code": "bad.credentials", "message": "Invalid login credentials."}, "access token was not accepted"),
    (403, {"code": "missing.any.permissions", "message": "need [telephony:plugin:all]"},
     "lacks permission (403 missing.any.permissions"),
    (404, {"code": "not.found", "message": "nope"}, "not found (404 not.found: nope)"),
    (302, None, "redirected (302) to https://elsewhere.test/"),
    (418, {"message": "teapot"}, "unexpected answer 418 (teapot)"),
], ids=["401", "403", "404", "redirect", "other"])
def test_api_errors_name_the_url_the_defect_and_the_fix(status, payload, words):
    answers = [token_ok(), reply(status, payload, {"Location": "https://elsewhere.test/"})]
    if status == 401:
        answers += [token_ok("again"), reply(status, payload)]
    opener = Scripted(*answers)
    with pytest.raises(FetchError) as caught:
        client(opener).list_entities(CA_PATH)
    assert words in str(caught.value), str(caught.value)
    assert caught.value.obj == API + CA_PATH and caught.value.fix
    assert not opener.answers  # no retries for these


# ------------------------------------------------------------------ paging


def test_pages_by_page_count_when_there_is_no_next_uri():
    opener = Scripted(token_ok(),
                      reply(200, {"entities": [{"id": "a"}], "pageSize": 1, "pageNumber": 1, "pageCount": 3}),
                      reply(200, {"entities": [{"id": "b"}], "pageSize": 1, "pageNumber": 2, "pageCount": 3}),
                      reply(200, {"entities": [{"id": "c"}], "pageSize": 1, "pageNumber": 3, "pageCount": 3}))
    entities, pages = client(opener).list_entities(CA_PATH)
    assert [e["id"] for e in entities] == ["a", "b", "c"] and pages == 3
    assert opener.calls[2][1] == API + CA_PATH + "?pageNumber=2&pageSize=1"


@pytest.mark.parametrize("answers, words", [
    ([listing([{"id": "a"}], nextUri=CA_PATH)], "paging does not end"),
    ([listing([], nextUri="https://evil.test/api/v2/x")], "points outside https://api.example.test"),
    ([reply(200, {"entities": "nope"})], "not an entity listing"),
    ([reply(200, [1, 2])], "not an entity listing"),
], ids=["loop", "off-origin-next", "entities-not-list", "not-object"])
def test_paging_defects(answers, words):
    with pytest.raises(FetchError, match=words):
        client(Scripted(token_ok(), *answers)).list_entities(CA_PATH)


# ------------------------------------------------------------------ secrets


def test_secret_and_token_never_reach_an_error_message():
    echo = reply(500, {"message": "echo %s %s" % (SECRET, TOKEN)})
    opener = Scripted(token_ok(), echo, echo, echo)
    with pytest.raises(FetchError) as caught:
        client(opener).list_entities(CA_PATH)
    text = json.dumps(caught.value.as_dict()) + str(caught.value)
    assert SECRET not in text and TOKEN not in text and "********" in text


def test_transport_errors_are_redacted_and_keep_their_type():
    opener = Scripted(token_ok(), TransportError(API, "no answer (%s)" % TOKEN, "fix"))
    with pytest.raises(TransportError) as caught:
        client(opener).list_entities(CA_PATH)
    assert TOKEN not in str(caught.value)


# ------------------------------------------------------------------ real HTTPS against the stand-in


@pytest.fixture
def standin(tmp_path):
    from support import pki

    with GenesysStandIn(tmp_path, [authority(pki.make_root("Org CA unit"))]) as api:
        yield api


def open_url_client(api, **opener_kwargs):
    opener = genesys_api.open_url_adapter(open_url, (UrlsConnectionError,), follow_redirects="none", **opener_kwargs)
    return GenesysClient(api.base_url, api.base_url, api.client_id, api.client_secret, opener, timeout=5,
                         sleep=lambda s: None)


def test_open_url_opener_against_the_standin(standin):
    entities, pages = open_url_client(standin, ca_path=standin.ca_file).list_entities(CA_PATH)
    assert [e["name"] for e in entities] == ["Org CA unit"] and pages == 1


def test_untrusted_api_certificate_is_a_transport_error_that_names_ca_path(standin):
    with pytest.raises(TransportError) as caught:
        open_url_client(standin).token()  # system store: the throwaway CA is not in it
    assert "certificate" in str(caught.value).lower() and "ca_path" in caught.value.fix


def test_validate_certs_off_reaches_the_standin(standin):
    assert open_url_client(standin, validate_certs=False).token() in standin.issued_tokens


def test_unreachable_host():
    port = closed_port()
    opener = genesys_api.open_url_adapter(open_url, (UrlsConnectionError,), follow_redirects="none")
    api = GenesysClient("https://127.0.0.1:%d" % port, "https://127.0.0.1:%d" % port, "id", SECRET, opener,
                        timeout=3)
    with pytest.raises(TransportError) as caught:
        api.token()
    assert "no answer" in str(caught.value) and "DNS" in caught.value.fix


@pytest.mark.parametrize("base, path, expected", [
    (API, CA_PATH, API + CA_PATH),
    ("https://mirror.test/genesys/", CA_PATH, "https://mirror.test/genesys" + CA_PATH),
    ("https://mirror.test/genesys", "https://mirror.test/genesys/x?pageNumber=2", "https://mirror.test/genesys/x?pageNumber=2"),
], ids=["plain", "path-prefix-kept", "absolute-same-origin"])
def test_url_for(base, path, expected):
    assert GenesysClient(base, LOGIN, "i", "s", Scripted()).url_for(path) == expected


def test_standin_paging_by_page_count_only(tmp_path):
    from support import pki

    cas = [authority(pki.make_root("CA %d" % n, fresh_key=n > 0)) for n in range(3)]
    with GenesysStandIn(tmp_path, cas, page_size=1, next_uri=False) as api:
        entities, pages = open_url_client(api, ca_path=api.ca_file).list_entities(CA_PATH)
        assert pages == 3 and [e["name"] for e in entities] == ["CA 0", "CA 1", "CA 2"]
        assert [path for _unused, path, _unused in api.requests_to(CA_PATH)][1:] == [
            CA_PATH + "?pageNumber=2&pageSize=1", CA_PATH + "?pageNumber=3&pageSize=1"]


def test_standin_expired_token_is_replaced(standin):
    api = open_url_client(standin, ca_path=standin.ca_file)
    first = api.token()
    standin.revoke_tokens()
    api.list_entities(CA_PATH)
    assert len(standin.issued_tokens) == 2 and api.token() != first
    assert [status for _unused, _unused, status in standin.requests_to(CA_PATH)] == [401, 200]


def test_standin_runs_standalone_for_a_lab(tmp_path):
    import os
    import subprocess
    import sys

    from support import pki

    ca_pem = tmp_path / "lab-org-ca.pem"
    ca_pem.write_bytes(pki.make_root("Lab Org CA").pem)
    tests_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    proc = subprocess.Popen([sys.executable, "-m", "support.genesys_standin", "--workdir", str(tmp_path / "w"),
                             "--authority", str(ca_pem), "--lifetime", "60"], cwd=tests_dir,
                            stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        opener = genesys_api.open_url_adapter(open_url, (UrlsConnectionError,), follow_redirects="none",
                                              ca_path=info["ca_file"])
        api = GenesysClient(info["base_url"], info["base_url"], info["client_id"], info["client_secret"], opener,
                            timeout=5)
        entities, _unused = api.list_entities(CA_PATH)
        assert [(e["name"], e["type"], e["services"]) for e in entities] == [("lab-org-ca", "MANAGED", ["SIP"])]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ------------------------------------------------------------------ issue 11: size cap and total deadline


def _ansible_opener(**kwargs):
    return genesys_api.open_url_adapter(open_url, follow_redirects="none", **kwargs)


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_dripping_api_server_is_cut_at_the_total_deadline(in_headers):
    with CRLServer() as server:
        server.drip("api", b'{"entities": []}' * 40, interval=0.2, limit=6.0, in_headers=in_headers)
        started = time.monotonic()
        with pytest.raises(genesys_api.TransportError) as caught:
            _ansible_opener()("GET", server.url("api"), {}, None, 1.0)
        assert time.monotonic() - started < 2.5
    assert "no complete answer within 1 s (the total deadline)" in caught.value.defect


def test_an_api_answer_over_the_size_cap_is_refused():
    with CRLServer() as server:
        server.put("big", b"[" + b"0," * 3000 + b"0]")
        with pytest.raises(genesys_api.TransportError, match="larger than 4096 bytes"):
            _ansible_opener(max_bytes=4096)("GET", server.url("big"), {}, None, 5)
        assert _ansible_opener()("GET", server.url("big"), {}, None, 5).status == 200
    assert genesys_api.MAX_RESPONSE_BYTES == 16 * 1024 * 1024
