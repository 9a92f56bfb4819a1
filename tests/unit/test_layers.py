"""The layers of plugins/ (docs/architecture.md): what may import what.

* ``plugins/module_utils`` is the core. It imports nothing from the layers above it (modules,
  filters, lookups, tests, callbacks, actions), and nothing from Ansible at import time: the SBC's
  CRL refresher (roles/kamailio_trunk/files/byoc-crl-refresh) runs the core without Ansible.
  The one adapter inside the core, http_fetch, reaches ``ansible.module_utils.urls`` from inside
  its functions only (the Ansible transport), and only http_fetch may do so.
* The adapters (modules, filters, lookups, tests, callbacks) import the core, never each other.

The imports are read from the source with ``ast`` (nothing is imported to check).
"""

import ast
import glob
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PREFIX = "ansible_collections.byoc.secure_trunk.plugins."
ADAPTERS = ("modules", "filter", "lookup", "test", "callback", "action", "inventory", "connection")
# module_utils files that may reach Ansible, and only inside a function (never at import time).
LAZY_ANSIBLE = {"http_fetch.py"}


def _imports(path):
    """(module name, at import time) for every import of ``path``."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    nested = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, id(node) not in nested) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out += [(node.module + "." + alias.name, id(node) not in nested) for alias in node.names]
    return out


def _layer(name):
    """The plugins/ layer an imported name belongs to (None: not this collection's plugins)."""
    if not name.startswith(PREFIX):
        return None
    return name[len(PREFIX):].split(".")[0]


def _core_files():
    return sorted(glob.glob(os.path.join(ROOT, "plugins", "module_utils", "*.py")))


def _adapter_files():
    return sorted(p for layer in ADAPTERS for p in glob.glob(os.path.join(ROOT, "plugins", layer, "*.py")))


def core_violations(path):
    found = []
    base = os.path.basename(path)
    for name, at_import in _imports(path):
        layer = _layer(name)
        if layer is not None and layer != "module_utils":
            found.append("imports %s, a higher layer (%s)" % (name, layer))
        if name == "ansible" or (name.startswith("ansible.") and not name.startswith("ansible_collections")):
            if base not in LAZY_ANSIBLE:
                found.append("imports %s: the core does not import Ansible" % name)
            elif at_import:
                found.append("imports %s at import time: only inside the function that needs it" % name)
    return found


def adapter_violations(path):
    return ["imports %s, another adapter (%s)" % (name, _layer(name)) for name, _unused in _imports(path)
            if _layer(name) not in (None, "module_utils")]


@pytest.mark.parametrize("path", _core_files(), ids=os.path.basename)
def test_the_core_imports_no_higher_layer_and_no_ansible(path):
    assert core_violations(path) == []


@pytest.mark.parametrize("path", _adapter_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_adapters_import_the_core_not_each_other(path):
    assert adapter_violations(path) == []


def test_the_core_is_what_it_was_said_to_be():
    names = {os.path.basename(p) for p in _core_files()}
    assert {"policy.py", "errors.py", "tls_validation.py", "http_fetch.py", "files.py"} <= names
    assert LAZY_ANSIBLE <= names


@pytest.mark.parametrize("source, problem", [
    ("from ansible_collections.byoc.secure_trunk.plugins.filter.sip_uri import sip_uri\n", "higher layer (filter)"),
    ("from ansible_collections.byoc.secure_trunk.plugins.modules import tls_validate\n", "higher layer (modules)"),
    ("import ansible_collections.byoc.secure_trunk.plugins.lookup.byoc_region\n", "higher layer (lookup)"),
    ("from ansible.module_utils.basic import AnsibleModule\n", "does not import Ansible"),
    ("import ansible.module_utils.urls\n", "does not import Ansible"),
])
def test_the_check_catches_a_core_file_that_breaks_the_rule(tmp_path, source, problem):
    path = tmp_path / "policy.py"
    path.write_text("from __future__ import annotations\n" + source)
    assert any(problem in v for v in core_violations(str(path)))


def test_the_check_catches_an_eager_ansible_import_in_the_lazy_file(tmp_path):
    path = tmp_path / "http_fetch.py"
    path.write_text("from ansible.module_utils.urls import Request\n")
    assert core_violations(str(path)) == [
        "imports ansible.module_utils.urls.Request at import time: only inside the function that needs it"]
    path.write_text("def f():\n    from ansible.module_utils.urls import Request\n    return Request\n")
    assert core_violations(str(path)) == []


def test_the_check_catches_an_adapter_importing_another(tmp_path):
    (tmp_path / "filter").mkdir()
    path = tmp_path / "filter" / "x.py"
    path.write_text("from ansible_collections.byoc.secure_trunk.plugins.lookup.byoc_region import LookupModule\n"
                    "from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy\n")
    assert adapter_violations(str(path)) == ["imports ansible_collections.byoc.secure_trunk.plugins.lookup."
                                             "byoc_region.LookupModule, another adapter (lookup)"]
