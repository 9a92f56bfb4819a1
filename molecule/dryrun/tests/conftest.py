"""The dryrun scenario's runs, made once per session in order: the change-board dry runs of
secure_trunk.yml (test_dryrun.py), then, on the converged SBC, the read-only audit (test_audit.py)."""

import json
import os
import re
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, ".collections"))
sys.path.insert(0, os.path.join(ROOT, "tests"))  # support.pki
SBC = "byoc-dryrun-sbc"
PEER = "byoc-dryrun-genesys"
PLAYBOOK = os.path.join(ROOT, "playbooks", "secure_trunk.yml")
AUDIT = os.path.join(ROOT, "playbooks", "audit.yml")
PODMAN = os.environ.get("MOLECULE_PODMAN_EXECUTABLE") or "podman"
TIMES = {}


def play(name, workdir, *args, playbook=PLAYBOOK):
    """One ansible-playbook run on the SBC as an engineer makes it; its output, reports and recap."""
    reports = os.path.join(workdir, name)
    os.makedirs(reports, exist_ok=True)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CALLBACKS_ENABLED="byoc.secure_trunk.change_plan", ANSIBLE_PIPELINING="true",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
           "-i", os.environ["MOLECULE_INVENTORY_FILE"], playbook, "--limit", SBC,
           "-e", "secure_trunk_report_dir=%s" % reports, *args]
    start = time.monotonic()
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    TIMES[name] = round(time.monotonic() - start)
    out = run.stdout + run.stderr
    with open(os.path.join(workdir, name + ".log"), "w") as handle:
        handle.write(out)
    files = {}
    for entry in os.listdir(reports):
        with open(os.path.join(reports, entry)) as handle:
            files[entry] = handle.read()
    recap = re.search(r"^%s\s*:\s*(.*)$" % re.escape(SBC), out, re.M)
    counts = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", recap.group(1))) if recap else {}
    return {"rc": run.returncode, "out": out, "files": files, "recap": counts}


def podman(*args, **kwargs):
    return subprocess.run([PODMAN, *args], check=True, capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("dryrun"))


@pytest.fixture(scope="session")
def runs(workdir):
    result = {"fresh": play("fresh", workdir, "--check", "--diff")}
    # What the preflight message says to do, on the SBC.
    podman("exec", SBC, "sh", "-c",
           "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-apt")
    result["plan"] = play("plan", workdir, "--check", "--diff")
    result["real"] = play("real", workdir)
    result["again"] = play("again", workdir, "--check", "--diff")
    print("dryrun wall times (s): %s" % TIMES)
    with open(os.path.join(workdir, "times.json"), "w") as handle:
        json.dump(TIMES, handle)
    return result
