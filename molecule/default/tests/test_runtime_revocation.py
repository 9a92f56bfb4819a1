"""Revocation at run time, on real Kamailio: a proxy certificate revoked after deployment is refused.

The lab's good "Genesys" peer (lb01 and lb02) also serves the lab CAs' CRLs over HTTP
(http://crl.byoc-lab.test/, molecule/shared/prepare.yml). Its certificate is revoked by a new
CRL of the lab issuing CA; byoc-crl-refresh on the SBC installs it and reloads TLS; the next
TLS connection Kamailio opens to that peer fails (OpenSSL: certificate revoked), so the
dispatcher marks lb01/lb02 inactive. Every test puts the lab back as it found it.
"""

import base64
import hashlib
import json
import os
import tempfile

import pytest

from lab_play import lab_pki
from lab_sip import dispatcher_flags, wait_for_flags

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PKI_DIR = os.path.join(ROOT, "lab", "state", "pki")
TLS_CFG = "/etc/kamailio/byoc/tls.cfg"
BUNDLE = "/etc/kamailio/byoc/crl/peer-crls.pem"
SERVED = "/srv/byoc-lab-crl/lab-tls-ca.crl"



def _serve(genesys, der):
    genesys.check_output("echo %s | base64 -d > %s.tmp && mv %s.tmp %s"
                         % (base64.b64encode(der).decode(), SERVED, SERVED, SERVED))


def _issuing_ca_crl(revoke=()):
    lab = lab_pki()
    with tempfile.TemporaryDirectory() as out:
        lab.write_crls(PKI_DIR, revoke, out=out)
        with open(os.path.join(out, lab.CA_CRL), "rb") as handle:
            return handle.read()


def _refresh(sbc):
    run = sbc.run("byoc-crl-refresh")
    return run.rc, json.loads(run.stdout)


def _bundle_digest(sbc):
    return hashlib.sha256(sbc.file(BUNDLE).content).hexdigest()


def _restart_peer(genesys):
    """Closes the SBC's TLS connections to lb01/lb02: the next keepalive makes a new handshake."""
    genesys.check_output("bash /etc/kamailio/lab-peer.sh restart")


@pytest.fixture()
def good_crl_restored(sbc, genesys):
    yield
    _serve(genesys, _issuing_ca_crl())
    rc, result = _refresh(sbc)
    _restart_peer(genesys)
    flags = wait_for_flags(sbc, {"lb01": "A", "lb02": "A"})
    assert rc == 0 and not result["revoked"], result
    assert flags["lb01"].startswith("A"), flags


def test_every_client_profile_checks_the_crl_bundle(sbc):
    cfg = sbc.file(TLS_CFG).content_string
    clients = cfg.count("[client:")
    assert clients == 5 and cfg.count("crl = %s" % BUNDLE) == clients, cfg
    bundle = sbc.file(BUNDLE)
    assert bundle.mode == 0o640 and bundle.user == "root" and bundle.group == "kamailio"
    assert bundle.content_string.count("BEGIN X509 CRL") == 2  # the lab root's and the issuing CA's
    # The lab SBC has no systemd: the hourly refresh is a cron entry.
    assert "byoc-crl-refresh" in sbc.file("/etc/cron.d/byoc-crl-refresh").content_string


def test_a_proxy_revoked_after_deployment_is_refused_after_the_refresh(sbc, genesys, good_crl_restored):
    # Control: a restart of the peer alone leaves it usable (new handshakes pass with the current CRLs).
    _restart_peer(genesys)
    assert wait_for_flags(sbc, {"lb01": "A", "lb02": "A"})["lb01"].startswith("A"), dispatcher_flags(sbc)
    _serve(genesys, _issuing_ca_crl(revoke=("genesys-good",)))
    rc, result = _refresh(sbc)
    # Applied by kamcmd tls.reload on Debian 12 and 13 (test_zero_drop_rotation.py: no restart).
    assert rc == 0 and result["changed"] and result["applied"] == "reload", result
    assert result["revoked"] and "REVOKED" in result["msg"], result
    _restart_peer(genesys)
    flags = wait_for_flags(sbc, {"lb01": "I", "lb02": "I"})
    assert flags["lb01"].startswith("I") and flags["lb02"].startswith("I"), flags


def test_a_crl_that_cannot_be_had_keeps_the_bundle_and_says_so(sbc, genesys, good_crl_restored):
    before = _bundle_digest(sbc)
    genesys.check_output("mv %s %s.away" % (SERVED, SERVED))
    try:
        rc, result = _refresh(sbc)
    finally:
        genesys.check_output("mv %s.away %s" % (SERVED, SERVED))
    assert rc == 1 and not result["ok"], result
    assert "kept" in result["msg"] and "lb01.voice.euc2.pure.cloud" in result["msg"], result["msg"]
    assert _bundle_digest(sbc) == before
