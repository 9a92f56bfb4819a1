# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: change_plan
type: aggregate
short_description: The change plan of a check-mode run, and the record of what a real run changed
version_added: 1.1.0
description:
  - Collects, per host, every task result that changed (or, in check mode, would change) something,
    and at the end of the run shows one table per host - packages to install, files to create or
    replace (paths), services to start, restart or reload, commands check mode cannot simulate,
    the trust anchors and allow-lists that take effect and the peers' validation verdicts.
  - Writes the same plan as JSON beside the validation reports (C(secure_trunk_report_dir)), as
    C(HOST-plan.json) in check mode and C(HOST-changes.json) in a real run, so a change ticket can
    carry the plan and the record of the run that carried it out.
  - Keeps paths, package, service and task names only, never file content, diffs or other
    arguments, so no secret can reach the plan.
  - Enable it with C(callbacks_enabled = byoc.secure_trunk.change_plan) in C(ansible.cfg) or
    C(ANSIBLE_CALLBACKS_ENABLED=byoc.secure_trunk.change_plan).
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
requirements:
  - enabled in callbacks_enabled
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = byoc.secure_trunk.change_plan
#
# ansible-playbook -i inventory byoc.secure_trunk.secure_trunk --check --diff \
#   -e secure_trunk_report_dir=reports
# -> reports/sbc1-plan.json, and the plan table at the end of the run
"""

import os

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.byoc.secure_trunk.plugins.module_utils import change_plan

CONTEXT_FACT = "secure_trunk_plan_context"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "byoc.secure_trunk.change_plan"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._plans = {}
        self._check_mode = False

    def v2_playbook_on_start(self, playbook):
        self._check_mode = bool(context.CLIARGS.get("check", False))

    def _plan(self, host):
        if host not in self._plans:
            self._plans[host] = change_plan.HostPlan(host=host, check_mode=self._check_mode)
        return self._plans[host]

    def _record(self, result, skipped=False):
        res = result._result
        if "results" in res:  # a loop: its items were recorded one by one
            return
        if res.get("_ansible_delegated_vars"):  # on the controller (reports, scratch files), not the SBC
            return
        host = result._host.get_name()
        task = result._task
        facts = res.get("ansible_facts") or {}
        if CONTEXT_FACT in facts:
            self._plan(host).context.update(facts[CONTEXT_FACT] or {})
        self._plan(host).add(change_plan.changes(task.action, task.args, res, task.get_name(), skipped=skipped))

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_item_on_ok(self, result):
        self._record(result)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_playbook_on_stats(self, stats):
        for host in sorted(set(self._plans) | set(stats.processed)):
            self._plan(host)
        for host in sorted(self._plans):
            plan = self._plans[host]
            if not plan.entries and not plan.context:  # a play that is not secure_trunk's (a lab's setup)
                continue
            summary = stats.summarize(host)
            plan.complete = not (summary.get("failures") or summary.get("unreachable"))
            title = "CHANGE PLAN" if plan.check_mode else "CHANGES MADE"
            self._display.banner("%s [%s]" % (title, host))
            for line in change_plan.table(plan):
                self._display.display(line)
            report_dir = os.path.abspath(plan.context["report_dir"]) if plan.context.get("report_dir") else ""
            if report_dir:
                os.makedirs(report_dir, exist_ok=True)
                path = os.path.join(report_dir, "%s-%s.json" % (host, "plan" if plan.check_mode else "changes"))
                with open(path, "w") as handle:
                    handle.write(change_plan.to_json(plan))
                self._display.display("  written to %s" % path)
