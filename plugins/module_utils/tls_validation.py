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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ansible_collections.byoc.secure_trunk.plugins.module_utils import chain as chainmod
from ansible_collections.byoc.secure_trunk.plugins.module_utils import crl as crlmod
from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy, verifier
from ansible_collections.byoc.secure_trunk.plugins.module_utils import tls_probe as probe
from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509 as x509u
from ansible_collections.byoc.secure_trunk.plugins.module_utils.chain import Finding
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import (
    CertificateError,
    PolicyError,
    SecureTrunkError,
    cite,
)

CHECKS = ("handshake", "chain", "name", "dates", "key", "revocation", "policy")
MAX_ENDPOINT_WORKERS = 64
MAX_PROBE_WORKERS = 256
PROBES_PER_ENDPOINT = 8  # concurrent policy probes against one endpoint (see _check_endpoint)


# ------------------------------------------------------------------ request

@dataclass
class Endpoint:
    host: str
    port: int = policy.SIP_TLS_PORT
    connect_address: Optional[str] = None

    @property
    def label(self) -> str:
        return "%s:%d" % (self.host, self.port)


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


def _check_host(host, what: str) -> str:
    host = str(host or "").strip()
    if not host:
        raise PolicyError(what, "is empty", "give the FQDN the certificate must carry")
    if chainmod.is_ip(host):
        raise PolicyError("%s %s" % (what, host), "is an IP address, and certificates are validated by name (R9)",
                          "give the FQDN as host, and the address as connect_address")
    return host.rstrip(".")


def _check_port(port, what: str) -> int:
    try:
        value = int(port)
    except (TypeError, ValueError):
        value = -1
    if not 0 < value < 65536:
        raise PolicyError("%s port %r" % (what, port), "is not a TCP port", "use 1-65535 (BYOC uses 5061, R4)")
    return value


def parse_endpoints(host=None, port=None, connect_address=None, endpoints=None, chain_file=None) -> List[Endpoint]:
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


def load_trust(ca_file=None, region=None, public_cas=False, ca_store=None, strict_roots=False) -> Trust:
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


def build_request(host=None, port=None, connect_address=None, endpoints=None, chain_file=None, ca_file=None,
                  region=None, public_cas=False, ca_store=None, strict_roots=False, cipher_policy=None,
                  cipher_suites=None, min_days_remaining=30, revocation="soft", probe_policy=False, timeout=10.0,
                  openssl=None, now=None) -> Request:
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


# ------------------------------------------------------------------ one endpoint

def _suite_info(openssl_name: Optional[str]) -> dict:
    suite = policy.suite_by_openssl_name(openssl_name) if openssl_name else None
    return {"cipher": openssl_name, "cipher_iana": suite.iana if suite else None,
            "key_exchange": suite.kx if suite else ("ECDHE" if (openssl_name or "").startswith("ECDHE") else None)}


def _handshake_failure(ep: Endpoint, hs: probe.Handshake, diag: Optional[probe.Handshake]) -> Finding:
    obj = ep.label
    if hs.error_kind == "dns":
        return Finding("handshake", "fail", obj, hs.error, "check DNS on this host, or give connect_address")
    if hs.error_kind == "refused":
        return Finding("handshake", "fail", obj, hs.error,
                       "start the TLS listener on port %d, or open the firewall (R4)" % ep.port)
    if hs.error_kind == "timeout":
        return Finding("handshake", "fail", obj, "no TLS answer: %s" % hs.error,
                       "check routes and firewalls to TCP %d from this host, or raise timeout" % ep.port)
    if hs.error_kind == "tls":
        return Finding("handshake", "fail", obj, hs.error,
                       "point at the SIP TLS listener (5061, R4), not a plain TCP/UDP port")
    if hs.error_kind == "local":
        return Finding("handshake", "fail", obj, "cannot offer TLS 1.2 with the BYOC suites: %s" % hs.error,
                       "check this host's OpenSSL configuration")
    defect = "peer refused TLS 1.2 with the BYOC suites on secp384r1: %s" % hs.error
    if diag is not None and diag.ok:
        defect += " (it accepted %s with %s instead)" % (diag.protocol, diag.cipher)
    return Finding("handshake", "fail", obj, defect,
                   "configure the listener for TLS 1.2 with the policy suites and secp384r1 (R1-R3); "
                   "probe_policy shows what it accepts")


