"""A real call across the lab SBC: two small SIP user agents over UDP, with RTP.

    python3 lab_call.py uas OUT.json   behind the lab "Genesys" peer (udp:127.0.0.1:5080): answers the
                                       call with SRTP (SDES), answers a re-INVITE, captures the media it
                                       receives on MEDIA_IP:40000, then hangs up (BYE) through the peer
    python3 lab_call.py uac OUT.json   the customer's PBX on the SBC (udp:127.0.0.1:5070): calls the
                                       answering number through the SBC, sends RTP with a plaintext
                                       marker, re-INVITEs, then waits for the BYE from the Genesys side

    python3 lab_call.py uac OUT.json HOLD  the same, but holds the call after the first media: writes
                                       HOLD.up, keeps sending RTP until HOLD.go exists (at most
                                       HOLD_MAX seconds, or $LAB_CALL_HOLD_MAX), then re-INVITEs
                                       (the rotation tests)
    python3 lab_call.py uas OUT.json MEDIA_IP HOLD  the same, waiting as long for the re-INVITE;
                                       packets received once OUT.json.mark exists are also counted apart

Copied into the containers by the molecule verifiers; standard library only. Each side writes
what it saw as JSON; the tests decide. Every wait is bounded.
"""

import json
import os
import re
import socket
import struct
import sys
import threading
import time
import uuid

NUMBER = "+41445550200"
SBC_NAME = "sbc.customer.example"
MARKER = b"BYOC-LAB-PLAINTEXT-"
PAYLOAD = (MARKER * 9)[:160]
# A valid SDES key (30 bytes, base64) for the answer; the test never decrypts.
ANSWER_KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk"
# Seconds a held call waits for HOLD.go: a whole playbook run (the acme scenario's renewal) needs more.
HOLD_MAX = int(os.environ.get("LAB_CALL_HOLD_MAX", "120"))


def parse(data):
    head, _, body = data.decode("utf-8", "replace").partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return {"first": lines[0], "headers": headers, "body": body}


def values(msg, name):
    out = []
    for key, value in msg["headers"]:
        if key == name:
            out.extend(v.strip() for v in re.split(r",(?![^<]*>)", value))
    return out


def header(msg, name):
    found = values(msg, name) if name not in ("from", "to", "call-id", "cseq", "contact") else [
        v for k, v in msg["headers"] if k == name]
    return found[0] if found else ""


def uri_of(value):
    match = re.search(r"<([^>]*)>", value)
    return match.group(1) if match else value.split(";")[0]


def next_hop(uri):
    hostport = re.sub(r"^sips?:", "", uri).split(";")[0].split("@")[-1]
    host, _, port = hostport.partition(":")
    return host, int(port or 5060)


def build(first, headers, body=""):
    lines = [first] + ["%s: %s" % h for h in headers]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body.encode()))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def reply(req, code, reason, to_tag="", extra=(), body=""):
    to = header(req, "to")
    headers = [("Via", v) for v in values(req, "via")]
    headers += [("Record-Route", v) for v in values(req, "record-route")] if req["first"].startswith("INVITE") else []
    headers += [("From", header(req, "from")), ("To", to if ";tag=" in to else to + to_tag),
                ("Call-ID", header(req, "call-id")), ("CSeq", header(req, "cseq"))] + list(extra)
    return build("SIP/2.0 %d %s" % (code, reason), headers, body)


def recv(sock, want, timeout):
    """The next message whose first line matches WANT (a regex), within TIMEOUT seconds."""
    end = time.time() + timeout
    while time.time() < end:
        sock.settimeout(max(0.05, end - time.time()))
        try:
            data, addr = sock.recvfrom(65535)
        except socket.timeout:
            break
        msg = parse(data)
        msg["addr"] = addr
        if re.match(want, msg["first"]):
            return msg
    return None


def sdp(addr, port, proto, version, crypto=""):
    return ("v=0\r\no=lab %d %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d %s 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\n%sa=sendrecv\r\n" % (version, version, addr, addr, port, proto, crypto))


