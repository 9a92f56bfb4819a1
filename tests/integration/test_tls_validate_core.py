"""tls_validation end to end against loopback peers: every check, by a live handshake and by chain_file.

Each scenario is a real defective (or good) peer; the test asserts the named check's status
and the words of its message, so removing a check makes its scenario fail.
"""

import datetime
import socket
import ssl

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import tls_probe
from ansible_collections.byoc.secure_trunk.plugins.module_utils import tls_validation as tv
from support import pki, servers
from support.peers import HOST, Lab

DAY = datetime.timedelta(days=1)


# Probing TLS 1.0/1.1 is the point; Python warns that the versions are deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1")


@pytest.fixture()
def lab(tmp_path):
    with Lab(tmp_path) as the_lab:
        yield the_lab


def _leaf_and_chain(lab, scenario):
    """(leaf, chain sent after the leaf, extra TLSServer kwargs) for a certificate scenario."""
    if scenario == "good":
        return lab.leaf(), None, {}
    if scenario == "missing_intermediate":
        return lab.leaf(), [], {}
    if scenario == "self_signed":
        return pki.self_signed_leaf([HOST]), [], {}
    if scenario == "expired":
        return lab.leaf(not_before=pki.now() - 400 * DAY, not_after=pki.now() - 3 * DAY), None, {}
    if scenario == "not_yet_valid":
        return lab.leaf(not_before=pki.now() + 2 * DAY), None, {}
    if scenario == "horizon":
        return lab.leaf(days=10), None, {}
    if scenario == "wrong_name":
        return lab.leaf(["other.example.test"]), None, {}
    if scenario == "wildcard":
        return lab.leaf(["*.example.test"]), None, {}
    if scenario == "ec_key":
        return lab.leaf(key_type="ec"), None, {"ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384"}
    if scenario == "rsa_1024":
        return lab.leaf(key_size=1024), None, {}
    if scenario == "client_auth_only":
        return lab.leaf(eku=[pki.CLIENT_AUTH]), None, {}
    if scenario == "revoked":
        leaf = lab.leaf()
        lab.revoke(leaf)
        return leaf, None, {}
    if scenario == "crl_unreachable":
        return lab.leaf(crl_urls=["http://127.0.0.1:%d/gone.crl" % servers.closed_port()]), None, {}
    if scenario == "crl_stale":
        lab.publish(last_update=pki.now() - 10 * DAY, next_update=pki.now() - DAY)
        return lab.leaf(), None, {}
    raise AssertionError(scenario)


CERT_SCENARIOS = [
    # scenario, request options, check, status, words in the message
    ("good", {}, None, "pass", None),
    ("missing_intermediate", {}, "chain", "fail",
     "leaf CN=sbc.example.test: incomplete chain: the issuer of CN=sbc.example.test (CN=byoc lab issuing CA) "
     "was not sent and is not a trust anchor; send the leaf and every intermediate"),
    ("self_signed", {}, "chain", "fail", "is self-signed and not a trust anchor"),
    ("expired", {}, "dates", "fail", "certificate expired on %s (notAfter); renew it or check the system clock"
     % (pki.now() - 3 * DAY).strftime("%Y-%m-%d")),
    ("not_yet_valid", {}, "dates", "fail", "is not valid before %s (notBefore)"
     % (pki.now() + 2 * DAY).strftime("%Y-%m-%d")),
    ("horizon", {}, "dates", "fail", "inside the 30-day horizon (min_days_remaining)"),
    ("horizon", {"min_days_remaining": 7}, "dates", "pass", None),
    ("wrong_name", {}, "name", "fail", "does not name sbc.example.test (it names DNS:other.example.test"),
    ("wildcard", {}, "name", "warn", "only through the wildcard *.example.test"),
    ("ec_key", {}, "key", "fail", "has an EC (secp384r1) key, but every BYOC cipher suite is RSA-authenticated"),
    ("rsa_1024", {}, "key", "fail", "has a 1024-bit RSA key"),
    ("client_auth_only", {}, "key", "fail", "does not allow TLS server authentication"),
    ("revoked", {}, "revocation", "fail", "certificate was revoked on"),
    ("revoked", {"revocation": "none"}, "revocation", "skipped", None),
    ("crl_unreachable", {}, "revocation", "warn", "revocation could not be checked"),
    ("crl_unreachable", {"revocation": "hard"}, "revocation", "fail", "revocation could not be checked"),
    ("crl_stale", {"revocation": "hard"}, "revocation", "fail", "the CRL is stale"),
]


def _run(lab, mode, scenario, options):
    leaf, chain, server_kwargs = _leaf_and_chain(lab, scenario)
    if mode == "tls":
        peer = lab.serve(leaf, chain, **server_kwargs)
        where = {"host": HOST, "port": peer.port, "connect_address": "127.0.0.1"}
    else:
        where = {"host": HOST, "chain_file": lab.files(leaf, chain)["chain"]}
    request = tv.build_request(ca_file=lab.root_file, timeout=5, **where, **options)
    return tv.validate(request)


