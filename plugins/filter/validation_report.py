# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: validation_report
short_description: Turn tls_validate results into a summary table, JSON or JUnit XML
version_added: 1.0.0
description:
  - Takes a list of results registered from M(byoc.secure_trunk.tls_validate), each optionally
    labelled as a dict with C(name) and C(result), and renders them.
  - C(summary) gives a list of lines, one row per endpoint (protocol, cipher, group, matched root, days
    remaining, verdict), then every defect with its fix.
  - C(json) gives a JSON document and C(junit) gives JUnit XML (a test suite per validation, a test case
    per endpoint and check) for CI systems.
  - C(verdicts) gives one line per endpoint (verdict, validation, endpoint), then every validation
    that was skipped with its reason; the change plan carries them.
  - C(defects) gives the lines that must stop a play, every failure and any validation that did not
    complete, empty when everything passed.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: Registered tls_validate results, or dicts with C(name) and C(result).
    type: list
    elements: dict
    required: true
  format:
    description: Output format.
    type: str
    choices: [summary, json, junit, defects, verdicts]
    default: summary
"""

EXAMPLES = r"""
- name: Show the validation summary
  ansible.builtin.debug:
    msg: "{{ [{'name': 'Genesys proxies', 'result': proxies}] | byoc.secure_trunk.validation_report }}"

- name: Write a JUnit report for CI
  ansible.builtin.copy:
    content: "{{ [proxies, listener] | byoc.secure_trunk.validation_report('junit') }}"
    dest: /tmp/byoc-validation.xml
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: A list of lines (C(summary)) or a string (C(json), C(junit)).
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.byoc.secure_trunk.plugins.module_utils import report

_FORMATS = {"summary": report.summary_lines, "json": report.json_report, "junit": report.junit_xml,
            "defects": report.blocking_defects, "verdicts": report.verdicts}


def validation_report(results, format="summary"):
    if format not in _FORMATS:
        raise AnsibleFilterError(
            "validation_report: format %r is not known; use summary, json, junit, defects or verdicts" % (format,))
    if not isinstance(results, (list, tuple)):
        raise AnsibleFilterError("validation_report: input must be a list of tls_validate results")
    return _FORMATS[format](results)


class FilterModule(object):
    def filters(self):
        return {"validation_report": validation_report}
