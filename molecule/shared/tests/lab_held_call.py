"""A call held up through a lab SBC while its TLS material changes, and what must hold afterwards.

Shared by the scenarios that rotate the SBC certificate with a call up (default: sbc_identity with
the lab PKI's successor certificate; acme: a forced ACME renewal through the collection's
playbook). The call is lab_call.py's (SIP dialog from the customer side of the SBC, udp
127.0.0.1:5070, to the UA behind the lab "Genesys" peer, udp 127.0.0.1:5080 there; SRTP through
rtpengine), held after its first media until release(). Every check here would fail if Kamailio
had been restarted instead of reloaded: its main process, its TLS connections to the peers, the
dialog and the call.
"""

import json
import os
import re
import time
import uuid

LAB_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lab_call.py")
RESTARTS = "/var/lib/byoc-secure-trunk/kamailio-restarts.log"


def main_process(sbc):
    """(PID, start time in clock ticks) of Kamailio's main process: a restart changes both."""
    pid = sbc.check_output("cat /run/kamailio/kamailio.pid").strip()
    start = sbc.check_output("cut -d' ' -f22 /proc/%s/stat" % pid).strip()
    return pid, start


def peer_connections(sbc, peer_address):
    """(id, opened at) of Kamailio's TLS connections to the lab peer at PEER_ADDRESS, opened by its
    keepalives: a restart closes them (and numbers new ones from 1 again, hence the time, which
    Kamailio 6.0 lists and 5.6 does not)."""
    out = sbc.check_output("kamcmd tls.list")
    found = set()
    for block in re.split(r"\n(?=\s*\{)", out):
        conid, opened = re.search(r"\bid: (\d+)", block), re.search(r"timestamp: ([^\n]+)", block)
        if conid and re.search(r"\b%s\b" % re.escape(peer_address), block):
            found.add((conid.group(1), opened.group(1).strip() if opened else ""))
    return found


def served_fingerprint(sbc, name="sbc.customer.example"):
    """SHA-256 fingerprint of the leaf a new TLS 1.2 connection to the listener is served."""
    out = sbc.check_output(
        "timeout 10 openssl s_client -connect 127.0.0.1:5061 -tls1_2 -servername %s"
        " </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256" % name)
    return out.split("=", 1)[1].strip().replace(":", "").lower()


def restarts(sbc):
    """Lines in the supervisor's restart log: Kamailio (re)started by it."""
    log = sbc.file(RESTARTS)
    return log.content_string.count("\n") if log.exists else 0


def address(host):
    return host.check_output("hostname -I").split()[0]


class HeldCall:
    """The lab call, held after its first media until release() (at most HOLD_MAX seconds)."""

    def __init__(self, sbc, genesys, hold_max=120):
        self.sbc, self.genesys, self.tag = sbc, genesys, "rot-" + uuid.uuid4().hex[:8]
        self.uas, self.uac, self.hold = "/tmp/uas-%s.json" % self.tag, "/tmp/uac-%s.json" % self.tag, \
            "/tmp/hold-%s" % self.tag
        with open(LAB_CALL) as handle:
            script = handle.read()
        for host in (sbc, genesys):
            host.run("cat > /tmp/lab_call.py <<'EOF'\n%s\nEOF" % script)
        # Each side gives up on its own: the hold, the waits after it, and a margin.
        run = "(LAB_CALL_HOLD_MAX=%d timeout %d python3 /tmp/lab_call.py" % (hold_max, hold_max + 80)
        genesys.run("%s uas %s %s hold >/tmp/uas-%s.log 2>&1 &)" % (run, self.uas, address(genesys), self.tag))
        self._wait(genesys, self.uas + ".ready", 5)
        sbc.run("%s uac %s %s >/tmp/uac-%s.log 2>&1 &)" % (run, self.uac, self.hold, self.tag))
        self._wait(sbc, self.hold + ".up", 30, sbc.run("cat /tmp/uac-%s.log" % self.tag).stdout)
        self.call_id = sbc.file(self.hold + ".up").content_string.strip()

    @staticmethod
    def _wait(host, path, timeout, why=""):
        for _ in range(timeout * 10):
            if host.file(path).exists:
                return
            time.sleep(0.1)
        raise AssertionError("%s did not appear within %ss %s" % (path, timeout, why))

    def dialog_state(self):
        """The dialog module's state of this call (4: confirmed), or None when it has none."""
        out = self.sbc.run("kamcmd dlg.list").stdout
        for block in out.split("h_entry:"):
            if self.call_id in block:
                match = re.search(r"state: (\d+)", block)
                return int(match.group(1)) if match else None
        return None

    def mark(self):
        """From now on the Genesys side counts the media it receives apart."""
        self.genesys.check_output("touch %s.mark" % self.uas)

    def release(self):
        """Let the call go on (re-INVITE from the customer, BYE from Genesys); return both sides' JSON."""
        self.sbc.check_output("touch %s.go" % self.hold)
        self._wait(self.sbc, self.uac, 60, self.sbc.run("cat /tmp/uac-%s.log" % self.tag).stdout)
        self._wait(self.genesys, self.uas, 30, self.genesys.run("cat /tmp/uas-%s.log" % self.tag).stdout)
        return (json.loads(self.sbc.file(self.uac).content_string),
                json.loads(self.genesys.file(self.uas).content_string))


def assert_call_survived(sbc, uac, uas):
    """The held call went on after the rotation: re-INVITE, BYE, and SRTP media through the SBC."""
    assert uac["invite"][-1] == 200 and uac["held"], uac
    assert uac["reinvite"][-1] == 200 and uas["reinvite_received"], (uac, uas)  # customer -> Genesys
    assert uac["bye_received"] and uas["bye_reply"] == 200, (uac, uas)  # Genesys -> customer
    for offer in (uas["offer_sdp"], uas["reinvite_sdp"]):
        assert re.findall(r"a=crypto:\d+ (\S+)", offer) == ["AES_CM_128_HMAC_SHA1_80"], offer
    after = uas["media_after_mark"]  # media that reached "Genesys" after the rotation: SRTP via rtpengine
    assert after["packets"] >= 40, after
    assert after["rtp_v2"] == after["packets"] and after["payload_sizes"] == [160 + 10], after
    assert not after["plaintext_marker_seen"], after
    assert all(src.startswith(address(sbc) + ":") for src in after["sources"]), after
