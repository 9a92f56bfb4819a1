# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab-only connection: containers.podman.podman with pipelining.

`podman exec` costs about 0.3 s on the lab machines (runc). The stock plugin runs four
of them per module (mkdir, put, chmod+run, rm). With pipelining the module goes over
`podman exec -i` stdin in one exec, which cuts converge time by about half. Used by the
molecule scenarios only (ANSIBLE_CONNECTION_PLUGINS); never shipped in the collection.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: byoc_podman
short_description: Podman exec connection with pipelining (byoc.secure_trunk lab)
description:
  - Same as C(containers.podman.podman), with pipelining on (C(podman exec -i)).
author:
  - byoc.secure_trunk contributors
options:
  remote_addr:
    description: The container name or ID.
    default: inventory_hostname
    vars:
      - name: ansible_host
      - name: inventory_hostname
      - name: ansible_podman_host
  remote_user:
    description: User inside the container.
    env:
      - name: ANSIBLE_REMOTE_USER
    vars:
      - name: ansible_user
  podman_extra_args:
    description: Extra arguments to pass to the podman command line.
    default: ''
    vars:
      - name: ansible_podman_extra_args
    env:
      - name: ANSIBLE_PODMAN_EXTRA_ARGS
  podman_executable:
    description: Executable for podman command.
    default: podman
    vars:
      - name: ansible_podman_executable
    env:
      - name: ANSIBLE_PODMAN_EXECUTABLE
"""

import shlex  # noqa: E402

from ansible.module_utils.common.text.converters import to_native  # noqa: E402
from ansible_collections.containers.podman.plugins.connection.podman import (  # noqa: E402
    Connection as _PodmanConnection,
)


class Connection(_PodmanConnection):
    transport = "byoc_podman"
    has_pipelining = True

    def exec_command(self, cmd, in_data=None, sudoable=False):
        if not self._connected:
            self._connect()
        cmd_args = shlex.split(to_native(cmd, errors="surrogate_or_strict"))
        args = ["exec", "-i"] if in_data is not None else ["exec"]
        if self.user:
            args.extend(("--user", self.user))
        return self._podman(args, cmd_args, in_data)
