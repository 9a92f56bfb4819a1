"""Prometheus textfile metrics from validation results: names, types, labels, escaping, values.

The output is parsed with prometheus_client's parser (the text format rules) and checked with
the format's own name and label grammar; values are recomputed from the certificates with
cryptography, never copied from the formatter.
"""

import datetime
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.byoc.secure_trunk.plugins.module_utils import metrics
from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509 as x509u
from support import pki

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# One sample line of the text format: name, optional {labels}, value (no timestamps: node_exporter refuses them).
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\} '
                    r'(-?[0-9.e+]+|NaN|[+-]Inf)$')
NOW = pki.now()
DAYS, NOT_AFTER = "byoc_secure_trunk_certificate_days_left", "byoc_secure_trunk_certificate_not_after_timestamp_seconds"
SBC_DAYS = "byoc_secure_trunk_sbc_certificate_days_left"
RUNTIME_CRL = "byoc_secure_trunk_runtime_crl_next_update_timestamp_seconds"
STAMP = NOW.timestamp()


@pytest.fixture(scope="module")
def lab():
    root = pki.make_root("Metrics test root")
    inter = pki.make_intermediate(root, "Metrics test CA", days=200)
    leaf = pki.make_leaf(inter, ["lb01.voice.euc2.pure.cloud"], days=10)
    sbc = pki.make_leaf(inter, ["sbc.example.com"], days=45)
    return {"root": root, "inter": inter, "leaf": leaf, "sbc": sbc}


def _entry(issued, role):
    return dict(x509u.summary(issued.cert), role=role, sent=role != "trust anchor")


def _results(lab, dates="fail", subject=None):
    chain = [_entry(lab["leaf"], "leaf"), _entry(lab["inter"], "intermediate"), _entry(lab["root"], "trust anchor")]
    if subject is not None:
        chain[0]["subject"] = subject
    peer = {"endpoint": "lb01.voice.euc2.pure.cloud:5061", "ok": dates != "fail", "chain": chain,
            "checks": {"handshake": "pass", "chain": "pass", "name": "pass", "dates": dates, "revocation": "warn",
                       "policy": "skipped"},
            "crl": [{"subject": chain[0]["subject"], "status": "good", "url": "http://crl.example.test/ca.crl",
                     "next_update": "2030-01-02T03:04:05Z"}],
            "failures": [{"check": "dates", "msg": "lb01.voice.euc2.pure.cloud:5061: leaf: expires in 9 days"}]
            if dates == "fail" else [],
            "warnings": [{"check": "revocation", "msg": "CRL slow"}]}
    listener = {"endpoint": "sbc.example.com:5061", "ok": True, "chain": [_entry(lab["sbc"], "leaf")],
                "checks": {"handshake": "pass", "policy": "pass"}, "failures": [], "warnings": []}
    return [{"name": "Genesys proxies (euc2)", "result": {"endpoints": [peer]}},
            {"name": "SBC listener", "result": {"endpoints": [listener]}}]


def _families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def _samples(text, name):
    return [s for s in _families(text)[name].samples if s.name == name]


def _days(issued):
    return (x509u.not_after(issued.cert) - NOW).days


def test_every_metric_is_a_named_documented_gauge_with_consistent_labels(lab):
    crls = pki.crl_pem(pki.make_crl(lab["inter"], next_update=NOW + datetime.timedelta(hours=30)))
    text = metrics.metrics_text(_results(lab), "sbc1", STAMP, sbc_certificate=pki.chain_pem(lab["sbc"], lab["inter"]),
                                sbc_certificate_path="/etc/kamailio/byoc/sbc.crt", runtime_crl_bundle=crls,
                                runtime_crl_path="/etc/kamailio/byoc/crl/peer-crls.pem")
    families = _families(text)
    assert set(families) == {name for name, _labels in metrics.names_and_labels()}
    declared = dict(metrics.names_and_labels())
    for name, family in families.items():
        assert NAME.match(name) and name.startswith("byoc_secure_trunk_"), name
        assert family.type == "gauge" and family.documentation, name
        assert "# TYPE %s gauge" % name in text and "# HELP %s " % name in text
        for sample in family.samples:
            assert sample.name == name and sample.timestamp is None
            assert all(LABEL.match(label) for label in sample.labels), sample.labels
            assert tuple(sample.labels) == declared[name], (name, sample.labels)
    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or SAMPLE.match(line), line
    assert text.endswith("\n") and "\n\n" not in text


