# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: byoc_region
short_description: A Genesys Cloud BYOC region's proxies, port and pinned roots
version_added: 1.0.0
description:
  - Returns the corrected catalogue entry for each region given (requirements R7, R14), namely the four
    C(lbNN.voice...) SIP proxy FQDNs, port 5061, transport, and the DigiCert roots to trust.
  - Accepts the Genesys region id (C(euc2)) or the AWS region name (C(eu-central-2)), or C(all).
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _terms:
    description: Region ids or AWS names, or C(all).
    required: true
    type: list
    elements: str
  strict:
    description: Only the region's current root, not the roots advised for the coming migration.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Show the Zurich proxies and roots
  ansible.builtin.debug:
    msg: "{{ lookup('byoc.secure_trunk.byoc_region', 'euc2') }}"

- name: Loop over the proxies of a region
  ansible.builtin.debug:
    msg: "{{ item }}:5061"
  loop: "{{ lookup('byoc.secure_trunk.byoc_region', 'eu-central-1').endpoints }}"

- name: Every region at once
  ansible.builtin.set_fact:
    byoc_catalogue: "{{ query('byoc.secure_trunk.byoc_region', 'all') }}"
"""

RETURN = r"""
_raw:
  description: One dict per region.
  type: list
  elements: dict
  contains:
    id: {description: Region id, type: str, sample: euc2}
    name: {description: Region name, type: str, sample: Europe (Zurich)}
    aws_name: {description: AWS region name, type: str, sample: eu-central-2}
    endpoints: {description: The four SIP proxy FQDNs, type: list, elements: str}
    port: {description: SIP TLS port, type: int, sample: 5061}
    transport: {description: Always tls, type: str, sample: tls}
    tls_version: {description: The only TLS version of the policy (R1), type: str, sample: TLSv1.2}
    ecdhe_group: {description: The only ECDHE group of the policy (R3), type: str, sample: secp384r1}
    root_family: {description: ev or g2, type: str, sample: g2}
    roots:
      description: Roots to trust (name, sha256, subject_hash, der_url, pem_url, current).
      type: list
      elements: dict
    api_host: {description: Platform API host, type: str, sample: api.euc2.pure.cloud}
    login_host: {description: OAuth login host, type: str, sample: login.euc2.pure.cloud}
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import SecureTrunkError


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        try:
            regions = policy.resolve_regions(list(terms))
        except SecureTrunkError as exc:
            raise AnsibleLookupError(str(exc)) from None
        return [r.as_dict(strict=self.get_option("strict")) for r in regions]
