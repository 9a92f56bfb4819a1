"""The BYOC secure trunk, proven against the real Kamailio of the lab SBC.

TLS probes run from the lab "Genesys" peer container, across the podman bridge, to
sbc.customer.example:5061: what Genesys would see. Requirement numbers: docs/spec digest.
"""

import os
import re
import time

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy
from lab_sip import place_invite, wait_for_flags

SBC = "sbc.customer.example"
POLICY_SUITES = [s.openssl for s in policy.policy_suites("byoc-2019")]
ECDHE_FIRST = [s for s in POLICY_SUITES if s.startswith("ECDHE")][0]


def s_client(host, *args):
    cmd = "timeout 10 openssl s_client -connect %s:5061 -servername %s %s </dev/null 2>&1" % (
        SBC, SBC, " ".join(args))
    return host.run(cmd).stdout


def negotiated(out):
    m = re.search(r"Cipher is ([A-Z0-9-]+)", out)
    return m.group(1) if m and m.group(1) != "NONE" else None


@pytest.mark.parametrize("suite", POLICY_SUITES)
def test_each_policy_suite_is_accepted_on_tls12(genesys, suite):  # R1, R2
    out = s_client(genesys, "-tls1_2", "-cipher", suite)
    assert negotiated(out) == suite, out[-600:]


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1", "-tls1_3"])
def test_other_protocol_versions_are_refused(genesys, flag):  # R1
    extra = ["-cipher", "'DEFAULT:@SECLEVEL=0'"] if flag in ("-tls1", "-tls1_1") else []
    out = s_client(genesys, flag, *extra)
    assert negotiated(out) is None, out[-600:]


@pytest.mark.parametrize("suite", ["ECDHE-RSA-CHACHA20-POLY1305", "AES128-SHA", "ECDHE-RSA-AES128-SHA256"])
def test_non_policy_suites_are_refused(genesys, suite):  # R2
    assert negotiated(s_client(genesys, "-tls1_2", "-cipher", suite)) is None


def test_ecdhe_uses_secp384r1(genesys):  # R3
    out = s_client(genesys, "-tls1_2", "-cipher", ECDHE_FIRST, "-groups", "secp384r1")
    assert negotiated(out) == ECDHE_FIRST
    assert "Server Temp Key: ECDH, secp384r1" in out


@pytest.mark.parametrize("group", ["prime256v1", "X25519", "secp521r1"])
def test_other_groups_are_refused(genesys, group):  # R3 (the OpenSSL groups file fails open)
    assert negotiated(s_client(genesys, "-tls1_2", "-cipher", ECDHE_FIRST, "-groups", group)) is None


def test_a_modern_client_gets_forward_secrecy_and_the_chain(genesys):  # R2 order, R8
    out = s_client(genesys, "-showcerts", "-CAfile", "/etc/kamailio/lab-public-root.pem")
    assert "TLSv1.2" in out
    assert negotiated(out) == POLICY_SUITES[0] and POLICY_SUITES[0].startswith("ECDHE")
    assert out.count("-----BEGIN CERTIFICATE-----") == 2  # leaf + intermediate sent
    assert "Verify return code: 0 (ok)" in out


def test_no_client_certificate_is_requested(genesys):  # R5
    out = s_client(genesys, "-tls1_2")
    assert "No client certificate CA names sent" in out or "Acceptable client certificate CA names" not in out


SIP_OPTIONS = r'''
import socket, ssl, sys
ctx = ssl.create_default_context(cafile="/etc/kamailio/lab-public-root.pem")
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
s = ctx.wrap_socket(socket.create_connection(("%(sbc)s", 5061), timeout=5), server_hostname="%(sbc)s")
port = s.getsockname()[1]
msg = ("OPTIONS sip:%(sbc)s:5061;transport=tls SIP/2.0\r\n"
       "Via: SIP/2.0/TLS 10.0.0.1:%%d;branch=z9hG4bK-lab1\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:probe@lab.invalid>;tag=1\r\nTo: <sip:%(sbc)s>\r\n"
       "Call-ID: lab-options-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n") %% port
s.sendall(msg.encode())
print(s.recv(4096).decode().splitlines()[0])
''' % {"sbc": SBC}


