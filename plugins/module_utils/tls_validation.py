# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The core of byoc.secure_trunk.tls_validate: validate TLS peers (or a chain file) against the BYOC policy.

``build_request(**options)`` checks the options and loads the trust anchors;
``validate(request)`` runs every endpoint concurrently and returns one plain
dict (the module's result). Bad options raise SecureTrunkError; defects of a
peer never raise: they are findings in the result.
"""

from __future__ import annotations

import datetime
import math
import os
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.byoc.secure_trunk.plugins.module_utils import chain as chainmod
from ansible_collections.byoc.secure_trunk.plugins.module_utils import crl as crlmod
from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy, policy_probes, verifier
from ansible_collections.byoc.secure_trunk.plugins.module_utils import tls_probe as probe
from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509 as x509u
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import (
    CertificateError,
    Finding,
    PolicyError,
    SecureTrunkError,
    cite,
)

CHECKS = ("handshake", "chain", "name", "dates", "key", "revocation", "policy")
MAX_ENDPOINT_WORKERS = 64
MAX_PROBE_WORKERS = 256
PROBES_PER_ENDPOINT = 8  # concurrent policy probes against one endpoint (see _check_endpoint)


# ------------------------------------------------------------------ request

Endpoint = probe.Endpoint  # one type for a peer: the options name it, the probes dial it


@dataclass
class Trust:
    source: str  # ca_file | region | public_cas
    anchors: list
    detail: dict = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._der = [x509u.der_bytes(a) for a in self.anchors]
        self._pem = verifier.anchors_pem(self._der) if self._der else None

    def copies(self) -> list:
        """This thread's own copies of the anchors: cryptography's certificate objects must not be
        used by two threads at once (cryptography 38 raises "Already borrowed")."""
        return [x509u.load_certificates(der, "trust anchor")[0] for der in self._der]

    def der(self) -> list:
        return list(self._der)

    def cadata(self) -> Optional[str]:
        """The anchors as PEM for OpenSSL (None when there are none: nothing can verify)."""
        return self._pem

    def as_dict(self) -> dict:
        out = {"source": self.source, "anchors": [
            {"name": x509u.display_name(a.subject), "subject": a.subject.rfc4514_string(),
             "sha256": x509u.sha256_hex(x509u.der_bytes(a)), "subject_hash": x509u.subject_hash(a)}
            for a in self.anchors]}
        out.update(self.detail)
        return out


@dataclass
class Request:
    endpoints: List[Endpoint]
    trust: Trust
    suites: List[policy.CipherSuite]
    chain_file: Optional[str] = None
    min_days_remaining: int = 30
    revocation: str = "soft"
    probe_policy: bool = False
    timeout: float = 10.0
    openssl: Optional[str] = None
    now: Optional[datetime.datetime] = None


def _check_host(host: object, what: str) -> str:
    host = str(host or "").strip()
    if not host:
        raise PolicyError(what, "is empty", "give the FQDN the certificate must carry")
    if chainmod.is_ip(host):
        raise PolicyError("%s %s" % (what, host), "is an IP address, and certificates are validated by name (R9)",
                          "give the FQDN as host, and the address as connect_address")
    return host.rstrip(".")


def _check_port(port: Any, what: str) -> int:
    try:
        value = int(port)
    except (TypeError, ValueError):
        value = -1
    if not 0 < value < 65536:
        raise PolicyError("%s port %r" % (what, port), "is not a TCP port",
                          "use 1-65535 (BYOC uses %d, R4)" % policy.SIP_TLS_PORT)
    return value


def parse_endpoints(host: Optional[str] = None, port: Optional[int] = None, connect_address: Optional[str] = None,
                    endpoints: Optional[Sequence[Any]] = None, chain_file: Optional[str] = None) -> List[Endpoint]:
    """One endpoint from host/port/connect_address, or the ``endpoints`` list; checked."""
    if endpoints and (host or connect_address):
        raise PolicyError("options host and endpoints", "are mutually exclusive",
                          "give host (one endpoint) or endpoints (a list), not both")
    if chain_file and endpoints:
        raise PolicyError("options chain_file and endpoints", "are mutually exclusive",
                          "validate a chain file with host (the name it must carry), or endpoints over the network")
    if chain_file and connect_address:
        raise PolicyError("option connect_address", "has no meaning with chain_file (no connection is made)",
                          "drop connect_address")
    if not endpoints and not host:
        raise PolicyError("host", "is missing", "give host (the FQDN to validate) or endpoints")
    items = endpoints if endpoints else [{"host": host, "port": port, "connect_address": connect_address}]
    out: List[Endpoint] = []
    for index, item in enumerate(items):
        what = "endpoints[%d].host" % index if endpoints else "host"
        if isinstance(item, str):
            item = {"host": item}
        if not isinstance(item, dict):
            raise PolicyError("endpoints[%d]" % index, "is not a mapping", "give {host, port, connect_address}")
        unknown = set(item) - {"host", "port", "connect_address"}
        if unknown:
            raise PolicyError("endpoints[%d]" % index, "has unknown keys: %s" % ", ".join(sorted(unknown)),
                              "use host, port and connect_address")
        ep_port = item.get("port") if item.get("port") is not None else port
        ep = Endpoint(_check_host(item.get("host"), what),
                      _check_port(policy.SIP_TLS_PORT if ep_port is None else ep_port, what),
                      (str(item["connect_address"]).strip() or None) if item.get("connect_address") else None)
        if ep.label in {e.label for e in out}:
            raise PolicyError("endpoints", "list %s twice" % ep.label, "list each endpoint once")
        out.append(ep)
    return out


def _read_certs(path: str, option: str) -> list:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise CertificateError("%s %s" % (option, path), "cannot be read: %s" % (exc.strerror or exc),
                               "check the path and its permissions on the managed node") from None
    return x509u.load_certificates(data, "%s %s" % (option, path))


def _region_anchors(region_name: str, strict: bool) -> Trust:
    region = policy.get_region(region_name)
    try:
        from ansible_collections.byoc.secure_trunk.plugins.module_utils import roots as rootsmod
    except ImportError as exc:  # pragma: no cover - the collection ships roots.py
        raise PolicyError("region %s" % region.id, "pinned roots are not available (%s)" % exc,
                          "use ca_file with the region's DigiCert roots") from None
    anchors = [rootsmod.bundled(root).cert for root in region.roots(strict)]
    return Trust("region", anchors, {"region": region.id, "strict_roots": strict,
                                     "roots": [r.name for r in region.roots(strict)]})


def _public_anchors(ca_store: Optional[str]) -> Trust:
    if ca_store:
        path = ca_store
    else:
        found = [p for p in x509u.DEFAULT_CA_BUNDLES if os.path.exists(p)]
        if not found:
            raise CertificateError("public_cas", "no CA store found at %s" % ", ".join(x509u.DEFAULT_CA_BUNDLES),
                                   "install ca-certificates or give ca_store")
        path = found[0]
    store = _read_certs(path, "ca_store")
    wanted = set(policy.accepted_subject_hashes())
    anchors = [c for c in store if x509u.subject_hash(c) in wanted]
    found_hashes = {x509u.subject_hash(c) for c in anchors}
    missing = [ca.name for ca in policy.PUBLIC_CAS if ca.subject_hash not in found_hashes]
    trust = Trust("public_cas", anchors, {"ca_store": path, "missing_public_cas": missing})
    if missing:
        trust.warnings.append(cite("public_cas: %d of the %d public roots Genesys accepts (R8) are not in %s: %s"
                                   % (len(missing), len(policy.PUBLIC_CAS), path, ", ".join(missing))))
    if not anchors:
        raise CertificateError("ca_store %s" % path, "holds none of the public roots Genesys accepts (R8)",
                               "give the system CA bundle, e.g. /etc/ssl/certs/ca-certificates.crt")
    return trust


def load_trust(ca_file: Optional[str] = None, region: Optional[str] = None, public_cas: bool = False,
               ca_store: Optional[str] = None, strict_roots: bool = False) -> Trust:
    chosen = [name for name, value in (("ca_file", ca_file), ("region", region), ("public_cas", public_cas)) if value]
    if len(chosen) != 1:
        raise PolicyError("trust anchors", "%s given" % (" and ".join(chosen) if chosen else "none"),
                          "give exactly one of ca_file (a PEM bundle), region (its pinned DigiCert roots) or "
                          "public_cas: true (the public roots Genesys accepts)")
    if ca_store and not public_cas:
        raise PolicyError("option ca_store", "is only used with public_cas", "drop ca_store, or set public_cas: true")
    if ca_file:
        return Trust("ca_file", _read_certs(ca_file, "ca_file"), {"ca_file": ca_file})
    if region:
        return _region_anchors(region, strict_roots)
    return _public_anchors(ca_store)


def build_request(host: Optional[str] = None, port: Optional[int] = None, connect_address: Optional[str] = None,
                  endpoints: Optional[Sequence[Any]] = None, chain_file: Optional[str] = None,
                  ca_file: Optional[str] = None, region: Optional[str] = None, public_cas: bool = False,
                  ca_store: Optional[str] = None, strict_roots: bool = False, cipher_policy: Optional[str] = None,
                  cipher_suites: Optional[Sequence[str]] = None, min_days_remaining: int = 30,
                  revocation: str = "soft", probe_policy: bool = False, timeout: float = 10.0,
                  openssl: Optional[str] = None, now: Optional[datetime.datetime] = None) -> Request:
    """Check the options (raising PolicyError/CertificateError with the fix) and build a Request."""
    eps = parse_endpoints(host, port, connect_address, endpoints, chain_file)
    if revocation not in crlmod.MODES:
        raise PolicyError("revocation %r" % (revocation,), "is not a revocation mode", "use none, soft or hard")
    if chain_file and probe_policy:
        raise PolicyError("option probe_policy", "needs a live peer, and chain_file makes no connection",
                          "drop probe_policy, or validate host over the network")
    if cipher_policy and cipher_suites:
        raise PolicyError("options cipher_policy and cipher_suites", "are mutually exclusive",
                          "give a policy name or a list of IANA suite names")
    if int(min_days_remaining) < 0:
        raise PolicyError("min_days_remaining", "is negative", "give 0 or more days")
    if math.isnan(float(timeout)) or float(timeout) <= 0:  # NaN is refused too
        raise PolicyError("timeout", "must be more than 0 seconds", "give e.g. 10")
    suites = policy.policy_suites(cipher_suites if cipher_suites else cipher_policy)
    if chain_file:
        _read_certs(chain_file, "chain_file")  # fail early, before any work
    trust = load_trust(ca_file, region, public_cas, ca_store, strict_roots)
    return Request(eps, trust, suites, chain_file, int(min_days_remaining), revocation, bool(probe_policy),
                   float(timeout), probe.openssl_binary(openssl), now)


# ------------------------------------------------------------------ one endpoint: the result

@dataclass(frozen=True)
class EndpointResult:
    """One endpoint's result; ``as_dict()`` is an element of the module's ``endpoints`` (same keys,
    same order)."""

    endpoint: str
    host: str
    port: int
    connect_address: Optional[str]
    address: Optional[str]
    source: str  # handshake | chain_file
    protocol: Optional[str]
    cipher: Optional[str]
    cipher_iana: Optional[str]
    key_exchange: Optional[str]
    group: Optional[str]
    chain: List[dict]
    chain_complete: Optional[bool]
    matched_root: Optional[dict]
    san: List[str]
    name_match: Optional[str]
    wildcard: bool
    days_remaining: Optional[int]
    chain_days_remaining: Optional[int]
    crl: List[dict]
    verdict: Optional[dict]
    probes: Optional[Dict[str, object]]
    checks: Dict[str, str]
    failures: List[dict]
    warnings: List[dict]
    ok: bool
    seconds: float

    def as_dict(self) -> Dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def summary(self) -> str:
        if self.source == "chain_file":
            head = "%s: chain for %s" % (self.endpoint, self.host)
        else:
            head = "%s: %s %s%s" % (self.endpoint, self.protocol, self.cipher,
                                    " on %s" % self.group if self.key_exchange == "ECDHE" else "")
        root = self.matched_root["name"] if self.matched_root else "?"
        return "%s, chain to %s, %s days left" % (head, root, self.days_remaining)


@dataclass(frozen=True)
class Seen:
    """What the handshakes saw: the negotiated parameters, the certificates sent (DER), and
    OpenSSL's verdict on them when the handshake verified (None: verify the chain offline)."""

    address: Optional[str] = None
    protocol: Optional[str] = None
    cipher: Optional[str] = None
    cipher_iana: Optional[str] = None
    key_exchange: Optional[str] = None
    group: Optional[str] = None
    chain_complete: Optional[bool] = None
    sent_der: Tuple[bytes, ...] = ()
    verdict: Optional[verifier.Verdict] = None
    reachable: bool = False  # a TLS answer came back (the probes are worth running)


@dataclass(frozen=True)
class ChainFacts:
    """What the offline checks found on the certificates sent."""

    chain: List[dict] = field(default_factory=list)
    matched_root: Optional[dict] = None
    san: List[str] = field(default_factory=list)
    name_match: Optional[str] = None
    wildcard: bool = False
    days_remaining: Optional[int] = None
    chain_days_remaining: Optional[int] = None
    crl: List[dict] = field(default_factory=list)
    verdict: Optional[dict] = None
    ran: bool = False


def _checks(findings: Sequence[Finding], ran: Sequence[str]) -> Dict[str, str]:
    """Each named check: fail, warn, pass (it ran and found nothing) or skipped."""
    out = {}
    for name in CHECKS:
        levels = {f.level for f in findings if f.check == name}
        out[name] = ("fail" if "fail" in levels else "warn" if "warn" in levels
                     else "pass" if name in ran else "skipped")
    return out


def _result(ep: Endpoint, request: Request, findings: Sequence[Finding], started: float,
            seen: Optional[Seen] = None, facts: Optional[ChainFacts] = None,
            probes: Optional[Dict[str, object]] = None) -> EndpointResult:
    seen = seen or Seen()
    facts = facts or ChainFacts()
    source = "chain_file" if request.chain_file else "handshake"
    label = request.chain_file or ep.label
    ran = {"handshake"} if source == "handshake" else set()
    if facts.ran:
        ran.update(("chain", "name", "dates", "key"))
        if request.revocation != "none":
            ran.add("revocation")
    if request.probe_policy and probes is not None:
        ran.add("policy")
    failures = [f.as_dict(label) for f in findings if f.level == "fail"]
    return EndpointResult(
        endpoint=label, host=ep.host, port=ep.port, connect_address=ep.connect_address, address=seen.address,
        source=source, protocol=seen.protocol, cipher=seen.cipher, cipher_iana=seen.cipher_iana,
        key_exchange=seen.key_exchange, group=seen.group, chain=facts.chain, chain_complete=seen.chain_complete,
        matched_root=facts.matched_root, san=facts.san, name_match=facts.name_match, wildcard=facts.wildcard,
        days_remaining=facts.days_remaining, chain_days_remaining=facts.chain_days_remaining, crl=facts.crl,
        verdict=facts.verdict, probes=probes, checks=_checks(findings, sorted(ran)), failures=failures,
        warnings=[f.as_dict(label) for f in findings if f.level == "warn"], ok=not failures,
        seconds=round(time.monotonic() - started, 3))


# ------------------------------------------------------------------ one endpoint: the handshakes

def _suite_info(openssl_name: Optional[str]) -> Dict[str, Optional[str]]:
    suite = policy.suite_by_openssl_name(openssl_name) if openssl_name else None
    return {"cipher": openssl_name, "cipher_iana": suite.iana if suite else None,
            "key_exchange": suite.kx if suite else ("ECDHE" if (openssl_name or "").startswith("ECDHE") else None)}


def _handshake_failure(ep: Endpoint, hs: probe.Handshake, diag: Optional[probe.Handshake]) -> Finding:
    obj = ep.label
    if hs.error_kind == "dns":
        return Finding("handshake", "fail", obj, hs.error or "", "check DNS on this host, or give connect_address")
    if hs.error_kind == "refused":
        return Finding("handshake", "fail", obj, hs.error or "",
                       "start the TLS listener on port %d, or open the firewall (R4)" % ep.port)
    if hs.error_kind == "timeout":
        return Finding("handshake", "fail", obj, "no TLS answer: %s" % hs.error,
                       "check routes and firewalls to TCP %d from this host, or raise timeout" % ep.port)
    if hs.error_kind == "tls":
        return Finding("handshake", "fail", obj, hs.error or "",
                       "point at the SIP TLS listener (%d, R4), not a plain TCP/UDP port" % policy.SIP_TLS_PORT)
    if hs.error_kind == "local":
        return Finding("handshake", "fail", obj, "cannot offer TLS 1.2 with the BYOC suites: %s" % hs.error,
                       "check this host's OpenSSL configuration")
    defect = "peer refused TLS 1.2 with the BYOC suites on %s: %s" % (policy.ECDHE_GROUP, hs.error)
    if diag is not None and diag.ok:
        defect += " (it accepted %s with %s instead)" % (diag.protocol, diag.cipher)
    return Finding("handshake", "fail", obj, defect,
                   "configure the listener for TLS 1.2 with the policy suites and %s (R1-R3); "
                   "probe_policy shows what it accepts" % policy.ECDHE_GROUP)


def _policy_offer(request: Request) -> Dict[str, Any]:
    return dict(ciphers=":".join(s.openssl for s in request.suites), group=policy.ECDHE_GROUP, want_chain=True)


def _verdict_handshake(target: Endpoint, request: Request) -> Tuple[probe.Handshake, Optional[verifier.Verdict]]:
    """The policy handshake, with OpenSSL verifying the chain against the anchors: its verdict."""
    cadata = request.trust.cadata()
    hs = probe.handshake(target, verify_cadata=cadata, **_policy_offer(request))
    if cadata is None:  # nothing to verify against: never an accepting verdict
        return hs, verifier.Verdict(False, verifier.handshake_verifier(), message="no trust anchors")
    if hs.error_kind == "verify":  # OpenSSL refused the chain: that is the verdict; fetch it to explain
        verdict = verifier.Verdict(False, verifier.handshake_verifier(), hs.verify_code, hs.error or "")
        return probe.handshake(target, **_policy_offer(request)), verdict
    if hs.ok:
        return hs, verifier.Verdict(True, verifier.handshake_verifier())
    return hs, None


def _diagnose(ep: Endpoint, target: Endpoint, request: Request, hs: probe.Handshake,
              findings: List[Finding]) -> Tuple[probe.Handshake, Optional[probe.Handshake]]:
    """A refused policy handshake: what the peer accepts instead (the diagnosis), and once more
    the policy handshake when the peer does speak the policy (a transient refusal, a warning)."""
    if hs.ok or hs.error_kind not in ("alert", "closed"):
        return hs, None
    diag = probe.handshake(target, versions=(policy.PROTOCOLS[0], policy.PROTOCOLS[-1]),
                           ciphers="ALL:COMPLEMENTOFALL", want_chain=True)
    policy_names = {s.openssl for s in request.suites}
    if diag.ok and diag.protocol == policy.TLS_VERSION and diag.cipher in policy_names:
        # The peer does speak the policy: the first refusal was transient. Ask once more, the
        # same way, and keep it visible as a warning whichever way the retry goes.
        first, hs = hs, probe.handshake(target, **_policy_offer(request))
        if hs.ok:
            findings.append(Finding(
                "handshake", "warn", ep.label,
                "the first policy handshake failed (%s), the retry succeeded: the peer fails "
                "intermittently" % first.error,
                "check the peer's TLS log (Kamailio 5.6 with OpenSSL 3 can send sporadic internal "
                "error alerts under concurrent handshakes)"))
    return hs, diag


def _negotiated(ep: Endpoint, hs: probe.Handshake, findings: List[Finding]) -> Dict[str, Any]:
    """The parameters of an accepted policy handshake; an RSA key exchange is a warning."""
    info: Dict[str, Any] = dict(protocol=hs.protocol, **_suite_info(hs.cipher))
    if info["key_exchange"] == "ECDHE":
        info["group"] = policy.ECDHE_GROUP if probe.CLIENT_GROUPS_SUPPORTED else "unknown"
    else:
        info["group"] = "none (RSA key exchange)"
        findings.append(Finding("handshake", "warn", ep.label, "negotiated %s: RSA key exchange, no forward "
                                "secrecy" % info["cipher_iana"], "prefer the ECDHE-RSA policy suites "
                                "(server order) with %s" % policy.ECDHE_GROUP))
    return info


def _handshakes(ep: Endpoint, request: Request, findings: List[Finding]) -> Tuple[Seen, Optional[Endpoint]]:
    """Resolve once, then the verdict's handshake (and its diagnosis). Returns what was seen and
    the resolved endpoint (None when the name did not resolve)."""
    address, failed = probe.resolve(ep.host, ep.port, ep.connect_address, request.timeout)
    if failed is not None:
        findings.append(_handshake_failure(ep, failed, None))
        return Seen(address=address), None
    target = ep.resolved(address or "", request.timeout)
    hs, verdict = _verdict_handshake(target, request)
    hs, diag = _diagnose(ep, target, request, hs, findings)
    if hs.ok:
        return Seen(address=address, chain_complete=hs.chain_complete, sent_der=tuple(hs.chain), verdict=verdict,
                    reachable=True, **_negotiated(ep, hs, findings)), target
    findings.append(_handshake_failure(ep, hs, diag))
    seen_by_diag = diag is not None and diag.ok
    return Seen(address=address, chain_complete=diag.chain_complete if diag is not None and seen_by_diag else None,
                sent_der=tuple(diag.chain) if diag is not None and seen_by_diag else (), verdict=verdict,
                reachable=hs.error_kind not in ("refused", "timeout", "network")), target


# ------------------------------------------------------------------ one endpoint: the chain

def _apply_verdict(report: chainmod.ChainReport, verdict: verifier.Verdict, chain_file: Optional[str]) -> bool:
    """Put OpenSSL's verdict into the findings; True when the chain is proven to reach an anchor.

    OpenSSL refusing always fails the chain check: our explanation (if the path builder found
    one) carries OpenSSL's words, else OpenSSL's own words are the finding. OpenSSL accepting
    never removes a failure our checks found: the stricter verdict wins."""
    leaf = "leaf " + x509u.cn_of(report.sent[0])
    ours = [i for i, f in enumerate(report.findings) if f.check in ("chain", "dates") and f.level == "fail"]
    if not verdict.available:
        report.findings.append(Finding("chain", "fail", chain_file or leaf,
                                       "cannot be verified: %s" % verdict.message,
                                       "install the openssl package on this host (its verifier decides trust)"))
    elif not verdict.ok and ours:
        first = report.findings[ours[0]]
        report.findings[ours[0]] = replace(first, fix=first.fix + " (OpenSSL reports: %s)" % verdict.words)
    elif not verdict.ok:
        report.findings.append(Finding("chain", "fail", leaf, "OpenSSL refuses the chain: %s" % verdict.words,
                                       "correct the certificate OpenSSL names (docs/troubleshooting.md explains "
                                       "the common X509 errors)"))
    return verdict.ok and report.anchor is not None and not ours


def _check_chain(ep: Endpoint, request: Request, sent: list, verdict: Optional[verifier.Verdict],
                 cache: crlmod.CrlCache, findings: List[Finding]) -> ChainFacts:
    """The offline checks on the certificates sent, OpenSSL's verdict, then revocation."""
    need_ecdhe = any(s.kx == "ECDHE" for s in request.suites)
    need_rsa = any(s.kx == "RSA" for s in request.suites)
    report = chainmod.analyse(sent, request.trust.copies(), ep.host, request.now, request.min_days_remaining,
                              need_ecdhe, need_rsa)
    if verdict is None:  # a chain file, or a chain seen only in a failed handshake
        at = int(request.now.timestamp()) if request.now is not None else None
        verdict = verifier.verify_chain([x509u.der_bytes(c) for c in sent], request.trust.der(),
                                        request.openssl, at, request.timeout + 20)
    proven = _apply_verdict(report, verdict, request.chain_file)
    findings.extend(report.findings)
    if proven:
        statuses, crl_findings = crlmod.check_revocation(report.path, report.anchor, cache, request.revocation,
                                                         request.now)
    else:
        statuses, crl_findings = crlmod.not_checked(report.path, request.revocation)
    findings.extend(crl_findings)
    return ChainFacts(chain=chainmod.describe_chain(report), matched_root=chainmod.anchor_summary(report),
                      san=report.san, name_match=report.name_match, wildcard=report.wildcard,
                      days_remaining=report.days_remaining, chain_days_remaining=report.chain_days_remaining,
                      crl=statuses, verdict=verdict.as_dict(), ran=True)


# ------------------------------------------------------------------ one endpoint: the probes

class ProbeRun:
    """The policy probes of one endpoint, started after the verdict's handshake, a few at a time:
    a burst of handshakes that fail on purpose made Kamailio 5.6.3 with OpenSSL 3 (Debian 12) drop
    good ones, even crash (kamailio issues 3695, 3791)."""

    def __init__(self, target: Endpoint, request: Request, pool: ThreadPoolExecutor) -> None:
        self.target = target
        self.request = request
        gate = threading.BoundedSemaphore(PROBES_PER_ENDPOINT)
        self.jobs = policy_probes.jobs(target, request.suites, request.openssl)
        self.futures: Dict[policy.ProbeRule, Future] = {
            job.rule: pool.submit(_gated, gate, job.run) for job in self.jobs}

    def finish(self, ep: Endpoint, main_cipher: Optional[str],
               findings: List[Finding]) -> Dict[str, object]:
        answers = {rule: future.result() for rule, future in self.futures.items()}
        findings.extend(policy_probes.retry_expected(ep, self.request.suites, self.jobs, answers))
        report, found = policy_probes.interpret(ep, self.request.suites, self.jobs, answers, main_cipher)
        findings.extend(found)
        return report


def _gated(gate: threading.BoundedSemaphore, fn: Callable[[], Any]) -> Any:
    with gate:
        return fn()


# ------------------------------------------------------------------ one endpoint: every check

def _check_endpoint(ep: Endpoint, request: Request, cache: crlmod.CrlCache, probe_pool: ThreadPoolExecutor,
                    started: float) -> EndpointResult:
    findings: List[Finding] = []
    run: Optional[ProbeRun] = None
    if request.chain_file:
        seen = Seen(chain_complete=True)
        sent = _read_certs(request.chain_file, "chain_file")
    else:
        seen, target = _handshakes(ep, request, findings)
        if target is None:
            return _result(ep, request, findings, started, seen)
        # An unreachable peer is not probed: 25 more timeouts say nothing.
        if request.probe_policy and seen.reachable:
            run = ProbeRun(target, request, probe_pool)
        sent = [x509u.load_certificates(der, "%s certificate" % ep.label)[0] for der in seen.sent_der]
        if seen.chain_complete is False:
            findings.append(Finding("chain", "warn", ep.label, "this Python exposes only the leaf the peer sent, so "
                                    "missing intermediates cannot be seen", "run with Python 3.10 or later"))
    facts = _check_chain(ep, request, sent, seen.verdict, cache, findings) if sent else ChainFacts()
    probes = run.finish(ep, seen.cipher, findings) if run is not None else None
    return _result(ep, request, findings, started, seen, facts, probes)


def _unexpected(ep: Endpoint, request: Request, exc: Exception) -> Finding:
    """An error while validating one endpoint, as that endpoint's failure."""
    if isinstance(exc, SecureTrunkError):
        return Finding.from_error("handshake" if not request.chain_file else "chain", exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = " at %s:%s" % (os.path.basename(frames[-1].filename), frames[-1].lineno) if frames else ""
    return Finding("handshake", "fail", ep.label, "internal error while validating: %s: %s%s"
                   % (type(exc).__name__, exc, where), "report this to byoc.secure_trunk with the peer's details")


def _validate_endpoint(ep: Endpoint, request: Request, cache: crlmod.CrlCache,
                       probe_pool: ThreadPoolExecutor) -> EndpointResult:
    """One endpoint, every check; an unexpected error becomes a failure of this endpoint only."""
    started = time.monotonic()
    try:
        return _check_endpoint(ep, request, cache, probe_pool, started)
    except Exception as exc:  # noqa: BLE001 - one endpoint's bug must not hide the others' results
        return _result(ep, request, [_unexpected(ep, request, exc)], started)


# ------------------------------------------------------------------ all endpoints

def _prefixed(item: dict) -> dict:
    """The finding with its endpoint named first in msg (unless the object already is the endpoint)."""
    if item["object"] != item["endpoint"]:
        item = dict(item, msg="%s: %s" % (item["endpoint"], item["msg"]))
    return item


def _run_all(request: Request, cache: crlmod.CrlCache) -> List[EndpointResult]:
    """Every endpoint concurrently (up to MAX_ENDPOINT_WORKERS), their probes in one shared pool."""
    workers = min(len(request.endpoints), MAX_ENDPOINT_WORKERS)
    probe_workers = MAX_PROBE_WORKERS if request.probe_policy else 1
    with ThreadPoolExecutor(max_workers=probe_workers, thread_name_prefix="tls-probe") as probe_pool:
        if workers == 1:
            return [_validate_endpoint(request.endpoints[0], request, cache, probe_pool)]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tls-endpoint") as pool:
            futures = [pool.submit(_validate_endpoint, ep, request, cache, probe_pool) for ep in request.endpoints]
            return [f.result() for f in futures]


def _headline(results: Sequence[EndpointResult], failures: Sequence[dict]) -> str:
    if not failures:
        return "; ".join(r.summary() for r in results)
    bad = [r for r in results if not r.ok]
    return "%d defect%s on %d of %d endpoint%s: %s" % (
        len(failures), "" if len(failures) == 1 else "s", len(bad), len(results),
        "" if len(results) == 1 else "s", " | ".join(f["msg"] for f in failures))


def validate(request: Request, cache: Optional[crlmod.CrlCache] = None) -> Dict[str, Any]:
    """Validate every endpoint concurrently; return the module's result (never raises for peer defects).
    ``cache``: the CRLs fetched, for a caller that installs them (runtime_crl)."""
    started = time.monotonic()
    cache = cache or crlmod.CrlCache(timeout=request.timeout)
    results = _run_all(request, cache)
    failures = [_prefixed(f) for res in results for f in res.failures]
    warnings = list(request.trust.warnings) + [_prefixed(w)["msg"] for res in results for w in res.warnings]
    return {"ok": not failures, "msg": _headline(results, failures), "failures": failures, "warnings": warnings,
            "endpoints": [r.as_dict() for r in results], "trust": request.trust.as_dict(),
            "crl_fetches": list(cache.fetches), "seconds": round(time.monotonic() - started, 3)}
