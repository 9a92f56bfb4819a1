"""Run a scenario's extra play (its bad inputs) against one lab SBC, as molecule reaches it."""

import json
import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def run_bad_inputs(playbook, group, host, address, workdir):
    """Run PLAYBOOK on HOST (in GROUP, at ADDRESS, over SSH with the lab key); return its JSON report."""
    out = os.path.join(workdir, "report.json")
    inventory = os.path.join(workdir, "hosts.yml")
    with open(inventory, "w") as handle:
        handle.write(
            "%s:\n  hosts:\n    %s:\n      ansible_host: %s\n      ansible_user: root\n"
            "      ansible_ssh_private_key_file: %s\n"
            "      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
            " -o LogLevel=ERROR -o ControlMaster=auto -o ControlPersist=300s\n"
            % (group, host, address, os.path.join(ROOT, "lab", "state", "ssh", "id_ed25519")))
    env = dict(os.environ, ANSIBLE_ROLES_PATH=os.path.join(ROOT, "molecule", "shared", "roles"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"), ANSIBLE_PIPELINING="true")
    cmd = ["ansible-playbook", "-i", inventory, playbook,
           "-e", "ansible_python_interpreter=/usr/bin/python3",
           "-e", "byoc_lab_pki=%s" % os.path.join(ROOT, "lab", "state", "pki"),
           "-e", "bad_inputs_report=%s" % out]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert os.path.exists(out), run.stdout[-3000:] + run.stderr[-2000:]
    with open(out) as handle:
        return json.load(handle)


def assert_refused_in_the_assertion_phase(report, name):
    """The named case failed before any task that installs or creates, with the expected words."""
    (case,) = [c for c in report["cases"] if c["name"] == name]
    assert case["failed"], "%s was accepted" % name
    assert case["expect"] in case["msg"], case
    assert "Install" not in case["task"] and "Create" not in case["task"], case
