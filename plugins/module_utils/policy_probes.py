# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The interpreter of the policy probes (tls_validate's ``probe_policy``).

The probes are a table in policy.py (``ProbeRule``: what is offered, whether a compliant peer
accepts or refuses it, the requirement, the words for a peer that does otherwise). This module
runs each row against one endpoint (``jobs``), asks again what a compliant peer must accept when
a concurrent probe was dropped (``retry_expected``), and turns the answers into the report and
findings (``interpret``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy
from ansible_collections.byoc.secure_trunk.plugins.module_utils import tls_probe as probe
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import Finding

ACCEPTED, REFUSED = "accepted", "refused"
# What answered a probe: a handshake, openssl s_client, or (families) the suites accepted and
# the handshake that ended the search.
Answer = Any


@dataclass(frozen=True)
class Job:
    """One probe to run: its row, and how to offer it."""

    rule: policy.ProbeRule
    run: Callable[[], Answer]


@dataclass
class Report:
    """What the probes found, as tls_validate returns it (``probes``)."""

    protocols: Dict[str, str] = field(default_factory=dict)
    non_policy_suites: Dict[str, object] = field(default_factory=dict)
    groups: Dict[str, str] = field(default_factory=dict)
    policy_suites: Dict[str, str] = field(default_factory=dict)
    client_certificate_requested: object = None

    def as_dict(self) -> Dict[str, object]:
        return {"protocols": self.protocols, "non_policy_suites": self.non_policy_suites, "groups": self.groups,
                "policy_suites": self.policy_suites,
                "client_certificate_requested": self.client_certificate_requested}


def refused(answer: Answer) -> bool:
    """The peer said no (an alert, a closed connection, no TLS answer), as opposed to no answer."""
    return getattr(answer, "error_kind", None) in ("alert", "closed", "tls")


# ------------------------------------------------------------------ running the table

def _offer(ep: probe.Endpoint, rule: policy.ProbeRule, suites: Sequence[policy.CipherSuite],
           openssl: Optional[str]) -> Callable[[], Answer]:
    """How the row's offer is made (looked up at call time: tests replace tls_probe's functions)."""
    names = ":".join(s.openssl for s in suites)
    if rule.kind == "protocol":
        ciphers = None if rule.offered == policy.PROTOCOLS[-1] else "ALL:COMPLEMENTOFALL"
        return lambda: probe.handshake(ep, versions=(rule.offered, rule.offered), ciphers=ciphers)
    if rule.kind == "group":
        curve, group = policy.ECDHE_GROUPS[rule.offered]
        if curve is None:  # not an EC curve to Python's ssl: only openssl s_client offers it
            return lambda: probe.s_client(ep, openssl, ciphers="ECDHE", group=group)
        return lambda: probe.handshake(ep, ciphers="ECDHE", group=rule.offered)
    if rule.kind == "suite":
        suite = policy.SUITES[rule.offered]
        return lambda: probe.handshake(ep, ciphers=suite.openssl, group=policy.ECDHE_GROUP)
    if rule.kind == "client certificate":
        own_group = policy.ECDHE_GROUPS[policy.ECDHE_GROUP][1]
        return lambda: probe.s_client(ep, openssl, ciphers=names, group=own_group)
    raise ValueError("no offer for probe kind %r" % rule.kind)


def _family_offer(ep: probe.Endpoint, members: Sequence[str]) -> Callable[[], Answer]:
    return lambda: probe.accepted_in(ep, members)


def jobs(ep: probe.Endpoint, suites: Sequence[policy.CipherSuite], openssl: Optional[str]) -> List[Job]:
    """Every row of the table as a job against ``ep``, in report order."""
    out = [Job(rule, _offer(ep, rule, suites, openssl)) for rule in policy.PROTOCOL_RULES]
    for family, members in probe.non_policy_families([s.openssl for s in suites]):
        out.append(Job(replace(policy.FAMILY_RULE, offered=family), _family_offer(ep, members)))
    out += [Job(rule, _offer(ep, rule, suites, openssl))
            for rule in policy.GROUP_RULES + policy.SUITE_RULES + (policy.CLIENT_CERTIFICATE_RULE,)]
    return out


def _expected(rule: policy.ProbeRule, suites: Sequence[policy.CipherSuite]) -> bool:
    """A compliant peer accepts what this row offers (with this cipher policy)."""
    if rule.expect == policy.ACCEPT:
        return True
    return rule.expect == policy.IN_POLICY and rule.offered in {s.iana for s in suites}


def retry_expected(ep: probe.Endpoint, suites: Sequence[policy.CipherSuite], todo: Sequence[Job],
                   answers: Dict[policy.ProbeRule, Answer]) -> List[Finding]:
    """Ask once more, one at a time, what a policy-compliant peer must accept (secp384r1, the policy's
    suites) when the concurrent probe was dropped; a peer that then accepts fails intermittently
    (a warning), not by configuration. Updates ``answers``; returns the warnings."""
    findings = []
    for job in todo:
        first = answers.get(job.rule)
        if (not _expected(job.rule, suites) or first is None or first.ok
                or not isinstance(first, probe.Handshake) or not refused(first)):
            continue
        again = job.run()
        if again.ok:
            answers[job.rule] = again
            findings.append(Finding("policy", "warn", ep.label,
                                    "the %s probe failed (%s), its retry succeeded: the peer fails intermittently"
                                    % (job.rule.name, first.error),
                                    "check the peer's TLS log (Kamailio 5.6 with OpenSSL 3 drops handshakes under "
                                    "concurrent ones, docs/kamailio.md)"))
    return findings


# ------------------------------------------------------------------ reading the answers

class _Reader:
    """Turns one endpoint's answers into its report and findings, row by row."""

    def __init__(self, ep: probe.Endpoint, suites: Sequence[policy.CipherSuite]) -> None:
        self.obj = ep.label
        self.suites = suites
        self.findings: List[Finding] = []
        self.report = Report()

    def violated(self, rule: policy.ProbeRule, **values: str) -> None:
        values.setdefault("policy_ciphers", ":".join(s.openssl for s in self.suites))
        defect, fix = rule.words(**values)
        self.findings.append(Finding("policy", rule.level, self.obj, defect, fix))

    def unknown(self, rule: policy.ProbeRule, answer: Answer) -> str:
        if rule.unknown:
            self.findings.append(Finding("policy", "warn", self.obj, "%s could not be probed: %s"
                                         % (rule.unknown % {"offered": rule.offered}, answer.error),
                                         "rerun when the peer is reachable"))
        return "unknown: %s" % answer.error

    def protocol(self, rule: policy.ProbeRule, hs: Answer) -> None:
        if hs.ok:
            self.report.protocols[rule.offered] = ACCEPTED
            self.violated(rule, cipher=hs.cipher)
        elif refused(hs):
            self.report.protocols[rule.offered] = REFUSED
        elif hs.error_kind == "local":
            self.report.protocols[rule.offered] = "not probed: %s" % hs.error
        else:
            self.report.protocols[rule.offered] = self.unknown(rule, hs)

    def family(self, rule: policy.ProbeRule, answer: Answer) -> None:
        accepted, last = answer
        if accepted:
            self.report.non_policy_suites[rule.offered] = accepted
            self.violated(rule, accepted=", ".join(accepted))
        elif last is not None and not refused(last) and last.error_kind != "local":
            self.report.non_policy_suites[rule.offered] = self.unknown(rule, last)
        else:
            self.report.non_policy_suites[rule.offered] = []

    def group(self, rule: policy.ProbeRule, res: Answer) -> None:
        if isinstance(res, probe.SClient) and not res.available:
            self.report.groups[rule.offered] = "not probed: %s" % res.error
            self.findings.append(Finding("policy", "warn", self.obj, "ECDHE on %s was not probed: %s"
                                         % (rule.offered, res.error),
                                         "install the openssl command on this host to probe it"))
        elif res.ok:
            self.report.groups[rule.offered] = ACCEPTED
            if not _expected(rule, self.suites):
                self.violated(rule)
        elif isinstance(res, probe.SClient) or refused(res):
            self.report.groups[rule.offered] = REFUSED
            if _expected(rule, self.suites):
                self.violated(rule)
        else:
            self.report.groups[rule.offered] = self.unknown(rule, res)

    def suite(self, rule: policy.ProbeRule, hs: Answer) -> None:
        state = ACCEPTED if hs.ok else (REFUSED if refused(hs) else self.unknown(rule, hs))
        self.report.policy_suites[rule.offered] = state
        if hs.ok and not _expected(rule, self.suites):
            self.violated(rule, openssl=policy.SUITES[rule.offered].openssl)

    def client_certificate(self, rule: policy.ProbeRule, cc: Answer) -> None:
        if cc.available and cc.ok:
            self.report.client_certificate_requested = cc.client_cert_requested
            if cc.client_cert_requested:
                self.violated(rule)
        elif not cc.available:
            self.report.client_certificate_requested = "not probed: %s" % cc.error

    def server_order(self, answers: Dict[policy.ProbeRule, Answer], main_cipher: Optional[str]) -> None:
        """A peer that prefers an RSA key exchange suite over the ECDHE ones it accepts."""
        ecdhe = [policy.SUITES[r.offered].openssl for r in policy.SUITE_RULES
                 if answers[r].ok and policy.SUITES[r.offered].kx == "ECDHE"]
        main = policy.suite_by_openssl_name(main_cipher) if main_cipher else None
        if main is not None and main.kx == "RSA" and ecdhe:
            self.findings.append(Finding("policy", "warn", self.obj, "prefers %s (RSA key exchange, no forward "
                                         "secrecy) over the ECDHE suites it accepts" % main.iana,
                                         "list %s first: the server's order decides" % ecdhe[0]))


ProbeReport = Tuple[Dict[str, object], List[Finding]]


def interpret(ep: probe.Endpoint, suites: Sequence[policy.CipherSuite], todo: Sequence[Job],
              answers: Dict[policy.ProbeRule, Answer], main_cipher: Optional[str]) -> ProbeReport:
    """The probes' report (``probes`` of an endpoint's result) and findings, in table order."""
    reader = _Reader(ep, suites)
    for rule in policy.PROTOCOL_RULES:
        reader.protocol(rule, answers[rule])
    reader.report.protocols[policy.TLS_VERSION] = ACCEPTED if main_cipher else REFUSED
    for rule in sorted((j.rule for j in todo if j.rule.kind == "family"), key=lambda r: r.offered):
        reader.family(rule, answers[rule])
    for rule in policy.GROUP_RULES:
        reader.group(rule, answers[rule])
    for rule in policy.SUITE_RULES:
        reader.suite(rule, answers[rule])
    reader.server_order(answers, main_cipher)
    reader.client_certificate(policy.CLIENT_CERTIFICATE_RULE, answers[policy.CLIENT_CERTIFICATE_RULE])
    return reader.report.as_dict(), reader.findings
