# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: host_name
short_description: Is the value a fully qualified host name (never an IP address)?
version_added: 1.0.0
description:
  - True when the input is a fully qualified DNS host name exactly as given, such as
    C(sbc.example.com) or C(edge1.example.com), in any letter case.
  - False for an IP address, a name with a port, a single label, a trailing dot, spaces or a
    trailing newline, an underscore (SRV names), or anything that is not a string.
  - Certificates are checked by name (R9), so every SBC, proxy and Edge is addressed by one of these.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: The value to test.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse Edges given as addresses
  ansible.builtin.assert:
    that: secure_trunk_edges | reject('byoc.secure_trunk.host_name') | list | length == 0
"""

RETURN = r"""
_value:
  description: Whether the input is a fully qualified host name.
  type: bool
"""

from ansible_collections.byoc.secure_trunk.plugins.module_utils.sip_uri import is_host_name


class TestModule(object):
    def tests(self):
        return {"host_name": is_host_name}
