# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One family of domain errors for the whole collection.

Every error names the object it is about, the defect, and the fix, so that
modules and plugins can pass ``str(error)`` straight to the user.
"""

from __future__ import annotations


class SecureTrunkError(Exception):
    """Base of every error the core raises: object, defect, fix."""

    def __init__(self, obj: str, defect: str, fix: str = "") -> None:
        self.obj = obj
        self.defect = defect
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = "%s: %s" % (self.obj, self.defect)
        return "%s; %s" % (text, self.fix) if self.fix else text

    def as_dict(self) -> dict:
        return {"object": self.obj, "defect": self.defect, "fix": self.fix}


class PolicyError(SecureTrunkError):
    """An input that the BYOC policy does not allow (region, suite, URI part)."""


class CertificateError(SecureTrunkError):
    """A certificate, key or chain that is malformed or does not meet the policy."""


class FetchError(SecureTrunkError):
    """A download that failed or returned something other than what was pinned."""
