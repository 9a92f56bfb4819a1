# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: sbc_input_errors
short_description: Every defect of the SBC inputs that are written into Kamailio's files
version_added: 1.1.0
description:
  - Takes a dictionary of C(kamailio_trunk_*) variables and returns one message per defect
    (object, defect, fix); an empty list when every value is safe to render.
  - Checks, each with a full match and no control characters, the advertised TLS name, the TLS
    listen address, the customer URI and sockets, the file paths, the rtpengine interface and
    the source allow-lists. A newline or a quote in any of them would add lines to Kamailio's
    configuration, so none passes.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: Variable names and values; names not listed above are ignored.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse inputs that would inject Kamailio configuration
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ __errors | join('\n') }}"
  vars:
    __errors: "{{ {'kamailio_trunk_customer_uri': kamailio_trunk_customer_uri} | byoc.secure_trunk.sbc_input_errors }}"
"""

RETURN = r"""
_value:
  description: One message per defect; empty when all inputs are safe.
  type: list
  elements: str
"""

from ansible_collections.byoc.secure_trunk.plugins.module_utils.sbc_inputs import input_errors


def sbc_input_errors(values):
    return input_errors(dict(values or {}))


class FilterModule(object):
    def filters(self):
        return {"sbc_input_errors": sbc_input_errors}
