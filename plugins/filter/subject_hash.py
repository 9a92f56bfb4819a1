# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: subject_hash
short_description: OpenSSL subject-name hash of a PEM certificate
version_added: 1.0.0
description:
  - Returns the same 8 lower-case hex digits as C(openssl x509 -subject_hash), the name OpenSSL
    looks a CA up by in a hashed directory (C(<hash>.0)). Used to match a chain against the list of
    public CAs Genesys accepts (requirement R8).
  - Takes the first certificate of the input.
requirements:
  - cryptography on the controller
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: PEM text of a certificate.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Hash of the SBC's issuing root
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.file', 'files/root.pem') | byoc.secure_trunk.subject_hash }}"
"""

RETURN = r"""
_value:
  description: Eight lower-case hex digits.
  type: str
  sample: 4042bcee
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import SecureTrunkError


def subject_hash(pem):
    if not x509.HAS_CRYPTOGRAPHY:
        raise AnsibleFilterError("subject_hash needs the cryptography Python package on the controller")
    try:
        return x509.subject_hash_of_pem(pem)
    except SecureTrunkError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule(object):
    def filters(self):
        return {"subject_hash": subject_hash}
