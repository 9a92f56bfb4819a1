"""Dry runs a change board can approve (issue 15), on a fresh Debian 12 SBC.

The runs happen once, in order (conftest.py's ``runs``), as an engineer would make them
(secure_trunk.yml with the change plan callback, molecule's inventory): --check --diff on the
fresh host (refused: python3-apt), python3-apt installed as the message says, --check --diff
again (the plan), the real run, and --check --diff after convergence. The tests read what each run printed and wrote.
"""

import json
import re

from conftest import ROOT, SBC

KEY = ROOT + "/lab/state/pki/sbc.key"
RENDERED = ["tls.cfg.j2", "openssl-groups.cnf.j2", "default-kamailio.j2", "kamailio.cfg.j2",
            "byoc-globals.cfg.j2", "byoc-routes.cfg.j2", "dispatcher.list.j2", "byoc-sources.list.j2",
            "rtpengine.conf.j2"]


def _json(run, suffix):
    (doc,) = [json.loads(text) for name, text in run["files"].items() if name == "%s-%s.json" % (SBC, suffix)]
    return doc


def _keys(doc, kinds=("packages", "files", "services")):
    return {(kind, entry["target"]) for kind in kinds for entry in doc[kind]}


def test_preflight_names_python3_apt_and_the_command_before_anything_changes(runs):
    fresh = runs["fresh"]
    assert fresh["rc"] != 0 and fresh["recap"].get("failed") == 1, fresh["out"][-3000:]
    assert fresh["recap"].get("changed") == 0, fresh["recap"]
    assert "the SBC lacks python3-apt" in fresh["out"], fresh["out"][-3000:]
    assert "apt-get install --no-install-recommends python3-apt" in fresh["out"]
    # The first task that reaches the SBC is the one that fails: nothing ran before it.
    tasks = re.findall(r"^TASK \[(.*?)\]", fresh["out"], re.M)
    assert "Assert the SBC has every prerequisite" in tasks[-1], tasks[-3:]
    assert _json(fresh, "plan")["complete"] is False


def test_check_mode_completes_on_the_fresh_sbc_with_a_complete_plan(runs):
    plan_run = runs["plan"]
    assert plan_run["recap"].get("failed") == 0 and plan_run["rc"] == 0, plan_run["out"][-4000:]
    plan = _json(plan_run, "plan")
    assert plan["check_mode"] is True and plan["complete"] is True
    packages = {e["target"] for e in plan["packages"]}
    assert {"kamailio", "kamailio-tls-modules", "rtpengine-daemon", "nftables"} <= packages, packages
    files = {e["target"] for e in plan["files"]}
    assert {"/etc/kamailio/byoc/tls.cfg", "/etc/kamailio/kamailio.cfg", "/etc/kamailio/byoc/openssl-groups.cnf",
            "/etc/rtpengine/rtpengine.conf", "/etc/default/rtpengine-daemon", "/etc/kamailio/byoc/sbc.key",
            "/etc/kamailio/byoc/peer-ca.pem"} <= files, files
    services = {(e["target"], e["action"]) for e in plan["services"]}
    assert {("kamailio", "start"), ("rtpengine-daemon", "start")} <= services, services
    assert any("peer-ca.pem" in anchor for anchor in plan["trust_anchors"]), plan["trust_anchors"]
    assert "10.89.64.21/32" in plan["allow_lists"]["genesys_sources"], plan["allow_lists"]
    # The table is printed for the change board too.
    assert "CHANGE PLAN [%s]" % SBC in plan_run["out"] and "/etc/kamailio/byoc/tls.cfg" in plan_run["out"]


def test_the_peers_are_validated_for_real_and_the_listener_audit_says_why_it_is_skipped(runs):
    plan = _json(runs["plan"], "plan")
    verdicts = plan["validation"]
    for n in (1, 2, 3, 4):
        line = "Genesys proxies (euc2): lb0%d.voice.euc2.pure.cloud:5061" % n
        assert "PASS " + line in verdicts or "WARN " + line in verdicts, verdicts
    assert any(v.startswith("SKIPPED SBC listener: check mode: the listener does not exist yet") for v in verdicts)


def test_diff_shows_every_rendered_kamailio_rtpengine_and_openssl_file(runs):
    out = runs["plan"]["out"]
    missing = [name for name in RENDERED if not re.search(r"^\+\+\+ after: \S*/%s$" % re.escape(name), out, re.M)]
    assert not missing, missing


def test_the_real_run_changes_exactly_what_the_plan_listed(runs):
    real = runs["real"]
    assert real["rc"] == 0 and real["recap"].get("failed") == 0, real["out"][-4000:]
    plan, changes = _json(runs["plan"], "plan"), _json(real, "changes")
    assert changes["check_mode"] is False and changes["complete"] is True
    assert _keys(changes) == _keys(plan), {"not planned": sorted(_keys(changes) - _keys(plan)),
                                           "planned, not changed": sorted(_keys(plan) - _keys(changes))}
    # A command check mode cannot simulate is listed as one that may run; nothing else may.
    assert _keys(changes, ("commands",)) <= _keys(plan, ("commands",))
    assert not changes["others"] and not plan["others"], (changes["others"], plan["others"])


def test_a_check_run_after_convergence_reports_nothing_to_change(runs):
    again = runs["again"]
    assert again["rc"] == 0 and again["recap"].get("failed") == 0, again["out"][-4000:]
    assert again["recap"].get("changed") == 0, again["recap"]
    plan = _json(again, "plan")
    assert plan["changes"] == 0, plan
    assert "nothing to change" in again["out"]
    verdicts = plan["validation"]
    assert any(v.startswith(("PASS SBC listener", "WARN SBC listener")) for v in verdicts), verdicts


def test_no_output_nor_plan_carries_the_private_key(runs):
    with open(KEY) as handle:
        body = [line.strip() for line in handle if line.strip() and "-----" not in line]
    assert len(body) > 5  # a real key, so the search can find it
    for name, run in runs.items():
        texts = {"output": run["out"], **run["files"]}
        for what, text in texts.items():
            assert "PRIVATE KEY" not in text, (name, what)
            leaked = [line for line in body if line[:40] in text]
            assert not leaked, "%s %s shows the private key" % (name, what)
