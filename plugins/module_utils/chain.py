# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline checks of a certificate chain as a TLS peer presented it.

Path building from the certificates *as sent* (no AIA fetching, R8) to a set
of trust anchors, then the name (R9), dates (R10) and key/usage (R2) checks.
Every check returns ``Finding`` objects: a check name, a level (``fail`` or
``warn``), and the object/defect/fix triple the errors module uses.

Works with cryptography 38 (Debian 12): signatures are verified with
``public_key().verify()``; no ``cryptography.x509.verification``.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence

from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509 as x509u
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import Finding

# One RFC 6125 matcher for the deploy-time verdict and Kamailio's run-time peer-name check.
from ansible_collections.byoc.secure_trunk.plugins.module_utils.peer_names import match_dns as _match_dns

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID
except ImportError:  # reported by the module through x509.HAS_CRYPTOGRAPHY
    pass

MIN_RSA_BITS = 2048
MAX_DEPTH = 8


@dataclass
class ChainReport:
    """The path found, and what each check found on it."""

    path: list = field(default_factory=list)  # certificates, leaf first, anchor last if matched
    sent: list = field(default_factory=list)  # as presented
    anchor: Optional[x509u.Certificate] = None  # the trust anchor the path ends in
    anchor_sent: bool = False  # the peer sent the root itself (harmless)
    findings: List[Finding] = field(default_factory=list)
    name_match: Optional[str] = None
    wildcard: bool = False
    san: List[str] = field(default_factory=list)
    days_remaining: Optional[int] = None
    chain_days_remaining: Optional[int] = None


cn_of = x509u.cn_of  # named here too: the chain checks' callers know it from chain
issuer_cn = x509u.issuer_cn


def _date(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d")


# ------------------------------------------------------------------ signatures

def signed_by(cert: x509u.Certificate, issuer: x509u.Certificate) -> bool:
    """True when ``issuer``'s public key verifies ``cert``'s signature."""
    try:
        key = issuer.public_key()
        hash_alg = cert.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey):
            pad: Any
            if cert.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
                salt = getattr(padding.PSS, "AUTO", padding.PSS.MAX_LENGTH)
                pad = padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=salt)
            else:
                pad = padding.PKCS1v15()
            key.verify(cert.signature, cert.tbs_certificate_bytes, pad, hash_alg)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hash_alg))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, hash_alg)
        else:  # Ed25519 / Ed448
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        return True
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False


def is_self_issued(cert: x509u.Certificate) -> bool:
    return cert.subject == cert.issuer