def _probe_jobs(request: Request, target: probe.Target) -> Dict[str, tuple]:
    """name -> (callable, args): every probe of probe_policy."""
    jobs: Dict[str, tuple] = {}
    for version in ("TLSv1.0", "TLSv1.1", "TLSv1.3"):
        ciphers = "ALL:COMPLEMENTOFALL" if version != "TLSv1.3" else None
        jobs["protocol " + version] = (probe.handshake, (target,), {"versions": (version, version), "ciphers": ciphers})
    names = [s.openssl for s in request.suites]
    for family, members in probe.non_policy_families(names):
        jobs["family " + family] = (probe.accepted_in, (target, members), {})
    for group in ("P-256", "P-521", "secp384r1"):
        jobs["group " + group] = (probe.handshake, (target,), {"ciphers": "ECDHE", "group": group})
    jobs["group X25519"] = (probe.s_client, (target, request.openssl), {"ciphers": "ECDHE", "group": "X25519"})
    for suite in policy.SUITES.values():
        jobs["suite " + suite.iana] = (probe.handshake, (target,), {"ciphers": suite.openssl, "group": "secp384r1"})
    jobs["client certificate"] = (probe.s_client, (target, request.openssl),
                                  {"ciphers": ":".join(names), "group": "P-384"})
    return jobs


def _refused(hs) -> bool:
    return hs.error_kind in ("alert", "closed", "tls")


def _retry_expected_probes(ep: Endpoint, request: Request, jobs: Dict[str, tuple], results: Dict[str, object]):
    """Ask once more, one at a time, what a policy-compliant peer must accept (secp384r1, the policy's
    suites) when the concurrent probe was dropped; a peer that then accepts fails intermittently
    (a warning), not by configuration. Updates ``results``; returns the warnings."""
    expected = ["group " + policy.ECDHE_GROUP] + ["suite " + s.iana for s in request.suites]
    findings = []
    for name in expected:
        first = results.get(name)
        if first is None or first.ok or not isinstance(first, probe.Handshake) or not _refused(first):
            continue
        fn, args, kwargs = jobs[name]
        again = fn(*args, **kwargs)
        if again.ok:
            results[name] = again
            findings.append(Finding("policy", "warn", ep.label,
                                    "the %s probe failed (%s), its retry succeeded: the peer fails intermittently"
                                    % (name, first.error),
                                    "check the peer's TLS log (Kamailio 5.6 with OpenSSL 3 drops handshakes under "
                                    "concurrent ones, docs/kamailio.md)"))
    return findings