def media_target(body):
    addr = re.search(r"c=IN IP[46] (\S+)", body)
    port = re.search(r"m=audio (\d+)", body)
    return (addr.group(1), int(port.group(1))) if addr and port else None


def send_rtp(sock, target, seq0, count):
    for i in range(count):
        header = struct.pack("!BBHII", 0x80, 0, (seq0 + i) & 0xFFFF, (seq0 + i) * 160, 0x4C414231)
        sock.sendto(header + PAYLOAD, target)
        time.sleep(0.02)


def uac(out, hold=""):
    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.bind(("127.0.0.1", 5070))
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 41000))
    call_id, tag = "lab-call-%s" % uuid.uuid4().hex[:12], "uac1"
    result = {"call_id": call_id}
    sbc = ("127.0.0.1", 5060)
    from_h, to_h = "<sip:+41445550999@pbx.lab.invalid>;tag=%s" % tag, "<sip:%s@%s>" % (NUMBER, SBC_NAME)
    contact = "<sip:pbx@127.0.0.1:5070>"

    def request(method, cseq, ruri, routes, body=""):
        headers = [("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-%s" % uuid.uuid4().hex[:12]),
                   ("Max-Forwards", "70")] + [("Route", r) for r in routes]
        headers += [("From", from_h), ("To", to_h), ("Call-ID", call_id), ("CSeq", "%d %s" % (cseq, method)),
                    ("Contact", contact)]
        return build("%s %s SIP/2.0" % (method, ruri), headers, body)

    def transaction(method, cseq, ruri, routes, hop, body):
        sip.sendto(request(method, cseq, ruri, routes, body), hop)
        codes = []
        while True:
            msg = recv(sip, r"SIP/2.0 \d+", 20)
            if msg is None:
                return codes, None
            if not header(msg, "cseq").endswith(method) or not header(msg, "cseq").startswith(str(cseq)):
                continue
            codes.append(int(msg["first"].split()[1]))
            if codes[-1] >= 200:
                return codes, msg

    result["invite"], ok = transaction("INVITE", 1, "sip:%s@%s" % (NUMBER, SBC_NAME), [], sbc,
                                       sdp("127.0.0.1", 41000, "RTP/AVP", 1))
    if not ok or result["invite"][-1] != 200:
        return result
    result["answer_sdp"] = ok["body"]
    to_h = header(ok, "to")
    routes = list(reversed(values(ok, "record-route")))
    result["route_set"] = routes
    target = uri_of(header(ok, "contact"))
    hop = next_hop(uri_of(routes[0])) if routes else next_hop(target)
    sip.sendto(request("ACK", 1, target, routes), hop)
    media = media_target(ok["body"])
    send_rtp(rtp, media, 1, 25)
    seq = 26
    if hold:  # the call is up, media flowing: the test rotates, then writes HOLD.go
        with open(hold + ".up", "w") as handle:
            handle.write(call_id + "\n")
        end = time.time() + HOLD_MAX
        while not os.path.exists(hold + ".go") and time.time() < end:
            send_rtp(rtp, media, seq, 5)
            seq += 5
        result["held"] = os.path.exists(hold + ".go")
        send_rtp(rtp, media, seq, 25)  # media after the rotation, before the re-INVITE
        seq += 25
    result["reinvite"], ok2 = transaction("INVITE", 2, target, routes, hop, sdp("127.0.0.1", 41000, "RTP/AVP", 2))
    if ok2 is not None and result["reinvite"][-1] == 200:
        sip.sendto(request("ACK", 2, target, routes), hop)
        media = media_target(ok2["body"]) or media
    send_rtp(rtp, media, seq, 25)
    bye = recv(sip, r"BYE ", 20)
    result["bye_received"] = bye is not None
    if bye is not None:
        sip.sendto(reply(bye, 200, "OK"), bye["addr"])
    return result