@pytest.mark.parametrize("mode", ["tls", "chain_file"])
@pytest.mark.parametrize("scenario, options, check, status, words", CERT_SCENARIOS,
                         ids=["%s%s" % (s[0], "-" + "-".join("%s=%s" % kv for kv in s[1].items()) if s[1] else "")
                              for s in CERT_SCENARIOS])
def test_certificate_checks(lab, mode, scenario, options, check, status, words):
    result = _run(lab, mode, scenario, options)
    endpoint = result["endpoints"][0]
    if check is None:  # the good control: everything passes, and the result is complete
        assert result["ok"], result["msg"]
        assert set(endpoint["checks"].values()) <= {"pass", "skipped"}
        assert endpoint["matched_root"]["name"] == "byoc lab root CA"
        assert endpoint["name_match"] == "sbc.example.test (SAN)"
        assert [c["role"] for c in endpoint["chain"]] == ["leaf", "intermediate", "trust anchor"]
        assert [c["status"] for c in endpoint["crl"]] == ["good", "good"]
        assert endpoint["days_remaining"] >= 364
        if mode == "tls":
            assert (endpoint["protocol"], endpoint["cipher_iana"], endpoint["group"]) == (
                "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "secp384r1")
        return
    assert endpoint["checks"][check] == status, (endpoint["checks"], result["msg"])
    if status == "fail":
        assert not result["ok"]
        assert words in result["msg"]
        mine = [f for f in result["failures"] if f["check"] == check]
        assert mine and all(f["object"] and f["defect"] and f["fix"] for f in mine)
    elif status == "warn":
        assert any(words in w for w in result["warnings"]), result["warnings"]


def test_ec_peer_is_refused_but_still_described(lab):
    result = _run(lab, "tls", "ec_key", {})
    endpoint = result["endpoints"][0]
    assert endpoint["checks"]["handshake"] == "fail"
    assert ("peer refused TLS 1.2 with the BYOC suites on secp384r1: handshake failure alert "
            "(it accepted TLSv1.2 with ECDHE-ECDSA-AES256-GCM-SHA384 instead)") in result["msg"]
    assert endpoint["chain"][0]["subject"].startswith("CN=sbc.example.test")


# ------------------------------------------------------------------ handshake and policy probes

def _peer(lab, scenario):
    leaf = lab.leaf()
    kwargs = {
        "good": {},
        "tls10": {"min_version": ssl.TLSVersion.TLSv1},
        "tls11": {"min_version": ssl.TLSVersion.TLSv1_1},
        "tls13": {"max_version": ssl.TLSVersion.TLSv1_3},
        "tls13_only": {"min_version": ssl.TLSVersion.TLSv1_3, "max_version": ssl.TLSVersion.TLSv1_3},
        "extra_suite": {"ciphers": servers.POLICY_CIPHERS + ":AES128-SHA"},
        "ecdsa_family": {"ciphers": servers.POLICY_CIPHERS + ":CHACHA20"},
        "p256": {"group": "prime256v1"},
        "default_groups": {"group": None},
        "client_cert": {"client_cert": "optional", "client_ca": lab.root_file},
        "rsa_first": {"ciphers": "AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"},
        "cbc_sha2": {},
    }[scenario]
    return lab.serve(leaf, **kwargs)


needs_openssl = pytest.mark.skipif(tls_probe.openssl_binary() is None, reason="needs the openssl command")

POLICY_SCENARIOS = [
    # scenario, options, check, status, words
    ("good", {"probe_policy": True}, "policy", "pass", None),
    ("tls10", {"probe_policy": True}, "policy", "fail", "accepts TLSv1.0 (negotiated"),
    ("tls11", {"probe_policy": True}, "policy", "fail", "accepts TLSv1.1 (negotiated"),
    ("tls13", {"probe_policy": True}, "policy", "fail", "accepts TLSv1.3 (negotiated TLS_AES_256_GCM_SHA384); R1 "
     "allows TLS 1.2 only; pin the listener to TLS 1.2"),
    ("extra_suite", {"probe_policy": True}, "policy", "fail",
     "accepts suites outside the policy (RSA key exchange outside the policy): AES128-SHA; restrict the cipher list"),
    ("ecdsa_family", {"probe_policy": True}, "policy", "fail",
     "accepts suites outside the policy (ECDHE-RSA outside the policy): ECDHE-RSA-CHACHA20-POLY1305"),
    ("p256", {"probe_policy": True}, "policy", "fail", "accepts ECDHE on P-256; R3 allows secp384r1 only"),
    ("p256", {}, "handshake", "warn", "RSA key exchange, no forward secrecy"),
    pytest.param("default_groups", {"probe_policy": True}, "policy", "fail", "accepts ECDHE on X25519",
                 marks=needs_openssl),
    pytest.param("client_cert", {"probe_policy": True}, "policy", "fail",
                 "requests a client certificate; R5: Genesys never sends one", marks=needs_openssl),
    ("rsa_first", {"probe_policy": True}, "policy", "warn",
     "prefers TLS_RSA_WITH_AES_256_GCM_SHA384 (RSA key exchange, no forward secrecy) over the ECDHE suites"),
    ("cbc_sha2", {"probe_policy": True, "cipher_policy": "byoc-2025"}, "policy", "fail",
     "accepts TLS_RSA_WITH_AES_256_CBC_SHA256, which the chosen cipher policy excludes"),
    ("tls13_only", {}, "handshake", "fail", "peer refused TLS 1.2 with the BYOC suites on secp384r1: protocol "
     "version alert (it accepted TLSv1.3 with TLS_AES_256_GCM_SHA384 instead)"),
]


@pytest.mark.parametrize("scenario, options, check, status, words", POLICY_SCENARIOS)
def test_handshake_and_policy(lab, scenario, options, check, status, words):
    peer = _peer(lab, scenario)
    request = tv.build_request(host=HOST, port=peer.port, connect_address="127.0.0.1", ca_file=lab.root_file,
                               timeout=5, **options)
    result = tv.validate(request)
    endpoint = result["endpoints"][0]
    assert endpoint["checks"][check] == status, (endpoint["checks"], result["msg"], result["warnings"])
    if status == "fail":
        assert words in result["msg"], result["msg"]
    elif status == "warn":
        assert any(words in w for w in result["warnings"]), result["warnings"]
    if scenario == "good":
        assert result["ok"], result["msg"]
        probes = endpoint["probes"]
        assert probes["protocols"] == {"TLSv1.0": "refused", "TLSv1.1": "refused", "TLSv1.2": "accepted",
                                       "TLSv1.3": "refused"}
        assert probes["groups"]["secp384r1"] == "accepted"
        assert probes["groups"]["P-256"] == probes["groups"]["P-521"] == "refused"
        assert all(v == [] for v in probes["non_policy_suites"].values())
        assert set(probes["policy_suites"].values()) == {"accepted"}
        if tls_probe.openssl_binary():
            assert probes["groups"]["X25519"] == "refused"
            assert probes["client_certificate_requested"] is False


def test_x25519_without_openssl_is_reported_not_guessed(lab, monkeypatch):
    peer = _peer(lab, "good")
    request = tv.build_request(host=HOST, port=peer.port, connect_address="127.0.0.1", ca_file=lab.root_file,
                               probe_policy=True)
    request.openssl = None
    result = tv.validate(request)
    assert result["endpoints"][0]["probes"]["groups"]["X25519"] == "not probed: openssl command not found"
    assert any("ECDHE on X25519 was not probed" in w for w in result["warnings"])


# ------------------------------------------------------------------ network faults, in policy language

@pytest.mark.parametrize("fault, words", [
    ("refused", "connection refused (nothing listens on port"),
    ("timeout", "no TLS answer: no answer within 0.3 s; check routes and firewalls"),
    ("not_tls", "the peer does not answer with TLS"),
    ("dns", "cannot resolve sbc.example.test"),
])
def test_network_faults(lab, monkeypatch, fault, words):
    silent = servers.silent_port()
    port = {"refused": servers.closed_port(), "timeout": silent.port, "not_tls": lab.crls.port,
            "dns": 5061}[fault]
    address = None if fault == "dns" else "127.0.0.1"
    if fault == "dns":
        def no_dns(*args, **kwargs):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        monkeypatch.setattr(tls_probe.socket, "getaddrinfo", no_dns)
    try:
        request = tv.build_request(host=HOST, port=port, connect_address=address, ca_file=lab.root_file, timeout=0.3)
        result = tv.validate(request)
    finally:
        silent.close()
    assert not result["ok"]
    assert result["endpoints"][0]["checks"]["handshake"] == "fail"
    assert words in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]


