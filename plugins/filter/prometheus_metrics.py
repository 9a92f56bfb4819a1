# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: prometheus_metrics
short_description: Turn one SBC's tls_validate results into Prometheus textfile metrics
version_added: 1.0.0
description:
  - Takes the labelled validation results of one SBC (as the report phase collects them, a list of
    dicts with C(name) and C(result)) and renders node_exporter's textfile collector format (the
    Prometheus text exposition format), C(byoc_secure_trunk_*) gauges with HELP and TYPE lines, label
    values escaped (backslash, double quote, line feed).
  - Metrics are the time of the audit, whether the gate would pass, the defects by level, per endpoint
    and check the policy compliance (0 or 1), days left and notAfter of every certificate of every
    chain by position, the CRL next updates the validation saw, and, when given, the days left of the
    certificate chain installed on the SBC and the next updates of the run-time CRL bundle.
  - With O(format=runtime_crls), the issuer and next update of each CRL of O(runtime_crl_bundle), as a list;
    C(url) names the bundle and the issuer, so the report phase's CRL line can show them.
  - The playbook C(byoc.secure_trunk.audit) writes its output on each SBC; docs/lifecycle.md lists the metrics.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: The labelled validation results of one SBC (C(name) and C(result) of each).
    type: list
    elements: dict
    required: true
  sbc:
    description: The SBC the metrics are about (its C(sbc) label), usually C(inventory_hostname).
    type: str
    required: true
  now:
    description: The time of the audit, unix seconds; days left are counted from it. Default the current time.
    type: float
  sbc_certificate:
    description: The certificate chain installed on the SBC, PEM text (leaf first).
    type: str
  sbc_certificate_path:
    description: Where O(sbc_certificate) was read (its C(path) label).
    type: str
    default: ""
  runtime_crl_bundle:
    description: The run-time CRL bundle on the SBC (byoc-crl-refresh's), PEM text.
    type: str
  runtime_crl_path:
    description: Where O(runtime_crl_bundle) was read (its C(path) label).
    type: str
    default: ""
  format:
    description: C(text) for the metrics file, C(runtime_crls) for the list of the bundle's CRLs.
    type: str
    choices: [text, runtime_crls]
    default: text
"""

EXAMPLES = r"""
- name: Write the metrics where node_exporter's textfile collector reads them
  ansible.builtin.copy:
    content: >-
      {{ results | byoc.secure_trunk.prometheus_metrics(sbc=inventory_hostname) }}
    dest: /var/lib/prometheus/node-exporter/byoc_secure_trunk.prom
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The metrics file's text (C(text)), or a list of C(issuer), C(url) and C(next_update) (C(runtime_crls)).
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.byoc.secure_trunk.plugins.module_utils import metrics
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import SecureTrunkError


def prometheus_metrics(results, sbc="", now=None, sbc_certificate=None, sbc_certificate_path="",
                       runtime_crl_bundle=None, runtime_crl_path="", format="text"):
    try:
        if format == "runtime_crls":
            return metrics.runtime_crls(runtime_crl_bundle or "", runtime_crl_path)
        if format != "text":
            raise AnsibleFilterError("prometheus_metrics: format %r is not known; use text or runtime_crls" % (format,))
        return metrics.metrics_text(results, sbc, now, sbc_certificate=sbc_certificate or None,
                                    sbc_certificate_path=sbc_certificate_path or "",
                                    runtime_crl_bundle=runtime_crl_bundle or None,
                                    runtime_crl_path=runtime_crl_path or "")
    except SecureTrunkError as exc:
        raise AnsibleFilterError("prometheus_metrics: %s" % exc.message) from None


class FilterModule(object):
    def filters(self):
        return {"prometheus_metrics": prometheus_metrics}