def _probe_findings(ep: Endpoint, request: Request, results: Dict[str, object], main_cipher: Optional[str]):
    """Turn probe results into a report dict and findings."""
    obj = ep.label
    findings: List[Finding] = []
    report: Dict[str, object] = {"protocols": {}, "non_policy_suites": {}, "groups": {}, "policy_suites": {},
                                 "client_certificate_requested": None}

    def unknown(what, hs):
        findings.append(Finding("policy", "warn", obj, "%s could not be probed: %s" % (what, hs.error),
                                "rerun when the peer is reachable"))
        return "unknown: %s" % hs.error

    for version in ("TLSv1.0", "TLSv1.1", "TLSv1.3"):
        hs = results["protocol " + version]
        if hs.ok:
            report["protocols"][version] = "accepted"
            findings.append(Finding("policy", "fail", obj, "accepts %s (negotiated %s); R1 allows TLS 1.2 only"
                                    % (version, hs.cipher),
                                    "pin the listener to TLS 1.2 (Kamailio tls.cfg: method = TLSv1.2)"))
        elif _refused(hs):
            report["protocols"][version] = "refused"
        elif hs.error_kind == "local":
            report["protocols"][version] = "not probed: %s" % hs.error
        else:
            report["protocols"][version] = unknown(version, hs)
    report["protocols"]["TLSv1.2"] = "accepted" if main_cipher else "refused"
    for key in sorted(k for k in results if k.startswith("family ")):
        accepted, last = results[key]
        family = key[len("family "):]
        if accepted:
            report["non_policy_suites"][family] = accepted
            findings.append(Finding("policy", "fail", obj, "accepts suites outside the policy (%s): %s"
                                    % (family, ", ".join(accepted)),
                                    "restrict the cipher list to the policy suites: %s"
                                    % ":".join(s.openssl for s in request.suites)))
        elif last is not None and not _refused(last) and last.error_kind != "local":
            report["non_policy_suites"][family] = unknown("the %s suites" % family, last)
        else:
            report["non_policy_suites"][family] = []
    for group in ("P-256", "P-521", "X25519", "secp384r1"):
        res = results["group " + group]
        if isinstance(res, probe.SClient) and not res.available:
            report["groups"][group] = "not probed: %s" % res.error
            findings.append(Finding("policy", "warn", obj, "ECDHE on %s was not probed: %s" % (group, res.error),
                                    "install the openssl command on this host to probe it"))
            continue
        if res.ok:
            report["groups"][group] = "accepted"
            if group != policy.ECDHE_GROUP:
                findings.append(Finding("policy", "fail", obj, "accepts ECDHE on %s; R3 allows secp384r1 only"
                                        % group, "restrict the groups to secp384r1 (Kamailio: OPENSSL_CONF with "
                                        "Groups = secp384r1; it fails open, so probe again after a change)"))
        elif isinstance(res, probe.SClient) or _refused(res):
            report["groups"][group] = "refused"
            if group == policy.ECDHE_GROUP:
                findings.append(Finding("policy", "warn", obj, "does no ECDHE on secp384r1, so only RSA key exchange "
                                        "(no forward secrecy) is left", "enable the ECDHE-RSA policy suites with "
                                        "secp384r1"))
        else:
            report["groups"][group] = unknown("ECDHE on %s" % group, res)
    ecdhe_accepted = []
    for suite in policy.SUITES.values():
        hs = results["suite " + suite.iana]
        in_policy = suite in request.suites
        state = "accepted" if hs.ok else ("refused" if _refused(hs) else "unknown: %s" % hs.error)
        report["policy_suites"][suite.iana] = state
        if hs.ok and suite.kx == "ECDHE":
            ecdhe_accepted.append(suite.openssl)
        if hs.ok and not in_policy:
            findings.append(Finding("policy", "fail", obj, "accepts %s, which the chosen cipher policy excludes"
                                    % suite.iana, "remove %s from the cipher list" % suite.openssl))
    main = policy.suite_by_openssl_name(main_cipher) if main_cipher else None
    if main is not None and main.kx == "RSA" and ecdhe_accepted:
        findings.append(Finding("policy", "warn", obj, "prefers %s (RSA key exchange, no forward secrecy) over the "
                                "ECDHE suites it accepts" % main.iana,
                                "list %s first: the server's order decides" % ecdhe_accepted[0]))
    cc = results["client certificate"]
    if cc.available and cc.ok:
        report["client_certificate_requested"] = cc.client_cert_requested
        if cc.client_cert_requested:
            findings.append(Finding("policy", "fail", obj, "requests a client certificate; R5: Genesys never "
                                    "sends one (no mutual TLS)", "stop requesting client certificates (Kamailio: "
                                    "verify_client = off, require_certificate = no)"))
    elif not cc.available:
        report["client_certificate_requested"] = "not probed: %s" % cc.error
    return report, findings


def _validate_endpoint(ep: Endpoint, request: Request, cache: crlmod.CrlCache, probe_pool: ThreadPoolExecutor) -> dict:
    """One endpoint, every check; an unexpected error becomes a failure of this endpoint only."""
    started = time.monotonic()
    try:
        return _check_endpoint(ep, request, cache, probe_pool, started)
    except SecureTrunkError as exc:
        finding = Finding("handshake" if not request.chain_file else "chain", "fail", exc.obj, exc.defect, exc.fix)
    except Exception as exc:  # noqa: BLE001 - one endpoint's bug must not hide the others' results
        frames = traceback.extract_tb(exc.__traceback__)
        where = " at %s:%d" % (os.path.basename(frames[-1].filename), frames[-1].lineno) if frames else ""
        finding = Finding("handshake", "fail", ep.label, "internal error while validating: %s: %s%s"
                          % (type(exc).__name__, exc, where),
                          "report this to byoc.secure_trunk with the peer's details")
    out = _blank(ep, request)
    return _finish(out, [finding], started, request)


