"""Zero-drop rotation on real Kamailio (issue 14): TLS changes are applied with `kamcmd tls.reload`.

A call is up through the SBC (SIP dialog toward the lab "Genesys" peer, SRTP media through
rtpengine) while a renewed SBC certificate is installed the way the collection installs one (the
scenario's converge play, sbc_identity and its handler, with the successor certificate of the lab
PKI). Then: Kamailio's main process is the same (no restart), the dialog is still confirmed, the
TLS connections to the peers are the same ones, media keeps flowing as SRTP, a re-INVITE from the
customer and a BYE from the Genesys side succeed, and a new TLS connection to 5061 is served the new
certificate and never the old one. A changed tls.cfg (the role's handler) and a refreshed CRL bundle
(byoc-crl-refresh) go the same way. Every test would fail if Kamailio had been restarted instead
(main PID, the peers' connections, the call). The original certificate is put back afterwards.
"""

import base64
import hashlib
import json
import os
import re
import tempfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

import lab_held_call
from lab_held_call import HeldCall, assert_call_survived, main_process, restarts, served_fingerprint
from lab_play import lab_pki, run_playbook, write_inventory
from lab_sip import wait_for_flags

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PKI_DIR = os.path.join(ROOT, "lab", "state", "pki")
CONVERGE = os.path.join(HERE, "..", "converge.yml")
PREFIX = os.environ.get("BYOC_LAB_PREFIX", "byoc-default")
SBC_ADDRESS = os.environ.get("BYOC_LAB_SBC_ADDRESS", "10.89.61.10")
GENESYS_ADDRESS = "10.89.61.21"  # the good peer (molecule.yml)
TLS_CFG = "/etc/kamailio/byoc/tls.cfg"
SERVED_CRL = "/srv/byoc-lab-crl/lab-tls-ca.crl"


# --- what the SBC serves -------------------------------------------------------------------------

def peer_connections(sbc):
    """Kamailio's TLS connections to the good lab peer (lb01/lb02)."""
    return lab_held_call.peer_connections(sbc, GENESYS_ADDRESS)


def file_fingerprint(stem):
    with open(os.path.join(PKI_DIR, stem + ".crt"), "rb") as handle:
        leaf = x509.load_pem_x509_certificates(handle.read())[0]
    return leaf.fingerprint(hashes.SHA256()).hex()


def tls_apply(sbc):
    """How the role applies TLS changes on this SBC's platform (vars/Debian-NN.yml, via refresh.json)."""
    return json.loads(sbc.file("/etc/kamailio/byoc/crl/refresh.json").content_string)["apply"]


# --- the collection's own path: the scenario's converge play --------------------------------------

def converge(tmp_path, tags, *extra_vars):
    inventory = write_inventory(str(tmp_path / "hosts.yml"), "sbcs", PREFIX + "-sbc", SBC_ADDRESS,
                                {"byoc_lab_region": "euc2"})
    run = run_playbook(CONVERGE, inventory, list(extra_vars), tags=tags)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run.stdout


def install_identity(tmp_path, stem):
    """sbc_identity with the lab PKI's STEM.crt/.key, as a renewal runs it (its handler applies it)."""
    return converge(tmp_path, "sbc_identity",
                    "sbc_identity_certificate_src=%s/%s.crt" % (PKI_DIR, stem),
                    "sbc_identity_private_key_src=%s/%s.key" % (PKI_DIR, stem))


def handlers_changed(stdout):
    """The names of the handlers that ran and changed something (ansible-playbook's default output)."""
    found = re.findall(r"RUNNING HANDLER \[[^\]:]*: ([^\]]*)\][^\n]*\n\s*(\w+)", stdout)
    return [name for name, status in found if status == "changed"]


@pytest.fixture()
def original_identity_restored(sbc, tmp_path):
    yield
    install_identity(tmp_path, "sbc")
    assert served_fingerprint(sbc) == file_fingerprint("sbc")


# --- the tests ------------------------------------------------------------------------------------

def test_the_lab_has_a_distinct_successor_certificate(sbc):
    assert file_fingerprint("sbc-next") != file_fingerprint("sbc")
    assert served_fingerprint(sbc) == file_fingerprint("sbc")


def test_every_platform_applies_tls_changes_by_reload(sbc):
    # Debian 12 and 13 alike (Kamailio 6.0.1 once crashed on tls.reload: docs/kamailio.md, Known limits).
    assert tls_apply(sbc) == "reload"


