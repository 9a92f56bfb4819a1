"""Include mode: the customer's kamailio.cfg stays theirs; the managed files do the BYOC work."""

import hashlib
import os
import re
import time

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy

HERE = os.path.dirname(__file__)
SBC = "sbc.customer.example"


def test_customer_script_is_untouched(sbc):
    with open(os.path.join(HERE, "..", "files", "customer-kamailio.cfg"), "rb") as handle:
        want = hashlib.sha256(handle.read()).hexdigest()
    assert sbc.file("/etc/kamailio/kamailio.cfg").sha256sum == want


def test_modules_the_customer_loads_are_not_loaded_twice(sbc):
    globals_cfg = sbc.file("/etc/kamailio/byoc/byoc-globals.cfg").content_string
    assert 'loadmodule "tm.so"' not in globals_cfg
    assert 'loadmodule "tls.so"' in globals_cfg and 'loadmodule "dispatcher.so"' in globals_cfg


def test_tls_listener_follows_the_policy(genesys):
    cmd = "timeout 10 openssl s_client -connect %s:5061 -servername %s </dev/null 2>&1" % (SBC, SBC)
    out = genesys.run(cmd).stdout
    assert "Cipher is %s" % policy.policy_suites()[0].openssl in out
    assert genesys.run("timeout 10 openssl s_client -connect %s:5061 -tls1_3 </dev/null 2>&1" % SBC).stdout.count(
        "Cipher is TLS_") == 0


def test_customer_route_reaches_genesys_with_the_tgrp_uri(sbc, genesys):
    for _ in range(30):
        if "FLAGS: AP" in sbc.check_output("kamcmd dispatcher.list"):
            break
        time.sleep(1)
    script = (
        "import socket\n"
        "m=('INVITE sip:+41445550100@%(s)s SIP/2.0\\r\\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inc\\r\\n'"
        "'Max-Forwards: 70\\r\\nFrom: <sip:pbx@lab.invalid>;tag=1\\r\\nTo: <sip:+41445550100@%(s)s>\\r\\n'"
        "'Call-ID: lab-include-1\\r\\nCSeq: 1 INVITE\\r\\n'"
        "'Contact: <sip:pbx@127.0.0.1:5070>\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('127.0.0.1',5070));s.settimeout(15)\n"
        "s.sendto(m.encode(),('127.0.0.1',5060))\n"
        "while True:\n  c=s.recv(65535).decode().split(' ',2)[1]\n  print(c)\n  if int(c)>=200: break\n"
    ) % {"s": SBC}
    sbc.run("cat > /tmp/inv.py <<'EOF'\n%s\nEOF" % script)
    assert sbc.check_output("python3 /tmp/inv.py").split()[-1] == "486"
    log = genesys.file("/var/log/lab-genesys-peer.log").content_string
    ru = re.findall(r"LAB-PEER INVITE ru=<([^>]*)>", log)[-1]
    assert re.fullmatch(r"sip:\+41445550100;tgrp=lab-trunk;trunk-context=byoc\.customer\.example"
                        r"@lb0[1-4]\.voice\.euc2\.pure\.cloud:5061;transport=tls", ru), ru
