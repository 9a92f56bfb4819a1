"""docs/requirements.md explains R1..R16, and every message that cites one points there.

* the page has one row per requirement, each with what enforces it;
* ``errors.cite`` (used by every SecureTrunkError and tls_validate Finding message) appends the
  pointer to a message that cites a requirement, and only then;
* every string in plugins/module_utils that cites a requirement is an argument of an error or a
  Finding (so it reaches users through ``cite``), or a docstring;
* every role message (assert ``fail_msg``, looped ``msg``) that cites a requirement names the page.
"""

import ast
import glob
import os
import re

import pytest
import yaml

from ansible_collections.byoc.secure_trunk.plugins.module_utils import errors
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import Finding, SecureTrunkError, cite

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CITATION = re.compile(r"(?<![\w=.-])R(?:1[0-6]|[1-9])(?![\w.])")


def test_the_page_has_a_row_with_its_enforcement_for_each_requirement():
    with open(os.path.join(ROOT, errors.REQUIREMENTS_DOC)) as handle:
        rows = [line.split("|") for line in handle if re.match(r"\| R\d+ \|", line)]
    assert [r[1].strip() for r in rows] == ["R%d" % n for n in range(1, 17)]
    for row in rows:
        assert len(row[2].strip()) > 20 and len(row[3].strip()) > 20, row


@pytest.mark.parametrize("text, points", [
    ("host 192.0.2.10: is an IP address, and certificates are validated by name (R9)", True),
    ("peer: accepts TLSv1.0 (negotiated TLSv1); R1 allows TLS 1.2 only", True),
    ("configure the listener for TLS 1.2 with the policy suites and secp384r1 (R1-R3)", True),
    ("incomplete chain: the issuer of CN=sbc1.example.com (CN=R11) was not sent", False),
    ("leaf CN=sbc1.example.com: certificate expired on 2026-11-25 (notAfter); renew it", False),
    ("RFC 3261 and R17 are not ours", False),
])
def test_cite_points_to_the_page_only_when_a_requirement_is_cited(text, points):
    out = cite(text)
    assert out.endswith(errors.REQUIREMENTS_POINTER) is points and out.startswith(text)
    assert cite(out) == out


def test_errors_and_findings_carry_the_pointer():
    error = SecureTrunkError("host 192.0.2.10", "is an IP address, and certificates are validated by name (R9)",
                             "give its FQDN")
    assert str(error).endswith("give its FQDN " + errors.REQUIREMENTS_POINTER)
    finding = Finding("policy", "fail", "sbc1.example.com:5061",
                      "accepts ECDHE on prime256v1; R3 allows secp384r1 only")
    assert finding.message.endswith(errors.REQUIREMENTS_POINTER)
    assert finding.as_dict()["msg"] == finding.message


def _reaches_cite(call):
    """Calls whose text reaches users through cite(): errors, Findings, cite itself, and the rows of
    the policy probes (ProbeRule: policy_probes turns their defect and fix into Findings);
    CipherPolicy's description is policy data (shown by the lookup and the docs), not a message."""
    name = getattr(call.func, "id", None) or getattr(call.func, "attr", "")
    return name in ("Finding", "cite", "CipherPolicy", "ProbeRule") or name.endswith("Error")


def _passed_to_cite(variable, assign, parents):
    function = assign
    while function in parents and not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        function = parents[function]
    calls = [c for c in ast.walk(function) if isinstance(c, ast.Call) and _reaches_cite(c)]
    return any(isinstance(a, ast.Name) and a.id == variable
               for call in calls for a in call.args + [k.value for k in call.keywords])


def _cited_strings_outside_errors(path):
    tree = ast.parse(open(path).read())
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and CITATION.search(node.value)):
            continue
        if id(node) in docstrings or "Root CA - R" in node.value or "ECC Root CA - R" in node.value:
            continue
        up, ok = node, False
        while up in parents:
            up = parents[up]
            if isinstance(up, ast.Call) and _reaches_cite(up):
                ok = True
                break
            if isinstance(up, ast.Assign) and len(up.targets) == 1 and isinstance(up.targets[0], ast.Name):
                ok = _passed_to_cite(up.targets[0].id, up, parents)  # fix = "..."; Finding(..., fix)
                break
        if not ok:
            found.append("%s:%d: %r" % (os.path.relpath(path, ROOT), node.lineno, node.value[:80]))
    return found


def test_every_cited_requirement_in_the_core_reaches_users_through_cite():
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "module_utils", "*.py"))):
        found += _cited_strings_outside_errors(path)
    assert found == [], "messages that cite a requirement outside an error or Finding:\n" + "\n".join(found)


def _role_messages():
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml"))):
        with open(path) as handle:
            tasks = yaml.safe_load(handle) or []
        stack = list(tasks)
        while stack:
            task = stack.pop()
            if not isinstance(task, dict):
                continue
            stack += task.get("block", []) + task.get("rescue", []) + task.get("always", [])
            assert_args = task.get("ansible.builtin.assert") or {}
            messages = [assert_args.get("fail_msg")] if isinstance(assert_args, dict) else []
            messages += [item.get("msg") for item in task.get("loop") or [] if isinstance(item, dict)]
            messages += [v for v in (task.get("vars") or {}).values() if isinstance(v, str)]
            for message in filter(None, messages):
                yield os.path.relpath(path, ROOT), task.get("name"), message


def test_every_role_message_that_cites_a_requirement_names_the_page():
    seen, missing = 0, []
    for path, name, message in _role_messages():
        if CITATION.search(message):
            seen += 1
            if errors.REQUIREMENTS_DOC not in message:
                missing.append("%s (%s): %s" % (path, name, " ".join(message.split())[:120]))
    # The certificate checks cite from the core (tls_validate) now; the roles keep a few.
    assert seen >= 3, "found only %d role messages that cite a requirement: the scan is broken" % seen
    assert missing == [], "\n".join(missing)
