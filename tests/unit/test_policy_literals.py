"""No protocol, curve, port or policy name is restated outside plugins/module_utils/policy.py.

policy.py is the one source of the BYOC policy (docs/architecture.md). What decides behaviour
must read it: Python through ``policy``, templates through the role's policy variable
(``__kamailio_trunk_region``, from the byoc_region lookup), task and playbook expressions
through the same. So this test reads, for the literals below:

* every Python file of plugins/ (string and number constants; docstrings and the
  DOCUMENTATION/EXAMPLES/RETURN blocks are documentation, and ansible-test validate-modules
  already ties a documented default to the argspec default, which reads policy.py);
* every role template, less its comments (they are rendered as comments);
* the Jinja expressions (``{{ }}``, ``{% %}``) of role tasks, vars and defaults and of the
  playbooks, and every YAML value that *is* a literal (``x: byoc-2019``).

Not read: tests/ and docs/ (they state the policy to check it and to explain it), prose for
people (README, changelogs, role argument_specs descriptions, assert messages: the troubleshooting
test keeps those words in docs/troubleshooting.md), and molecule/, lab/, benchmarks/, examples/
(lab fixtures and scenarios that check the outcome independently of policy.py on purpose).

The exceptions that remain are listed in ALLOWED with the reason for each.
"""

import ast
import glob
import os
import re

import pytest
import yaml

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POLICY_FILE = os.path.join("plugins", "module_utils", "policy.py")

LITERALS = sorted({policy.TLS_VERSION, policy.ECDHE_GROUP, *policy.ECDHE_GROUP_ALIASES, str(policy.SIP_TLS_PORT),
                   *policy.CIPHER_POLICIES, *(s.iana for s in policy.SUITES.values()),
                   *(s.openssl for s in policy.SUITES.values())}, key=len, reverse=True)
LITERAL = re.compile(r"(?<![\w.-])(%s)(?![\w-])" % "|".join(re.escape(w) for w in LITERALS))
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)

# (path, literal): why it stays. Checked below: each value is what policy.py says.
ALLOWED = {
    # A role default is the documented value of a user-facing variable (ansible-doc and the role's
    # argument_specs show it, and argument_specs needs a literal): tied to policy.py by
    # test_allowed_role_defaults_are_what_policy_says.
    ("roles/kamailio_trunk/defaults/main.yml", "byoc-2019"): "documented default of kamailio_trunk_cipher_policy",
    ("roles/secure_trunk/defaults/main.yml", "byoc-2019"): "documented default of secure_trunk_cipher_policy",
}


def _python_hits(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)):
            skip.add(id(body[0].value))
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", "") in ("DOCUMENTATION", "EXAMPLES", "RETURN")):
            skip.add(id(node.value))
    hits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in skip:
            continue
        if isinstance(node.value, str):
            hits += [(node.lineno, m.group(1)) for m in LITERAL.finditer(node.value)]
        elif isinstance(node.value, int) and not isinstance(node.value, bool) and node.value == policy.SIP_TLS_PORT:
            hits.append((node.lineno, str(node.value)))
    return hits


def _template_hits(path):
    text = JINJA_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), open(path, encoding="utf-8").read())
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(("#", ";", "//")) and not line.startswith("#!"):
            continue  # a comment in the rendered file
        hits += [(number, m.group(1)) for m in LITERAL.finditer(line)]
    return hits


def _yaml_scalars(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _yaml_scalars(value)
    elif isinstance(node, list):
        for value in node:
            yield from _yaml_scalars(value)
    elif isinstance(node, (str, int)) and not isinstance(node, bool):
        yield str(node)


def _yaml_hits(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        for expression in JINJA.findall(line):
            hits += [(number, m.group(1)) for m in LITERAL.finditer(expression)]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return hits
    hits += [(0, value) for value in _yaml_scalars(data) if value in LITERALS]
    return hits


def _sources():
    python = [p for p in glob.glob(os.path.join(ROOT, "plugins", "**", "*.py"), recursive=True)
              if os.path.relpath(p, ROOT) != POLICY_FILE]
    templates = glob.glob(os.path.join(ROOT, "roles", "*", "templates", "**", "*"), recursive=True)
    yamls = [p for pattern in ("roles/*/tasks/*.yml", "roles/*/vars/*.yml", "roles/*/defaults/*.yml",
                               "roles/*/handlers/*.yml", "playbooks/*.yml")
             for p in glob.glob(os.path.join(ROOT, pattern))]
    return ([(p, _python_hits) for p in python] + [(p, _template_hits) for p in templates if os.path.isfile(p)]
            + [(p, _yaml_hits) for p in yamls])


def _restated(path, reader):
    rel = os.path.relpath(path, ROOT)
    return ["%s:%s: %s" % (rel, line or "(value)", literal) for line, literal in reader(path)
            if (rel, literal) not in ALLOWED]


@pytest.mark.parametrize("path, reader", _sources(), ids=lambda v: os.path.relpath(v, ROOT) if isinstance(v, str)
                         else "")
def test_no_policy_literal_outside_policy_py(path, reader):
    assert _restated(path, reader) == [], "read it from policy.py (Python: policy.*; templates and tasks: " \
        "__kamailio_trunk_region or the byoc_region lookup)"


def test_the_literals_are_the_policy():
    assert {"TLSv1.2", "secp384r1", "5061", "byoc-2019", "ECDHE-RSA-AES256-GCM-SHA384",
            "TLS_RSA_WITH_AES_256_CBC_SHA"} <= set(LITERALS)


def test_allowed_role_defaults_are_what_policy_says():
    for path, literal in ALLOWED:
        if "/defaults/" in path:
            with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
                defaults = yaml.safe_load(handle)
            assert literal in defaults.values() and literal == policy.DEFAULT_CIPHER_POLICY, path


@pytest.mark.parametrize("source, reader, found", [
    ('x = "TLSv1.2"\n', _python_hits, "TLSv1.2"),
    ("def f(port=5061):\n    return port\n", _python_hits, "5061"),
    ('c = "ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA"\n', _python_hits, "ECDHE-RSA-AES128-GCM-SHA256"),
    ("Groups = secp384r1\n", _template_hits, "secp384r1"),
    ("listen=tls:{{ a }}:5061\n", _template_hits, "5061"),
    ("- set_fact:\n    p: \"{{ x | default('byoc-2019') }}\"\n", _yaml_hits, "byoc-2019"),
    ("cipher: byoc-2025\n", _yaml_hits, "byoc-2025"),
])
def test_the_check_finds_a_restated_literal(tmp_path, source, reader, found):
    path = tmp_path / "sample"
    path.write_text(source)
    assert found in [literal for _unused, literal in reader(str(path))]


@pytest.mark.parametrize("source, reader", [
    ('"""Offers TLSv1.2 on secp384r1."""\nx = policy.TLS_VERSION\n', _python_hits),
    ('DOCUMENTATION = """\ndefault: 5061\n"""\n', _python_hits),
    ("# method = TLSv1.2 pins the version\nmethod = {{ p.kamailio_method }}\n", _template_hits),
    ("{# secp384r1 #}Groups = {{ p.ecdhe_group }}\n", _template_hits),
    ("kamailio_trunk_prove_port: 15061\n", _yaml_hits),
])
def test_the_check_leaves_words_for_people_and_derived_values(tmp_path, source, reader):
    path = tmp_path / "sample"
    path.write_text(source)
    assert reader(str(path)) == []
