"""The project loaded the way AWX's project sync loads it, into an execution environment that lacks
this collection.

AWX's project update runs, in the project directory, ``ansible-galaxy collection install -r
collections/requirements.yml`` with ANSIBLE_COLLECTIONS_PATH set to a fresh per-project path, then
runs jobs from the project directory with that path (and the project's ansible.cfg). This test does
the same from a copy of what git tracks (a clean clone: no .collections link, no venv), then
syntax-checks secure_trunk.yml and runs the trust plan from there. The collection's dependencies
(community.crypto) are already in the controller's environment here, as in an EE that carries them;
ansible-galaxy would fetch them otherwise.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    base = tmp_path_factory.mktemp("awx")
    project = base / "projects" / "_8__byoc_secure_trunk"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src) and not os.path.islink(src):
            os.makedirs(project / os.path.dirname(rel), exist_ok=True)
            shutil.copy2(src, project / rel)
    assert not (project / ".collections").exists()
    stage = base / "projects" / ".__awx_cache" / "_8__byoc_secure_trunk" / "stage" / "requirements_collections"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(PATH=BIN + os.pathsep + env.get("PATH", ""), ANSIBLE_COLLECTIONS_PATH=str(stage),
               ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-r",
                           str(project / "collections" / "requirements.yml")],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "byoc.secure_trunk:1.0.0 was installed successfully" in proc.stdout, proc.stdout
    return project, stage, env


def _run(args, project, env):
    return subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_sync_installs_the_collection_into_the_fresh_path(synced):
    project, stage, env = synced
    proc = _run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", "byoc.secure_trunk", "--format", "json"],
                project, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = json.loads(proc.stdout)
    assert list(found) == [str(stage / "ansible_collections")], found
    installed = stage / "ansible_collections" / "byoc" / "secure_trunk"
    assert (installed / "plugins" / "modules" / "tls_validate.py").is_file()
    assert not (installed / "molecule").exists() and not (installed / "examples" / "vault-password.txt").exists()


def test_secure_trunk_passes_the_syntax_check_from_the_project(synced):
    project, _unused, env = synced
    proc = _run([os.path.join(BIN, "ansible-playbook"), "playbooks/secure_trunk.yml", "--syntax-check",
                 "-i", "examples/inventory/hosts.yml"], project, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_trust_plan_runs_from_the_project(synced, tmp_path):
    project, _unused, env = synced
    proc = _run([os.path.join(BIN, "ansible-playbook"), "playbooks/trust_plan.yml", "-e", "secure_trunk_region=euc2",
                 "-e", "secure_trunk_roots_dest=%s" % tmp_path, "-e", "ansible_python_interpreter=%s" % sys.executable],
                project, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "failed=0" in proc.stdout and "lb01.voice.euc2.pure.cloud" in proc.stdout, proc.stdout
    assert sorted(p.name for p in tmp_path.glob("*.pem")), list(tmp_path.iterdir())
