"""The change plan: task results (as the callback sees them) to entries, the table and the JSON."""

import json
import re

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import change_plan
from ansible_collections.byoc.secure_trunk.plugins.module_utils.change_plan import Change

APT_CHECK = ("NOTE: simulation\nInst libfoo1 (1.0 Debian:12/stable [amd64])\n"
             "Inst kamailio (5.6.3-2 Debian:12/stable [amd64])\nConf kamailio (5.6.3-2 Debian:12/stable [amd64])\n")
APT_REAL = "Unpacking kamailio (5.6.3-2) ...\nSetting up libfoo1:amd64 (1.0) ...\nSetting up kamailio (5.6.3-2) ...\n"
KEY = ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7planted\n"
       "-----END PRIVATE KEY-----\n")


@pytest.mark.parametrize("action, args, result, skipped, expected", [
    # apt: the packages of its own simulation (check mode) or installation (real run), same names either way
    ("ansible.builtin.apt", {"name": ["kamailio"]}, {"changed": True, "stdout": APT_CHECK}, False,
     [Change("package", "kamailio", "install", "t"), Change("package", "libfoo1", "install (dependency)", "t")]),
    ("ansible.builtin.apt", {"name": ["kamailio"]}, {"changed": True, "stdout": APT_REAL}, False,
     [Change("package", "kamailio", "install", "t"), Change("package", "libfoo1", "install (dependency)", "t")]),
    ("ansible.builtin.apt", {"name": "nftables"}, {"changed": True},
     False, [Change("package", "nftables", "install", "t")]),
    # files: by path, create when the diff shows nothing before, replace when it shows content
    ("ansible.builtin.template", {"dest": "/etc/kamailio/byoc/tls.cfg", "src": "tls.cfg.j2"},
     {"changed": True, "diff": [{"before": "", "after": "x"}]}, False,
     [Change("file", "/etc/kamailio/byoc/tls.cfg", "create", "t")]),
    ("ansible.builtin.copy", {"dest": "/etc/kamailio/byoc/sbc.key", "content": KEY},
     {"changed": True, "censored": "hidden"}, False,
     [Change("file", "/etc/kamailio/byoc/sbc.key", "write", "t")]),
    ("ansible.builtin.template", {"dest": "/etc/x"}, {"changed": True, "diff": {"before": "old", "after": "new"}},
     False,
     [Change("file", "/etc/x", "replace", "t")]),
    ("ansible.builtin.file", {"path": "/etc/kamailio/byoc", "state": "directory"}, {"changed": True}, False,
     [Change("file", "/etc/kamailio/byoc", "create directory", "t")]),
    ("ansible.builtin.file", {"path": "/etc/old", "state": "absent"}, {"changed": True}, False,
     [Change("file", "/etc/old", "remove", "t")]),
    ("byoc.secure_trunk.digicert_roots", {"dest": "/etc/kamailio/byoc/roots"},
     {"changed": True, "diff": {"before": {"state": "absent"}}}, False,
     [Change("file", "/etc/kamailio/byoc/roots", "create", "t")]),
    # services
    ("ansible.builtin.service", {"name": "kamailio", "state": "started"}, {"changed": True}, False,
     [Change("service", "kamailio", "start", "t")]),
    ("ansible.builtin.service", {"name": "kamailio", "state": "restarted"}, {"changed": True}, False,
     [Change("service", "kamailio", "restart", "t")]),
    ("ansible.builtin.systemd", {"daemon_reload": True}, {"changed": True}, False,
     [Change("service", "systemd units", "reload", "t")]),
    # what a task says it would do where check mode cannot run it (the service does not exist yet)
    ("ansible.builtin.debug", {"msg": {}}, {"changed": True, "msg": {"would": "start", "service": "rtpengine-daemon"}},
     False, [Change("service", "rtpengine-daemon", "start", "t")]),
    # commands: check mode cannot simulate them, so they are listed as ones that may run
    ("ansible.builtin.command", {"_raw_params": "nft -f x"}, {"skipped": True, "msg": change_plan.WOULD_RUN}, True,
     [Change("command", "t", "run (not simulated in check mode)", "t")]),
    ("ansible.builtin.command", {"_raw_params": "kamcmd tls.reload"}, {"changed": True},
     False, [Change("command", "t", "run", "t")]),
    # nothing changed, or skipped by a condition: nothing to list
    ("ansible.builtin.template", {"dest": "/etc/x"}, {"changed": False}, False, []),
    ("ansible.builtin.service", {"name": "kamailio"}, {"skipped": True, "skip_reason": "Conditional result was False"},
     True, []),
    ("ansible.builtin.debug", {"msg": "hello"}, {"changed": False, "msg": "hello"}, False, []),
    # anything else that changed: by task name
    ("community.general.ufw", {"rule": "allow"}, {"changed": True}, False, [Change("other", "t", "change", "t")]),
])
def test_changes(action, args, result, skipped, expected):
    assert sorted(change_plan.changes(action, args, result, "t", skipped=skipped)) == sorted(expected)