def uas(out, media_ip, hold=""):
    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.bind(("127.0.0.1", 5080))
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("0.0.0.0", 40000))
    packets, marked, stop = [], [], threading.Event()

    def capture():
        media.settimeout(0.2)
        while not stop.is_set():
            try:
                data, addr = media.recvfrom(65535)
            except socket.timeout:
                continue
            packets.append((data, addr))
            if os.path.exists(out + ".mark"):  # written by the test once it has rotated
                marked.append((data, addr))

    threading.Thread(target=capture, daemon=True).start()
    result = {}
    with open(out + ".ready", "w") as handle:
        handle.write("listening\n")
    invite = recv(sip, r"INVITE ", 60)
    if invite is None:
        result["error"] = "no INVITE"
        return result
    result["invite_ruri"] = invite["first"].split()[1]
    result["record_route"] = values(invite, "record-route")
    result["via"] = values(invite, "via")
    result["offer_sdp"] = invite["body"]
    offered = re.search(r"a=crypto:(\d+) (\S+) ", invite["body"])
    crypto = "a=crypto:%s %s inline:%s\r\n" % (offered.group(1), offered.group(2), ANSWER_KEY) if offered else ""
    to_tag = ";tag=uas1"
    answer = reply(invite, 200, "OK", to_tag, [("Contact", "<sip:uas@127.0.0.1:5080>")],
                   sdp(media_ip, 40000, "RTP/SAVP", 1, crypto))
    for _ in range(10):
        sip.sendto(answer, invite["addr"])
        if recv(sip, r"ACK ", 1):
            break
    reinvite = recv(sip, r"INVITE ", HOLD_MAX + 20 if hold else 20)
    result["reinvite_received"] = reinvite is not None
    if reinvite is not None:
        result["reinvite_sdp"] = reinvite["body"]
        answer = reply(reinvite, 200, "OK", to_tag, [("Contact", "<sip:uas@127.0.0.1:5080>")],
                       sdp(media_ip, 40000, "RTP/SAVP", 2, crypto))
        for _ in range(10):
            sip.sendto(answer, reinvite["addr"])
            if recv(sip, r"ACK ", 1):
                break
    time.sleep(1.5)
    routes = values(invite, "record-route")
    target = uri_of(header(invite, "contact"))
    bye = build("BYE %s SIP/2.0" % target, [
        ("Via", "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-%s" % uuid.uuid4().hex[:12]), ("Max-Forwards", "70")]
        + [("Route", r) for r in routes]
        + [("From", header(invite, "to") + to_tag), ("To", header(invite, "from")),
           ("Call-ID", header(invite, "call-id")), ("CSeq", "1 BYE")])
    sip.sendto(bye, next_hop(uri_of(routes[0])) if routes else next_hop(target))
    done = recv(sip, r"SIP/2.0 [2-6]\d\d .*", 15)
    result["bye_reply"] = int(done["first"].split()[1]) if done else None
    time.sleep(0.5)
    stop.set()
    result["media"] = media_summary(packets)
    result["media_after_mark"] = media_summary(marked)
    return result


def media_summary(packets):
    return {
        "packets": len(packets),
        "sources": sorted({"%s:%d" % addr for _, addr in packets}),
        "rtp_v2": sum(1 for data, _ in packets if len(data) >= 12 and data[0] >> 6 == 2),
        "payload_sizes": sorted({len(data) - 12 - 4 * (data[0] & 0x0F) for data, _ in packets if len(data) >= 12}),
        "plaintext_marker_seen": any(MARKER in data for data, _ in packets),
    }


if __name__ == "__main__":
    mode, out = sys.argv[1], sys.argv[2]
    if mode == "uac":
        data = uac(out, sys.argv[3] if len(sys.argv) > 3 else "")
    else:
        data = uas(out, sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1", sys.argv[4] if len(sys.argv) > 4 else "")
    with open(out + ".tmp", "w") as handle:
        json.dump(data, handle, indent=1)
    os.replace(out + ".tmp", out)
    print(json.dumps(data))
