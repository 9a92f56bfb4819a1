"""Run a scenario's extra plays (its bad inputs, a rotation) against one lab SBC, as molecule reaches it."""

import importlib.util
import json
import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def lab_pki():
    """lab/pki.py as a module: the lab's own CA code writes new CRLs and certificates for a test."""
    spec = importlib.util.spec_from_file_location("lab_pki", os.path.join(ROOT, "lab", "pki.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_inventory(path, group, host, address, group_vars=None):
    """A one-host inventory: HOST (in GROUP, at ADDRESS) over SSH with the lab key, as molecule reaches it."""
    lines = ["%s:" % group, "  hosts:", "    %s:" % host, "      ansible_host: %s" % address,
             "      ansible_user: root",
             "      ansible_ssh_private_key_file: %s" % os.path.join(ROOT, "lab", "state", "ssh", "id_ed25519"),
             "      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
             " -o LogLevel=ERROR -o ControlMaster=auto -o ControlPersist=300s"]
    if group_vars:
        lines.append("  vars:")
        lines += ["    %s: %s" % (key, json.dumps(value)) for key, value in group_vars.items()]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def run_playbook(playbook, inventory, extra_vars=(), tags="", timeout=600):
    """ansible-playbook PLAYBOOK as the scenario runs it (roles, collections, interpreter, lab PKI)."""
    env = dict(os.environ, ANSIBLE_ROLES_PATH=os.path.join(ROOT, "molecule", "shared", "roles"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"), ANSIBLE_PIPELINING="true",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    cmd = ["ansible-playbook", "-i", inventory, playbook,
           "-e", "ansible_python_interpreter=/usr/bin/python3",
           "-e", "byoc_lab_pki=%s" % os.path.join(ROOT, "lab", "state", "pki")]
    for item in extra_vars:
        cmd += ["-e", item]
    if tags:
        cmd += ["--tags", tags]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def run_bad_inputs(playbook, group, host, address, workdir):
    """Run PLAYBOOK on HOST (in GROUP, at ADDRESS, over SSH with the lab key); return its JSON report."""
    out = os.path.join(workdir, "report.json")
    inventory = write_inventory(os.path.join(workdir, "hosts.yml"), group, host, address)
    run = run_playbook(playbook, inventory, ["bad_inputs_report=%s" % out])
    assert os.path.exists(out), run.stdout[-3000:] + run.stderr[-2000:]
    with open(out) as handle:
        return json.load(handle)


def assert_refused_in_the_assertion_phase(report, name):
    """The named case failed before any task that installs or creates, with the expected words."""
    (case,) = [c for c in report["cases"] if c["name"] == name]
    assert case["failed"], "%s was accepted" % name
    assert case["expect"] in case["msg"], case
    assert "Install" not in case["task"] and "Create" not in case["task"], case
