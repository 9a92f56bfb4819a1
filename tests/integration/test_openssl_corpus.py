"""The trust verdict equals OpenSSL's: a corpus of chains made with ``cryptography`` at test time.

Every case is given to ``openssl verify -purpose sslserver -x509_strict`` on the same files, and
to tls_validate both ways: as ``chain_file`` and by a live handshake with a loopback peer that
sends exactly that chain. The module's verdict (``ok``; every other check passes by design:
RSA leaf, right name, a year left, revocation none) must equal OpenSSL's.

``test_openssl_decides_without_our_explanations`` switches our own path checks off: the
refusals must still come, from OpenSSL alone (the verdict is not ours to give).
"""

import datetime
import os
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from ansible_collections.byoc.secure_trunk.plugins.module_utils import chain as chainmod
from ansible_collections.byoc.secure_trunk.plugins.module_utils import tls_validation as tv
from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509 as x509u
from support import pki, servers

HOST = "sbc.example.test"
DAY = datetime.timedelta(days=1)
OPENSSL = shutil.which("openssl")

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is part of the test image")


def _nc(permitted=None, excluded=None):
    return (x509.NameConstraints(
        permitted_subtrees=[x509.DNSName(n) for n in permitted] if permitted else None,
        excluded_subtrees=[x509.DNSName(n) for n in excluded] if excluded else None), True)


def _eku(*oids):
    return (x509.ExtendedKeyUsage(list(oids)), False)


