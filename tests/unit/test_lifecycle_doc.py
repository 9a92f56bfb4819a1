"""docs/lifecycle.md, Monitoring and audit: every metric the formatter writes is listed, nothing
listed is missing from the formatter, and the alert rule examples parse and use only real metrics."""

import os
import re

import yaml

from ansible_collections.byoc.secure_trunk.plugins.module_utils import metrics

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _section():
    with open(os.path.join(ROOT, "docs", "lifecycle.md")) as handle:
        text = handle.read()
    start = text.index("## Monitoring and audit")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_the_metrics_table_lists_exactly_the_formatters_metrics_and_labels():
    rows = {}
    for line in _section().splitlines():
        match = re.match(r"^\| `(byoc_secure_trunk_\w+)` \|([^|]*)\|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    declared = dict(metrics.names_and_labels())
    assert set(rows) == set(declared)
    for name, labels in declared.items():
        listed = rows[name]
        if listed.strip() == "as above":
            continue
        for label in labels:
            if label != "sbc":
                assert "`%s`" % label in listed, (name, label)


def test_the_alert_rule_examples_parse_and_name_only_real_metrics():
    section = _section()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", section, re.S) if "groups:" in b]
    rules = yaml.safe_load(block)["groups"][0]["rules"]
    assert {"ByocSbcCertificateExpiring", "ByocPeerCertificateExpiring", "ByocCrlNextUpdateClose",
            "ByocComplianceFailed", "ByocAuditStale"} <= {r["alert"] for r in rules}
    declared = dict(metrics.names_and_labels())
    for rule in rules:
        used = re.findall(r"\bbyoc_secure_trunk_\w+", rule["expr"])
        assert used, rule["alert"]
        for name in used:
            assert name in declared, (rule["alert"], name)
        for label in re.findall(r"(\w+)(?:=~|!=|=)\"", rule["expr"]):
            assert any(label in declared[name] for name in used), (rule["alert"], label)
    for name in re.findall(r"\bbyoc_secure_trunk_\w+", section):
        assert name in declared, name
