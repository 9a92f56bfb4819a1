# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The change plan: what a check-mode run would change on an SBC, and what a real run changed.

Built from task results as Ansible reports them (the callback plugin ``change_plan`` feeds it),
so every changing task is in it, and nothing else: packages (from apt's own simulation or
installation), files (by path), services (start, restart, reload), commands that a check-mode
run cannot simulate, and any other change by task name. The context the roles publish
(``secure_trunk_plan_context``: trust anchors, allow-lists, the peers' verdicts) is carried
beside it. Nothing here imports Ansible, and no file content, diff or argument value other
than paths and names is ever kept: the plan cannot carry a secret.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

KINDS = ("package", "file", "service", "command", "other")

_FILE_ACTIONS = {"copy", "template", "file", "lineinfile", "blockinfile", "replace",
                 "digicert_roots", "org_ca"}
_PACKAGE_ACTIONS = {"apt", "package"}
_SERVICE_ACTIONS = {"service", "systemd", "systemd_service", "sysvinit"}
_COMMAND_ACTIONS = {"command", "shell"}
_SERVICE_VERBS = {"started": "start", "restarted": "restart", "reloaded": "reload", "stopped": "stop"}
# apt-get -s (check mode) prints "Inst NAME (...)"; a real install prints "Setting up NAME (...)".
_APT_LINE = re.compile(r"^(?:Inst|Setting up) ([A-Za-z0-9][A-Za-z0-9+.-]*)(?::[a-z0-9]+)? ", re.M)
WOULD_RUN = "Command would have run if not in check mode"


@dataclass(frozen=True, order=True)
class Change:
    """One change: KIND (package, file, service, command, other), its TARGET (package name,
    path, service name, task name), the ACTION (install, create, replace, start, ...) and the
    TASK that makes it."""

    kind: str
    target: str
    action: str
    task: str

    @property
    def key(self) -> Tuple[str, str]:
        return (self.kind, self.target)


def _short(action: str) -> str:
    return (action or "").rsplit(".", 1)[-1]


def _names(value: Any) -> List[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value or []]


def _file_action(args: dict, result: dict) -> str:
    if args.get("state") == "absent":
        return "remove"
    if args.get("state") == "directory":
        return "create directory"
    diff = result.get("diff")
    diffs = diff if isinstance(diff, list) else [diff] if isinstance(diff, dict) else []
    for item in diffs:
        before = item.get("before") if isinstance(item, dict) else None
        if isinstance(before, dict) and before.get("state") == "absent":
            return "create"
        if before == "" and item.get("after", "") != "":
            return "create"
        if isinstance(before, str) and before:
            return "replace"
    return "write"


def changes(action: str, args: Optional[dict], result: dict, task: str,
            skipped: bool = False) -> List[Change]:
    """The changes one task result (or one loop item's result) stands for.

    ACTION is the module's name (FQCN or short), ARGS its templated arguments, RESULT what it
    returned, TASK its name. A result that changed nothing gives nothing, except a command that
    check mode skipped (``WOULD_RUN``): its effect is known only when it runs, so it is listed.
    """
    args = args or {}
    result = result or {}
    short = _short(action)
    if skipped or result.get("skipped"):
        if short in _COMMAND_ACTIONS and result.get("msg") == WOULD_RUN:
            return [Change("command", task, "run (not simulated in check mode)", task)]
        return []
    if not result.get("changed"):
        return []
    if short == "debug" and isinstance(result.get("msg"), dict) and "would" in result["msg"]:
        msg = result["msg"]
        for kind in ("package", "file", "service"):
            if msg.get(kind):
                return [Change(kind, str(msg[kind]), str(msg["would"]), task)]
        return [Change("other", task, str(msg["would"]), task)]
    if short in _PACKAGE_ACTIONS:
        requested = _names(args.get("name") or args.get("pkg"))
        found = _APT_LINE.findall(str(result.get("stdout") or ""))
        names = sorted(set(found)) or requested
        return [Change("package", name, "install" if name in requested or not found else "install (dependency)",
                       task) for name in names]
    if short in _FILE_ACTIONS:
        path = args.get("dest") or args.get("path")
        if path:
            return [Change("file", str(path), _file_action(args, result), task)]
    if short in _SERVICE_ACTIONS:
        name = args.get("name")
        if name:
            verb = _SERVICE_VERBS.get(args.get("state") or "",
                                      "enable" if args.get("enabled") is not None else "change")
            return [Change("service", str(name), verb, task)]
        if args.get("daemon_reload"):
            return [Change("service", "systemd units", "reload", task)]
    if short in _COMMAND_ACTIONS:
        return [Change("command", task, "run", task)]
    return [Change("other", task, "change", task)]


@dataclass
class HostPlan:
    """Every change of one host in one run, with the context the roles published."""

    host: str
    check_mode: bool
    entries: List[Change] = field(default_factory=list)
    context: Dict = field(default_factory=dict)
    complete: bool = True

    def add(self, items: Iterable[Change]) -> None:
        for item in items:  # one entry per target and action (two tasks may create one directory)
            if (item.kind, item.target, item.action) not in {(c.kind, c.target, c.action) for c in self.entries}:
                self.entries.append(item)

    def keys(self, kinds: Sequence[str] = KINDS) -> set:
        return {c.key for c in self.entries if c.kind in kinds}

    def as_dict(self) -> dict:
        by_kind = {kind: [asdict(c) for c in sorted(self.entries) if c.kind == kind] for kind in KINDS}
        return {
            "host": self.host,
            "check_mode": self.check_mode,
            "complete": self.complete,
            "changes": sum(len(v) for v in by_kind.values()),
            **{kind + "s": by_kind[kind] for kind in KINDS},
            "trust_anchors": self.context.get("trust_anchors", []),
            "allow_lists": self.context.get("allow_lists", {}),
            "validation": self.context.get("validation", []),
        }


def to_json(plan: HostPlan) -> str:
    return json.dumps(plan.as_dict(), indent=2, sort_keys=True) + "\n"


def table(plan: HostPlan) -> List[str]:
    """The plan of one host as lines: what would change (or changed), then trust and verdicts."""
    doc = plan.as_dict()
    verb = "would change" if plan.check_mode else "changed"
    mode_note = " (check mode: nothing was changed)" if plan.check_mode else ""
    out = ["%s: %s %d item(s)%s" % (plan.host, verb, doc["changes"], mode_note)]
    if not plan.complete:
        out.append("  INCOMPLETE: the run failed on this host; only the changes before the failure are listed;"
                   " fix the failure shown above and run again")
    rows = []
    requested = [c for c in doc["packages"] if c["action"] == "install"]
    deps = [c for c in doc["packages"] if c["action"] != "install"]
    if requested or deps:
        names = ", ".join(c["target"] for c in (requested or deps))
        more = " (+%d dependencies)" % len(deps) if requested and deps else ""
        rows.append(("package", "install", names + more))
    for kind in ("file", "service", "command", "other"):
        for c in doc[kind + "s"]:
            rows.append((kind, c["action"], c["target"] if kind != "command" else c["task"]))
    if rows:
        width = [max(len(r[i]) for r in rows + [("KIND", "ACTION", "")]) for i in range(2)]
        out.append("  %s  %s  %s" % ("KIND".ljust(width[0]), "ACTION".ljust(width[1]), "WHAT"))
        out += ["  %s  %s  %s" % (k.ljust(width[0]), a.ljust(width[1]), w) for k, a, w in rows]
    else:
        out.append("  nothing to change")
    for anchor in doc["trust_anchors"]:
        out.append("  trust anchor: %s" % anchor)
    for name, networks in sorted(doc["allow_lists"].items()):
        out.append("  allow-list %s: %s" % (name, ", ".join(networks) if networks else "(none)"))
    for line in doc["validation"]:
        out.append("  validation: %s" % line)
    return out
