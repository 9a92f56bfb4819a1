# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: file_state
short_description: What the file_states module reads for a file that holds this content with these attributes
version_added: 1.1.0
description:
  - C(SHA256 MODE:OWNER:GROUP) of the input text (its UTF-8 bytes), or C(directory MODE:OWNER:GROUP)
    when the input is C(none); the mode as four octal digits whether it is given as C("0640") or C("640").
  - Compared with the P(byoc.secure_trunk.file_states#module) result of the live file, it tells a role
    that a task would change nothing.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  _input:
    description: The content the run writes (a rendered template, a copy's content), or C(none) for a directory.
    type: raw
    required: true
  mode:
    description: The file's mode, as an octal string (C("0640")) or a number (C(0o640)).
    type: raw
    required: true
  owner:
    description: The owner's name.
    type: str
    required: true
  group:
    description: The group's name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Say what the live tls.cfg must read as
  ansible.builtin.debug:
    msg: >-
      {{ lookup("ansible.builtin.template", "tls.cfg.j2") | byoc.secure_trunk.file_state("0640", "root", "kamailio") }}
"""

RETURN = r"""
_value:
  description: C(SHA256 MODE:OWNER:GROUP) or C(directory MODE:OWNER:GROUP).
  type: str
"""

from ansible_collections.byoc.secure_trunk.plugins.module_utils.files import expected_state


def file_state(content, mode, owner, group):
    return expected_state(None if content is None else str(content), mode, str(owner), str(group))


class FilterModule(object):
    def filters(self):
        return {"file_state": file_state}