def test_days_left_match_the_certificates_by_position(lab):
    text = metrics.metrics_text(_results(lab), "sbc1", STAMP, sbc_certificate=pki.chain_pem(lab["sbc"], lab["inter"]),
                                sbc_certificate_path="/etc/kamailio/byoc/sbc.crt")
    by_position = {(s.labels["endpoint"], s.labels["position"]): s.value
                   for s in _samples(text, DAYS)}
    peer = "lb01.voice.euc2.pure.cloud:5061"
    assert by_position == {(peer, "leaf"): _days(lab["leaf"]), (peer, "intermediate"): _days(lab["inter"]),
                           (peer, "trust anchor"): _days(lab["root"]),
                           ("sbc.example.com:5061", "leaf"): _days(lab["sbc"])}
    assert 8 <= by_position[(peer, "leaf")] <= 10  # the 10-day leaf is inside the horizon, as the summary says
    not_after = {s.labels["position"]: s.value for s in _samples(text, NOT_AFTER)
                 if s.labels["endpoint"] == peer}
    assert not_after["leaf"] == x509u.not_after(lab["leaf"].cert).timestamp()
    installed = {s.labels["position"]: (s.value, s.labels) for s in _samples(text, SBC_DAYS)}
    assert installed["leaf"][0] == _days(lab["sbc"]) and installed["intermediate"][0] == _days(lab["inter"])
    assert installed["leaf"][1]["serial"] == "%X" % lab["sbc"].cert.serial_number
    assert installed["leaf"][1]["path"] == "/etc/kamailio/byoc/sbc.crt"
    (stamp,) = _samples(text, "byoc_secure_trunk_audit_timestamp_seconds")
    assert stamp.value == STAMP and stamp.labels == {"sbc": "sbc1"}


def test_an_expired_certificate_counts_negative_days(lab):
    past = NOW - datetime.timedelta(days=3, hours=1)
    expired = pki.make_leaf(lab["inter"], ["lb02.voice.euc2.pure.cloud"], not_before=past - datetime.timedelta(days=30),
                            not_after=past)
    endpoint = {"endpoint": "lb02:5061", "ok": False, "chain": [_entry(expired, "leaf")]}
    results = [{"name": "peers", "result": {"endpoints": [endpoint]}}]
    (sample,) = _samples(metrics.metrics_text(results, "sbc1", STAMP), DAYS)
    assert sample.value == -4  # 3 days and an hour ago: whole days rounded down, as x509.days_until


def test_compliance_is_zero_for_a_failed_check_one_for_pass_or_warn_and_absent_when_skipped(lab):
    text = metrics.metrics_text(_results(lab), "sbc1", STAMP)
    peer = {s.labels["check"]: s.value for s in _samples(text, "byoc_secure_trunk_check_compliant")
            if s.labels["validation"] == "Genesys proxies (euc2)"}
    assert peer == {"handshake": 1, "chain": 1, "name": 1, "dates": 0, "revocation": 1}
    ok = {s.labels["endpoint"]: s.value for s in _samples(text, "byoc_secure_trunk_endpoint_ok")}
    assert ok == {"lb01.voice.euc2.pure.cloud:5061": 0, "sbc.example.com:5061": 1}
    (audit_ok,) = _samples(text, "byoc_secure_trunk_audit_ok")
    assert audit_ok.value == 0
    defects = {s.labels["level"]: s.value for s in _samples(text, "byoc_secure_trunk_defects")}
    assert defects == {"fail": 1, "warn": 1}


def test_a_clean_audit_says_ok_and_counts_no_failure(lab):
    text = metrics.metrics_text(_results(lab, dates="pass"), "sbc1", STAMP)
    (audit_ok,) = _samples(text, "byoc_secure_trunk_audit_ok")
    assert audit_ok.value == 1
    assert {s.labels["level"]: s.value for s in _samples(text, "byoc_secure_trunk_defects")} == {"fail": 0, "warn": 1}


def test_a_validation_that_did_not_complete_fails_the_audit(lab):
    results = _results(lab, dates="pass")
    results[1]["result"] = {"failed": True, "msg": "connection refused"}
    text = metrics.metrics_text(results, "sbc1", STAMP)
    completed = {s.labels["validation"]: s.value for s in _samples(text, "byoc_secure_trunk_validation_completed")}
    assert completed == {"Genesys proxies (euc2)": 1, "SBC listener": 0}
    assert _samples(text, "byoc_secure_trunk_audit_ok")[0].value == 0
    skipped = _results(lab, dates="pass")
    skipped[1]["result"] = {"skipped": True, "skip_reason": "check mode"}
    text = metrics.metrics_text(skipped, "sbc1", STAMP)
    completed = {s.labels["validation"]: s.value for s in _samples(text, "byoc_secure_trunk_validation_completed")}
    assert completed["SBC listener"] == 0


