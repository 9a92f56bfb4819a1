"""Defective BYOC Premises inputs to the roles fail before the host changes, saying what to fix."""

import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bad") / "report.json"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"), ANSIBLE_PIPELINING="true")
    inv = tmp_path_factory.mktemp("inv") / "hosts.yml"
    inv.write_text(
        "byoc_sbcs:\n  hosts:\n    byoc-premises-sbc:\n      ansible_host: 10.89.63.10\n      ansible_user: root\n"
        "      ansible_ssh_private_key_file: %s\n"
        "      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
        " -o LogLevel=ERROR -o ControlMaster=auto -o ControlPersist=300s\n"
        % os.path.join(ROOT, "lab", "state", "ssh", "id_ed25519"))
    cmd = ["ansible-playbook", "-i", str(inv), os.path.join(HERE, "..", "bad_inputs.yml"),
           "-e", "ansible_python_interpreter=/usr/bin/python3",
           "-e", "byoc_lab_pki=%s" % os.path.join(ROOT, "lab", "state", "pki"),
           "-e", "bad_inputs_report=%s" % out]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.exists(), run.stdout[-3000:] + run.stderr[-2000:]
    return json.loads(out.read_text())


CASES = ["an Edge certificate as the organisation CA", "no organisation CA", "a lab peer CA with premises",
         "an organisation CA with cloud", "no Edges", "Edges as one string", "an Edge by IP address",
         "Edges with cloud"]


@pytest.mark.parametrize("name", CASES)
def test_bad_premises_input_is_refused_in_the_assertion_phase(report, name):
    case = [c for c in report["cases"] if c["name"] == name][0]
    assert case["failed"], "%s was accepted" % name
    assert case["expect"] in case["msg"], case
    assert "Install" not in case["task"] and "Create" not in case["task"], case


def test_no_file_changed(report):
    assert report["files_unchanged"]
