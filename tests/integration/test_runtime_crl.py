"""The CRL bundle Kamailio's client profiles check (runtime_crl, behind byoc-crl-refresh); an integration
test: it runs openssl verify.

Real chains (cryptography), a real TLS peer and real CRLs over HTTP on loopback. The bundle is
judged by the verifier Kamailio uses: ``openssl verify -crl_check_all`` (OpenSSL's
X509_V_FLAG_CRL_CHECK_ALL, what Kamailio's tls module sets for a profile's ``crl``). Each test
fails when its defence is removed: a revoked peer is refused with the bundle, a CRL that cannot
be had or does not verify leaves the bundle in place untouched, an untrusted chain makes the
SBC fetch nothing.
"""

import datetime
import os
import shutil
import stat
import subprocess

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import runtime_crl
from support import pki, servers

HOST = "lb01.voice.euc2.pure.cloud"


@pytest.fixture()
def crls():
    with servers.CRLServer() as server:
        yield server


@pytest.fixture()
def lab(tmp_path, crls):
    """A root and issuing CA whose CRLs the loopback server publishes, a peer leaf naming HOST."""
    root = pki.make_root("runtime crl root")
    inter = pki.make_intermediate(root, "runtime crl CA", crl_urls=[crls.url("root.crl")])
    leaf = pki.make_leaf(inter, [HOST], crl_urls=[crls.url("inter.crl")])
    crls.put("root.crl", pki.crl_der(pki.make_crl(root)))
    crls.put("inter.crl", pki.crl_der(pki.make_crl(inter)))
    paths = leaf.write(tmp_path / "peer", chain=[inter])
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(root.pem)
    return {"root": root, "inter": inter, "leaf": leaf, "paths": paths, "anchors": str(anchors),
            "bundle": str(tmp_path / "peer-crls.pem"), "tmp": tmp_path}


def _refresh(lab, port, **kwargs):
    peer = {"host": HOST, "connect_address": "127.0.0.1"}
    return runtime_crl.refresh([peer], port, lab["anchors"], lab["bundle"], timeout=5, **kwargs)


def _openssl_verdict(lab):
    """What OpenSSL with CRL_CHECK_ALL (Kamailio's setting) says of the peer with the bundle."""
    run = subprocess.run([shutil.which("openssl"), "verify", "-crl_check_all", "-CRLfile", lab["bundle"],
                          "-CAfile", lab["anchors"], "-untrusted", lab["paths"]["chain"], lab["paths"]["cert"]],
                         capture_output=True, text=True, check=False)
    return run.returncode, run.stdout + run.stderr


def test_a_good_peer_gets_a_bundle_openssl_accepts_it_with(lab, crls):
    with servers.TLSServer(lab["paths"]["chain"], lab["paths"]["key"]) as peer:
        result = _refresh(lab, peer.port)
        again = _refresh(lab, peer.port)
    assert result["ok"] and result["changed"], result["msg"]
    assert [c["url"] for c in result["crls"]] == sorted([crls.url("inter.crl"), crls.url("root.crl")])
    assert all(c["next_update"] for c in result["crls"])
    assert stat.S_IMODE(os.stat(lab["bundle"]).st_mode) == 0o640
    assert again["ok"] and not again["changed"]
    rc, out = _openssl_verdict(lab)
    assert rc == 0, out


def test_a_bundle_missing_one_level_is_refused_by_openssl(lab):
    """The control for the test above: CRL_CHECK_ALL wants every level's CRL; the root's alone fails."""
    with open(lab["bundle"], "wb") as handle:
        handle.write(pki.crl_pem(pki.make_crl(lab["root"])))
    rc, out = _openssl_verdict(lab)
    assert rc != 0 and "unable to get certificate CRL" in out, out


def test_a_revoked_peer_is_bundled_and_refused_by_openssl(lab, crls):
    crls.put("inter.crl", pki.crl_der(pki.make_crl(lab["inter"], revoked=[lab["leaf"]])))
    with servers.TLSServer(lab["paths"]["chain"], lab["paths"]["key"]) as peer:
        result = _refresh(lab, peer.port)
    assert result["ok"] and result["changed"], result["msg"]
    assert result["revoked"] and "REVOKED" in result["msg"]
    rc, out = _openssl_verdict(lab)
    assert rc != 0 and "certificate revoked" in out, out


@pytest.mark.parametrize("defect", ["unreachable", "bad signature", "stale"])
def test_a_crl_that_cannot_be_had_or_trusted_keeps_the_bundle_in_place(lab, crls, defect):
    with servers.TLSServer(lab["paths"]["chain"], lab["paths"]["key"]) as peer:
        assert _refresh(lab, peer.port)["ok"]
        before = open(lab["bundle"], "rb").read()
        if defect == "unreachable":
            crls.put("inter.crl", b"")  # replaced below by a 404: the name is no longer served
            crls._httpd.files.pop("inter.crl")
        elif defect == "bad signature":
            impostor = pki.make_root("impostor", fresh_key=True)
            crls.put("inter.crl", pki.crl_der(pki.make_crl(lab["inter"], revoked=[lab["leaf"]],
                                                           signer=impostor.key)))
        else:
            past = pki.now() - datetime.timedelta(days=2)
            stale = pki.make_crl(lab["inter"], last_update=past - datetime.timedelta(days=7), next_update=past)
            crls.put("inter.crl", pki.crl_der(stale))
        result = _refresh(lab, peer.port)
    assert not result["ok"] and not result["changed"], result
    assert "kept" in result["msg"] and HOST in result["msg"], result["msg"]
    assert open(lab["bundle"], "rb").read() == before


def test_a_chain_that_does_not_verify_makes_the_sbc_fetch_nothing(lab, crls):
    stranger = pki.make_root("runtime crl stranger", fresh_key=True)
    with open(lab["anchors"], "wb") as handle:
        handle.write(stranger.pem)
    with servers.TLSServer(lab["paths"]["chain"], lab["paths"]["key"]) as peer:
        result = _refresh(lab, peer.port)
    assert not result["ok"] and "no peer's chain verified" in result["msg"], result["msg"]
    assert crls.hits("inter.crl") == 0 and crls.hits("root.crl") == 0
    assert not os.path.exists(lab["bundle"])


def test_check_mode_writes_nothing(lab):
    with servers.TLSServer(lab["paths"]["chain"], lab["paths"]["key"]) as peer:
        result = _refresh(lab, peer.port, write=False)
    assert result["ok"] and result["changed"]
    assert not os.path.exists(lab["bundle"])
