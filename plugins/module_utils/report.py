# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation reports: a table a person reads at a glance, JSON, and JUnit XML.

Input is what ``byoc.secure_trunk.tls_validate`` returns (registered
results), optionally labelled ``{"name": ..., "result": ...}``; nothing here
connects anywhere or imports Ansible.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

COLUMNS = ("endpoint", "protocol", "cipher", "group", "matched root", "days", "verdict")
# tls_validate results (or their endpoints), as the filters pass them: dicts, or a list of them.
Results = Any


def _labelled(results: Results) -> List[Tuple[str, dict]]:
    out = []
    for index, item in enumerate(results or []):
        if isinstance(item, dict) and "result" in item and "endpoints" not in item:
            out.append((str(item.get("name") or "validation %d" % (index + 1)), item["result"] or {}))
        else:
            out.append(("validation %d" % (index + 1), item or {}))
    return out


labelled = _labelled  # public: other formatters (metrics) read the results the same way


def _verdict(endpoint: dict) -> str:
    if not endpoint.get("ok"):
        return "FAIL"
    return "WARN" if endpoint.get("warnings") else "PASS"


def rows(results: Results) -> List[dict]:
    """One row per endpoint of every validation."""
    table = []
    for name, result in _labelled(results):
        for ep in result.get("endpoints") or []:
            root = ep.get("matched_root") or {}
            days = ep.get("days_remaining")
            table.append({
                "validation": name,
                "endpoint": ep.get("endpoint") or "?",
                "protocol": ep.get("protocol") or "-",
                "cipher": ep.get("cipher_iana") or ep.get("cipher") or "-",
                "group": ep.get("group") or "-",
                "matched root": root.get("name") or "-",
                "days": "-" if days is None else str(days),
                "verdict": _verdict(ep),
            })
    return table


def defects(results: Results) -> List[str]:
    """Every failure, then every warning, one line each: endpoint, object, defect, fix."""
    lines = []
    for level in ("failures", "warnings"):
        for _unused, result in _labelled(results):
            for ep in result.get("endpoints") or []:
                for item in ep.get(level) or []:
                    tag = "FAIL" if level == "failures" else "WARN"
                    text = item.get("msg") or "%s: %s; %s" % (item.get("object"), item.get("defect"), item.get("fix"))
                    endpoint = ep.get("endpoint") or "?"
                    if not text.startswith(endpoint):
                        text = "%s: %s" % (endpoint, text)
                    lines.append("%s %s" % (tag, text))
    return lines


def blocking_defects(results: Results) -> List[str]:
    """What stops the play: every failure, and a validation that failed without endpoint
    results (its options were refused, or it did not run) as its own message."""
    lines = [line for line in defects(results) if line.startswith("FAIL ")]
    for name, result in _labelled(results):
        has_endpoint_failures = any(ep.get("failures") for ep in result.get("endpoints") or [])
        if result.get("failed") and not has_endpoint_failures:
            lines.append("FAIL %s: %s" % (name, result.get("msg") or "validation did not complete"))
        elif not result:
            lines.append("FAIL %s: no validation result" % name)
    return lines


def summary_lines(results: Results) -> List[str]:
    """A fixed-width table, then the defects with their fixes."""
    table = rows(results)
    widths = {c: max([len(c)] + [len(r[c]) for r in table]) for c in COLUMNS}

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(widths[c]) for c, v in zip(COLUMNS, values)).rstrip()

    out = [line([c.upper() for c in COLUMNS]), line(["-" * widths[c] for c in COLUMNS])]
    out += [line([r[c] for c in COLUMNS]) for r in table]
    failed = sum(1 for r in table if r["verdict"] == "FAIL")
    out.append("%d endpoint(s), %d passed, %d failed" % (len(table), len(table) - failed, failed))
    incomplete = [line for line in blocking_defects(results) if line not in defects(results)]
    return out + defects(results) + incomplete + skipped(results)


def skipped(results: Results) -> List[str]:
    """A validation that did not run on purpose (check mode before the listener exists), with why."""
    return ["SKIPPED %s: %s" % (name, result.get("skip_reason") or "not run")
            for name, result in _labelled(results) if result.get("skipped")]


def verdicts(results: Results) -> List[str]:
    """One line per endpoint (validation, endpoint, verdict), then every skipped validation."""
    return ["%s %s: %s" % (r["verdict"], r["validation"], r["endpoint"]) for r in rows(results)] + skipped(results)


def json_report(results: Results) -> str:
    doc = [{"name": name, "ok": all(ep.get("ok") for ep in result.get("endpoints") or []),
            "endpoints": result.get("endpoints") or [], "failures": result.get("failures") or [],
            "trust": result.get("trust"),
            "skipped": (result.get("skip_reason") or "not run") if result.get("skipped") else None}
           for name, result in _labelled(results)]
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"


def junit_xml(results: Results) -> str:
    """JUnit XML: a test suite per validation, a test case per endpoint and check."""
    suites = ET.Element("testsuites", name="byoc.secure_trunk validation")
    total = fails = 0
    for name, result in _labelled(results):
        suite = ET.SubElement(suites, "testsuite", name=name)
        s_total = s_fail = 0
        for ep in result.get("endpoints") or []:
            by_check: Dict[str, List[dict]] = {}
            for item in ep.get("failures") or []:
                by_check.setdefault(item.get("check") or "check", []).append(item)
            for check, status in sorted((ep.get("checks") or {"validation": "fail" if not ep.get("ok") else "pass"})
                                        .items()):
                case = ET.SubElement(suite, "testcase", classname=ep.get("endpoint") or "?", name=check)
                s_total += 1
                if status == "fail":
                    s_fail += 1
                    items = by_check.get(check) or [{"msg": "%s failed" % check}]
                    failure = ET.SubElement(case, "failure", message=items[0].get("msg") or check, type=check)
                    failure.text = "\n".join(i.get("msg") or "" for i in items)
                elif status == "skipped":
                    ET.SubElement(case, "skipped")
        if result.get("failed") and not result.get("endpoints"):  # refused, or never ran: CI must see it
            case = ET.SubElement(suite, "testcase", classname=name, name="validation")
            failure = ET.SubElement(case, "failure", type="validation",
                                    message=result.get("msg") or "validation did not complete")
            failure.text = failure.get("message")
            s_total, s_fail = s_total + 1, s_fail + 1
        suite.set("tests", str(s_total))
        suite.set("failures", str(s_fail))
        total, fails = total + s_total, fails + s_fail
    suites.set("tests", str(total))
    suites.set("failures", str(fails))
    return ET.tostring(suites, encoding="unicode") + "\n"


def all_ok(results: Iterable) -> bool:
    return all(r["verdict"] != "FAIL" for r in rows(results))


# ------------------------------------------------------------------ the fleet: every SBC of a play

NOT_VALIDATED = "did not reach validation (it failed or was unreachable earlier in the play); see its error above"


def fleet(by_host: Mapping[str, Any], missing: Sequence[str] = ()) -> List[dict]:
    """The labelled results of every SBC, ``{"name": "<host>: <validation>", "result": ...}``,
    from ``{host: [labelled results]}``; a host in ``missing`` (it dropped out of the play before
    validation) is a validation that did not complete, so it fails the fleet."""
    out = []
    for host in sorted(by_host or {}):
        for name, result in _labelled(by_host[host] or []):
            out.append({"name": "%s: %s" % (host, name), "result": result})
    for host in sorted(set(missing or ()) - set(by_host or {})):
        out.append({"name": host, "result": {"failed": True, "msg": NOT_VALIDATED}})
    return out
