"""Revocation cannot be turned against the host that checks it (issue 11).

Real CRLs, signed with ``cryptography``, served by a loopback HTTP server that counts requests,
redirects or drips on demand. Each test fails when its defence is removed:

* a chain that does not verify to a trust anchor makes no CRL request at all;
* a redirect (to another host, here another port) is not followed;
* a server that drips one byte every 0.2 s is cut at the total deadline, in the body and in
  the headers;
* a partition CRL (issuingDistributionPoint) or a delta CRL never makes a certificate good;
* a self-signed leaf pinned in ca_file passes ``revocation: hard`` with a clear status.
"""

import time

import pytest
from cryptography import x509

from ansible_collections.byoc.secure_trunk.plugins.module_utils import crl, http_fetch
from ansible_collections.byoc.secure_trunk.plugins.module_utils import tls_validation as tv
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import FetchError
from support import pki, servers

HOST = "sbc.example.test"


@pytest.fixture()
def crls():
    with servers.CRLServer() as server:
        yield server


@pytest.fixture(scope="module")
def ca():
    root = pki.make_root("defence root")
    return root, pki.make_intermediate(root, "defence CA")


def _chain_file(tmp_path, leaf, inter, anchors):
    paths = leaf.write(tmp_path, chain=[inter] if inter is not None else [])
    anchors_path = tmp_path / "anchors.pem"
    anchors_path.write_bytes(pki.chain_pem(*anchors))
    return paths["chain"], str(anchors_path)


# ------------------------------------------------------------------ only proven chains


@pytest.mark.parametrize("mode, level", [("soft", "warn"), ("hard", "fail")])
def test_the_crl_of_an_untrusted_chain_is_never_requested(tmp_path, crls, ca, mode, level):
    root, inter = ca
    crls.put("inter.crl", pki.crl_der(pki.make_crl(inter)))
    leaf = pki.make_leaf(inter, [HOST], crl_urls=[crls.url("inter.crl")])
    stranger = pki.make_root("defence stranger", fresh_key=True)
    chain, anchors = _chain_file(tmp_path, leaf, inter, [stranger])
    result = tv.validate(tv.build_request(host=HOST, chain_file=chain, ca_file=anchors, revocation=mode))
    assert not result["ok"]
    assert crls.hits("inter.crl") == 0 and result["crl_fetches"] == []
    endpoint = result["endpoints"][0]
    assert endpoint["crl"][0]["status"] == "unknown" and "not checked" in endpoint["crl"][0]["detail"]
    assert endpoint["checks"]["revocation"] == level


def test_the_crl_of_a_trusted_chain_is_requested_once(tmp_path, crls, ca):
    """The control: the counting server does count, and a proven chain is checked."""
    root, inter = ca
    crls.put("inter.crl", pki.crl_der(pki.make_crl(inter)))
    leaf = pki.make_leaf(inter, [HOST], crl_urls=[crls.url("inter.crl")])
    chain, anchors = _chain_file(tmp_path, leaf, inter, [root])
    result = tv.validate(tv.build_request(host=HOST, chain_file=chain, ca_file=anchors, revocation="soft"))
    assert result["ok"], result["msg"]
    assert crls.hits("inter.crl") == 1
    assert result["endpoints"][0]["crl"][0]["status"] == "good"


# ------------------------------------------------------------------ the fetcher


# The transport is Ansible's open_url (Request); there is no standard-library fallback.


def test_a_redirect_to_another_host_is_not_followed(crls, ca):
    _unused, inter = ca
    with servers.CRLServer() as elsewhere:
        elsewhere.put("inter.crl", pki.crl_der(pki.make_crl(inter)))
        crls.redirect("moved.crl", elsewhere.url("inter.crl"))
        cache = crl.CrlCache(timeout=5)
        got, error = cache.get(crls.url("moved.crl"))
        assert got is None and "redirects are not followed" in error and elsewhere.url("inter.crl") in error
        assert crls.hits("moved.crl") == 1 and elsewhere.hits("inter.crl") == 0


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_dripping_server_is_cut_at_the_total_deadline(crls, ca, in_headers):
    _unused, inter = ca
    crls.drip("slow.crl", pki.crl_der(pki.make_crl(inter)), interval=0.2, limit=6.0, in_headers=in_headers)
    started = time.monotonic()
    with pytest.raises(http_fetch.TransportError) as caught:
        http_fetch.get_ok(crls.url("slow.crl"), timeout=1.0, max_bytes=crl.MAX_CRL_BYTES)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert "no complete answer within 1 s (the total deadline)" in caught.value.defect


