"""Dependency ranges: bounded, and the same in galaxy.yml, the execution environment and the docs.

The collections the roles and playbooks call (by FQCN) are exactly galaxy.yml's dependencies; every
range has an upper bound; execution-environment.yml asks for the same ranges; README.md and
docs/awx.md name the same; meta/runtime.yml's ansible-core range is what the matrix tests.
"""

import glob
import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILTIN = {"ansible.builtin", "ansible.legacy", "byoc.secure_trunk"}
# Namespaces that are collections (a dotted word like "kamailio_trunk.listener" is not a FQCN).
KNOWN_NAMESPACES = {"ansible", "community", "byoc", "ansible_collections", "containers", "awx", "kubernetes"}


def _yaml(rel):
    with open(os.path.join(ROOT, rel)) as handle:
        return yaml.safe_load(handle)


def _used_collections():
    files = glob.glob(os.path.join(ROOT, "roles", "**", "*.yml"), recursive=True)
    files += glob.glob(os.path.join(ROOT, "roles", "**", "*.j2"), recursive=True)
    files += glob.glob(os.path.join(ROOT, "playbooks", "*.yml"))
    used = set()
    for path in files:
        with open(path) as handle:
            for match in re.finditer(r"\b([a-z0-9_]+)\.([a-z0-9_]+)\.[a-z0-9_]+\b", handle.read()):
                if match.group(1) in KNOWN_NAMESPACES:
                    used.add("%s.%s" % match.groups())
    return used - BUILTIN


def test_galaxy_dependencies_are_exactly_the_collections_called():
    assert set(_yaml("galaxy.yml")["dependencies"]) == _used_collections()


def test_every_dependency_range_is_bounded_above():
    for name, spec in _yaml("galaxy.yml")["dependencies"].items():
        assert re.fullmatch(r">=\d+\.\d+\.\d+,<\d+\.\d+\.\d+", spec), (
            "galaxy.yml: dependency %s has range %r; give it a lower and an upper bound (>=X,<Y)" % (name, spec))


def test_the_execution_environment_asks_for_the_same_ranges():
    wanted = _yaml("execution-environment.yml")["dependencies"]["galaxy"]["collections"]
    ranges = {c["name"]: c.get("version") for c in wanted if c.get("type") != "file"}
    assert ranges == _yaml("galaxy.yml")["dependencies"]


def test_the_docs_name_the_same_ranges():
    for rel in ("README.md", "docs/awx.md"):
        with open(os.path.join(ROOT, rel)) as handle:
            text = handle.read()
        for name, spec in _yaml("galaxy.yml")["dependencies"].items():
            assert "`%s` `%s`" % (name, spec) in text, "%s does not name %s %s" % (rel, name, spec)
        assert "community.general" not in text, rel


def test_the_ansible_core_claim_is_bounded_and_is_what_the_matrix_tests():
    claim = _yaml("meta/runtime.yml")["requires_ansible"]
    low, high = re.fullmatch(r">=(\d+\.\d+)\.0,<(\d+\.\d+)\.0", claim).groups()
    with open(os.path.join(ROOT, "mk", "collection.mk")) as handle:
        cores = re.search(r"^MATRIX_CORES \?= (.*)$", handle.read(), re.M).group(1).split()
    minors = sorted({".".join(c.split(".")[:2]) for c in cores}, key=lambda v: tuple(map(int, v.split("."))))
    assert minors[0] == low, (claim, cores)
    last = tuple(map(int, minors[-1].split(".")))
    assert "%d.%d" % (last[0], last[1] + 1) == high, (claim, cores)
    steps = [tuple(map(int, m.split("."))) for m in minors]
    assert all(b[1] == a[1] + 1 for a, b in zip(steps, steps[1:])), "the matrix skips a minor: %s" % cores
