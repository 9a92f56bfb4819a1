"""The hardened SBC at run time, attacked on real Kamailio: strangers, forged routes, impostor
peers, a dead rtpengine; and a real call with SRTP media and in-dialog requests both ways."""

import json
import os
import re
import socket
import ssl
import time
import uuid

from lab_sip import invite_codes, wait_for_flags

SBC = "sbc.customer.example"
LISTENER_PORT = int(os.environ.get("BYOC_LAB_LISTENER_PORT", "5061"))  # published on the host's loopback
HERE = os.path.dirname(os.path.abspath(__file__))
LAB_CALL = os.path.join(HERE, "..", "..", "shared", "tests", "lab_call.py")

# A TLS client that sends one SIP request to the SBC's listener and prints the reply's status line;
# with a customer-side socket bound, it also says whether anything was relayed to the customer.
TLS_REQUEST = r'''
import socket, ssl, sys, uuid
target, method, extra = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
customer = None
if len(sys.argv) > 4:
    customer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    customer.bind(("127.0.0.1", int(sys.argv[4])))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
s = ctx.wrap_socket(socket.create_connection((target, 5061), timeout=10), server_hostname="sbc.customer.example")
port = s.getsockname()[1]
sdp = "v=0\r\no=x 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 0\r\n"
body = sdp if method == "INVITE" else ""
cid = "lab-attack-" + uuid.uuid4().hex[:10]
msg = ("%s sip:+41445550100@sbc.customer.example:5061;transport=tls SIP/2.0\r\n"
       "Via: SIP/2.0/TLS 192.0.2.9:%d;branch=z9hG4bK-%s\r\n%s"
       "Max-Forwards: 70\r\nFrom: <sip:attacker@lab.invalid>;tag=a1\r\n"
       "To: <sip:+41445550100@sbc.customer.example>%s\r\n"
       "Call-ID: %s\r\nCSeq: 1 %s\r\nContact: <sip:attacker@192.0.2.9:%d;transport=tls>\r\n"
       "%sContent-Length: %d\r\n\r\n%s") % (
    method, port, cid, extra.replace("\\r\\n", "\r\n"), ";tag=t1" if method != "INVITE" else "", cid, method, port,
    "Content-Type: application/sdp\r\n" if body else "", len(body), body)
s.sendall(msg.encode())
status = s.recv(65535).decode().splitlines()[0]
relayed = "n/a"
if customer is not None:  # anything carrying this Call-ID within 2 s (other calls' retransmissions aside)
    import time
    relayed, end = "nothing", time.time() + 2
    while time.time() < end:
        customer.settimeout(max(0.05, end - time.time()))
        try:
            if cid.encode() in customer.recvfrom(65535)[0]:
                relayed = "relayed"
        except socket.timeout:
            break
print(status + "|" + relayed + "|" + cid)
'''


def tls_request(host, target, method, extra="", customer_port=None):
    host.run("cat > /tmp/tls_request.py <<'EOF'\n%s\nEOF" % TLS_REQUEST)
    cmd = "python3 /tmp/tls_request.py %s %s '%s'" % (target, method, extra)
    if customer_port:
        cmd += " %d" % customer_port
    return host.check_output(cmd).split("|")


def address(host):
    return host.check_output("hostname -I").split()[0]


def htable_counter(sbc, name):
    out = sbc.run("kamcmd htable.get byoc %s" % name).stdout
    match = re.search(r"value: (\d+)", out)
    return int(match.group(1)) if match else 0


def test_a_stranger_gets_403_and_nothing_reaches_the_customer(sbc):
    before = htable_counter(sbc, "refused_sources")
    status, relayed, _ = tls_request(sbc, "127.0.0.1", "INVITE", customer_port=5070)
    assert status.startswith("SIP/2.0 403"), status
    assert relayed == "nothing"
    assert htable_counter(sbc, "refused_sources") > before


