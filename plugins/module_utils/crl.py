# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Revocation by CRL (R11): fetch over HTTP, verify against the issuer, look the serial up.

One ``CrlCache`` per call: every CRL URL is fetched at most once, however many
endpoints (validated concurrently in threads) share it.

Defences (a peer chooses the URLs in its certificates):

* the caller checks revocation only for a chain OpenSSL verified to a trust anchor
  (tls_validation); an unproven chain gets ``not_checked`` and nothing is fetched;
* fetches go through http_fetch: http(s) only, no redirects, a total deadline, a size cap;
* a CRL counts only when it covers the certificate: a complete CRL of its issuer, not a
  delta CRL, not a partition (issuingDistributionPoint naming other distribution points,
  onlyContainsCACerts for a leaf, onlyContainsUserCerts for a CA, onlySomeReasons, indirect,
  attribute certificates), and without unknown critical extensions. A CRL that does not cover
  the certificate leaves it "unknown" (hard fails, soft warns), never "good";
* a trust anchor is not checked by CRL: it is trusted by configuration (RFC 5280 6.1), and
  the way to revoke a pinned certificate (a self-signed leaf in ca_file) is to remove it.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.byoc.secure_trunk.plugins.module_utils import http_fetch as http_fetch_mod
from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509 as x509u
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import FetchError, Finding

try:
    from cryptography import x509
except ImportError:  # reported by the module through x509.HAS_CRYPTOGRAPHY
    pass

MODES = ("none", "soft", "hard")
MAX_CRL_BYTES = 20 * 1024 * 1024
CLOCK_SKEW = datetime.timedelta(minutes=5)

Fetcher = Callable[[str, float], bytes]  # (url, timeout) -> body; raises OSError/ValueError


def http_fetch(url: str, timeout: float) -> bytes:
    """GET ``url`` (http or https): the body of a 200 answer, at most MAX_CRL_BYTES, within
    ``timeout`` seconds in all; redirects are not followed (http_fetch)."""
    return http_fetch_mod.get_ok(url, timeout, MAX_CRL_BYTES)


def _aware(value: Any) -> Any:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def crl_last_update(crl: x509u.Crl) -> datetime.datetime:
    return _aware(getattr(crl, "last_update_utc", None) or crl.last_update)


def crl_next_update(crl: x509u.Crl) -> Optional[datetime.datetime]:
    return _aware(getattr(crl, "next_update_utc", None) or crl.next_update)


def revocation_date(entry: Any) -> datetime.datetime:
    return _aware(getattr(entry, "revocation_date_utc", None) or entry.revocation_date)


def load_crl(data: bytes) -> x509u.Crl:
    """A CRL in DER or PEM -> ``x509.CertificateRevocationList``; ValueError if neither."""
    if b"-----BEGIN X509 CRL-----" in data:
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


@dataclass
class _Entry:
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)  # cryptography objects are not thread-safe
    crl: Any = None
    error: str = ""


class CrlCache:
    """Fetches each URL once per instance, safely from many threads."""

    def __init__(self, timeout: float = 10.0, fetcher: Optional[Fetcher] = None) -> None:
        self.timeout = timeout
        self.fetcher = fetcher or http_fetch
        self._lock = threading.Lock()
        self._entries: Dict[str, _Entry] = {}
        self.fetches: List[str] = []  # URLs actually fetched, in order (for the result and tests)

    def lock(self, url: str) -> threading.Lock:
        """Hold this while using the CRL of ``url``: cryptography's objects must not be used by two
        threads at once (cryptography 38 raises "Already borrowed")."""
        with self._lock:
            return self._entries[url].lock

    def pem(self, url: str) -> bytes:
        """The CRL fetched from ``url``, in PEM (for a bundle that OpenSSL loads)."""
        from cryptography.hazmat.primitives.serialization import Encoding

        with self.lock(url):
            return self._entries[url].crl.public_bytes(Encoding.PEM)

    def get(self, url: str) -> Tuple[Any, str]:
        """(crl, "") or (None, why it could not be had)."""
        with self._lock:
            found = self._entries.get(url)
            owner = found is None
            entry = found if found is not None else _Entry()
            if owner:
                self._entries[url] = entry
                self.fetches.append(url)
        if owner:
            try:
                entry.crl = load_crl(self.fetcher(url, self.timeout))
            except http_fetch_mod.TransportError as exc:
                entry.error = "unreachable: %s" % exc.defect
            except FetchError as exc:
                entry.error = exc.defect
            except (OSError, ValueError) as exc:
                entry.error = "%s" % (exc or type(exc).__name__)
            finally:
                entry.done.set()
        else:
            entry.done.wait()
        return entry.crl, entry.error


