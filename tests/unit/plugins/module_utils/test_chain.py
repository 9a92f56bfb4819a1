"""chain.py: path building, name, dates and key checks on chains built by the test PKI (offline)."""

import datetime

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import chain
from support import pki

HOST = "sbc.example.test"
DAY = datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def ca():
    root = pki.make_root("chain test root")
    inter = pki.make_intermediate(root, "chain test issuing CA")
    return {"root": root, "inter": inter}


def _findings(report, check=None, level=None):
    return [f for f in report.findings if (check is None or f.check == check) and (level is None or f.level == level)]


def _run(sent, anchors, host=HOST, min_days=30, **kw):
    return chain.analyse([i.cert for i in sent], [a.cert for a in anchors], host, min_days=min_days, **kw)


# ------------------------------------------------------------------ the path (R8)

def _chain_case(name, ca):
    root, inter = ca["root"], ca["inter"]
    leaf = pki.make_leaf(inter, [HOST])
    if name == "good":
        return [leaf, inter], [root]
    if name == "root_sent_too":
        return [leaf, inter, root], [root]
    if name == "missing_intermediate":
        return [leaf], [root]
    if name == "self_signed_leaf":
        return [pki.self_signed_leaf([HOST])], [root]
    if name == "untrusted_root_sent":
        other = pki.make_root("some other root", fresh_key=True)
        other_inter = pki.make_intermediate(other, "other issuing CA", fresh_key=True)
        return [pki.make_leaf(other_inter, [HOST]), other_inter, other], [root]
    if name == "wrong_intermediate_key":
        # Same name as the real intermediate, another key: the leaf's signature cannot verify.
        imposter = pki.make_intermediate(root, "chain test issuing CA", fresh_key=True)
        return [leaf, imposter], [root]
    if name == "look_alike_anchor":
        fake_root = pki.make_root("chain test root", fresh_key=True)
        return [leaf, inter], [fake_root]
    if name == "intermediate_not_ca":
        not_ca = pki.make_intermediate(root, "not a CA", ca=False)
        return [pki.make_leaf(not_ca, [HOST]), not_ca], [root]
    if name == "extra_sent":
        stray = pki.make_intermediate(root, "stray CA")
        return [leaf, inter, stray], [root]
    if name == "no_anchors":
        return [leaf, inter], []
    raise AssertionError(name)


@pytest.mark.parametrize("case, level, words", [
    ("good", None, None),
    ("root_sent_too", None, None),
    ("missing_intermediate", "fail", "incomplete chain: the issuer of CN=sbc.example.test (CN=chain test issuing CA) "
                                     "was not sent"),
    ("self_signed_leaf", "fail", "is self-signed and not a trust anchor"),
    ("untrusted_root_sent", "fail", "ends in this self-signed root, which is not a trust anchor"),
    ("wrong_intermediate_key", "fail", "does not verify with the key of the sent issuer CN=chain test issuing CA"),
    ("look_alike_anchor", "fail", "matches trust anchor CN=chain test root, but the anchor's key does not verify"),
    ("intermediate_not_ca", "fail", "is not a CA"),
    ("extra_sent", "warn", "was sent but is not part of the chain"),
    ("no_anchors", "fail", "no trust anchors"),
])
def test_path(ca, case, level, words):
    sent, anchors = _chain_case(case, ca)
    report = _run(sent, anchors)
    found = _findings(report, "chain")
    if level is None:
        assert found == []
        assert report.anchor is not None
        assert chain.anchor_summary(report)["name"] == "chain test root"
    else:
        assert [f.level for f in found] == [level], [f.message for f in found]
        assert words in found[0].message


def test_describe_chain_marks_sent_and_roles(ca):
    leaf = pki.make_leaf(ca["inter"], [HOST])
    report = _run([leaf, ca["inter"]], [ca["root"]])
    described = chain.describe_chain(report)
    assert [(d["role"], d["sent"]) for d in described] == [("leaf", True), ("intermediate", True),
                                                           ("trust anchor", False)]
    assert described[0]["sha256"] == chain.x509u.sha256_hex(leaf.der)


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_signature_verification_by_key_type(key_type):
    root = pki.make_root("sig root %s" % key_type, key_type=key_type)
    leaf = pki.make_leaf(root, [HOST])
    other = pki.make_root("sig root %s" % key_type, key_type=key_type, fresh_key=True)
    assert chain.signed_by(leaf.cert, root.cert)
    assert not chain.signed_by(leaf.cert, other.cert)


# ------------------------------------------------------------------ name (R9)

