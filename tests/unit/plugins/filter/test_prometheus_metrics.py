"""The prometheus_metrics filter: the formatter's text, the run-time CRL list, and errors as filter errors."""

import pytest
from ansible.errors import AnsibleFilterError
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.byoc.secure_trunk.plugins.filter.prometheus_metrics import prometheus_metrics
from support import pki

GOOD = {"endpoint": "lb01.voice.euc2.pure.cloud:5061", "ok": True, "checks": {"chain": "pass", "dates": "fail"},
        "chain": [], "failures": [], "warnings": []}


def test_text_is_the_metrics_file():
    text = prometheus_metrics([{"name": "peers", "result": {"endpoints": [GOOD]}}], sbc="sbc1", now=1800000000)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["byoc_secure_trunk_audit_timestamp_seconds"].samples[0].value == 1800000000
    compliant = {s.labels["check"]: s.value for s in families["byoc_secure_trunk_check_compliant"].samples}
    assert compliant == {"chain": 1, "dates": 0}


def test_runtime_crls_lists_the_bundle():
    root = pki.make_root("Filter test root")
    bundle = pki.crl_pem(pki.make_crl(root)).decode()
    (entry,) = prometheus_metrics([], format="runtime_crls", runtime_crl_bundle=bundle, runtime_crl_path="/b.pem")
    assert entry["issuer"] == root.cert.subject.rfc4514_string() and entry["url"].startswith("/b.pem: ")


def test_errors_are_filter_errors_naming_the_object():
    with pytest.raises(AnsibleFilterError, match="prometheus_metrics: sbc: is empty"):
        prometheus_metrics([], sbc="")
    garbled = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----"
    with pytest.raises(AnsibleFilterError, match="not a readable X.509 certificate"):
        prometheus_metrics([], sbc="s", sbc_certificate=garbled)
    with pytest.raises(AnsibleFilterError, match="format 'xml' is not known"):
        prometheus_metrics([], sbc="s", format="xml")