def _plan(check_mode=True):
    plan = change_plan.HostPlan(host="sbc1", check_mode=check_mode)
    plan.add(change_plan.changes("apt", {"name": ["kamailio"]}, {"changed": True, "stdout": APT_CHECK}, "Install"))
    plan.add(change_plan.changes("copy", {"dest": "/etc/kamailio/byoc/sbc.key", "content": KEY},
                                 {"changed": True, "censored": "x"}, "Install the SBC private key"))
    plan.add(change_plan.changes("file", {"path": "/etc/kamailio/byoc", "state": "directory"}, {"changed": True}, "A"))
    plan.add(change_plan.changes("file", {"path": "/etc/kamailio/byoc", "state": "directory"}, {"changed": True}, "B"))
    plan.add(change_plan.changes("service", {"name": "kamailio", "state": "started"}, {"changed": True}, "Start"))
    plan.context.update({"report_dir": "/tmp/r", "trust_anchors": ["/etc/kamailio/byoc/peer-ca.pem (peers)"],
                         "allow_lists": {"genesys_sources": ["192.0.2.0/24"]},
                         "validation": ["PASS Genesys proxies (euc2): lb01.voice.euc2.pure.cloud:5061"]})
    return plan


def test_the_json_plan_groups_by_kind_and_carries_no_content():
    text = change_plan.to_json(_plan())
    doc = json.loads(text)
    assert doc["check_mode"] is True and doc["complete"] is True and doc["changes"] == 5
    assert [e["target"] for e in doc["packages"]] == ["kamailio", "libfoo1"]
    assert [e["target"] for e in doc["files"]] == ["/etc/kamailio/byoc", "/etc/kamailio/byoc/sbc.key"]
    assert doc["services"] == [{"kind": "service", "target": "kamailio", "action": "start", "task": "Start"}]
    assert doc["trust_anchors"] and doc["allow_lists"]["genesys_sources"] == ["192.0.2.0/24"]
    assert "PRIVATE KEY" not in text and "planted" not in text


def test_the_table_shows_what_would_change_then_trust_and_verdicts():
    lines = change_plan.table(_plan())
    text = "\n".join(lines)
    assert lines[0] == "sbc1: would change 5 item(s) (check mode: nothing was changed)"
    assert re.search(r"^  package +install +kamailio \(\+1 dependencies\)$", text, re.M), text
    assert re.search(r"^  file +write +/etc/kamailio/byoc/sbc.key$", text, re.M), text
    assert re.search(r"^  service +start +kamailio$", text, re.M), text
    assert "trust anchor: /etc/kamailio/byoc/peer-ca.pem (peers)" in text
    assert "allow-list genesys_sources: 192.0.2.0/24" in text
    assert "validation: PASS Genesys proxies (euc2)" in text
    assert "PRIVATE KEY" not in text


def test_an_incomplete_run_and_an_empty_plan_say_so():
    plan = change_plan.HostPlan(host="sbc1", check_mode=False, complete=False)
    lines = change_plan.table(plan)
    assert lines[0] == "sbc1: changed 0 item(s)"
    assert lines[1].startswith("  INCOMPLETE: the run failed on this host")
    assert "  nothing to change" in lines
    assert json.loads(change_plan.to_json(plan))["complete"] is False
