# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Revocation at run time (R11): the CRL bundle that Kamailio's client profiles check.

Kamailio's tls module loads a profile's ``crl`` file into the OpenSSL store of that profile with
``X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL``: every certificate of a peer's chain, the
root included, needs a current CRL of its issuer, or the handshake fails. So the bundle must
hold, for every peer, the CRL of each issuer in its chain; a missing or stale CRL fails closed.

``refresh`` gathers that bundle with the same code as ``tls_validate`` (revocation ``hard``):

* the peers' chains are judged by OpenSSL against the trunk's trust anchors; CRLs are fetched only
  for chains that reach one (a peer cannot make the SBC fetch a URL of its choosing), through
  http_fetch (no redirects, a total deadline, a size cap);
* each CRL is verified against its issuer by crl.py (issuer name, signature, freshness, and that
  it is a complete CRL covering the certificate); a revoked peer's CRL is bundled like a good one:
  it is what makes Kamailio refuse that peer;
* a peer whose chain verified but whose CRL could not be had stops the refresh: nothing is written,
  and the bundle in place stays in force until its CRLs' nextUpdate (after that, OpenSSL refuses
  the handshakes: fail closed, never a silent pass);
* the bundle is written atomically (mode 0640, group of the Kamailio user) only when its bytes change.

It runs on the SBC without Ansible (``byoc-crl-refresh``, from a timer) and under Ansible (the
kamailio_trunk role, once per play): one path both times.
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Optional, Sequence, Union

from ansible_collections.byoc.secure_trunk.plugins.module_utils import crl as crlmod
from ansible_collections.byoc.secure_trunk.plugins.module_utils import files, tls_validation

KEPT = "the CRL bundle in place was kept (its CRLs stay in force until their nextUpdate)"


def _peer_outcome(endpoint: dict) -> dict:
    """What one validated peer contributes: its chain's standing and its CRL statuses."""
    verdict = endpoint.get("verdict") or {}
    out: Dict[str, Any] = {"host": endpoint.get("host"), "chain_verified": bool(verdict.get("ok")), "crl": [],
                           "revoked": [], "missing": []}
    if not out["chain_verified"]:
        # Kamailio refuses this chain by itself; no CRL is fetched for it (nor needed).
        out["why"] = verdict.get("message") or "the chain was not verified to a trust anchor"
        return out
    for status in endpoint.get("crl") or []:
        if status["status"] in ("good", "revoked"):
            out["crl"].append(status["url"])
            if status["status"] == "revoked":
                out["revoked"].append("%s (revoked on %s)" % (status["subject"], (status["revoked_on"] or "")[:10]))
        elif status["status"] != "trust anchor":
            out["missing"].append("%s: %s" % (status["subject"], status["detail"]))
    return out


def refresh(peers: Sequence[Union[str, dict]], port: int, ca_file: str, bundle: str, timeout: float = 10.0,
            group: Optional[str] = None, write: bool = True,
            now: Optional[datetime.datetime] = None, fetcher: Optional[crlmod.Fetcher] = None) -> dict:
    """Gather, verify and (when ``write``) install the peers' CRLs in ``bundle``.

    ``peers``: FQDNs, or tls_validate endpoints ({host, port, connect_address}) on ``port`` by default.
    ``fetcher``: how CRLs are fetched (crl.Fetcher); by default http_fetch over Ansible's open_url.

    Returns ``ok`` (the bundle is complete and current), ``changed`` (its bytes differ from the
    file's), ``crls`` (url, issuer, next_update), ``peers`` and ``msg``. Raises SecureTrunkError
    for bad options (no peers, unreadable ca_file).
    """
    endpoints = [dict({"port": port}, **(p if isinstance(p, dict) else {"host": p})) for p in peers]
    request = tls_validation.build_request(endpoints=endpoints, ca_file=ca_file,
                                           revocation="hard", min_days_remaining=0, timeout=timeout, now=now)
    cache = crlmod.CrlCache(timeout=request.timeout, fetcher=fetcher)
    result = tls_validation.validate(request, cache=cache)
    outcomes = [_peer_outcome(ep) for ep in result["endpoints"]]
    urls = sorted({url for o in outcomes for url in o["crl"]})
    missing = ["%s: %s" % (o["host"], m) for o in outcomes for m in o["missing"]]
    crls: List[dict] = []
    for url in urls:
        crl = cache.get(url)[0]
        with cache.lock(url):
            nxt = crlmod.crl_next_update(crl)
            crls.append({"url": url, "issuer": crl.issuer.rfc4514_string(),
                         "next_update": nxt.strftime("%Y-%m-%dT%H:%M:%SZ") if nxt else None})
    revoked: List[str] = [r for o in outcomes for r in o["revoked"]]
    out: Dict[str, Any] = {"ok": False, "changed": False, "bundle": bundle, "crls": crls, "peers": outcomes,
                           "revoked": revoked}
    if missing:
        out["msg"] = ("%s: no verified CRL for %s; make the CRLs reachable from this SBC; %s"
                      % (bundle, " | ".join(missing), KEPT))
        return out
    if not urls:
        out["msg"] = ("%s: no peer's chain verified to the trust anchors in %s, so there is no CRL to install; "
                      "fix the trust anchors or the peers (tls_validate says why); %s" % (bundle, ca_file, KEPT))
        return out
    data = b"".join(cache.pem(url) for url in urls)
    out.update(ok=True, changed=files.read(bundle) != data)
    if out["changed"] and write:
        files.write_atomically(bundle, data, 0o640, group=group, prefix=".byoc-crl-")
    soonest = min((c["next_update"] for c in crls if c["next_update"]), default=None)
    out["msg"] = "%s: %d CRL%s for %d peer%s%s%s" % (
        bundle, len(crls), "" if len(crls) == 1 else "s", len(peers), "" if len(peers) == 1 else "s",
        "; next update %s" % soonest if soonest else "",
        "; REVOKED (refused by Kamailio): %s" % ", ".join(revoked) if revoked else "")
    return out