def distribution_urls(cert: x509u.Certificate, complete_only: bool = False) -> List[str]:
    """The CRL distribution point URIs of ``cert`` (any scheme), in order. ``complete_only``
    leaves out points that give only some reasons or name another CRL issuer (indirect)."""
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    urls = []
    for point in points:
        if complete_only and (point.reasons or point.crl_issuer):
            continue
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier):
                urls.append(name.value)
    return urls


def _is_ca(cert: x509u.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _scope_problem(crl: x509u.Crl, url: str, cert: x509u.Certificate, point_urls: List[str]) -> str:
    """Why ``crl`` cannot vouch for ``cert`` ("" when it covers it: a complete CRL of its scope)."""
    for ext in crl.extensions:
        if isinstance(ext.value, x509.DeltaCRLIndicator):
            return ("%s: is a delta CRL (base CRL number %d), which lists only changes since its base CRL"
                    % (url, ext.value.crl_number))
        if isinstance(ext.value, x509.FreshestCRL):
            continue
        if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
            return "%s: the CRL carries an unknown critical extension (%s)" % (url, ext.oid.dotted_string)
    try:
        idp = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
    except x509.ExtensionNotFound:
        return ""
    if idp.indirect_crl:
        return "%s: is an indirect CRL (issued on behalf of other CAs), which is not supported" % url
    if idp.only_some_reasons:
        return "%s: is a partition CRL that covers only some revocation reasons (onlySomeReasons)" % url
    if idp.only_contains_attribute_certs:
        return "%s: covers attribute certificates only (onlyContainsAttributeCerts)" % url
    if idp.only_contains_ca_certs and not _is_ca(cert):
        return "%s: covers CA certificates only (onlyContainsCACerts), and %s is not a CA" % (url, x509u.cn_of(cert))
    if idp.only_contains_user_certs and _is_ca(cert):
        return "%s: covers end-entity certificates only (onlyContainsUserCerts), and %s is a CA" % (
            url, x509u.cn_of(cert))
    names = [n.value for n in idp.full_name or () if isinstance(n, x509.UniformResourceIdentifier)]
    if (idp.full_name or idp.relative_name) and not set(names) & set(point_urls):
        return ("%s: is a partition CRL for the distribution point %s, not the one %s names"
                % (url, ", ".join(names) or "(a relative name)", x509u.cn_of(cert)))
    return ""


def _use_crl(crl: x509u.Crl, url: str, cert: x509u.Certificate, issuer: x509u.Certificate,
             now: datetime.datetime, status: dict) -> str:
    """Verify ``crl`` against ``issuer`` and look ``cert`` up; fill ``status``. Returns a problem or ""."""
    if crl.issuer != issuer.subject:
        return "%s: the CRL is issued by %s, not by %s" % (
            url, crl.issuer.rfc4514_string(), issuer.subject.rfc4514_string())
    if not crl.is_signature_valid(issuer.public_key()):
        return "%s: the CRL signature does not verify with the key of %s" % (url, x509u.cn_of(issuer))
    scope = _scope_problem(crl, url, cert, distribution_urls(cert, complete_only=True))
    if scope:
        return scope
    last, nxt = crl_last_update(crl), crl_next_update(crl)
    if last - CLOCK_SKEW > now:
        return "%s: the CRL is dated in the future (thisUpdate %s)" % (url, last.isoformat())
    if nxt is not None and nxt < now:
        return "%s: the CRL is stale (nextUpdate %s passed)" % (url, nxt.strftime("%Y-%m-%d %H:%M"))
    status.update(url=url, next_update=nxt.strftime("%Y-%m-%dT%H:%M:%SZ") if nxt else None)
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is None:
        status.update(status="good", detail="not listed in the CRL")
    else:
        when = revocation_date(entry)
        status.update(status="revoked", revoked_on=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      detail="revoked on %s" % when.strftime("%Y-%m-%d"))
    return ""


def _check_one(cert: x509u.Certificate, issuer: x509u.Certificate, cache: CrlCache, now: datetime.datetime) -> dict:
    """Status of one certificate against its issuer's CRL: good, revoked or unknown (with why)."""
    urls = distribution_urls(cert)
    status = {"subject": cert.subject.rfc4514_string(), "urls": urls, "url": None, "status": "unknown",
              "detail": "", "next_update": None, "revoked_on": None}
    if not urls:
        status["detail"] = "no CRL distribution point"
        return status
    problems = []
    complete = distribution_urls(cert, complete_only=True)
    for url in urls:
        if url not in complete:
            problems.append("%s: the distribution point gives only some reasons or names another CRL issuer "
                            "(indirect), which is not supported" % url)
            continue
        if not url.lower().startswith(("http://", "https://")):
            problems.append("%s: only http(s) CRLs are fetched" % url)
            continue
        crl, error = cache.get(url)
        if crl is None:
            problems.append("%s: %s" % (url, error))
            continue
        with cache.lock(url):
            verdict = _use_crl(crl, url, cert, issuer, now, status)
        if verdict:
            problems.append(verdict)
            continue
        return status
    status["detail"] = "; ".join(problems)
    return status


def _status(cert: x509u.Certificate, state: str, detail: str) -> dict:
    return {"subject": cert.subject.rfc4514_string(), "urls": distribution_urls(cert), "url": None,
            "status": state, "detail": detail, "next_update": None, "revoked_on": None}


def not_checked(path: Sequence, mode: str = "soft") -> Tuple[List[dict], List[Finding]]:
    """The answer for a chain not proven to reach a trust anchor: nothing is fetched (a peer
    must not make this host fetch URLs of its choosing), and the leaf's revocation is unknown."""
    if mode == "none" or not path:
        return [], []
    leaf = path[0]
    status = _status(leaf, "unknown", "not checked: the chain is not verified to a trust anchor, and CRLs are "
                     "fetched only for verified chains")
    finding = Finding("revocation", "fail" if mode == "hard" else "warn", "leaf " + x509u.cn_of(leaf),
                      "revocation was not checked: the chain is not verified to a trust anchor",
                      "fix the chain first (see the chain check); CRLs are fetched only for verified chains")
    return [status], [finding]


def check_revocation(path: Sequence, anchor: x509u.Certificate, cache: CrlCache, mode: str = "soft",
                     now: Optional[datetime.datetime] = None) -> Tuple[List[dict], List[Finding]]:
    """Check every certificate of ``path`` (leaf first) that has an issuer in the path.

    ``mode``: ``none`` checks nothing; ``soft`` fails on a revoked certificate and warns when
    a CRL cannot be checked; ``hard`` also fails when a CRL cannot be checked.
    """
    if mode == "none":
        return [], []
    now = now or datetime.datetime.now(datetime.timezone.utc)
    statuses: List[dict] = []
    findings: List[Finding] = []
    anchor_der = x509u.der_bytes(anchor) if anchor is not None else None
    for index, cert in enumerate(path):
        if anchor_der is not None and x509u.der_bytes(cert) == anchor_der:
            if index == 0:  # the leaf itself is pinned in ca_file: trusted as configured, not by CRL
                statuses.append(_status(cert, "trust anchor", "trusted directly as a trust anchor (ca_file); "
                                        "a CRL cannot revoke a pinned certificate: remove it from ca_file to "
                                        "stop trusting it"))
            break
        if index + 1 < len(path):
            status = _check_one(cert, path[index + 1], cache, now)
        else:  # the path broke here: its issuer is unknown, so no CRL signature can be verified
            status = _status(cert, "unknown", "its issuer is not available to verify a CRL with")
        statuses.append(status)
        obj = ("leaf " if index == 0 else "") + x509u.cn_of(cert)
        if status["status"] == "revoked":
            findings.append(Finding("revocation", "fail", obj, "certificate was revoked on %s (CRL %s)"
                                    % (status["revoked_on"][:10], status["url"]),
                                    "replace it with a newly issued certificate"))
        elif status["status"] == "unknown":
            level = "fail" if mode == "hard" else "warn"
            if index + 1 == len(path):
                fix = "complete the chain first (see the chain check)"
            elif not status["urls"]:
                fix = ("use a certificate whose issuer publishes a CRL (R11)" if mode == "hard"
                       else "its revocation cannot be checked (R11)")
            elif mode == "hard":
                fix = "make the CRL reachable from this host, or use revocation: soft"
            else:
                fix = "make the CRL reachable from this host to check revocation"
            findings.append(Finding("revocation", level, obj, "revocation could not be checked: %s"
                                    % status["detail"], fix))
    return statuses, findings