def _blank(ep: Endpoint, request: Request) -> dict:
    return {"endpoint": request.chain_file or ep.label, "host": ep.host, "port": ep.port,
            "connect_address": ep.connect_address, "address": None,
            "source": "chain_file" if request.chain_file else "handshake", "protocol": None, "cipher": None,
            "cipher_iana": None, "key_exchange": None, "group": None, "chain": [], "chain_complete": None,
            "matched_root": None, "san": [], "name_match": None, "wildcard": False, "days_remaining": None,
            "chain_days_remaining": None, "crl": [], "verdict": None, "probes": None}


def _gated(gate: threading.BoundedSemaphore, fn, *args, **kwargs):
    with gate:
        return fn(*args, **kwargs)


def _check_endpoint(ep: Endpoint, request: Request, cache: crlmod.CrlCache, probe_pool: ThreadPoolExecutor,
                    started: float) -> dict:
    out = _blank(ep, request)
    findings: List[Finding] = []
    sent: list = []
    probe_futures, probe_jobs = {}, {}
    unreachable = False
    verdict: Optional[verifier.Verdict] = None
    if request.chain_file:
        sent = _read_certs(request.chain_file, "chain_file")
        out["chain_complete"] = True
    else:
        address, failed = probe.resolve(ep.host, ep.port, ep.connect_address, request.timeout)
        out["address"] = address
        if failed is not None:
            findings.append(_handshake_failure(ep, failed, None))
            return _finish(out, findings, started, request)
        target = probe.Target(ep.host, ep.port, address, request.timeout)
        policy_offer = dict(ciphers=":".join(s.openssl for s in request.suites), group=policy.ECDHE_GROUP,
                            want_chain=True)
        cadata = request.trust.cadata()
        hs = probe.handshake(target, verify_cadata=cadata, **policy_offer)
        if cadata is None:  # nothing to verify against: never an accepting verdict
            verdict = verifier.Verdict(False, verifier.handshake_verifier(), message="no trust anchors")
        elif hs.error_kind == "verify":  # OpenSSL refused the chain: that is the verdict; fetch it to explain
            verdict = verifier.Verdict(False, verifier.handshake_verifier(), hs.verify_code, hs.error or "")
            hs = probe.handshake(target, **policy_offer)
        elif hs.ok:
            verdict = verifier.Verdict(True, verifier.handshake_verifier())
        diag = None
        if not hs.ok and hs.error_kind in ("alert", "closed"):
            diag = probe.handshake(target, versions=("TLSv1.0", "TLSv1.3"), ciphers="ALL:COMPLEMENTOFALL",
                                   want_chain=True)
            policy_names = {s.openssl for s in request.suites}
            if diag.ok and diag.protocol == policy.TLS_VERSION and diag.cipher in policy_names:
                # The peer does speak the policy: the first refusal was transient. Ask once more, the
                # same way, and keep it visible as a warning whichever way the retry goes.
                first, hs = hs, probe.handshake(target, **policy_offer)
                if hs.ok:
                    findings.append(Finding(
                        "handshake", "warn", ep.label,
                        "the first policy handshake failed (%s), the retry succeeded: the peer fails "
                        "intermittently" % first.error,
                        "check the peer's TLS log (Kamailio 5.6 with OpenSSL 3 can send sporadic internal "
                        "error alerts under concurrent handshakes)"))
        if hs.ok:
            out.update(protocol=hs.protocol, **_suite_info(hs.cipher))
            if out["key_exchange"] == "ECDHE":
                out["group"] = policy.ECDHE_GROUP if probe.CLIENT_GROUPS_SUPPORTED else "unknown"
            else:
                out["group"] = "none (RSA key exchange)"
                findings.append(Finding("handshake", "warn", ep.label, "negotiated %s: RSA key exchange, no forward "
                                        "secrecy" % out["cipher_iana"], "prefer the ECDHE-RSA policy suites "
                                        "(server order) with secp384r1"))
            sent_der, out["chain_complete"] = hs.chain, hs.chain_complete
        else:
            unreachable = hs.error_kind in ("refused", "timeout", "network")
            findings.append(_handshake_failure(ep, hs, diag))
            sent_der = diag.chain if diag is not None and diag.ok else []
            out["chain_complete"] = diag.chain_complete if diag is not None and diag.ok else None
        # The probes start after the verdict's handshake, a few at a time: a burst of handshakes that
        # fail on purpose made Kamailio 5.6.3 with OpenSSL 3 (Debian 12) drop good ones, even crash
        # (kamailio issues 3695, 3791). An unreachable peer is not probed: 25 more timeouts say nothing.
        if request.probe_policy and not unreachable:
            gate = threading.BoundedSemaphore(PROBES_PER_ENDPOINT)
            probe_jobs = _probe_jobs(request, target)
            probe_futures = {name: probe_pool.submit(_gated, gate, fn, *args, **kwargs)
                             for name, (fn, args, kwargs) in probe_jobs.items()}
        sent = [x509u.load_certificates(der, "%s certificate" % ep.label)[0] for der in sent_der]
        if out["chain_complete"] is False:
            findings.append(Finding("chain", "warn", ep.label, "this Python exposes only the leaf the peer sent, so "
                                    "missing intermediates cannot be seen", "run with Python 3.10 or later"))
    if sent:
        need_ecdhe = any(s.kx == "ECDHE" for s in request.suites)
        need_rsa = any(s.kx == "RSA" for s in request.suites)
        report = chainmod.analyse(sent, request.trust.copies(), ep.host, request.now, request.min_days_remaining,
                                  need_ecdhe, need_rsa)
        if verdict is None:  # a chain file, or a chain seen only in a failed handshake
            at = int(request.now.timestamp()) if request.now is not None else None
            verdict = verifier.verify_chain([x509u.der_bytes(c) for c in sent], request.trust.der(),
                                            request.openssl, at, request.timeout + 20)
        proven = _apply_verdict(report, verdict, request.chain_file)
        out["verdict"] = verdict.as_dict()
        findings.extend(report.findings)
        out.update(chain=chainmod.describe_chain(report), matched_root=chainmod.anchor_summary(report),
                   san=report.san, name_match=report.name_match, wildcard=report.wildcard,
                   days_remaining=report.days_remaining, chain_days_remaining=report.chain_days_remaining)
        if proven:
            statuses, crl_findings = crlmod.check_revocation(report.path, report.anchor, cache, request.revocation,
                                                             request.now)
        else:
            statuses, crl_findings = crlmod.not_checked(report.path, request.revocation)
        out["crl"] = statuses
        findings.extend(crl_findings)
    if probe_futures:
        results = {name: fut.result() for name, fut in probe_futures.items()}
        findings.extend(_retry_expected_probes(ep, request, probe_jobs, results))
        out["probes"], probe_finds = _probe_findings(ep, request, results, out["cipher"])
        findings.extend(probe_finds)
    return _finish(out, findings, started, request, ran_chain=bool(sent))


