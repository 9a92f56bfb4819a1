# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: acme_directory
short_description: Preflight check of an ACME CA's directory against the roots Genesys trusts
version_added: 1.0.0
description:
  - Checks that the document fetched from an ACME directory URL is an ACME directory (RFC 8555
    7.1.1) and that the CA names itself (C(meta.caaIdentities)) as one whose certificates chain to a
    public root Genesys trusts (requirement R8), from the policy core's table.
  - A hint that refuses a wrong CA before anything changes; the issued chain is still validated by
    the verifier (M(byoc.secure_trunk.tls_validate)) before it is installed.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: The directory URL.
    type: str
    required: true
  directory:
    description: The JSON document the URL answered with.
    type: raw
    required: true
  lab_ca:
    description: A lab CA was named explicitly; any CA is then accepted here (the chain is checked against the lab CA).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Check the ACME CA
  ansible.builtin.assert:
    that: check.ok
    fail_msg: "{{ check.msg }}"
  vars:
    check: "{{ url | byoc.secure_trunk.acme_directory(probe.json) }}"
"""

RETURN = r"""
_value:
  description: C(ok), C(roots) (the listed roots the CA issues under), C(caa_identities) and C(msg) (why not).
  type: dict
"""

from ansible_collections.byoc.secure_trunk.plugins.module_utils.acme import directory_check


def acme_directory(url, directory, lab_ca=False):
    return directory_check(url, directory, bool(lab_ca))


class FilterModule(object):
    def filters(self):
        return {"acme_directory": acme_directory}
