# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight words for an ACME CA (roles/sbc_acme): is the directory an ACME directory, and does
the CA say it issues under a root Genesys trusts (R8)?

This is a hint, never the trust decision: the chain the CA issues is validated against the
public CAs by the verifier (tls_validate) before sbc_identity installs it. The hint lets a CA
whose root Genesys does not list be refused before anything on the SBC changes."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy

REQUIRED_RESOURCES = ("newNonce", "newAccount", "newOrder")


def directory_check(url: str, directory: Any, lab_ca: bool = False) -> Dict[str, Any]:
    """Return {ok, roots, caa_identities, msg} for the directory document fetched from url."""
    where = "ACME directory %s" % url
    if not str(url).lower().startswith("https://"):
        return _refuse(where + ": is not an https URL; ACME needs TLS to its server (RFC 8555 6.1): "
                       "give the CA's https directory URL")
    if not isinstance(directory, Mapping) or any(
            not isinstance(directory.get(r), str) for r in REQUIRED_RESOURCES):
        return _refuse(where + ": did not answer with an ACME directory (no %s); check the URL "
                       "(it ends in /directory or /dir for most CAs)" % "/".join(REQUIRED_RESOURCES))
    found = directory.get("meta")
    meta: Mapping = found if isinstance(found, Mapping) else {}
    caa = [str(c).lower() for c in (meta.get("caaIdentities") or []) if isinstance(c, str)]
    roots: List[str] = []
    for ident in caa:
        roots.extend(policy.ACME_CAA_IDENTITY_ROOTS.get(ident, ()))
    if roots or lab_ca:
        return {"ok": True, "roots": roots, "caa_identities": caa, "msg": ""}
    named = ("names itself %s" % ", ".join(caa)) if caa else "does not name itself (no meta.caaIdentities)"
    known = ", ".join(sorted(policy.ACME_CAA_IDENTITY_ROOTS))
    return _refuse(
        where + ": the CA " + named + ", which is not an ACME CA whose root Genesys trusts (Genesys "
        "only accepts an SBC certificate that chains to a listed public root); use one that is (" + known + "), "
        "or, in a lab only, name the lab CA's root file (secure_trunk_sbc_ca_src)")


def _refuse(msg: str) -> Dict[str, Any]:
    return {"ok": False, "roots": [], "caa_identities": [], "msg": msg}
