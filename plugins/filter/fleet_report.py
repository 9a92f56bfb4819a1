# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: fleet_report
short_description: One summary table, JSON or JUnit XML for every SBC of a play
version_added: 1.0.0
description:
  - Takes the validation results of every SBC, as a mapping of inventory host name to the list that
    P(byoc.secure_trunk.validation_report#filter) takes, and renders them as one report in which each
    validation is named by its host, then a colon, then its own name.
  - Hosts named in O(missing) that have no results (they failed or were unreachable before validation)
    appear as a failed validation, so a fleet report never looks greener than the run.
  - C(summary) gives a list of lines (each row its own line under any callback), C(json) a JSON document,
    C(junit) JUnit XML, C(defects) the lines that fail the fleet.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: Mapping of inventory host name to that host's list of labelled tls_validate results.
    type: dict
    required: true
  format:
    description: Output format.
    type: str
    choices: [summary, json, junit, defects]
    default: summary
  missing:
    description: Host names of the play that have no results (they dropped out before validation).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Show the fleet summary (every SBC of the play)
  ansible.builtin.debug:
    msg: >-
      {{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'sbc_results')))
         | byoc.secure_trunk.fleet_report('summary', missing=ansible_play_hosts_all | difference(ansible_play_hosts)) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: A list of lines (C(summary), C(defects)) or a string (C(json), C(junit)).
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.byoc.secure_trunk.plugins.module_utils import report

_FORMATS = {"summary": report.summary_lines, "json": report.json_report, "junit": report.junit_xml,
            "defects": report.blocking_defects}


def fleet_report(by_host, format="summary", missing=None):
    if format not in _FORMATS:
        raise AnsibleFilterError(
            "fleet_report: format %r is not known; use summary, json, junit or defects" % (format,))
    if not isinstance(by_host, dict):
        raise AnsibleFilterError("fleet_report: input must be a mapping of host name to that host's results; "
                                 "build it with dict(hosts | zip(hosts | map('extract', hostvars, NAME)))")
    return _FORMATS[format](report.fleet(by_host, missing or ()))


class FilterModule(object):
    def filters(self):
        return {"fleet_report": fleet_report}
