# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One family of domain errors for the whole collection.

Every error names the object it is about, the defect, and the fix, so that
modules and plugins can pass ``str(error)`` straight to the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict

# Where the requirement numbers (R1..R16) that messages cite are explained; it ships in the tarball.
REQUIREMENTS_DOC = "docs/requirements.md"
REQUIREMENTS_POINTER = "(R-numbers: %s)" % REQUIREMENTS_DOC
# R1..R16 as cited ("(R9)", "R1-R3"), not a certificate's name such as CN=R11.
_CITATION = re.compile(r"(?<![\w=.-])R(?:1[0-6]|[1-9])(?![\w.])")


def cite(text: str) -> str:
    """``text``, ending with the page that explains the requirement numbers it cites, if any."""
    if _CITATION.search(text) and REQUIREMENTS_DOC not in text:
        return "%s %s" % (text, REQUIREMENTS_POINTER)
    return text


def format_message(obj: str, defect: str, fix: str = "") -> str:
    """The one wording of a defect: ``object: defect; fix`` (the requirement page appended by cite)."""
    text = "%s: %s" % (obj, defect)
    return cite("%s; %s" % (text, fix) if fix else text)


class SecureTrunkError(Exception):
    """Base of every error the core raises: object, defect, fix."""

    def __init__(self, obj: str, defect: str, fix: str = "") -> None:
        self.obj = obj
        self.defect = defect
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return format_message(self.obj, self.defect, self.fix)

    def as_dict(self) -> Dict[str, str]:
        return {"object": self.obj, "defect": self.defect, "fix": self.fix}


@dataclass(frozen=True)
class Finding:
    """A defect (``fail``) or caution (``warn``) that a named check found in a peer.

    The same object/defect/fix as SecureTrunkError (and the same wording, format_message); a
    Finding is reported beside the others, an error stops the run."""

    check: str
    level: str  # fail | warn
    obj: str
    defect: str
    fix: str = ""

    @property
    def message(self) -> str:
        return format_message(self.obj, self.defect, self.fix)

    @classmethod
    def from_error(cls, check: str, error: SecureTrunkError, level: str = "fail") -> "Finding":
        return cls(check, level, error.obj, error.defect, error.fix)

    def as_dict(self, endpoint: str = "") -> Dict[str, str]:
        out = {"check": self.check, "level": self.level, "object": self.obj, "defect": self.defect,
               "fix": self.fix, "msg": self.message}
        if endpoint:
            out["endpoint"] = endpoint
        return out


class PolicyError(SecureTrunkError):
    """An input that the BYOC policy does not allow (region, suite, URI part)."""


class CertificateError(SecureTrunkError):
    """A certificate, key or chain that is malformed or does not meet the policy."""


class FetchError(SecureTrunkError):
    """A download that failed or returned something other than what was pinned."""
