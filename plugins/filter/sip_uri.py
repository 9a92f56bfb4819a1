# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: sip_uri
short_description: Build a TGRP request-URI toward a Genesys BYOC proxy
version_added: 1.0.0
description:
  - "Builds C(sip:NUMBER;tgrp=LABEL;trunk-context=NS@PROXY:5061;transport=tls) (requirements R12,
    R13): C(tgrp) and C(trunk-context) in the user part, C(transport=tls) in the host part."
  - Escapes the trunk group label per RFC 3261 and RFC 4904; visual separators are removed from the
    number.
  - Refuses an IP address as host (name validation would fail) and SRV names with underscores.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: The dialled number, e.g. C(+41445550100).
    type: str
    required: true
  tgrp:
    description: Trunk group label configured on the Genesys trunk.
    type: str
    required: true
  trunk_context:
    description: Trunk group namespace (a domain name or a global number).
    type: str
    required: true
  host:
    description: The proxy FQDN, one of the region's C(lbNN.voice...) names.
    type: str
    required: true
  port:
    description: SIP TLS port.
    type: int
    default: 5061
  user_phone:
    description: Append C(;user=phone) to the URI.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Request-URI for a call through the first Zurich proxy
  ansible.builtin.debug:
    msg: >-
      {{ '+41445550100' | byoc.secure_trunk.sip_uri(tgrp='zrh-trunk', trunk_context='byoc.example.com',
         host='lb01.voice.euc2.pure.cloud') }}
"""

RETURN = r"""
_value:
  description: The SIP URI.
  type: str
  sample: sip:+41445550100;tgrp=zrh-trunk;trunk-context=byoc.example.com@lb01.voice.euc2.pure.cloud:5061;transport=tls
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import SecureTrunkError
from ansible_collections.byoc.secure_trunk.plugins.module_utils.sip_uri import tgrp_uri


def sip_uri(number, tgrp=None, trunk_context=None, host=None, port=policy.SIP_TLS_PORT, user_phone=False):
    try:
        return tgrp_uri(number, tgrp, trunk_context, host, port, user_phone)
    except SecureTrunkError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule(object):
    def filters(self):
        return {"sip_uri": sip_uri}
