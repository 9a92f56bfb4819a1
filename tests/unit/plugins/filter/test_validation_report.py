"""Validation reports: summary table, JSON and JUnit from tls_validate-shaped results."""

import json
import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.byoc.secure_trunk.plugins.filter.validation_report import validation_report
from ansible_collections.byoc.secure_trunk.plugins.module_utils import report

GOOD = {
    "endpoint": "lb01.voice.euc2.pure.cloud:5061", "ok": True, "protocol": "TLSv1.2",
    "cipher": "ECDHE-RSA-AES256-GCM-SHA384", "cipher_iana": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "group": "secp384r1", "matched_root": {"name": "DigiCert Global Root G2"}, "days_remaining": 312,
    "checks": {"handshake": "pass", "chain": "pass", "name": "pass", "dates": "pass", "policy": "skipped"},
    "failures": [], "warnings": [],
}
BAD = dict(GOOD, endpoint="lb02.voice.euc2.pure.cloud:5061", ok=False, days_remaining=-3,
           checks={"handshake": "pass", "chain": "pass", "name": "fail", "dates": "fail"},
           failures=[
               {"check": "name", "msg": "lb02.voice.euc2.pure.cloud:5061: leaf: does not name lb02; reissue it"},
               {"check": "dates", "msg": "lb02.voice.euc2.pure.cloud:5061: leaf: expired on 2026-11-23; renew it"},
           ])
WARN = dict(GOOD, endpoint="sbc.example.com:5061", matched_root=None,
            warnings=[{"check": "revocation", "msg": "CRL unreachable; check HTTP"}])
PROXIES = {"endpoints": [GOOD, BAD], "failures": BAD["failures"]}
LISTENER = {"endpoints": [WARN], "failures": []}


def test_summary_has_a_row_per_endpoint_then_the_defects():
    lines = report.summary_lines([{"name": "Genesys proxies", "result": PROXIES}, LISTENER])
    assert lines[0].split() == ["ENDPOINT", "PROTOCOL", "CIPHER", "GROUP", "MATCHED", "ROOT", "DAYS", "VERDICT"]
    body = lines[2:5]
    assert body[0].split()[-1] == "PASS" and "DigiCert Global Root G2" in body[0] and "312" in body[0]
    assert body[1].startswith("lb02.voice.euc2.pure.cloud:5061") and body[1].split()[-1] == "FAIL"
    assert body[2].split()[-1] == "WARN" and " - " in body[2]
    assert lines[5] == "3 endpoint(s), 2 passed, 1 failed"
    assert lines[6:] == ["FAIL " + BAD["failures"][0]["msg"], "FAIL " + BAD["failures"][1]["msg"],
                         "WARN sbc.example.com:5061: " + WARN["warnings"][0]["msg"]]
    assert not report.all_ok([PROXIES]) and report.all_ok([LISTENER])


def test_columns_line_up():
    lines = report.summary_lines([PROXIES])
    assert len({line.index("PROTOCOL") if i == 0 else line.index("TLSv1.2")
                for i, line in enumerate(lines[:4]) if i != 1}) == 1


def test_json_report():
    doc = json.loads(report.json_report([{"name": "proxies", "result": PROXIES}]))
    assert doc[0]["name"] == "proxies" and doc[0]["ok"] is False
    assert [e["endpoint"] for e in doc[0]["endpoints"]] == [GOOD["endpoint"], BAD["endpoint"]]


def test_junit_has_a_case_per_endpoint_and_check_with_failures():
    root = ET.fromstring(report.junit_xml([{"name": "proxies", "result": PROXIES}, LISTENER]))
    assert root.get("tests") == "14"  # 5 + 4 + 5 checks and root.get("failures") == "2"
    suite = root.find("testsuite[@name='proxies']")
    failed = [(c.get("classname"), c.get("name")) for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == [(BAD["endpoint"], "dates"), (BAD["endpoint"], "name")]
    assert suite.find("testcase[@name='dates']/failure") is not None
    assert len(list(suite.iter("skipped"))) == 1  # policy skipped on lb01


@pytest.mark.parametrize("args", [("notalist",), ([PROXIES], "yaml")])
def test_filter_refuses_bad_input(args):
    with pytest.raises(AnsibleFilterError):
        validation_report(*args)


def test_filter_formats():
    assert validation_report([PROXIES])[-1].startswith("FAIL ")
    assert validation_report([PROXIES], "junit").startswith("<testsuites")


def test_blocking_defects_include_a_validation_that_did_not_complete():
    refused = {"failed": True, "msg": "host: an IP address is not a name", "endpoints": [], "failures": []}
    lines = report.blocking_defects([{"name": "SBC listener", "result": refused}, PROXIES, LISTENER])
    assert lines == ["FAIL " + BAD["failures"][0]["msg"], "FAIL " + BAD["failures"][1]["msg"],
                     "FAIL SBC listener: host: an IP address is not a name"]
    assert report.blocking_defects([LISTENER]) == []  # a warning alone does not stop the play
    assert report.summary_lines([{"name": "SBC listener", "result": refused}])[-1] == lines[-1]


def test_a_skipped_validation_says_why_and_blocks_nothing():
    skipped = {"skipped": True, "skip_reason": "check mode: the listener does not exist yet"}
    results = [{"name": "proxies", "result": PROXIES}, {"name": "SBC listener", "result": skipped}]
    lines = report.summary_lines(results)
    assert lines[-1] == "SKIPPED SBC listener: check mode: the listener does not exist yet"
    assert not any("SBC listener" in line for line in report.blocking_defects(results))
    doc = json.loads(report.json_report(results))
    assert doc[1]["skipped"] == "check mode: the listener does not exist yet" and doc[0]["skipped"] is None


def test_verdicts_one_line_per_endpoint_then_the_skipped():
    skipped = {"skipped": True, "skip_reason": "not yet"}
    lines = validation_report([{"name": "proxies", "result": PROXIES}, {"name": "SBC listener", "result": skipped}],
                              "verdicts")
    assert lines == ["PASS proxies: lb01.voice.euc2.pure.cloud:5061", "FAIL proxies: lb02.voice.euc2.pure.cloud:5061",
                     "SKIPPED SBC listener: not yet"]