def _case(name):
    """(sent certificates, leaf first; trust anchors; leaf private key)."""
    root = pki.make_root("corpus root")
    if name == "good":
        inter = pki.make_intermediate(root, "corpus CA")
        return [pki.make_leaf(inter, [HOST]), inter], [root]
    if name == "path_len_0":
        upper = pki.make_intermediate(root, "corpus upper CA", path_length=0)
        lower = pki.make_intermediate(upper, "corpus lower CA")
        return [pki.make_leaf(lower, [HOST]), lower, upper], [root]
    if name == "path_len_1":
        upper = pki.make_intermediate(root, "corpus upper CA", path_length=1)
        lower = pki.make_intermediate(upper, "corpus lower CA")
        return [pki.make_leaf(lower, [HOST]), lower, upper], [root]
    if name == "no_key_cert_sign":
        inter = pki.make_intermediate(root, "corpus CA", key_cert_sign=False)
        return [pki.make_leaf(inter, [HOST]), inter], [root]
    if name in ("nc_excluded", "nc_permitted", "nc_permitted_other"):
        ext = {"nc_excluded": _nc(excluded=["example.test"]), "nc_permitted": _nc(permitted=["example.test"]),
               "nc_permitted_other": _nc(permitted=["other.test"])}[name]
        inter = pki.make_intermediate(root, "corpus CA", extra_extensions=[ext])
        return [pki.make_leaf(inter, [HOST]), inter], [root]
    if name == "unknown_critical":
        inter = pki.make_intermediate(root, "corpus CA")
        odd = (x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55555.1.1"), b"\x05\x00"), True)
        return [pki.make_leaf(inter, [HOST], extra_extensions=[odd]), inter], [root]
    if name in ("inter_eku_client", "inter_eku_server"):
        oid = pki.CLIENT_AUTH if name == "inter_eku_client" else pki.SERVER_AUTH
        inter = pki.make_intermediate(root, "corpus CA", extra_extensions=[_eku(oid)])
        return [pki.make_leaf(inter, [HOST]), inter], [root]
    if name == "inter_expired":
        inter = pki.make_intermediate(root, "corpus CA", not_before=pki.now() - 400 * DAY,
                                      not_after=pki.now() - DAY)
        return [pki.make_leaf(inter, [HOST]), inter], [root]
    if name == "inter_not_yet_valid":
        inter = pki.make_intermediate(root, "corpus CA", not_before=pki.now() + 2 * DAY)
        return [pki.make_leaf(inter, [HOST]), inter], [root]
    if name == "expired_duplicate_first":
        old = pki.make_intermediate(root, "corpus CA", not_before=pki.now() - 400 * DAY,
                                    not_after=pki.now() - DAY)
        new = pki.make_intermediate(root, "corpus CA")  # same name, same (cached) key
        return [pki.make_leaf(new, [HOST]), old, new], [root]
    if name in ("cross_signed", "cross_signed_and_other_root"):
        other = pki.make_root("corpus other root", fresh_key=True)
        cross = pki.make_intermediate(root, "corpus other root", key=other.key, path_length=None)
        inter = pki.make_intermediate(other, "corpus CA")
        if name == "cross_signed":  # the usual form: the cross-sign leads to the trusted root
            return [pki.make_leaf(inter, [HOST]), inter, cross], [root]
        # the untrusted self-signed root sent before the cross-sign: OpenSSL 3.0 stops at it
        return [pki.make_leaf(inter, [HOST]), inter, other, cross], [root]
    if name == "out_of_order":
        upper = pki.make_intermediate(root, "corpus upper CA", path_length=None)
        lower = pki.make_intermediate(upper, "corpus lower CA")
        return [pki.make_leaf(lower, [HOST]), upper, lower], [root]
    if name == "leaf_is_ca":
        inter = pki.make_intermediate(root, "corpus CA")
        return [pki.make_leaf(inter, [HOST], ca=True), inter], [root]
    if name == "ec_ca_rsa_leaf":
        ec_root = pki.make_root("corpus EC root", key_type="ec")
        inter = pki.make_intermediate(ec_root, "corpus EC CA", key_type="ec")
        return [pki.make_leaf(inter, [HOST]), inter], [ec_root]
    if name == "rsa_root_ec_inter":
        inter = pki.make_intermediate(root, "corpus EC CA", key_type="ec", curve="secp256r1")
        return [pki.make_leaf(inter, [HOST]), inter], [root]
    if name == "unknown_root":
        inter = pki.make_intermediate(root, "corpus CA")
        return [pki.make_leaf(inter, [HOST]), inter], [pki.make_root("corpus stranger", fresh_key=True)]
    if name == "self_signed_leaf_pinned":
        leaf = pki.self_signed_leaf([HOST])
        return [leaf], [leaf]
    raise AssertionError(name)


CASES = {  # name -> OpenSSL's verdict, as this test expects it (asserted too, so the corpus means something)
    "good": True,
    "path_len_0": False,
    "path_len_1": True,
    "no_key_cert_sign": False,
    "nc_excluded": False,
    "nc_permitted": True,
    "nc_permitted_other": False,
    "unknown_critical": False,
    "inter_eku_client": False,
    "inter_eku_server": True,
    "inter_expired": False,
    "inter_not_yet_valid": False,
    "expired_duplicate_first": True,
    "cross_signed": True,
    "cross_signed_and_other_root": None,  # OpenSSL 3.0 refuses where our path builder would not
    "out_of_order": True,
    "leaf_is_ca": None,  # whatever OpenSSL says: the module must agree
    "ec_ca_rsa_leaf": True,
    "rsa_root_ec_inter": True,
    "unknown_root": False,
    "self_signed_leaf_pinned": None,
}


def _write(tmp_path, sent, anchors):
    paths = sent[0].write(tmp_path, chain=sent[1:])
    paths["anchors"] = os.path.join(tmp_path, "anchors.pem")
    with open(paths["anchors"], "wb") as handle:
        handle.write(pki.chain_pem(*anchors))
    paths["untrusted"] = os.path.join(tmp_path, "untrusted.pem")
    with open(paths["untrusted"], "wb") as handle:
        handle.write(pki.chain_pem(*sent[1:]))
    return paths


def _openssl_verdict(paths, n_sent):
    cmd = [OPENSSL, "verify", "-purpose", "sslserver", "-x509_strict", "-CAfile", paths["anchors"]]
    if n_sent > 1:
        cmd += ["-untrusted", paths["untrusted"]]
    proc = subprocess.run(cmd + [paths["cert"]], capture_output=True, text=True, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr


def _module_verdict(paths, live, **options):
    if live:
        with servers.TLSServer(paths["chain"], paths["key"]) as peer:
            request = tv.build_request(host=HOST, port=peer.port, connect_address="127.0.0.1",
                                       ca_file=paths["anchors"], revocation="none", min_days_remaining=0,
                                       timeout=5, **options)
            result = tv.validate(request)
    else:
        request = tv.build_request(host=HOST, chain_file=paths["chain"], ca_file=paths["anchors"],
                                   revocation="none", min_days_remaining=0, timeout=5, **options)
        result = tv.validate(request)
    return result


@pytest.mark.parametrize("live", [False, True], ids=["chain_file", "handshake"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_verdict_equals_openssl(tmp_path, name, live):
    sent, anchors = _case(name)
    paths = _write(tmp_path, sent, anchors)
    openssl_ok, openssl_text = _openssl_verdict(paths, len(sent))
    if CASES[name] is not None:
        assert openssl_ok is CASES[name], openssl_text
    result = _module_verdict(paths, live)
    assert result["ok"] is openssl_ok, (openssl_text, result["msg"])
    endpoint = result["endpoints"][0]
    assert endpoint["verdict"]["ok"] is openssl_ok
    if not openssl_ok:
        assert endpoint["checks"]["chain"] == "fail" or endpoint["checks"]["dates"] == "fail", result["msg"]
        assert "OpenSSL" in result["msg"], result["msg"]


REFUSED = sorted(name for name, ok in CASES.items() if ok is False)


@pytest.mark.parametrize("live", [False, True], ids=["chain_file", "handshake"])
@pytest.mark.parametrize("name", REFUSED)
def test_openssl_decides_without_our_explanations(tmp_path, monkeypatch, name, live):
    """With our own path checks switched off (a path builder that accepts any chain ending in an
    anchor's name and finds nothing wrong), every refusal still comes: OpenSSL's."""
    def lenient_analyse(sent, anchors, host, now=None, min_days=30, need_ecdhe=True, need_rsa_kx=True):
        report = chainmod.ChainReport(sent=list(sent), path=list(sent), anchor=anchors[0])
        report.name_match = host
        return report

    monkeypatch.setattr(chainmod, "analyse", lenient_analyse)
    sent, anchors = _case(name)
    paths = _write(tmp_path, sent, anchors)
    result = _module_verdict(paths, live)
    assert not result["ok"]
    assert "OpenSSL refuses the chain: " in result["msg"], result["msg"]


EXPLAINED = {  # refused case -> the words our own checks add (the product's explanation of OpenSSL's refusal)
    "path_len_0": "allows 0 CA certificates below it (pathLenConstraint), but the chain has 1 (CN=corpus lower CA)",
    "no_key_cert_sign": "CN=corpus CA: issues CN=sbc.example.test but its key usage lacks keyCertSign",
    "nc_excluded": "name constraints exclude sbc.example.test (excluded: example.test), which CN=sbc.example.test",
    "nc_permitted_other": "name constraints permit only other.test, and CN=sbc.example.test carries sbc.example.test",
    "unknown_critical": "leaf CN=sbc.example.test: carries an unknown critical extension (1.3.6.1.4.1.55555.1.1)",
    "inter_eku_client": "CN=corpus CA: its extended key usage (clientAuth) does not allow TLS server authentication",
    "inter_expired": "CN=corpus CA: certificate expired on",
    "inter_not_yet_valid": "CN=corpus CA: certificate is not valid before",
    "unknown_root": "the issuer of CN=corpus CA (CN=corpus root) was not sent and is not a trust anchor",
}


@pytest.mark.parametrize("name", sorted(EXPLAINED))
def test_a_refusal_is_explained_in_the_products_words_with_openssls(tmp_path, name):
    sent, anchors = _case(name)
    paths = _write(tmp_path, sent, anchors)
    result = _module_verdict(paths, live=False)
    assert not result["ok"]
    assert EXPLAINED[name] in result["msg"], result["msg"]
    assert "(OpenSSL reports: " in result["msg"], result["msg"]
    assert "OpenSSL refuses the chain" not in result["msg"]  # explained, so not in OpenSSL's words alone


def test_an_expired_duplicate_issuer_sent_first_is_passed_over(tmp_path):
    """Backtracking: the path found runs through the valid duplicate, not the expired one sent first."""
    sent, anchors = _case("expired_duplicate_first")
    result = _module_verdict(_write(tmp_path, sent, anchors), live=False)
    assert result["ok"], result["msg"]
    chain = result["endpoints"][0]["chain"]
    assert [c["role"] for c in chain] == ["leaf", "intermediate", "trust anchor", "unused"]
    assert chain[1]["sha256"] == x509u.sha256_hex(sent[2].der)  # the valid one, sent last
    assert chain[3]["not_after"] < chain[1]["not_after"]


def test_no_anchors_never_gives_an_accepting_verdict(tmp_path, monkeypatch):
    """A trust source that (somehow) holds nothing must not let an unverified handshake pass."""
    sent, anchors = _case("good")
    paths = _write(tmp_path, sent, anchors)
    with servers.TLSServer(paths["chain"], paths["key"]) as peer:
        request = tv.build_request(host=HOST, port=peer.port, connect_address="127.0.0.1", ca_file=paths["anchors"],
                                   revocation="none", min_days_remaining=0, timeout=5)
        monkeypatch.setattr(request.trust, "cadata", lambda: None)
        result = tv.validate(request)
    assert not result["ok"] and result["endpoints"][0]["verdict"]["ok"] is False
    assert "OpenSSL refuses the chain: no trust anchors" in result["msg"], result["msg"]
