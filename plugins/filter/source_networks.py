# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: source_networks
short_description: Check and normalise a list of source addresses and CIDR networks
version_added: 1.1.0
description:
  - Returns each address or network in CIDR form (C(192.0.2.7) becomes C(192.0.2.7/32)), without
    duplicates, in the order given.
  - Fails, naming the entry and the fix, on anything that is not an IP address or a network with
    its host bits clear (C(10.0.0.1/24) is refused, not widened), on a network that allows every
    address (C(0.0.0.0/0)), and on a string instead of a list.
  - Used for the Genesys source allow-list and the customer sources of the Kamailio SBC.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: The addresses and networks.
    type: list
    elements: str
    required: true
  what:
    description: The variable name used in error messages.
    type: str
    default: kamailio_trunk_genesys_sources
"""

EXAMPLES = r"""
- name: Show the Genesys allow-list in CIDR form
  ansible.builtin.debug:
    msg: "{{ ['192.0.2.10', '198.51.100.0/24'] | byoc.secure_trunk.source_networks }}"
"""

RETURN = r"""
_value:
  description: The networks in CIDR form.
  type: list
  elements: str
  sample: [192.0.2.10/32, 198.51.100.0/24]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import SecureTrunkError
from ansible_collections.byoc.secure_trunk.plugins.module_utils.sbc_inputs import source_networks as _networks


def source_networks(values, what="kamailio_trunk_genesys_sources"):
    try:
        return _networks(values, what)
    except SecureTrunkError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule(object):
    def filters(self):
        return {"source_networks": source_networks}