def _apply_verdict(report: chainmod.ChainReport, verdict: verifier.Verdict, chain_file: Optional[str]) -> bool:
    """Put OpenSSL's verdict into the findings; True when the chain is proven to reach an anchor.

    OpenSSL refusing always fails the chain check: our explanation (if the path builder found
    one) carries OpenSSL's words, else OpenSSL's own words are the finding. OpenSSL accepting
    never removes a failure our checks found: the stricter verdict wins."""
    leaf = "leaf " + chainmod.cn_of(report.sent[0])
    ours = [f for f in report.findings if f.check in ("chain", "dates") and f.level == "fail"]
    if not verdict.available:
        report.findings.append(Finding("chain", "fail", chain_file or leaf,
                                       "cannot be verified: %s" % verdict.message,
                                       "install the openssl package on this host (its verifier decides trust)"))
    elif not verdict.ok and ours:
        ours[0].fix += " (OpenSSL reports: %s)" % verdict.words
    elif not verdict.ok:
        report.findings.append(Finding("chain", "fail", leaf, "OpenSSL refuses the chain: %s" % verdict.words,
                                       "correct the certificate OpenSSL names (docs/troubleshooting.md explains "
                                       "the common X509 errors)"))
    return verdict.ok and report.anchor is not None and not ours


