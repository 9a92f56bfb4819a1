"""SIP and dispatcher helpers shared by the molecule scenarios' testinfra checks."""

import re
import time

# A customer-side INVITE (UDP on the SBC's loopback) toward the trunk; prints the reply codes.
SIP_INVITE = r'''
import socket
sdp = ("v=0\r\no=pbx 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n")
msg = ("INVITE sip:+41445550100@sbc.customer.example SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-lab-invite-%(n)s\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:+41445550999@pbx.lab.invalid>;tag=1\r\n"
       "To: <sip:+41445550100@sbc.customer.example>\r\nCall-ID: lab-invite-%(n)s\r\nCSeq: 1 INVITE\r\n"
       "Contact: <sip:pbx@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\n"
       "Content-Length: %%d\r\n\r\n%%s") %% (len(sdp), sdp)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5070))
s.settimeout(15)
s.sendto(msg.encode(), ("127.0.0.1", 5060))
codes = []
while True:
    data = s.recv(65535).decode()
    codes.append(data.split(" ", 2)[1])
    if int(codes[-1]) >= 200:
        break
print(" ".join(codes))
'''


def dispatcher_flags(sbc):
    """{first label of each dispatcher destination: its flags}, e.g. {"lb01": "AP"}."""
    out = sbc.check_output("kamcmd dispatcher.list")
    return dict(re.findall(r"URI: sip:([A-Za-z0-9-]+)\.\S+\s+FLAGS: (\w+)", out))


def wait_for_flags(sbc, want, timeout=30):
    flags = {}
    for _ in range(timeout):
        flags = dispatcher_flags(sbc)
        if all(flags.get(k, "").startswith(v) for k, v in want.items()):
            return flags
        time.sleep(1)
    return flags


def invite_codes(sbc, tag):
    """Send SIP_INVITE (Call-ID lab-invite-TAG) from the SBC's customer side; return the reply codes."""
    sbc.run("cat > /tmp/invite.py <<'EOF'\n%s\nEOF" % (SIP_INVITE % {"n": tag}))
    return sbc.check_output("python3 /tmp/invite.py")


def place_invite(sbc, peer, tag):
    """invite_codes(), and the request-URI and SDP the lab peer logged for it."""
    codes = invite_codes(sbc, tag)
    log = peer.file("/var/log/lab-genesys-peer.log").content_string
    ru = re.findall(r"LAB-PEER INVITE ru=<([^>]*)>", log)[-1]
    sdp = re.findall(r"LAB-PEER-SDP lab-invite-%s <(.*?)>\n" % tag, log, re.S)[-1]
    return codes, ru, sdp