@pytest.mark.parametrize("hostnames, kwargs, host, level, words", [
    ([HOST], {}, HOST, None, None),
    ([HOST.upper() + "."], {}, HOST, None, None),
    (["other.example.test"], {}, HOST, "fail", "does not name sbc.example.test (it names DNS:other.example.test"),
    (["*.example.test"], {}, HOST, "warn", "only through the wildcard"),
    (["*.example.test"], {}, "a.b.example.test", "fail", "does not name a.b.example.test"),
    (["*.test"], {}, "example.test", "fail", "does not name example.test"),
    ([], {"common_name": HOST}, HOST, "warn", "only in the CN, there is no SAN"),
    (["other.example.test"], {"common_name": HOST}, HOST, "fail", "only in the CN while the SAN lists"),
    ([], {"ips": ["192.0.2.10"], "common_name": ""}, HOST, "fail", "it names IP:192.0.2.10"),
])
def test_name(ca, hostnames, kwargs, host, level, words):
    leaf = pki.make_leaf(ca["inter"], hostnames, **kwargs)
    report = _run([leaf, ca["inter"]], [ca["root"]], host=host)
    found = _findings(report, "name")
    if level is None:
        assert found == [] and report.name_match
    else:
        assert [f.level for f in found] == [level], [f.message for f in found]
        assert words in found[0].message
        if level == "warn":
            assert report.name_match


def test_is_ip():
    assert chain.is_ip("192.0.2.1") and chain.is_ip("2001:db8::1") and chain.is_ip("[2001:db8::1]")
    assert not chain.is_ip("lb01.voice.euc2.pure.cloud")


# ------------------------------------------------------------------ dates (R10)

@pytest.mark.parametrize("which, window, min_days, level, words", [
    ("leaf", {"days": 365}, 30, None, None),
    ("leaf", {"not_before": pki.now() - 400 * DAY, "not_after": pki.now() - 2 * DAY}, 30, "fail",
     "certificate expired on %s (notAfter); renew it or check the system clock"
     % (pki.now() - 2 * DAY).strftime("%Y-%m-%d")),
    ("leaf", {"not_before": pki.now() + 3 * DAY, "days": 365}, 30, "fail", "is not valid before"),
    ("leaf", {"days": 10}, 30, "fail", "inside the 30-day horizon"),
    ("leaf", {"days": 10}, 5, None, None),
    ("inter", {"not_before": pki.now() - 400 * DAY, "not_after": pki.now() - DAY}, 30, "fail", "expired on"),
    ("root", {"days": 10}, 30, "warn", "inside the 30-day horizon"),
])
def test_dates(which, window, min_days, level, words):
    root = pki.make_root("dates root", **(window if which == "root" else {}))
    inter = pki.make_intermediate(root, "dates CA", **(window if which == "inter" else {}))
    leaf = pki.make_leaf(inter, [HOST], **(window if which == "leaf" else {}))
    report = _run([leaf, inter], [root], min_days=min_days)
    found = _findings(report, "dates")
    if level is None:
        assert found == []
    else:
        assert [f.level for f in found] == [level], [f.message for f in found]
        assert words in found[0].message
    assert report.days_remaining == chain.x509u.days_until(chain.x509u.not_after(leaf.cert))


# ------------------------------------------------------------------ key and usage (R2)

@pytest.mark.parametrize("kwargs, check_kw, level, words", [
    ({}, {}, None, None),
    ({"key_type": "ec"}, {}, "fail", "has an EC (secp384r1) key, but every BYOC cipher suite is RSA-authenticated"),
    ({"key_size": 1024}, {}, "fail", "has a 1024-bit RSA key"),
    ({"eku": [pki.CLIENT_AUTH]}, {}, "fail", "does not allow TLS server authentication"),
    ({"eku": None}, {}, None, None),
    ({"key_usage": {"key_agreement": True}}, {}, "fail", "no policy suite can use this key"),
    ({"key_usage": {"digital_signature": True}}, {}, "warn", "lacks keyEncipherment, so the TLS_RSA suites"),
    ({"key_usage": {"digital_signature": True}}, {"need_rsa_kx": False}, None, None),
    ({"key_usage": {"key_encipherment": True}}, {}, "warn", "lacks digitalSignature, so the ECDHE_RSA suites"),
])
def test_key(ca, kwargs, check_kw, level, words):
    leaf = pki.make_leaf(ca["inter"], [HOST], **kwargs)
    report = _run([leaf, ca["inter"]], [ca["root"]], **check_kw)
    found = _findings(report, "key")
    if level is None:
        assert found == []
    else:
        assert [f.level for f in found] == [level], [f.message for f in found]
        assert words in found[0].message


def test_nothing_presented():
    report = chain.analyse([], [], HOST)
    assert _findings(report, "chain", "fail")[0].defect == "no certificate was presented"


def test_finding_message_names_object_defect_fix():
    f = chain.Finding("dates", "fail", "leaf CN=x", "certificate expired on 2026-10-01 (notAfter)",
                      "renew it or check the system clock")
    assert f.message == "leaf CN=x: certificate expired on 2026-10-01 (notAfter); renew it or check the system clock"
    assert f.as_dict("x:5061")["endpoint"] == "x:5061"