def _finish(out: dict, findings: List[Finding], started: float, request: Request, ran_chain: bool = False) -> dict:
    label = out["endpoint"]
    checks = {}
    ran = set()
    if out["source"] == "handshake":
        ran.add("handshake")
    if ran_chain:
        ran.update(("chain", "name", "dates", "key"))
        if request.revocation != "none":
            ran.add("revocation")
    if request.probe_policy and out.get("probes") is not None:
        ran.add("policy")
    for name in CHECKS:
        levels = {f.level for f in findings if f.check == name}
        checks[name] = ("fail" if "fail" in levels else "warn" if "warn" in levels
                        else "pass" if name in ran else "skipped")
    out["checks"] = checks
    out["failures"] = [f.as_dict(label) for f in findings if f.level == "fail"]
    out["warnings"] = [f.as_dict(label) for f in findings if f.level == "warn"]
    out["ok"] = not out["failures"]
    out["seconds"] = round(time.monotonic() - started, 3)
    return out


# ------------------------------------------------------------------ all endpoints

def _summary(res: dict) -> str:
    if res["source"] == "chain_file":
        head = "%s: chain for %s" % (res["endpoint"], res["host"])
    else:
        head = "%s: %s %s%s" % (res["endpoint"], res["protocol"], res["cipher"],
                                " on %s" % res["group"] if res["key_exchange"] == "ECDHE" else "")
    root = res["matched_root"]["name"] if res["matched_root"] else "?"
    return "%s, chain to %s, %s days left" % (head, root, res["days_remaining"])


def _prefixed(item: dict) -> dict:
    """The finding with its endpoint named first in msg (unless the object already is the endpoint)."""
    if item["object"] != item["endpoint"]:
        item = dict(item, msg="%s: %s" % (item["endpoint"], item["msg"]))
    return item


def validate(request: Request, cache: Optional[crlmod.CrlCache] = None) -> dict:
    """Validate every endpoint concurrently; return the module's result (never raises for peer defects).
    ``cache``: the CRLs fetched, for a caller that installs them (runtime_crl)."""
    started = time.monotonic()
    cache = cache or crlmod.CrlCache(timeout=request.timeout)
    workers = min(len(request.endpoints), MAX_ENDPOINT_WORKERS)
    probe_workers = MAX_PROBE_WORKERS if request.probe_policy else 1
    with ThreadPoolExecutor(max_workers=probe_workers, thread_name_prefix="tls-probe") as probe_pool:
        if workers == 1:
            results = [_validate_endpoint(request.endpoints[0], request, cache, probe_pool)]
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tls-endpoint") as pool:
                futures = [pool.submit(_validate_endpoint, ep, request, cache, probe_pool)
                           for ep in request.endpoints]
                results = [f.result() for f in futures]
    failures = [_prefixed(f) for res in results for f in res["failures"]]
    warnings = list(request.trust.warnings) + [_prefixed(w)["msg"] for res in results for w in res["warnings"]]
    bad = [r for r in results if not r["ok"]]
    if failures:
        msg = "%d defect%s on %d of %d endpoint%s: %s" % (
            len(failures), "" if len(failures) == 1 else "s", len(bad), len(results),
            "" if len(results) == 1 else "s", " | ".join(f["msg"] for f in failures))
    else:
        msg = "; ".join(_summary(r) for r in results)
    return {"ok": not failures, "msg": msg, "failures": failures, "warnings": warnings, "endpoints": results,
            "trust": request.trust.as_dict(), "crl_fetches": list(cache.fetches),
            "seconds": round(time.monotonic() - started, 3)}