def test_options_over_tls_is_answered(genesys):  # R4
    genesys.run("cat > /tmp/options.py <<'EOF'\n%s\nEOF" % SIP_OPTIONS)
    out = genesys.check_output("python3 /tmp/options.py")
    assert out.startswith("SIP/2.0 200")


def test_outbound_tls_to_the_verified_peer_is_up(sbc, genesys):  # R7, R14
    flags = wait_for_flags(sbc, {"lb01": "A", "lb02": "A"})
    assert flags["lb01"].startswith("A") and flags["lb02"].startswith("A"), flags
    log = genesys.file("/var/log/lab-genesys-peer.log").content_string
    assert re.search(r"LAB-PEER OPTIONS ru=<sip:lb01\.voice\.euc2\.pure\.cloud:5061;transport=tls> "
                     r"from=<sip:byoc-keepalive@%s>.*proto=tls" % SBC, log)


def test_outbound_peer_with_another_name_is_refused(sbc):  # R9: Kamailio itself never checks names
    flags = wait_for_flags(sbc, {"lb03": "I"})
    assert flags["lb03"].startswith("I"), flags
    table = sbc.check_output("kamcmd htable.dump byoc")
    assert "impostor.lab.invalid" in table


def test_outbound_peer_with_another_root_is_refused(sbc, badroot):  # R7
    flags = wait_for_flags(sbc, {"lb04": "I"})
    assert flags["lb04"].startswith("I"), flags
    assert "LAB-PEER OPTIONS" not in badroot.file("/var/log/lab-genesys-peer.log").content_string


def test_invite_carries_tgrp_uri_and_one_srtp_suite(sbc, genesys):  # R12, R13, R15
    codes, ru, sdp = place_invite(sbc, genesys, str(int(time.time())))
    assert codes.split()[-1] == "486", codes  # the lab peer refuses calls after logging them
    assert re.fullmatch(r"sip:\+41445550100;tgrp=lab-trunk;trunk-context=byoc\.customer\.example"
                        r"@lb0[12]\.voice\.euc2\.pure\.cloud:5061;transport=tls", ru), ru
    assert "RTP/SAVP" in sdp and "RTP/AVP " not in sdp, sdp
    cryptos = re.findall(r"a=crypto:\d+ (\S+)", sdp)
    assert cryptos == ["AES_CM_128_HMAC_SHA1_80"], sdp


def test_rendered_policy_matches_the_core(sbc):  # what Kamailio got is what policy.py says
    tls_cfg = sbc.file("/etc/kamailio/byoc/tls.cfg").content_string
    assert "method = %s\n" % policy.TLS_VERSION in tls_cfg
    assert "cipher_list = %s\n" % policy.openssl_cipher_string("byoc-2019") in tls_cfg
    groups = sbc.file("/etc/kamailio/byoc/openssl-groups.cnf").content_string
    assert "Groups = %s\n" % policy.ECDHE_GROUP in groups
    globals_cfg = sbc.file("/etc/kamailio/byoc/byoc-globals.cfg").content_string
    assert "listen=tls:0.0.0.0:%d" % policy.SIP_TLS_PORT in globals_cfg


def test_key_is_readable_by_kamailio_only(sbc):
    key = sbc.file("/etc/kamailio/byoc/sbc.key")
    assert (key.user, key.group, key.mode) == ("root", "kamailio", 0o640)


def test_kamailio_runs_with_the_groups_file(sbc):
    pid = sbc.check_output("pidof -s kamailio")
    env = sbc.check_output("tr '\\0' '\\n' < /proc/%s/environ" % pid)
    assert "OPENSSL_CONF=/etc/kamailio/byoc/openssl-groups.cnf" in env


def test_listener_is_published_on_the_host_loopback():  # the demo's KEEP=1 promise (issue 5)
    import subprocess

    port = os.environ.get("BYOC_LAB_LISTENER_PORT", "5061")
    out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", SBC],
                         input="", capture_output=True, text=True, timeout=20).stdout
    assert negotiated(out) == POLICY_SUITES[0], out[-600:]
