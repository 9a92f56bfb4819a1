# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: openssl_ciphers
short_description: BYOC cipher policy or IANA suite names to an OpenSSL cipher string
version_added: 1.0.0
description:
  - Turns a cipher policy name (C(byoc-2019), the specification's eight suites; C(byoc-2025),
    without the two SHA-2 CBC suites retired in 2025) or a list of IANA suite names into the
    OpenSSL cipher string, in policy order (forward-secret GCM suites first), requirement R2.
  - A list keeps policy order whatever order it is given in, because the listener's preference
    order is part of the policy. A suite outside the policy is an error.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: A policy name, or a list of IANA cipher-suite names. Empty means the default policy.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Kamailio cipher_list from the default policy
  ansible.builtin.debug:
    msg: "{{ 'byoc-2019' | byoc.secure_trunk.openssl_ciphers }}"

- name: Only the forward-secret GCM suites
  ansible.builtin.debug:
    msg: >-
      {{ ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384']
         | byoc.secure_trunk.openssl_ciphers }}
"""

RETURN = r"""
_value:
  description: Colon-separated OpenSSL cipher names.
  type: str
  sample: ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import SecureTrunkError


def openssl_ciphers(spec):
    try:
        return policy.openssl_cipher_string(spec or None)
    except SecureTrunkError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule(object):
    def filters(self):
        return {"openssl_ciphers": openssl_ciphers}