def _is_ca(cert: x509u.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _same(a: x509u.Certificate, b: x509u.Certificate) -> bool:
    return x509u.der_bytes(a) == x509u.der_bytes(b)


# ------------------------------------------------------------------ path

def _valid_at(cert: x509u.Certificate, now: Optional[datetime.datetime]) -> bool:
    return now is None or x509u.not_before(cert) <= now <= x509u.not_after(cert)


def _search(path: list, pool: Sequence, anchors: Sequence, now: Optional[datetime.datetime]) -> Optional[tuple]:
    """Depth-first search for a path to an anchor, backtracking over candidate issuers the way
    OpenSSL does: anchors first, then issuers valid at ``now``, then the rest, in the order sent.
    Returns (path, anchor) or None."""
    cur = path[-1]
    for anchor in anchors:
        if _same(cur, anchor):
            return path, anchor
    by_date = sorted(anchors, key=lambda a: not _valid_at(a, now))
    for anchor in by_date:
        if anchor.subject == cur.issuer and signed_by(cur, anchor):
            return path + [anchor], anchor
    if len(path) > MAX_DEPTH:
        return None
    candidates = [c for c in pool if c.subject == cur.issuer and not any(_same(c, p) for p in path)]
    candidates.sort(key=lambda c: not _valid_at(c, now))  # stable: the order sent breaks ties
    for cand in candidates:
        if signed_by(cur, cand):
            found = _search(path + [cand], pool, anchors, now)
            if found is not None:
                return found
    return None


def build_path(sent: Sequence, anchors: Sequence, report: ChainReport, now: Optional[datetime.datetime] = None) -> None:
    """A path from the leaf through the sent certificates to an anchor (backtracking across
    expired duplicates, cross-signs and any order); when there is none, the greedy walk that
    names the link that breaks."""
    leaf = sent[0]
    found = _search([leaf], list(sent[1:]), list(anchors), now)
    if found is not None:
        report.path, report.anchor = found
        report.anchor_sent = len(report.path) > 1 and any(_same(c, report.anchor) for c in sent[1:])
        return
    _greedy_path(sent, anchors, report)


def _greedy_path(sent: Sequence, anchors: Sequence, report: ChainReport) -> None:
    """Walk from the leaf through the sent certificates to an anchor; record what breaks."""
    leaf = sent[0]
    pool = list(sent[1:])
    path = [leaf]
    report.path = path
    anchor_list = list(anchors)
    while len(path) <= MAX_DEPTH:
        cur = path[-1]
        candidates = [c for c in pool if c.subject == cur.issuer and not _same(c, cur)]
        good = [c for c in candidates if signed_by(cur, c)]
        if good:
            nxt = good[0]
            pool = [c for c in pool if c is not nxt]
            path.append(nxt)
            continue
        report.findings.append(_broken_link(cur, leaf, candidates, anchor_list))
        return
    report.findings.append(Finding("chain", "fail", cn_of(leaf), "chain is longer than %d certificates" % MAX_DEPTH,
                                   "send the leaf and its intermediates only"))


def _broken_link(cur: x509u.Certificate, leaf: x509u.Certificate, candidates: Sequence[x509u.Certificate],
                 anchors: Sequence[x509u.Certificate]) -> Finding:
    who = "leaf " + cn_of(cur) if cur is leaf else cn_of(cur)
    look_alike = [a for a in anchors if a.subject == cur.issuer]
    if candidates:
        return Finding("chain", "fail", who,
                       "its signature does not verify with the key of the sent issuer %s" % cn_of(candidates[0]),
                       "send the intermediate that actually issued it (a re-issued CA has a new key)")
    if look_alike:
        return Finding("chain", "fail", who,
                       "issuer name matches trust anchor %s, but the anchor's key does not verify its signature"
                       % cn_of(look_alike[0]),
                       "the chain leads to a different (re-keyed or look-alike) root: trust the real root")
    if is_self_issued(cur):
        if cur is leaf:
            return Finding("chain", "fail", who, "is self-signed and not a trust anchor (R8: an unsigned or "
                           "self-issued certificate fails)", "use a certificate from one of the public CAs "
                           "Genesys accepts, sent with its intermediates")
        return Finding("chain", "fail", who, "the chain ends in this self-signed root, which is not a trust anchor",
                       "trust that root (ca_file) or use a certificate that chains to a trusted root")
    if not anchors:
        return Finding("chain", "fail", who, "no trust anchors to verify against",
                       "give ca_file, region or public_cas")
    return Finding("chain", "fail", who,
                   "incomplete chain: the issuer of %s (%s) was not sent and is not a trust anchor"
                   % (cn_of(cur), issuer_cn(cur)),
                   "send the leaf and every intermediate in the handshake (R8), or trust the root it chains to")


def check_ca_links(report: ChainReport) -> None:
    """Every certificate used as an issuer must be a CA."""
    for issuer in report.path[1:]:
        if report.anchor is not None and _same(issuer, report.anchor):
            continue
        if not _is_ca(issuer):
            report.findings.append(Finding("chain", "fail", cn_of(issuer),
                                           "issues %s but is not a CA (basicConstraints CA is not true)"
                                           % cn_of(report.path[report.path.index(issuer) - 1]),
                                           "send the real intermediate CA certificate"))


def _ext(cert: x509u.Certificate, cls: type) -> Any:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _dns_within(name: str, base: str) -> bool:
    """RFC 5280 4.2.1.10 for dNSName: ``base`` covers itself and every name below it
    (a leading dot: only names below it)."""
    name, base = name.lower().rstrip("."), base.lower().rstrip(".")
    if not base:
        return True
    if base.startswith("."):
        return name.endswith(base)
    return name == base or name.endswith("." + base)


def _dns_names(cert: x509u.Certificate) -> List[str]:
    san = _ext(cert, x509.SubjectAlternativeName)
    return [str(n) for n in san.get_values_for_type(x509.DNSName)] if san is not None else []


def _name_constraint_finding(ca: x509u.Certificate, below: Sequence[x509u.Certificate], report: ChainReport) -> None:
    constraints = _ext(ca, x509.NameConstraints)
    if constraints is None:
        return
    permitted = [str(n.value) for n in constraints.permitted_subtrees or () if isinstance(n, x509.DNSName)]
    excluded = [str(n.value) for n in constraints.excluded_subtrees or () if isinstance(n, x509.DNSName)]
    for cert in below:
        for name in _dns_names(cert):
            bad = [e for e in excluded if _dns_within(name, e)]
            if bad:
                defect = "name constraints exclude %s (excluded: %s), which %s carries" % (name, bad[0], cn_of(cert))
            elif permitted and not any(_dns_within(name, p) for p in permitted):
                defect = ("name constraints permit only %s, and %s carries %s"
                          % (", ".join(permitted), cn_of(cert), name))
            else:
                continue
            report.findings.append(Finding("chain", "fail", cn_of(ca), defect,
                                           "issue the certificate from a CA whose name constraints allow %s" % name))
            return


def check_constraints(report: ChainReport) -> None:
    """What OpenSSL checks on a path beyond signatures: key usage of issuers, path length, name
    constraints, issuer EKU, unknown critical extensions. These explain a refusal; the verdict is
    OpenSSL's (verifier.py)."""
    path = report.path
    leaf_is_anchor = report.anchor is not None and len(path) == 1
    for index, cert in enumerate(path):
        is_anchor = report.anchor is not None and _same(cert, report.anchor)
        for ext in cert.extensions:
            if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
                report.findings.append(Finding("chain", "fail", ("leaf " if index == 0 else "") + cn_of(cert),
                                               "carries an unknown critical extension (%s)" % ext.oid.dotted_string,
                                               "reissue it without that extension, or mark it non-critical"))
        if index == 0 or leaf_is_anchor:
            continue
        below = path[index - 1]
        usage = _ext(cert, x509.KeyUsage)
        if usage is not None and not usage.key_cert_sign and _is_ca(cert):  # a non-CA: check_ca_links says so
            report.findings.append(Finding("chain", "fail", cn_of(cert), "issues %s but its key usage lacks "
                                           "keyCertSign" % cn_of(below),
                                           "reissue the CA certificate with keyCertSign in its key usage"))
        constraints = _ext(cert, x509.BasicConstraints)
        # CAs between this one and the leaf (self-issued ones do not count, RFC 5280 4.2.1.9)
        under = [c for c in path[1:index] if not is_self_issued(c)]
        if constraints is not None and constraints.ca and constraints.path_length is not None \
                and len(under) > constraints.path_length:
            report.findings.append(Finding("chain", "fail", cn_of(cert), "allows %d CA certificate%s below it "
                                           "(pathLenConstraint), but the chain has %d (%s)"
                                           % (constraints.path_length, "" if constraints.path_length == 1 else "s",
                                              len(under), ", ".join(cn_of(c) for c in under)),
                                           "use a shorter chain, or a CA whose pathLenConstraint allows it"))
        eku = _ext(cert, x509.ExtendedKeyUsage)
        if not is_anchor and eku is not None and not {ExtendedKeyUsageOID.SERVER_AUTH,
                                                      ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE} & set(eku):
            names = ", ".join(getattr(o, "_name", o.dotted_string) for o in eku)
            report.findings.append(Finding("chain", "fail", cn_of(cert), "its extended key usage (%s) does not "
                                           "allow TLS server authentication, so it cannot issue server "
                                           "certificates" % names,
                                           "use an intermediate whose EKU includes serverAuth (or has no EKU)"))
        _name_constraint_finding(cert, path[:index], report)


def check_extra_sent(report: ChainReport) -> None:
    """Certificates sent beside a complete path (a broken path is reported once, by build_path)."""
    if report.anchor is None:
        return
    used = {x509u.der_bytes(c) for c in report.path}
    for cert in report.sent[1:]:
        if x509u.der_bytes(cert) not in used:
            report.findings.append(Finding("chain", "warn", cn_of(cert), "was sent but is not part of the chain",
                                           "remove it from the certificate file"))


# ------------------------------------------------------------------ name (R9)

def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return False


def check_name(leaf: x509u.Certificate, host: str, report: ChainReport) -> None:
    obj = "leaf " + cn_of(leaf)
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        ips = [str(i) for i in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns, ips = [], []
    cns = x509u.name_values(leaf.subject, NameOID.COMMON_NAME)
    report.san = ["DNS:" + d for d in dns] + ["IP:" + i for i in ips]
    for name in dns:
        if _match_dns(name, host):
            report.name_match = "%s (SAN)" % name
            report.wildcard = name.startswith("*")
            break
    if report.name_match is None and not dns:
        for name in cns:
            if _match_dns(name, host):
                report.name_match = "%s (CN)" % name
                report.wildcard = name.startswith("*")
                report.findings.append(Finding("name", "warn", obj, "names %s only in the CN, there is no SAN" % host,
                                               "reissue with DNS:%s in the subjectAltName; many clients ignore "
                                               "the CN" % host))
                break
    if report.name_match is None:
        if dns and any(_match_dns(c, host) for c in cns):
            defect = ("names %s only in the CN while the SAN lists %s, and clients ignore the CN when a SAN is "
                      "present" % (host, ", ".join(dns)))
        else:
            listed = ", ".join(report.san + ["CN=" + c for c in cns]) or "no names"
            defect = "does not name %s (it names %s)" % (host, listed)
        report.findings.append(Finding("name", "fail", obj, defect,
                                       "reissue it with DNS:%s in the subjectAltName, or connect by a name it "
                                       "carries (R9; IP addresses are not acceptable)" % host))
    elif report.wildcard:
        report.findings.append(Finding("name", "warn", obj, "matches %s only through the wildcard %s"
                                       % (host, report.name_match),
                                       "prefer an exact name: some SIP devices refuse wildcard certificates (R13)"))


# ------------------------------------------------------------------ dates (R10)

def check_dates(report: ChainReport, now: datetime.datetime, min_days: int) -> None:
    remaining = []
    for index, cert in enumerate(report.path):
        is_anchor = report.anchor is not None and _same(cert, report.anchor)
        role = "leaf " if index == 0 else ("trust anchor " if is_anchor else "")
        obj = role + cn_of(cert)
        start, end = x509u.not_before(cert), x509u.not_after(cert)
        days = x509u.days_until(end, now)
        remaining.append(days)
        if index == 0:
            report.days_remaining = days
        if end < now:
            report.findings.append(Finding("dates", "fail", obj, "certificate expired on %s (notAfter)" % _date(end),
                                           "renew it or check the system clock"))
        elif start > now:
            report.findings.append(Finding("dates", "fail", obj, "certificate is not valid before %s (notBefore)"
                                           % _date(start), "check the system clock, or reissue it"))
        elif days < min_days:
            level = "warn" if is_anchor else "fail"
            report.findings.append(Finding("dates", level, obj, "certificate expires on %s, in %d days, inside the "
                                           "%d-day horizon (min_days_remaining)" % (_date(end), days, min_days),
                                           "renew it before then" if not is_anchor else
                                           "plan the move to the root's successor"))
    report.chain_days_remaining = min(remaining) if remaining else None


# ------------------------------------------------------------------ key and usage (R2)

def check_key(leaf: x509u.Certificate, report: ChainReport, need_ecdhe: bool = True, need_rsa_kx: bool = True) -> None:
    obj = "leaf " + cn_of(leaf)
    key = leaf.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        kind = ("EC (%s)" % key.curve.name) if isinstance(key, ec.EllipticCurvePublicKey) else type(key).__name__
        report.findings.append(Finding("key", "fail", obj, "has an %s key, but every BYOC cipher suite is "
                                       "RSA-authenticated (R2)" % kind,
                                       "reissue it with an RSA key of %d bits or more" % MIN_RSA_BITS))
    elif key.key_size < MIN_RSA_BITS:
        report.findings.append(Finding("key", "fail", obj, "has a %d-bit RSA key" % key.key_size,
                                       "reissue it with an RSA key of %d bits or more" % MIN_RSA_BITS))
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        allowed = {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
        if not allowed.intersection(eku):
            names = ", ".join(getattr(o, "_name", o.dotted_string) for o in eku)
            report.findings.append(Finding("key", "fail", obj, "extended key usage (%s) does not allow TLS server "
                                           "authentication" % names,
                                           "reissue it with serverAuth in the extended key usage"))
    except x509.ExtensionNotFound:
        pass
    try:
        ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    missing = []
    if need_ecdhe and not ku.digital_signature:
        missing.append(("digitalSignature", "the ECDHE_RSA suites"))
    if need_rsa_kx and not ku.key_encipherment:
        missing.append(("keyEncipherment", "the TLS_RSA suites"))
    if missing and len(missing) == int(need_ecdhe) + int(need_rsa_kx):
        report.findings.append(Finding("key", "fail", obj, "key usage lacks %s, so no policy suite can use this key"
                                       % " and ".join(m[0] for m in missing),
                                       "reissue it with digitalSignature and keyEncipherment"))
    else:
        for flag, suites in missing:
            report.findings.append(Finding("key", "warn", obj, "key usage lacks %s, so %s cannot use it"
                                           % (flag, suites), "reissue it with %s" % flag))


# ------------------------------------------------------------------ all of it

def analyse(sent: Sequence, anchors: Sequence, host: str, now: Optional[datetime.datetime] = None,
            min_days: int = 30, need_ecdhe: bool = True, need_rsa_kx: bool = True) -> ChainReport:
    """Run the chain, name, dates and key checks on a presented chain (leaf first)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    report = ChainReport(sent=list(sent))
    if not sent:
        report.findings.append(Finding("chain", "fail", host, "no certificate was presented",
                                       "configure the server certificate"))
        return report
    build_path(sent, anchors, report, now)
    check_ca_links(report)
    check_constraints(report)
    check_extra_sent(report)
    check_name(sent[0], host, report)
    check_dates(report, now, min_days)
    check_key(sent[0], report, need_ecdhe, need_rsa_kx)
    return report


def describe_chain(report: ChainReport) -> List[dict]:
    """Each certificate of the path (then any unused sent ones) for the result."""
    sent_der = [x509u.der_bytes(c) for c in report.sent]
    out = []
    for index, cert in enumerate(report.path):
        entry = x509u.summary(cert)
        is_anchor = report.anchor is not None and _same(cert, report.anchor)
        entry["role"] = "leaf" if index == 0 else ("trust anchor" if is_anchor else "intermediate")
        entry["sent"] = x509u.der_bytes(cert) in sent_der
        out.append(entry)
    used = {x509u.der_bytes(c) for c in report.path}
    for cert in report.sent:
        if x509u.der_bytes(cert) not in used:
            entry = x509u.summary(cert)
            entry.update(role="unused", sent=True)
            out.append(entry)
    return out


def anchor_summary(report: ChainReport) -> Optional[dict]:
    if report.anchor is None:
        return None
    out = x509u.summary(report.anchor)
    out["name"] = x509u.display_name(report.anchor.subject)
    return out
