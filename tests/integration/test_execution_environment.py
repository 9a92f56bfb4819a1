"""execution-environment.yml: ansible-builder accepts it, and it lists exactly what the collection needs."""

import ast
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
BUILTIN_COLLECTIONS = {"ansible.builtin", "byoc.secure_trunk"}


def _read_yaml(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return yaml.safe_load(handle)


def _pins(requirements_file):
    pins = {}
    with open(os.path.join(ROOT, requirements_file)) as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                pins[name.strip().lower()] = version.strip()
    return pins


def _requirement_names(path):
    with open(path) as handle:
        lines = [line.split("#", 1)[0].strip() for line in handle]
    return sorted(re.split(r"[<>=!~ \[;]", line, maxsplit=1)[0].lower() for line in lines if line)


@pytest.fixture(scope="module")
def ee():
    return _read_yaml("execution-environment.yml")


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """``ansible-builder create`` on a copy of the files it reads (offline: it only writes a context)."""
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(os.path.join(ROOT, "execution-environment.yml"), work)
    os.makedirs(work / "meta")
    for name in ("ee-requirements.txt", "ee-bindep.txt"):
        shutil.copy(os.path.join(ROOT, "meta", name), work / "meta")
    version = _read_yaml("galaxy.yml")["version"]
    os.makedirs(work / "build")
    (work / "build" / ("byoc-secure_trunk-%s.tar.gz" % version)).write_bytes(b"stand-in for the built collection")
    proc = subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml",
                           "-c", "context", "--output-filename", "Containerfile"],
                          cwd=work, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return work / "context"


def test_builder_writes_a_complete_context(context):
    for name in ("Containerfile", "_build/requirements.txt", "_build/bindep.txt", "_build/requirements.yml",
                 "_build/scripts/introspect.py"):
        assert (context / name).is_file(), name


def test_ansible_core_and_runner_follow_the_project_pins(context):
    containerfile = (context / "Containerfile").read_text()
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile).group(1).split()
    assert sorted(refs) == sorted(["ansible-core==%s" % _pins("requirements-dev.txt")["ansible-core"],
                                   "ansible-runner==%s" % _pins("requirements-tools.txt")["ansible-runner"]])


def test_python_and_system_needs_are_exactly_cryptography_and_openssl(context):
    assert _requirement_names(context / "_build" / "requirements.txt") == ["cryptography"]
    assert _requirement_names(context / "_build" / "bindep.txt") == ["openssl"]


def _third_party_imports():
    found = set()
    for path in glob.glob(os.path.join(ROOT, "plugins", "**", "*.py"), recursive=True):
        with open(path) as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("ansible", "ansible_collections", "__future__"):
                    found.add(top)
    return found


def test_the_plugins_import_no_other_python_package():
    assert _third_party_imports() == {"cryptography"}


def _installed_collections():
    roots = [os.path.join(ROOT, ".collections")] + [p for p in sys.path if p.endswith("site-packages")]
    return {"%s.%s" % tuple(d.split(os.sep)[-2:])
            for base in roots for d in glob.glob(os.path.join(base, "ansible_collections", "*", "*"))}


def _collections_used():
    used = set()
    installed = _installed_collections()
    files = glob.glob(os.path.join(ROOT, "roles", "**", "*.yml"), recursive=True)
    files += glob.glob(os.path.join(ROOT, "roles", "**", "*.j2"), recursive=True)
    files += glob.glob(os.path.join(ROOT, "playbooks", "*.yml"))
    for path in files:
        with open(path) as handle:
            for match in re.finditer(r"\b([a-z0-9_]+)\.([a-z0-9_]+)\.[a-z0-9_]+\b", handle.read()):
                name = "%s.%s" % match.groups()
                if name in installed and name not in BUILTIN_COLLECTIONS:
                    used.add(name)
    return used


def test_galaxy_lists_the_collection_and_exactly_the_collections_its_roles_call(ee, context):
    version = _read_yaml("galaxy.yml")["version"]
    tarball = "byoc-secure_trunk-%s.tar.gz" % version
    wanted = ee["dependencies"]["galaxy"]["collections"]
    assert wanted[0] == {"name": "/build/collections/" + tarball, "type": "file"}
    assert ee["additional_build_files"] == [{"src": "build/" + tarball, "dest": "collections"}]
    assert (context / "_build" / "collections" / tarball).is_file()
    assert {c["name"] for c in wanted[1:]} == _collections_used()


def test_builder_introspection_reads_the_collection_metadata(context):
    """At build time ansible-builder reads meta/execution-environment.yml of each collection."""
    proc = subprocess.run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                           os.path.join(ROOT, ".collections")], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load(proc.stdout.split("---", 1)[-1])
    assert "cryptography>=38.0  # from collection byoc.secure_trunk" in data["python"]
    assert "openssl  # from collection byoc.secure_trunk" in data["system"]