def test_the_size_cap(crls):
    crls.put("big.crl", b"x" * 5000)
    with pytest.raises(http_fetch.TransportError, match="larger than 4096 bytes"):
        http_fetch.get_ok(crls.url("big.crl"), timeout=5, max_bytes=4096)
    assert http_fetch.get_ok(crls.url("big.crl"), timeout=5, max_bytes=5000) == b"x" * 5000


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x.crl", "file:///etc/passwd", "ldap://127.0.0.1/cn=x"])
def test_only_http_urls_are_fetched(url):
    with pytest.raises(FetchError, match="is not an http"):
        http_fetch.get_ok(url, timeout=1, max_bytes=10)


# ------------------------------------------------------------------ CRL scope


def _idp(**kwargs):
    values = dict(full_name=None, relative_name=None, only_contains_user_certs=False,
                  only_contains_ca_certs=False, only_some_reasons=None, indirect_crl=False,
                  only_contains_attribute_certs=False)
    values.update(kwargs)
    return x509.IssuingDistributionPoint(**values), True


SCOPES = {
    # name -> (CRL extensions, whose status is read: "leaf" or "inter", expected status, words)
    "complete": ([], "leaf", "good", None),
    "partition_same_point_users": (lambda url: [_idp(full_name=[x509.UniformResourceIdentifier(url)],
                                                     only_contains_user_certs=True)], "leaf", "good", None),
    "only_ca_certs": ([_idp(only_contains_ca_certs=True)], "leaf", "unknown",
                      "covers CA certificates only (onlyContainsCACerts), and CN=sbc.example.test is not a CA"),
    "only_user_certs_for_a_ca": ([_idp(only_contains_user_certs=True)], "inter", "unknown",
                                 "covers end-entity certificates only (onlyContainsUserCerts)"),
    "only_some_reasons": ([_idp(only_some_reasons=frozenset([x509.ReasonFlags.key_compromise]))], "leaf",
                          "unknown", "covers only some revocation reasons (onlySomeReasons)"),
    "indirect": ([_idp(indirect_crl=True)], "leaf", "unknown", "is an indirect CRL"),
    "other_partition": ([_idp(full_name=[x509.UniformResourceIdentifier("http://127.0.0.1:9/part2.crl")])],
                        "leaf", "unknown", "is a partition CRL for the distribution point http://127.0.0.1:9/part2"),
    "delta": ([(x509.DeltaCRLIndicator(1), True)], "leaf", "unknown", "is a delta CRL (base CRL number 1)"),
}


@pytest.mark.parametrize("mode", ["soft", "hard"])
@pytest.mark.parametrize("name", sorted(SCOPES))
def test_a_crl_that_does_not_cover_the_certificate_is_not_good(crls, name, mode):
    root = pki.make_root("scope root")
    inter = pki.make_intermediate(root, "scope CA", crl_urls=[crls.url("root.crl")])
    leaf = pki.make_leaf(inter, [HOST], crl_urls=[crls.url("inter.crl")])
    extensions, whose, expected, words = SCOPES[name]
    issuer, url = (inter, crls.url("inter.crl")) if whose == "leaf" else (root, crls.url("root.crl"))
    if callable(extensions):
        extensions = extensions(url)
    partition = pki.crl_der(pki.make_crl(issuer, extensions=extensions))  # fresh, properly signed, lists nobody
    crls.put("inter.crl" if whose == "leaf" else "root.crl", partition)
    other = "root.crl" if whose == "leaf" else "inter.crl"
    crls.put(other, pki.crl_der(pki.make_crl(root if whose == "leaf" else inter)))
    statuses, findings = crl.check_revocation([leaf.cert, inter.cert, root.cert], root.cert,
                                              crl.CrlCache(timeout=5), mode)
    status = statuses[0] if whose == "leaf" else statuses[1]
    assert status["status"] == expected, status
    if words:
        assert words in status["detail"]
        level = "fail" if mode == "hard" else "warn"
        assert [f.level for f in findings] == [level] and words in findings[0].message
    else:
        assert findings == []


# ------------------------------------------------------------------ a pinned self-signed leaf


def test_a_self_signed_leaf_pinned_in_ca_file_passes_hard_revocation(tmp_path):
    leaf = pki.self_signed_leaf([HOST])
    chain, anchors = _chain_file(tmp_path, leaf, None, [leaf])
    result = tv.validate(tv.build_request(host=HOST, chain_file=chain, ca_file=anchors, revocation="hard"))
    assert result["ok"], result["msg"]
    status = result["endpoints"][0]["crl"]
    assert [s["status"] for s in status] == ["trust anchor"]
    assert "remove it from ca_file to stop trusting it" in status[0]["detail"]
    assert result["endpoints"][0]["checks"]["revocation"] == "pass"