def test_requests_from_the_host_through_the_published_listener_are_refused():  # make demo KEEP=1
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", LISTENER_PORT), timeout=10),
                         server_hostname=SBC) as s:
        port = s.getsockname()[1]
        s.sendall(("OPTIONS sip:%s:5061;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-h1\r\n"
                   "Max-Forwards: 70\r\nFrom: <sip:host@lab.invalid>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: lab-host-%s\r\n"
                   "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (SBC, port, SBC, uuid.uuid4().hex)).encode())
        assert s.recv(4096).decode().startswith("SIP/2.0 403")


def test_the_allow_lists_hold_the_genesys_peers_and_the_customer(sbc, genesys):
    dump = sbc.check_output("kamcmd permissions.addressDump")
    groups = re.findall(r"group: (\d+)\s+item: \{\s+ip: (\S+)", dump)
    assert ("1", address(genesys)) in groups, dump
    assert ("2", "127.0.0.1") in groups, dump
    assert not any(ip == "127.0.0.1" for group, ip in groups if group == "1"), dump


def test_an_in_dialog_request_with_a_foreign_route_is_refused(genesys, badname):
    # From a Genesys address (so the source check passes): a BYE of no dialog of this SBC,
    # routed through the SBC toward another host.
    route = "Route: <sip:%s:5061;transport=tls;lr>\\r\\n" % address(badname)
    status, _, cid = tls_request(genesys, SBC, "BYE", extra=route)
    assert status.startswith("SIP/2.0 403"), status
    time.sleep(1)
    assert cid not in badname.file("/var/log/lab-genesys-peer.log").content_string


def test_an_in_dialog_request_from_a_stranger_is_refused(sbc):
    status, _, _ = tls_request(sbc, "127.0.0.1", "BYE", extra="Route: <sip:%s:5061;transport=tls;lr>\\r\\n" % SBC)
    assert status.startswith("SIP/2.0 403"), status


def _call(sbc, genesys, tag):
    """A real call: the lab UA behind the good peer answers; the PBX UA on the SBC calls."""
    genesys.run("cat > /tmp/lab_call.py <<'EOF'\n%s\nEOF" % open(LAB_CALL).read())
    sbc.run("cat > /tmp/lab_call.py <<'EOF'\n%s\nEOF" % open(LAB_CALL).read())
    genesys.run("rm -f /tmp/uas-%s.json*; (timeout 90 python3 /tmp/lab_call.py uas /tmp/uas-%s.json %s "
                ">/tmp/uas-%s.log 2>&1 &)" % (tag, tag, address(genesys), tag))
    for _ in range(50):
        if genesys.file("/tmp/uas-%s.json.ready" % tag).exists:
            break
        time.sleep(0.1)
    out = sbc.check_output("timeout 90 python3 /tmp/lab_call.py uac /tmp/uac-%s.json" % tag)
    uac = json.loads(out.splitlines()[-1])
    for _ in range(300):
        if genesys.file("/tmp/uas-%s.json" % tag).exists:
            break
        time.sleep(0.1)
    uas_file = genesys.file("/tmp/uas-%s.json" % tag)
    assert uas_file.exists, genesys.run("cat /tmp/uas-%s.log" % tag).stdout
    return uac, json.loads(uas_file.content_string)


def test_a_real_call_has_srtp_media_and_in_dialog_requests_both_ways(sbc, genesys):
    wait_for_flags(sbc, {"lb01": "A", "lb02": "A"})
    uac, uas = _call(sbc, genesys, "call")
    # Set-up and the in-dialog requests: re-INVITE from the customer, BYE from the Genesys side.
    assert uac["invite"][-1] == 200, uac
    assert uac["reinvite"][-1] == 200, uac
    assert uac["bye_received"] and uas["bye_reply"] == 200, (uac, uas)
    assert uas["reinvite_received"]
    # Toward Genesys the SBC names itself by its FQDN on 5061 (R9), in Via and Record-Route.
    assert uas["via"][1].startswith("SIP/2.0/TLS %s:5061;" % SBC), uas["via"]  # below the lab peer's own
    assert any(("sip:%s:5061;transport=tls" % SBC) in rr for rr in uas["record_route"]), uas["record_route"]
    assert re.fullmatch(r"sip:\+41445550200;tgrp=lab-trunk;trunk-context=byoc\.customer\.example"
                        r"@lb0[12]\.voice\.euc2\.pure\.cloud:5061;transport=tls", uas["invite_ruri"]), uas
    # SDP toward Genesys: SRTP with the one configured SDES suite, in the offer and the re-offer.
    for offer in (uas["offer_sdp"], uas["reinvite_sdp"]):
        assert "RTP/SAVP" in offer and "RTP/AVP " not in offer, offer
        assert re.findall(r"a=crypto:\d+ (\S+)", offer) == ["AES_CM_128_HMAC_SHA1_80"], offer
        assert "a=fingerprint" not in offer, offer  # SDES only: no DTLS-SRTP offered beside it
    assert "RTP/AVP" in uac["answer_sdp"] and "a=crypto" not in uac["answer_sdp"]  # the customer side as configured
    # The media that reached "Genesys": every packet SRTP (RTP header, payload + 80-bit tag), none plain.
    media = uas["media"]
    assert media["packets"] >= 40, media
    assert media["rtp_v2"] == media["packets"], media
    assert media["payload_sizes"] == [160 + 10], media
    assert not media["plaintext_marker_seen"], media
    assert all(src.startswith(address(sbc) + ":") for src in media["sources"]), media


def test_an_impostor_gets_no_call_and_calls_go_to_a_proven_proxy(sbc, genesys, badname):
    # Make the dispatcher believe lb03 (the impostor, a trusted root but another name) is up:
    # calls must still skip it, because no connection to it ever had its peer name proven. Round robin
    # over three active proxies picks lb03 at least twice in six calls.
    for n in range(6):
        sbc.check_output("kamcmd dispatcher.set_state a 1 'sip:lb03.voice.euc2.pure.cloud:5061;transport=tls'")
        codes = invite_codes(sbc, "impostor-%d-%s" % (n, uuid.uuid4().hex[:6]))
        assert codes.split()[-1] == "486", codes  # the good peer's answer: the call failed over
    log = badname.file("/var/log/lab-genesys-peer.log").content_string
    assert "LAB-PEER INVITE" not in log
    requests = set(re.findall(r"LAB-PEER (\S+) ru=", log))
    assert requests <= {"OPTIONS"}, requests  # at most keepalives reach it (see docs/kamailio.md)


def test_without_rtpengine_no_call_and_no_sdp_reaches_genesys(sbc, genesys):
    sbc.run("service rtpengine-daemon stop")
    try:
        tag = "nortp-" + uuid.uuid4().hex[:8]
        codes = invite_codes(sbc, tag)
        assert codes.split()[-1] == "503", codes
        time.sleep(1)
        assert "lab-invite-" + tag not in genesys.file("/var/log/lab-genesys-peer.log").content_string
    finally:
        sbc.run("service rtpengine-daemon start")
    # Back to normal once rtpengine is up again (the module retries a disabled rtpengine after 10 s).
    for _ in range(30):
        if invite_codes(sbc, "rtp-back-" + uuid.uuid4().hex[:6]).split()[-1] == "486":
            break
        time.sleep(1)
    else:
        raise AssertionError("calls did not recover after rtpengine came back")
