"""The SBC certificate issued by ACME (Pebble, real validation): HTTP-01 at converge, then DNS-01
with a forced renewal (threshold above the lifetime) while a call is up through the SBC; the call
survives and the Genesys peer validates what Kamailio serves, against Pebble's root and the SBC's
name. Then a DNS-01 re-run with days to spare and check mode (days to spare, and a forced renewal)
change nothing. Test order matters (module order is file order)."""

import glob
import os
import re
import subprocess

import pytest
from cryptography import x509

from conftest import ACME, FQDN, PEER_ADDRESS, ROOT
from lab_held_call import HeldCall, assert_call_survived, main_process, peer_connections, restarts
from lab_sip import wait_for_flags

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


def orders(ca):
    """New orders Pebble received so far (its log has one line per request)."""
    return int(ca.check_output("grep -c 'POST /order-plz' /var/log/pebble.log || true").strip() or 0)


def txt_records(dns):
    """The _acme-challenge TXT records the lab DNS server answers for the SBC's name."""
    txt = dns.run("dig +short @127.0.0.1 TXT _acme-challenge.%s" % FQDN)
    assert txt.rc == 0, txt.stderr
    return txt.stdout.strip()


def sbc_changed(stdout):
    """changed= of the SBC in the play recap."""
    found = re.findall(r"byoc-acme-sbc\s*:\s*ok=\d+\s+changed=(\d+)", stdout)
    assert found, stdout[-3000:]
    return int(found[-1])


def run_playbook(*extra, flags=()):
    """The collection's playbook against the scenario's inventory (molecule's), with extra vars (and
    ansible-playbook FLAGS such as --check)."""
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY") or glob.glob("/root/.ansible/tmp/molecule.*.acme")[0]
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE") or os.path.join(ephemeral, "inventory")
    # molecule exports ANSIBLE_FORCE_COLOR=1 to its verifier, which beats ANSIBLE_NOCOLOR.
    env = dict(os.environ, ANSIBLE_ROLES_PATH=os.path.join(ROOT, "molecule", "shared", "roles"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"), ANSIBLE_PIPELINING="true",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    cmd = ["ansible-playbook", "-i", inventory, os.path.join(SCENARIO, "converge.yml")] + list(flags)
    for item in extra:
        cmd += ["-e", item]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False, cwd=ROOT)
    run.stdout = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout)  # the tests read the plain text
    return run


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


def test_dns01_forced_renewal_rotates_the_certificate_with_a_call_up_and_the_call_survives(sbc, peer, dns, ca):
    # The call: customer side of the SBC (udp 127.0.0.1:5070) -> the SBC -> lb01..04 (the peer,
    # TLS) -> the UA behind it (udp 127.0.0.1:5080 there), SRTP through rtpengine.
    flags = wait_for_flags(sbc, {"lb01": "A", "lb02": "A", "lb03": "A", "lb04": "A"})
    assert all(flags.get(lb, "").startswith("A") for lb in ("lb01", "lb02", "lb03", "lb04")), flags
    before, before_pid, before_restarts, before_orders = installed_serial(sbc), main_process(sbc), restarts(sbc), \
        orders(ca)
    call = HeldCall(sbc, peer, hold_max=900)  # held for a whole playbook run
    try:
        assert call.dialog_state() == 4, sbc.run("kamcmd dlg.list").stdout
        connections = peer_connections(sbc, PEER_ADDRESS)
        assert connections, sbc.run("kamcmd tls.list").stdout

        run = run_playbook("secure_trunk_acme_challenge=dns-01", "secure_trunk_acme_renew_days=100000")
        call.mark()

        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        assert "sbc_acme : Add the challenge TXT records" in run.stdout, run.stdout[-4000:]
        assert "Reload Kamailio TLS material" in run.stdout
        assert orders(ca) > before_orders  # an order was placed (the count check_mode relies on moves)
        after = installed_serial(sbc)
        assert after != before
        assert main_process(sbc) == before_pid and restarts(sbc) == before_restarts  # no restart
        assert call.dialog_state() == 4, sbc.run("kamcmd dlg.list").stdout  # the dialog is still up
        assert connections <= peer_connections(sbc, PEER_ADDRESS)  # the same TLS connections to the peer
        # New connections from the peer are served the new certificate, which it validates against
        # Pebble's root and the SBC's name; never the old one.
        assert {served_serial(peer) for _ in range(3)} == {(0, after)}
    finally:
        uac, uas = call.release()
    assert_call_survived(sbc, uac, uas)  # re-INVITE, BYE from Genesys, SRTP media after the rotation
    assert main_process(sbc) == before_pid
    # the challenge record is gone again
    assert txt_records(dns) == ""


