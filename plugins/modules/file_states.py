#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: file_states
short_description: Read the content digest, mode, owner and group of many files in one step
version_added: 1.1.0
description:
  - Returns, for each path, C(SHA256 MODE:OWNER:GROUP) for a regular file (the SHA-256 of its bytes,
    four octal digits, names), C(directory MODE:OWNER:GROUP) for a directory, or C(absent).
  - The roles read every file they manage with one call, then compare with the
    P(byoc.secure_trunk.file_state#filter) filter of what the run renders, and skip the tasks whose
    file is already exactly that (the comparison each task would make over the connection, file by file).
  - Reads only; never changes anything, in check mode or not.
requirements:
  - Python 3.8+ on the managed node.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  paths:
    description: Absolute paths to read.
    type: list
    elements: path
    required: true
attributes:
  check_mode:
    description: Reads the same in check mode.
    support: full
  diff_mode:
    description: Reads only; there is nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: Read the managed files in one step
  byoc.secure_trunk.file_states:
    paths: [/etc/kamailio/byoc/tls.cfg, /etc/kamailio/byoc]
  register: live

- name: Render tls.cfg only when the live file is not already what this run writes
  ansible.builtin.template:
    src: tls.cfg.j2
    dest: /etc/kamailio/byoc/tls.cfg
    owner: root
    group: kamailio
    mode: "0640"
  when: >-
    live.states['/etc/kamailio/byoc/tls.cfg']
    != lookup('ansible.builtin.template', 'tls.cfg.j2') | byoc.secure_trunk.file_state('0640', 'root', 'kamailio')
"""

RETURN = r"""
states:
  description: Path to C(SHA256 MODE:OWNER:GROUP), C(directory MODE:OWNER:GROUP), C(absent) or C(other).
  returned: always
  type: dict
  sample: {/etc/kamailio/byoc: "directory 0750:root:kamailio"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.byoc.secure_trunk.plugins.module_utils.files import file_states


def main():
    module = AnsibleModule(argument_spec={"paths": {"type": "list", "elements": "path", "required": True}},
                           supports_check_mode=True)
    module.exit_json(changed=False, states=file_states(module.params["paths"]))


if __name__ == "__main__":
    main()
