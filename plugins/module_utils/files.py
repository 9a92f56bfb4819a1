# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing files the one way the collection does: atomically, with a diff, then file attributes.

Used by the digicert_roots and org_ca modules and by runtime_crl (which also runs on the SBC,
without Ansible). Nothing here imports Ansible: a module passes its ``atomic_move`` as ``move``
and itself to ``apply_attributes`` (duck-typed ``AnsibleModule``).
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat
import tempfile
from typing import Any, Callable, Dict, Iterable, Optional, Tuple, Union

Mover = Callable[[str, str], Any]  # (temporary file, destination): AnsibleModule.atomic_move or os.replace


def current(path: str) -> Tuple[Optional[bytes], Optional[str]]:
    """(content, None) for a regular file, (None, target) for a symlink (never followed),
    (None, None) when there is nothing at ``path``."""
    if os.path.islink(path):
        return None, os.readlink(path)
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            return handle.read(), None
    return None, None


def read(path: str) -> Optional[bytes]:
    """The bytes of ``path``, None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def text_diff(path: str, before: Optional[bytes], after: bytes, before_header: Optional[str] = None,
              encoding: str = "utf-8") -> Dict[str, str]:
    """Ansible's diff of a text file (``before`` None: it did not exist)."""
    return {"before_header": before_header or path, "after_header": path,
            "before": (before or b"").decode(encoding, "replace"), "after": after.decode(encoding)}


def write_atomically(path: str, data: bytes, mode: int, group: Optional[str] = None,
                     move: Optional[Mover] = None, prefix: str = ".byoc-") -> None:
    """Write ``data`` to a temporary file beside ``path`` (mode ``mode``, group ``group``), then
    move it over ``path`` in one step; a failure leaves ``path`` as it was and no temporary file."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=prefix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        if group:
            os.chown(tmp, 0, grp.getgrnam(group).gr_gid)
        (move or os.replace)(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def replace_symlink(path: str, target: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


def apply_attributes(module: Any, path: str, changed: bool) -> bool:
    """The module's mode/owner/group/SELinux options on ``path``; True when anything changed."""
    if not os.path.exists(path):
        return changed
    file_args = module.load_file_common_arguments(module.params, path=path)
    return bool(module.set_fs_attributes_if_different(file_args, changed))


# --- The state of managed files, read in one step ------------------------------------------------
# A role reads every file it manages with the file_states module (one task), renders what the run
# would write on the controller, and skips a task whose file is already exactly that: the same
# comparison the task would make over the connection, file by file. Both sides are formatted here.
ABSENT = "absent"
DIRECTORY = "directory"


def _mode_text(mode: Union[int, str]) -> str:
    """``0640``, ``"640"`` and ``"0640"`` alike as four octal digits."""
    return "%04o" % (int(mode, 8) if isinstance(mode, str) else mode)


def expected_state(content: Optional[Union[str, bytes]], mode: Union[int, str], owner: str, group: str) -> str:
    """What ``file_state`` of a file holding ``content`` (None: a directory) with these attributes says."""
    if content is None:
        kind = DIRECTORY
    else:
        kind = hashlib.sha256(content.encode("utf-8") if isinstance(content, str) else content).hexdigest()
    return "%s %s:%s:%s" % (kind, _mode_text(mode), owner, group)


def _name(lookup: Callable[[int], Any], number: int) -> str:
    try:
        return str(lookup(number)[0])
    except KeyError:  # an owner without a name is compared by number
        return str(number)


def file_state(path: str) -> str:
    """``SHA256 MODE:OWNER:GROUP`` of a regular file, ``directory MODE:OWNER:GROUP`` of a
    directory, ``absent`` when there is neither (a symlink is read as what it points at)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return ABSENT
    if stat.S_ISDIR(info.st_mode):
        kind = DIRECTORY
    elif stat.S_ISREG(info.st_mode):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(65536), b""):
                digest.update(block)
        kind = digest.hexdigest()
    else:
        return "other"
    return "%s %s:%s:%s" % (kind, _mode_text(stat.S_IMODE(info.st_mode)),
                            _name(pwd.getpwuid, info.st_uid), _name(grp.getgrgid, info.st_gid))


def file_states(paths: Iterable[str]) -> Dict[str, str]:
    """``file_state`` of each path."""
    return {path: file_state(path) for path in paths}
