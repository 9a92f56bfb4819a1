"""The SBC certificate issued by ACME (Pebble, real validation): HTTP-01 at converge, then DNS-01
with a forced renewal (threshold above the lifetime); the Genesys peer validates what Kamailio
serves, against Pebble's root and the SBC's name. Test order matters (module order is file order)."""

import glob
import os
import re
import subprocess

import pytest
from cryptography import x509

from conftest import ACME, FQDN, ROOT

CHAIN = "/etc/kamailio/byoc/sbc.crt"
KEY = "/etc/kamailio/byoc/sbc.key"
SCENARIO = os.path.join(ROOT, "molecule", "acme")


def served_serial(peer, ca="/etc/kamailio/lab-public-root.pem", name=FQDN):
    """Handshake from the peer to the SBC's 5061, verifying the chain against CA and the name;
    return (s_client's exit code, the served leaf's serial as openssl prints it)."""
    cmd = peer.run(
        "openssl s_client -connect %s:5061 -servername %s -CAfile %s -verify_hostname %s -verify_return_error"
        " </dev/null 2>&1" % (FQDN, FQDN, ca, name))
    match = re.search(r"-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----", cmd.stdout)
    if cmd.rc != 0 or not match or "Verify return code: 0 (ok)" not in cmd.stdout:
        return (cmd.rc or 1), ""
    leaf = x509.load_pem_x509_certificate(match.group(0).encode())
    return 0, "serial=%X" % leaf.serial_number


def installed_serial(sbc):
    leaf = x509.load_pem_x509_certificate(sbc.file(CHAIN).content_string.encode())
    return "serial=%X" % leaf.serial_number


def run_playbook(*extra):
    """The collection's playbook against the scenario's inventory (molecule's), with extra vars."""
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY") or glob.glob("/root/.ansible/tmp/molecule.*.acme")[0]
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE") or os.path.join(ephemeral, "inventory")
    env = dict(os.environ, ANSIBLE_ROLES_PATH=os.path.join(ROOT, "molecule", "shared", "roles"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"), ANSIBLE_PIPELINING="true",
               ANSIBLE_NOCOLOR="1")
    cmd = ["ansible-playbook", "-i", inventory, os.path.join(SCENARIO, "converge.yml")]
    for item in extra:
        cmd += ["-e", item]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False, cwd=ROOT)


def test_http01_certificate_names_only_the_sbc_and_carries_the_chain(sbc):
    text = sbc.check_output("openssl x509 -in %s -noout -text" % CHAIN)
    assert "DNS:%s" % FQDN in text and text.count("DNS:") == 1
    assert "Public Key Algorithm: rsaEncryption" in text
    assert sbc.check_output("grep -c 'BEGIN CERTIFICATE' %s" % CHAIN).strip() == "2"  # leaf + intermediate
    issuer = sbc.check_output("openssl x509 -in %s -noout -issuer" % CHAIN)
    assert "Pebble" in issuer


def test_key_and_state_are_private(sbc):
    key = sbc.file(KEY)
    assert (key.user, key.group, key.mode) == ("root", "kamailio", 0o640)
    for name in ("account.key", "sbc.key"):
        state = sbc.file("/etc/kamailio/byoc/acme/" + name)
        assert (state.user, state.mode) == ("root", 0o600), name
    assert sbc.file("/etc/kamailio/byoc/acme").mode == 0o700


def test_http01_responder_is_gone(sbc):
    assert not sbc.file("/run/byoc-acme/www").exists
    assert not sbc.file("/run/byoc-acme/responder.pid").exists
    assert sbc.run("ss -ltnH 'sport = :80'").stdout.strip() == ""


def test_peer_validates_the_sbc_against_pebbles_root(sbc, peer):
    rc, serial = served_serial(peer)
    assert rc == 0 and serial == installed_serial(sbc)


def test_the_check_can_fail_wrong_root_or_wrong_name(peer):
    # the attack on the claim above: another root, or another name, must not verify
    assert served_serial(peer, ca="/etc/kamailio/lab-peer-cert.pem")[0] != 0
    assert served_serial(peer, name="impostor.customer.example")[0] != 0


def test_dns01_forced_renewal_installs_a_new_certificate_that_kamailio_serves(sbc, peer, dns):
    before = installed_serial(sbc)
    run = run_playbook("secure_trunk_acme_challenge=dns-01", "secure_trunk_acme_renew_days=100000")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "sbc_acme : Add the challenge TXT records" in run.stdout, run.stdout[-4000:]
    assert "Reload Kamailio TLS material" in run.stdout
    after = installed_serial(sbc)
    assert after != before
    rc, serial = served_serial(peer)
    assert rc == 0 and serial == after
    # the challenge record is gone again
    txt = dns.run("dig +short @127.0.0.1 TXT _acme-challenge.%s" % FQDN)
    assert txt.rc == 0 and txt.stdout.strip() == ""


@pytest.mark.parametrize("path", ["pebble-root.pem", "tsig.secret"])
def test_lab_material_exists(path):
    assert os.path.getsize(os.path.join(ACME, path)) > 0