@pytest.mark.parametrize("subject", ['CN=a\\b', 'CN="quoted",O=x', "CN=line\nbreak", 'CN=\\"\n\\n'])
def test_label_values_are_escaped_and_read_back_unchanged(lab, subject):
    text = metrics.metrics_text(_results(lab, subject=subject), "sbc1", STAMP)
    leaf = [s for s in _samples(text, DAYS) if s.labels["position"] == "leaf"
            and s.labels["endpoint"].startswith("lb01")]
    assert [s.labels["subject"] for s in leaf] == [subject]
    for line in text.splitlines():
        assert line.startswith("#") or SAMPLE.match(line), line  # a raw newline or quote would break a line


def test_escaping_rules():
    assert metrics.escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert metrics.escape_help("x\\y\nz \"q\"") == 'x\\\\y\\nz "q"'
    assert metrics.format_value(True) == "1" and metrics.format_value(12) == "12"
    assert metrics.format_value(1.5) == "1.5" and metrics.format_value(3.0) == "3"
    assert metrics.format_value(float("nan")) == "NaN"


def test_crl_next_updates_from_the_validation_and_the_runtime_bundle(lab):
    nxt = (NOW + datetime.timedelta(hours=30)).replace(microsecond=0)
    root_next = (NOW + datetime.timedelta(days=6)).replace(microsecond=0)
    bundle = pki.crl_pem(pki.make_crl(lab["inter"], next_update=nxt)) + pki.crl_pem(
        pki.make_crl(lab["root"], next_update=root_next))
    text = metrics.metrics_text(_results(lab), "sbc1", STAMP, runtime_crl_bundle=bundle.decode(),
                                runtime_crl_path="/etc/kamailio/byoc/crl/peer-crls.pem")
    (seen,) = _samples(text, "byoc_secure_trunk_crl_next_update_timestamp_seconds")
    assert seen.value == datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc).timestamp()
    assert seen.labels["url"] == "http://crl.example.test/ca.crl"
    runtime = {s.labels["issuer"]: s.value for s in _samples(text, RUNTIME_CRL)}
    assert runtime == {lab["inter"].cert.subject.rfc4514_string(): nxt.timestamp(),
                       lab["root"].cert.subject.rfc4514_string(): root_next.timestamp()}
    listed = metrics.runtime_crls(bundle.decode(), "/b.pem")
    issuers = [lab["inter"].cert.subject.rfc4514_string(), lab["root"].cert.subject.rfc4514_string()]
    assert [c["issuer"] for c in listed] == issuers
    assert listed[0]["next_update"] == nxt.strftime("%Y-%m-%dT%H:%M:%SZ")
    # The report phase's CRL line reads url and next_update of each (roles/secure_trunk/tasks/report.yml).
    assert listed[0]["url"] == "/b.pem: " + lab["inter"].cert.subject.rfc4514_string()


def test_bad_input_names_the_object_and_the_fix(lab):
    with pytest.raises(metrics.MetricsError, match="validation results: are not a list"):
        metrics.metrics_text({"endpoints": []}, "sbc1", STAMP)
    results = _results(lab)
    results[0]["result"]["endpoints"][0]["chain"][0]["not_after"] = "next tuesday"
    with pytest.raises(metrics.MetricsError, match=r"lb01.voice.euc2.pure.cloud:5061: chain entry 0 notAfter: "
                                                   r"is not an ISO 8601 time"):
        metrics.metrics_text(results, "sbc1", STAMP)
    with pytest.raises(metrics.MetricsError, match="sbc: is empty"):
        metrics.metrics_text(_results(lab), "", STAMP)
    garbled = "-----BEGIN X509 CRL-----\nbm90IGEgY3Js\n-----END X509 CRL-----\n"
    with pytest.raises(metrics.MetricsError, match="/b.pem: CRL 1: is not a readable CRL"):
        metrics.runtime_crls(garbled, "/b.pem")


def test_the_audit_time_defaults_to_now(lab):
    text = metrics.metrics_text(_results(lab), "sbc1")
    (stamp,) = _samples(text, "byoc_secure_trunk_audit_timestamp_seconds")
    assert abs(stamp.value - datetime.datetime.now(datetime.timezone.utc).timestamp()) < 60
