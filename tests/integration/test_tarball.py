"""The release tarball holds what users run and nothing else.

Each case copies the work tree's files (as git lists them) into a scratch directory, adds one file,
builds the collection there with ansible-galaxy and runs scripts/check-tarball.sh, the listing
check that `make build` runs. A dev file or a password file that reaches the tarball fails it.
"""

import os
import shutil
import subprocess
import sys
import tarfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
CHECK = os.path.join(ROOT, "scripts", "check-tarball.sh")


def _tree(tmp_path):
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    dest = tmp_path / "ansible_collections" / "byoc" / "secure_trunk"
    for rel in filter(None, listed):
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src) and not os.path.islink(src):
            os.makedirs(dest / os.path.dirname(rel), exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def _build_and_check(tree, out):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out),
                    str(tree)], capture_output=True, check=True, env=env, timeout=120)
    tarball = next(out.glob("byoc-secure_trunk-*.tar.gz"))
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    proc = subprocess.run([CHECK, str(tarball)], capture_output=True, text=True, env=env, timeout=300, check=False)
    return names, proc


def test_the_tarball_of_the_work_tree_is_clean(tmp_path):
    names, proc = _build_and_check(_tree(tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "LICENSE" in names and "examples/inventory/group_vars/byoc_sbcs/vault.yml" in names
    tops = {n.split("/")[0] for n in names}
    assert tops == {"MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.rst", "LICENSE", "plugins", "roles",
                    "playbooks", "meta", "docs", "changelogs", "examples"}, tops
    for absent in ("examples/vault-password.txt", "Makefile", "galaxy.yml", "tests", "molecule", "awx"):
        assert absent not in names


@pytest.mark.parametrize("added, why", [
    ("tox.ini", "a dev file at the top"),
    ("docs/.vault_pass", "a vault password file under a shipped directory"),
    ("examples/inventory/vault-pass.txt", "a vault password file beside the example vault"),
], ids=["dev-file", "password-in-docs", "password-in-examples"])
def test_the_listing_check_fails_on_a_file_users_do_not_run(tmp_path, added, why):
    tree = _tree(tmp_path)
    (tree / added).write_text("not for users\n")
    names, proc = _build_and_check(tree, tmp_path)
    assert added in names, "build_ignore kept %s out; pick a name it lets through" % added
    assert proc.returncode != 0, "check-tarball.sh passed a tarball with %s (%s)" % (added, why)
    assert added in proc.stderr and "build_ignore" in proc.stderr, proc.stderr


@pytest.mark.parametrize("added", ["examples/vault-password.txt", "playbooks/files/vault_password.txt",
                                   "Makefile.local", "tests/new_test.py"])
def test_build_ignore_keeps_password_and_dev_files_out(tmp_path, added):
    tree = _tree(tmp_path)
    os.makedirs(tree / os.path.dirname(added), exist_ok=True)
    (tree / added).write_text("not for users\n")
    names, proc = _build_and_check(tree, tmp_path)
    if added == "Makefile.local":  # not ignored: the listing check is what stops it
        assert added in names and proc.returncode != 0, proc.stderr
    else:
        assert added not in names and proc.returncode == 0, proc.stdout + proc.stderr