def test_no_kamailio_process_has_openssl_s_legacy_provider_mapped(sbc):
    """The cause of Kamailio 6.0.1's crash on tls.reload: python3-cryptography, imported by the
    peer-name check in one worker, loaded legacy.so there; OpenSSL's tables (shared memory) then
    sent the ctl process into a library it never mapped. The check must have run first."""
    env = sbc.check_output("tr '\\0' '\\n' < /proc/%s/environ" % main_process(sbc)[0])
    assert "CRYPTOGRAPHY_OPENSSL_NO_LEGACY=1" in env.splitlines()
    version = sbc.check_output("python3 -c 'import cryptography; print(cryptography.__version__)'")
    if int(version.split(".")[0]) < 39:
        # Debian 12's python3-cryptography 38 has no such switch and always loads the legacy
        # provider; Kamailio 5.6.3 reloads regardless (the rotation tests below prove it there).
        return
    wait_for_flags(sbc, {"lb01": "A", "lb02": "A"})  # keepalive replies: the peer-name check ran
    pids = sbc.check_output("pgrep -x kamailio").split()
    maps = {pid: sbc.run("cat /proc/%s/maps" % pid).stdout for pid in pids}
    assert any("/cryptography/" in text for text in maps.values()), "the peer-name check never ran"
    assert not [pid for pid, text in maps.items() if "ossl-modules/legacy.so" in text]


def test_a_renewed_certificate_is_rotated_with_a_call_up_and_no_call_drops(
        sbc, genesys, tmp_path, original_identity_restored):
    wait_for_flags(sbc, {"lb01": "A", "lb02": "A"})
    assert tls_apply(sbc) == "reload"
    before_pid, before_restarts = main_process(sbc), restarts(sbc)
    call = HeldCall(sbc, genesys)
    try:
        assert call.dialog_state() == 4, sbc.run("kamcmd dlg.list").stdout
        connections = peer_connections(sbc)
        assert connections, sbc.run("kamcmd tls.list").stdout

        out = install_identity(tmp_path, "sbc-next")
        call.mark()

        assert handlers_changed(out) == ["Reload Kamailio TLS material"], out[-3000:]
        assert main_process(sbc) == before_pid and restarts(sbc) == before_restarts  # no restart
        assert call.dialog_state() == 4, sbc.run("kamcmd dlg.list").stdout  # the dialog is still up
        assert connections <= peer_connections(sbc)  # the same TLS connections to the peers
        # A new connection is served the new certificate, never the old one.
        served = {served_fingerprint(sbc) for _ in range(3)}
        assert served == {file_fingerprint("sbc-next")}, served
    finally:
        uac, uas = call.release()
    assert_call_survived(sbc, uac, uas)
    assert main_process(sbc) == before_pid


def test_a_changed_tls_cfg_is_applied_by_the_reload_handler(sbc, tmp_path):
    before_pid, connections = main_process(sbc), peer_connections(sbc)
    original = sbc.file(TLS_CFG).content_string
    # Drift: a profile setting changed on the host. The role renders its tls.cfg again (proven by a
    # throwaway Kamailio first) and its handler applies it.
    sbc.check_output("sed -i 's/^verify_depth = 5$/verify_depth = 4/' %s" % TLS_CFG)
    assert sbc.file(TLS_CFG).content_string != original
    out = converge(tmp_path, "kamailio_trunk_assert,kamailio_trunk_tls")
    assert sbc.file(TLS_CFG).content_string == original
    assert handlers_changed(out) == ["Reload Kamailio TLS profiles"], out[-3000:]  # no restart handler
    assert main_process(sbc) == before_pid
    assert connections <= peer_connections(sbc)



def test_a_refreshed_crl_bundle_is_applied_by_tls_reload(sbc, genesys):
    before_pid, connections = main_process(sbc), peer_connections(sbc)
    before = hashlib.sha256(sbc.file("/etc/kamailio/byoc/crl/peer-crls.pem").content).hexdigest()
    lab = lab_pki()
    with tempfile.TemporaryDirectory() as out:  # the issuing CA publishes its next CRL (nothing revoked)
        lab.write_crls(PKI_DIR, out=out)
        with open(os.path.join(out, lab.CA_CRL), "rb") as handle:
            der = handle.read()
    genesys.check_output("echo %s | base64 -d > %s.tmp && mv %s.tmp %s"
                         % (base64.b64encode(der).decode(), SERVED_CRL, SERVED_CRL, SERVED_CRL))
    run = sbc.run("byoc-crl-refresh")
    result = json.loads(run.stdout)
    assert run.rc == 0 and result["changed"] and result["applied"] == "reload", result.get("msg", result)
    assert hashlib.sha256(sbc.file("/etc/kamailio/byoc/crl/peer-crls.pem").content).hexdigest() != before
    assert main_process(sbc) == before_pid
    assert connections <= peer_connections(sbc)