def test_unreachable_peer_is_one_defect_not_thirty(lab):
    request = tv.build_request(host=HOST, port=servers.closed_port(), connect_address="127.0.0.1",
                               ca_file=lab.root_file, probe_policy=True, timeout=2)
    result = tv.validate(request)
    assert [f["check"] for f in result["failures"]] == ["handshake"]
    assert result["warnings"] == [] and result["endpoints"][0]["checks"]["policy"] == "skipped"


# ------------------------------------------------------------------ many endpoints, one call

def test_endpoints_concurrently_one_crl_fetch(lab):
    peers = [lab.serve(lab.leaf()) for _unused in range(3)]
    bad = lab.serve(lab.leaf(["other.example.test"]))
    endpoints = [{"host": HOST, "port": p.port, "connect_address": "127.0.0.1"} for p in peers + [bad]]
    result = tv.validate(tv.build_request(endpoints=endpoints, ca_file=lab.root_file, timeout=5))
    assert [e["port"] for e in result["endpoints"]] == [p.port for p in peers + [bad]]
    assert [e["ok"] for e in result["endpoints"]] == [True, True, True, False]
    assert lab.crls.hits("inter.crl") == 1 and lab.crls.hits("root.crl") == 1
    assert sorted(result["crl_fetches"]) == sorted([lab.crls.url("inter.crl"), lab.crls.url("root.crl")])
    assert result["msg"].startswith("1 defect on 1 of 4 endpoints: sbc.example.test:%d: leaf CN=other" % bad.port)
    assert all(f["endpoint"] == "sbc.example.test:%d" % bad.port for f in result["failures"])
