"""docs/troubleshooting.md names every failure message the collection can produce.

The messages are collected from the source without running it:

* ``plugins/module_utils/*.py`` (parsed with ``ast``): the ``defect`` of every
  ``<X>Error(obj, defect, fix)`` call and of the ``self._fail(obj, defect, fix)`` helper,
  the ``defect`` of every ``Finding(check, level, obj, defect, fix)`` (tls_validate's named
  checks) and of every row of the policy probes (``ProbeRule(kind, offered, expect,
  requirement, level, defect, fix)`` in policy.py), and the words a failed handshake reports
  (``Handshake``/``SClient`` ``error=``
  and ``result.error_kind, result.error = ...`` in tls_probe.py);
* ``roles/*/tasks/*.yml``: the defect part (before the first ``;``) of every assert
  ``fail_msg`` and of every ``msg`` of a looped assert.

A defect given as a literal counts whole; a ``%``-format or f-string counts by its literal
prefix up to the first placeholder, and only when that prefix has at least
``MIN_PREFIX`` characters; a name bound in the same function to such a value counts the
same way; anything else is dynamic and skipped. Jinja expressions in a role message split
it into literal pieces; each piece of ``MIN_PREFIX`` characters or more counts. A file
that does not parse (someone is editing it) is skipped, not failed: other tests catch that.

The doc must carry each message verbatim; line breaks inside a message are fine.
"""

import ast
import functools
import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs", "troubleshooting.md")
MODULE_UTILS = sorted(glob.glob(os.path.join(ROOT, "plugins", "module_utils", "*.py")))
ROLE_TASKS = sorted(glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml")))
MIN_PREFIX = 15
# Errors whose second argument is not a defect (the standard library's take one message).
NOT_DOMAIN_ERRORS = {"ValueError", "TypeError", "KeyError", "OSError", "RuntimeError", "ImportError"}
# tls_probe.py's failure kinds: ``return KIND, words`` pairs carry handshake words.
ERROR_KINDS = {"dns", "refused", "timeout", "closed", "alert", "local", "tls", "network"}
_PLACEHOLDER = re.compile(r"%(?!%)")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def _squash(text):
    return " ".join(text.split())


# ------------------------------------------------------------------ Python sources


def _literal(node):
    """(text, is_whole) for a literal or the literal prefix of a format; None when dynamic."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = _literal(node.left)
        if left is None:
            return None
        match = _PLACEHOLDER.search(left[0])
        return (left[0][:match.start()] if match else left[0]).replace("%%", "%"), False
    if isinstance(node, ast.JoinedStr):
        head = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                head.append(part.value)
            else:
                return "".join(head), False
        return "".join(head), True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _literal(node.left)
        return None if left is None else (left[0], False)
    return None


def _message(node, bindings):
    """The stable text of ``node`` (resolving a name bound in the same function), or []."""
    values = bindings.get(node.id, []) if isinstance(node, ast.Name) else [node]
    found = []
    for value in values:
        if isinstance(value, ast.IfExp):
            candidates = [value.body, value.orelse]
        else:
            candidates = [value]
        for candidate in candidates:
            lit = _literal(candidate)
            if lit is None:
                continue
            text, whole = _squash(lit[0]), lit[1]
            if (whole and text) or len(text) >= MIN_PREFIX:
                found.append(text)
    return found


def _call_name(call):
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _argument(call, index, keyword):
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[index] if len(call.args) > index else None


def _bindings(function):
    """name -> every value assigned to it by a plain ``name = value`` in this function."""
    out = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out.setdefault(node.targets[0].id, []).append(node.value)
    return out


def _python_messages(path):
    try:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), path)
    except (OSError, SyntaxError, ValueError):
        return []
    rel = os.path.relpath(path, ROOT)
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    found = {}
    for scope in scopes:
        bindings = _bindings(scope) if scope is not tree else {}
        nodes = ast.walk(scope) if scope is not tree else ast.iter_child_nodes(scope)
        for node in nodes:
            texts = []
            if isinstance(node, ast.Call):
                name = _call_name(node)
                if name == "Finding":
                    arg = _argument(node, 3, "defect")
                elif name == "ProbeRule":  # a row of the policy probes: its defect, a %-template, is a Finding's
                    arg = _argument(node, 5, "defect")
                    arg = ast.BinOp(left=arg, op=ast.Mod(), right=ast.Name("values")) if arg is not None else None
                elif (name.endswith("Error") and name not in NOT_DOMAIN_ERRORS) or name == "_fail":
                    arg = _argument(node, 1, "defect")
                elif name in ("Handshake", "SClient"):
                    arg = _argument(node, 99, "error")
                else:
                    arg = None
                if arg is not None:
                    texts = _message(arg, bindings)
            elif (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple)
                  and isinstance(node.value, ast.Tuple)):
                for target, value in zip(node.targets[0].elts, node.value.elts):
                    if isinstance(target, ast.Attribute) and target.attr == "error":
                        texts += _message(value, bindings)
            elif (isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2
                  and isinstance(node.value.elts[0], ast.Constant) and node.value.elts[0].value in ERROR_KINDS):
                texts = _message(node.value.elts[1], bindings)
            for text in texts:
                found.setdefault(text, "%s:%d" % (rel, node.lineno))
    return sorted(found.items())


# ------------------------------------------------------------------ role asserts


def _role_pieces(text):
    """Literal pieces of the defect part (before the first ';') of a templated message."""
    marked = _JINJA.sub("\x00", str(text))
    defect = marked.split(";", 1)[0]
    pieces = []
    for chunk in defect.split("\x00"):
        piece = _squash(chunk).strip(" :,")
        if len(piece) >= MIN_PREFIX:
            pieces.append(piece)
    return pieces


def _tasks(node):
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        yield node
        for key in ("block", "rescue", "always"):
            if key in node:
                yield from _tasks(node[key])


def _role_messages(path):
    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return []
    rel = os.path.relpath(path, ROOT)
    found = {}
    for task in _tasks(doc or []):
        assert_args = task.get("ansible.builtin.assert") or task.get("assert")
        if not isinstance(assert_args, dict):
            continue
        texts = [assert_args.get("fail_msg") or ""]
        loop = task.get("loop")
        if isinstance(loop, list):
            texts += [item.get("msg") or "" for item in loop if isinstance(item, dict)]
        for text in texts:
            for piece in _role_pieces(text):
                found.setdefault(piece, "%s (task %r)" % (rel, task.get("name")))
    return sorted(found.items())


# ------------------------------------------------------------------ the tests


def _all_messages():
    out = []
    for path in MODULE_UTILS:
        out += _python_messages(path)
    for path in ROLE_TASKS:
        out += _role_messages(path)
    return out


MESSAGES = _all_messages()


@functools.lru_cache(maxsize=1)
def _doc_text():
    with open(DOC, encoding="utf-8") as handle:
        return _squash(handle.read())


def test_messages_are_found():
    """The collector itself works: it finds the known anchors of each source."""
    texts = {text for text, _unused in MESSAGES}
    for anchor in ("is not a Genesys Cloud BYOC region", "incomplete chain: the issuer of",
                   "certificate was revoked on", "the peer closed the connection during the handshake",
                   "The secure trunk is not proven"):
        assert any(text.startswith(anchor) for text in texts), anchor
    assert len(MESSAGES) > 100


@pytest.mark.parametrize("text,where", MESSAGES, ids=[where for _unused, where in MESSAGES])
def test_troubleshooting_names_the_message(text, where):
    assert text in _doc_text(), "docs/troubleshooting.md lacks %r (from %s): add it with what it means and the fix" % (
        text, where)
