"""The summary as anyone's Ansible prints it, and the fleet summary and reports.

The role's report tasks run through ansible-playbook with ANSIBLE_CONFIG pointing at an empty
ansible.cfg (the default callback, JSON result format: not the project's YAML setting), on three
local hosts: sbc1 passes, sbc2 has a defect, sbc3 fails before validation. The per-SBC summary must
print one table row per output line, and one fleet table, JSON and JUnit file must name every SBC.
"""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def _endpoint(name, ok=True, failures=()):
    return {"endpoint": name, "ok": ok, "protocol": "TLSv1.2", "cipher_iana": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "group": "secp384r1", "matched_root": {"name": "DigiCert Global Root G2"}, "days_remaining": 300,
            "checks": {"handshake": "pass", "name": "pass" if ok else "fail"},
            "failures": [{"check": "name", "msg": m} for m in failures], "warnings": []}


PROXY_DEFECT = "lb02.voice.euc2.pure.cloud:5061: leaf: does not name lb02.voice.euc2.pure.cloud; reissue it"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("summary")
    (tmp / "ansible.cfg").write_text("[defaults]\n")
    inventory = {"all": {"hosts": {h: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                       "secure_trunk_sbc_fqdn": "%s.example.com" % h}
                                   for h in ("sbc1", "sbc2", "sbc3")}}}
    (tmp / "hosts.yml").write_text(yaml.safe_dump(inventory))
    good = {"endpoints": [_endpoint("lb01.voice.euc2.pure.cloud:5061"), _endpoint("lb02.voice.euc2.pure.cloud:5061")]}
    bad = {"endpoints": [_endpoint("lb01.voice.euc2.pure.cloud:5061"),
                         _endpoint("lb02.voice.euc2.pure.cloud:5061", ok=False, failures=[PROXY_DEFECT])]}
    play = [{
        "name": "Report like secure_trunk.yml does", "hosts": "all", "gather_facts": False,
        "vars": {"secure_trunk_region": "euc2", "secure_trunk_tgrp": "byoc", "secure_trunk_trunk_context": "example",
                 "secure_trunk_report_dir": str(tmp / "reports")},
        "tasks": [
            {"name": "Drop sbc3 before validation, as an unreachable SBC would",
             "ansible.builtin.fail": {"msg": "sbc3 stands for an SBC that failed before validation"},
             "when": "inventory_hostname == 'sbc3'"},
            {"name": "Stand in for the validation",
             "ansible.builtin.set_fact": {
                 "__secure_trunk_peers_label": "Genesys proxies (euc2)",
                 "secure_trunk_proxies_result": "{{ %s if inventory_hostname == 'sbc2' else %s }}" % (
                     json.dumps(bad), json.dumps(good)),
                 "secure_trunk_listener_result": {"endpoints": [_endpoint("{{ secure_trunk_sbc_fqdn }}:5061")]}}},
            {"name": "Summarise",
             "ansible.builtin.import_role": {"name": "byoc.secure_trunk.secure_trunk", "tasks_from": "report"}},
        ]}]
    (tmp / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(tmp / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(tmp / "hosts.yml"), str(tmp / "play.yml")],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc, tmp / "reports"


def _task_output(stdout, task):
    """The lines the callback printed under a task, up to the next task banner."""
    block = stdout.split("TASK [byoc.secure_trunk.secure_trunk : %s]" % task, 1)[1]
    return block.split("\nTASK [", 1)[0].split("\nPLAY RECAP", 1)[0].splitlines()


def _rows(lines):
    """The quoted list items the default callback prints for a list msg, unquoted."""
    return [json.loads(line.strip().rstrip(",")) for line in lines if line.strip().startswith('"')
            and not line.strip().startswith('"msg"')]


def test_sbc2_fails_the_play_and_the_others_do_not(run):
    proc, _unused = run
    assert proc.returncode != 0
    recap = proc.stdout.split("PLAY RECAP", 1)[1]
    assert "sbc1" in recap and "sbc2" in recap and "sbc3" in recap
    assert PROXY_DEFECT in proc.stdout


def test_the_summary_is_a_table_under_the_default_callback(run):
    proc, _unused = run
    lines = _task_output(proc.stdout, "Show the validation summary")
    assert not any("\\n" in line for line in lines), "the summary is one escaped line:\n" + "\n".join(lines)
    ok_sbc1 = lines.index("ok: [sbc1] => {")
    rows = _rows(lines[ok_sbc1:lines.index("}", ok_sbc1)])
    assert rows[0].split() == ["ENDPOINT", "PROTOCOL", "CIPHER", "GROUP", "MATCHED", "ROOT", "DAYS", "VERDICT"]
    assert set(rows[1]) <= {"-", " "}
    assert [r.split()[0] for r in rows[2:5]] == ["lb01.voice.euc2.pure.cloud:5061", "lb02.voice.euc2.pure.cloud:5061",
                                                 "sbc1.example.com:5061"]
    assert all(r.split()[-1] == "PASS" for r in rows[2:5])
    verdict_column = rows[0].index("VERDICT")
    assert all(r[verdict_column:].strip() == "PASS" for r in rows[2:5]), "the columns are not aligned"
    assert rows[5] == "3 endpoint(s), 3 passed, 0 failed"


def test_the_fleet_summary_names_every_sbc_once(run):
    proc, _unused = run
    lines = _task_output(proc.stdout, "Show the fleet summary")
    assert sum(1 for line in lines if line.startswith("ok: [")) == 1, lines
    rows = _rows(lines)
    assert rows[0] == "Fleet: 2 SBC(s) validated, 1 dropped out before validation"
    assert "6 endpoint(s), 5 passed, 1 failed" in rows
    assert "FAIL " + PROXY_DEFECT in rows
    assert any(r.startswith("FAIL sbc3: did not reach validation") for r in rows), rows


def test_the_fleet_reports_are_written_on_the_controller(run):
    _unused, reports = run
    doc = json.loads((reports / "fleet-validation.json").read_text())
    assert [d["name"] for d in doc] == ["sbc1: Genesys proxies (euc2)", "sbc1: SBC listener",
                                        "sbc2: Genesys proxies (euc2)", "sbc2: SBC listener", "sbc3"]
    assert [d["ok"] for d in doc[:4]] == [True, True, False, True]
    suites = ET.parse(str(reports / "fleet-validation.xml")).getroot()
    assert suites.get("failures") == "2", ET.tostring(suites)
    table = (reports / "fleet-summary.txt").read_text().splitlines()
    assert table[0].split()[0] == "ENDPOINT" and "6 endpoint(s), 5 passed, 1 failed" in table
    for host in ("sbc1", "sbc2"):
        assert (reports / ("%s-validation.json" % host)).is_file()
