# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: edge_list
short_description: The BYOC Premises Edges as every role reads them, with their defects
version_added: 1.1.0
description:
  - Takes the Edges as a YAML list, or as one comma-separated string (C(-e key=value), an AWX survey
    text field), each item then trimmed, and returns C(edges), the list, and C(errors), one message
    per defect (object, defect, fix); C(errors) is empty when every Edge is usable.
  - An Edge is addressed and its certificate checked by its FQDN (R9), so an IP address, a port or
    white space inside a list item is refused, and so is the same Edge twice (in any letter case).
  - The one normalisation of the Edges for the C(secure_trunk) and C(kamailio_trunk) roles.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: The Edges, a list of FQDNs or a comma-separated string.
    type: raw
    required: true
  name:
    description: The variable the Edges came from, named in the messages.
    type: str
    required: true
  port:
    description: The SIP TLS port of the trunk, named in the messages (the region's port).
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Refuse Edges given as addresses or twice
  ansible.builtin.assert:
    that: __edges.errors | length == 0
    fail_msg: "{{ __edges.errors | join('; ') }}"
  vars:
    __edges: "{{ secure_trunk_edges | byoc.secure_trunk.edge_list('secure_trunk_edges', 5061) }}"
"""

RETURN = r"""
_value:
  description: C(edges), the Edges as a list, and C(errors), one message per defect.
  type: dict
"""

from ansible_collections.byoc.secure_trunk.plugins.module_utils.sbc_inputs import edge_list as core_edge_list


def edge_list(value, name, port):
    return core_edge_list(value, name, int(port))


class FilterModule(object):
    def filters(self):
        return {"edge_list": edge_list}
