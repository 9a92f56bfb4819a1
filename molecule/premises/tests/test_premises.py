"""BYOC Premises (R16) on the real Kamailio of the lab SBC, after secure_trunk.yml converged it.

The SBC trunks to the lab Edge (edge1, edge2.customer.example) and trusts only the lab
organisation CA, which the play fetched from the Platform API stand-in. The rogue Edge carries
the same names from another organisation's CA.
"""

import json
import os
import re
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy
from conftest import PKI, REPORTS
from lab_sip import place_invite, wait_for_flags

EDGES = ["edge1.customer.example", "edge2.customer.example"]
BYOC_DIR = "/etc/kamailio/byoc"
ORG_CA = BYOC_DIR + "/org-ca.pem"
EDGE_ADDRESS, ROGUE_ADDRESS = "10.89.63.21", "10.89.63.22"


def lab_org_ca():
    with open(os.path.join(PKI, "org-ca.crt"), "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def test_the_org_ca_is_installed_as_the_only_trust_anchor(sbc):  # R16
    pem = sbc.file(ORG_CA)
    assert (pem.user, pem.group, pem.mode) == ("root", "kamailio", 0o644)
    installed = x509.load_pem_x509_certificates(pem.content)
    assert [c.fingerprint(hashes.SHA256()) for c in installed] == [lab_org_ca().fingerprint(hashes.SHA256())]
    tls_cfg = sbc.file(BYOC_DIR + "/tls.cfg").content_string
    ca_lists = re.findall(r"^ca_list = (.*)$", tls_cfg, re.M)
    assert ca_lists and set(ca_lists) == {ORG_CA}, ca_lists
    assert not sbc.file(BYOC_DIR + "/roots").exists  # no DigiCert roots on a premises-only SBC


def test_the_edges_replace_the_region_proxies(sbc):  # R16 instead of R14
    dispatcher = sbc.file(BYOC_DIR + "/dispatcher.list").content_string
    uris = re.findall(r"^1 (\S+) ", dispatcher, re.M)
    assert uris == ["sip:%s:%d;transport=tls" % (e, policy.SIP_TLS_PORT) for e in EDGES], uris
    tls_cfg = sbc.file(BYOC_DIR + "/tls.cfg").content_string
    assert re.findall(r"^server_name = (.*)$", tls_cfg, re.M) == EDGES
    routes = sbc.file(BYOC_DIR + "/byoc-routes.cfg").content_string
    check = sbc.file(BYOC_DIR + "/byoc_peer_names.py").content_string
    assert 'PEERS = ["edge1.customer.example", "edge2.customer.example"]' in check, check
    assert "WILDCARD = False" in check  # each Edge by its exact name
    for text in (dispatcher, tls_cfg, routes, check):
        assert "pure.cloud" not in text


def test_outbound_tls_to_the_edges_is_up(sbc, edge):  # R16 trust, R4 5061 TLS
    flags = wait_for_flags(sbc, {"edge1": "A", "edge2": "A"})
    assert flags.get("edge1", "").startswith("A") and flags.get("edge2", "").startswith("A"), flags
    log = edge.file("/var/log/lab-genesys-peer.log").content_string
    assert re.search(r"LAB-PEER OPTIONS ru=<sip:edge1\.customer\.example:5061;transport=tls> "
                     r"from=<sip:byoc-keepalive@sbc\.customer\.example>.*proto=tls", log)


def test_invite_reaches_an_edge_with_tgrp_uri_and_srtp(sbc, edge):  # R12, R15 toward the Edges
    codes, ru, sdp = place_invite(sbc, edge, "premises-%d" % time.time())
    assert codes.split()[-1] == "486", codes  # the lab peer refuses calls after logging them
    assert re.fullmatch(r"sip:\+41445550100;tgrp=lab-trunk;trunk-context=byoc\.customer\.example"
                        r"@edge[12]\.customer\.example:5061;transport=tls", ru), ru
    assert "RTP/SAVP" in sdp and re.findall(r"a=crypto:\d+ (\S+)", sdp) == ["AES_CM_128_HMAC_SHA1_80"], sdp


def s_client_from_sbc(sbc, address, *args):
    return sbc.run("timeout 10 openssl s_client -connect %s:5061 -servername edge1.customer.example "
                   "-tls1_2 -CAfile %s -verify_return_error %s </dev/null 2>&1" % (address, ORG_CA, " ".join(args)))


def test_the_org_ca_verifies_the_edge(sbc):  # R16, R1, R3
    out = s_client_from_sbc(sbc, EDGE_ADDRESS, "-groups", "secp384r1")
    assert out.rc == 0 and "Verify return code: 0 (ok)" in out.stdout, out.stdout[-800:]


def test_an_edge_from_another_organisation_is_refused(sbc):  # R16: only this organisation's CA
    out = s_client_from_sbc(sbc, ROGUE_ADDRESS)
    assert out.rc != 0 and "unable to get local issuer certificate" in out.stdout, out.stdout[-800:]


def test_the_validation_report_covers_the_edges_with_no_defect():  # validation and summary as for Cloud
    with open(os.path.join(REPORTS, "byoc-premises-sbc-validation.json")) as handle:
        edges, listener = json.load(handle)
    assert edges["name"] == "Genesys Cloud Edges (premises, euc2)"
    assert edges["ok"] and listener["ok"] and edges["failures"] == listener["failures"] == []
    assert [e["endpoint"] for e in edges["endpoints"]] == ["%s:5061" % e for e in EDGES]
    for endpoint in edges["endpoints"]:
        assert endpoint["matched_root"]["name"] == "Lab organisation CA"
        assert (endpoint["cipher_iana"], endpoint["group"]) == ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "secp384r1")


def test_the_sbc_listener_still_speaks_only_the_policy(edge):  # R1 to R3, as the Edge sees it
    out = edge.run("timeout 10 openssl s_client -connect sbc.customer.example:5061 -servername "
                   "sbc.customer.example -CAfile /etc/kamailio/lab-public-root.pem </dev/null 2>&1").stdout
    assert "Verify return code: 0 (ok)" in out and "Server Temp Key: ECDH, secp384r1" in out, out[-800:]
    assert re.search(r"New, TLSv1.2, Cipher is ECDHE-RSA-AES256-GCM-SHA384", out), out[-800:]