def test_dns01_rerun_with_days_to_spare_changes_nothing_and_answers_no_challenge(sbc, dns, ca):
    before, before_orders = installed_serial(sbc), orders(ca)
    run = run_playbook("secure_trunk_acme_challenge=dns-01")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert sbc_changed(run.stdout) == 0, run.stdout[-4000:]
    assert "Add the challenge TXT records" not in run.stdout and "Finish the order" not in run.stdout
    assert installed_serial(sbc) == before and orders(ca) == before_orders
    assert txt_records(dns) == ""


def test_check_mode_with_days_to_spare_changes_nothing(sbc, ca):
    before, before_orders = installed_serial(sbc), orders(ca)
    run = run_playbook(flags=["--check", "--diff"])
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert sbc_changed(run.stdout) == 0, run.stdout[-4000:]
    assert "a real run would order" not in run.stdout
    assert installed_serial(sbc) == before and orders(ca) == before_orders


def test_check_mode_forced_renewal_reports_the_order_and_changes_nothing(sbc, dns, ca):
    """Check mode cannot order (acme_certificate contacts no CA there): it says a real run would
    renew, and places no order, publishes no TXT record, starts no responder, installs nothing."""
    before, before_pid, before_orders = installed_serial(sbc), main_process(sbc), orders(ca)
    before_files = sbc.check_output("find /etc/kamailio/byoc -type f -exec sha256sum {} + | sort")
    run = run_playbook("secure_trunk_acme_challenge=dns-01", "secure_trunk_acme_renew_days=100000",
                       flags=["--check", "--diff"])
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # the truth: the order task reports a change, and the run says what a real run would do
    assert re.search(r"Order a certificate when none is valid[^\n]*\n\s*changed: \[byoc-acme-sbc\]", run.stdout), \
        run.stdout[-4000:]
    assert "check mode: a real run would order a new certificate for %s" % FQDN in " ".join(run.stdout.split()), \
        run.stdout[-4000:]
    assert sbc_changed(run.stdout) >= 1
    assert "Add the challenge TXT records" not in run.stdout and "Start the challenge responder" not in run.stdout
    # and nothing changed
    assert installed_serial(sbc) == before and main_process(sbc) == before_pid
    assert orders(ca) == before_orders  # no order reached Pebble
    assert txt_records(dns) == ""
    assert sbc.run("ss -ltnH 'sport = :80'").stdout.strip() == ""
    assert not sbc.file("/run/byoc-acme/www").exists
    assert sbc.check_output("find /etc/kamailio/byoc -type f -exec sha256sum {} + | sort") == before_files


def test_check_mode_without_a_certificate_fails_saying_it_cannot_order(sbc, ca):
    """An SBC with no ACME chain yet: check mode has nothing to check and cannot order one."""
    chain = "/etc/kamailio/byoc/acme/sbc-fullchain.pem"
    before, before_orders = installed_serial(sbc), orders(ca)
    sbc.check_output("mv %s %s.aside" % (chain, chain))
    try:
        before_files = sbc.check_output("find /etc/kamailio/byoc -type f -exec sha256sum {} + | sort")
        run = run_playbook(flags=["--check"])
        after_files = sbc.check_output("find /etc/kamailio/byoc -type f -exec sha256sum {} + | sort")
    finally:
        sbc.check_output("mv %s.aside %s" % (chain, chain))
    assert run.returncode != 0, run.stdout[-3000:]
    words = " ".join((run.stdout + run.stderr).split())  # failures go to stderr; the callback wraps them
    assert "sbc_acme in check mode: the SBC has no ACME certificate yet" in words, run.stdout[-3000:]
    assert "check mode cannot order one" in words
    assert after_files == before_files and installed_serial(sbc) == before and orders(ca) == before_orders


@pytest.mark.parametrize("path", ["pebble-root.pem", "tsig.secret"])
def test_lab_material_exists(path):
    assert os.path.getsize(os.path.join(ACME, path)) > 0
