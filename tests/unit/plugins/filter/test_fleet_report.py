"""The fleet report: every SBC of a play in one table, one JSON and one JUnit document."""

import json
import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.byoc.secure_trunk.plugins.filter.fleet_report import fleet_report
from ansible_collections.byoc.secure_trunk.plugins.module_utils import report


def _endpoint(name, ok=True, failures=()):
    return {"endpoint": name, "ok": ok, "protocol": "TLSv1.2", "cipher_iana": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "group": "secp384r1", "matched_root": {"name": "DigiCert Global Root G2"}, "days_remaining": 300,
            "checks": {"handshake": "pass", "name": "pass" if ok else "fail"},
            "failures": [{"check": "name", "msg": m} for m in failures], "warnings": []}


SBC1 = [{"name": "Genesys proxies (euc2)", "result": {"endpoints": [_endpoint("lb01.voice.euc2.pure.cloud:5061")]}},
        {"name": "SBC listener", "result": {"endpoints": [_endpoint("sbc1.example.com:5061")]}}]
DEFECT = "lb01.voice.euc2.pure.cloud:5061: leaf: does not name lb01; reissue it"
SBC2 = [{"name": "Genesys proxies (euc2)",
         "result": {"endpoints": [_endpoint("lb01.voice.euc2.pure.cloud:5061", ok=False, failures=[DEFECT])]}},
        {"name": "SBC listener", "result": {"endpoints": [_endpoint("sbc2.example.com:5061")]}}]


def test_the_summary_has_a_row_per_endpoint_of_every_host_and_counts_the_fleet():
    lines = fleet_report({"sbc2": SBC2, "sbc1": SBC1})
    assert isinstance(lines, list) and all("\n" not in line for line in lines)
    assert lines[0].split()[:2] == ["ENDPOINT", "PROTOCOL"]
    body = lines[2:6]
    assert [b.split()[0] for b in body] == ["lb01.voice.euc2.pure.cloud:5061", "sbc1.example.com:5061",
                                            "lb01.voice.euc2.pure.cloud:5061", "sbc2.example.com:5061"]
    assert [b.split()[-1] for b in body] == ["PASS", "PASS", "FAIL", "PASS"]
    assert lines[6] == "4 endpoint(s), 3 passed, 1 failed"
    assert lines[7].startswith("FAIL lb01.voice.euc2.pure.cloud:5061: leaf: does not name lb01")


def test_a_host_that_dropped_out_before_validation_fails_the_fleet():
    lines = fleet_report({"sbc1": SBC1}, missing=["sbc3", "sbc1"])
    assert lines[-1] == "FAIL sbc3: " + report.NOT_VALIDATED
    assert fleet_report({"sbc1": SBC1}, "defects", missing=["sbc3"]) == ["FAIL sbc3: " + report.NOT_VALIDATED]
    assert fleet_report({"sbc1": SBC1}, "defects") == []


def test_json_and_junit_name_every_validation_by_host():
    doc = json.loads(fleet_report({"sbc1": SBC1, "sbc2": SBC2}, "json"))
    assert [d["name"] for d in doc] == ["sbc1: Genesys proxies (euc2)", "sbc1: SBC listener",
                                        "sbc2: Genesys proxies (euc2)", "sbc2: SBC listener"]
    assert [d["ok"] for d in doc] == [True, True, False, True]
    suites = ET.fromstring(fleet_report({"sbc1": SBC1, "sbc2": SBC2}, "junit", missing=["sbc3"]))
    assert [s.get("name") for s in suites] == [d["name"] for d in doc] + ["sbc3"]
    assert suites.get("failures") == "2" and suites.get("tests") == "9"
    missing = suites[-1][0]
    assert missing.get("name") == "validation" and missing[0].get("message") == report.NOT_VALIDATED


@pytest.mark.parametrize("value, fmt, words", [
    ({"sbc1": SBC1}, "table", "format 'table' is not known"),
    ([SBC1], "summary", "mapping of host name"),
])
def test_bad_input_is_refused_with_the_fix(value, fmt, words):
    with pytest.raises(AnsibleFilterError, match=words):
        fleet_report(value, fmt)
