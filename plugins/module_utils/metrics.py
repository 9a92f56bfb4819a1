# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus textfile metrics from the validation results (the expiry and drift watch).

Input is what ``byoc.secure_trunk.tls_validate`` returns, labelled as the report phase labels
it (``{"name": ..., "result": ...}``), plus, read from the SBC, the installed certificate chain
and the run-time CRL bundle (PEM text). Output is node_exporter's textfile collector format
(the Prometheus text exposition format 0.0.4): a HELP and a TYPE line per metric, then its
samples, every metric a gauge. Nothing here connects anywhere, reads a file or imports Ansible.

Days left are whole days, ``(notAfter - audit time)`` rounded down, as the summary counts them
(x509.days_until), so a certificate that expired yesterday shows -1.
"""

from __future__ import annotations

import datetime
import math
import re
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from ansible_collections.byoc.secure_trunk.plugins.module_utils import crl as crlmod
from ansible_collections.byoc.secure_trunk.plugins.module_utils import report
from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509 as x509u
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import SecureTrunkError

PREFIX = "byoc_secure_trunk_"
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_CRL_BLOCK = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.S)
CERT_LABELS = ("sbc", "validation", "endpoint", "position", "index", "subject", "serial")

# name (without PREFIX) -> (label names, help). Every metric is a gauge; the order is the file's.
METRICS: Dict[str, Tuple[Tuple[str, ...], str]] = {
    "audit_timestamp_seconds": (
        ("sbc",), "Time of the audit, unix seconds (alert when it grows stale)."),
    "audit_ok": (
        ("sbc",), "1 when the audit found nothing that stops the secure trunk gate, 0 otherwise."),
    "defects": (
        ("sbc", "level"), "Defects the gate reports, by level (fail stops the gate, warn is a caution)."),
    "validation_completed": (
        ("sbc", "validation"), "1 when the validation ran and returned endpoint results, 0 when it was refused, "
                               "failed or skipped."),
    "endpoint_ok": (
        ("sbc", "validation", "endpoint"),
        "1 when every check of the endpoint passed (warnings allowed), 0 otherwise."),
    "check_compliant": (
        ("sbc", "validation", "endpoint", "check"),
        "Policy compliance per check of an endpoint: 1 pass or warn, 0 fail (skipped checks have no sample)."),
    "certificate_days_left": (
        CERT_LABELS, "Whole days until notAfter of each certificate of a peer's or the listener's chain, "
                     "by position (leaf, intermediate, trust anchor, unused)."),
    "certificate_not_after_timestamp_seconds": (
        CERT_LABELS, "notAfter of each certificate of a peer's or the listener's chain, unix seconds."),
    "sbc_certificate_days_left": (
        ("sbc", "path", "position", "index", "subject", "serial"),
        "Whole days until notAfter of each certificate of the chain installed on the SBC (leaf first)."),
    "sbc_certificate_not_after_timestamp_seconds": (
        ("sbc", "path", "position", "index", "subject", "serial"),
        "notAfter of each certificate of the chain installed on the SBC, unix seconds."),
    "crl_next_update_timestamp_seconds": (
        ("sbc", "validation", "endpoint", "subject", "url"),
        "nextUpdate of the CRL each certificate of a chain was checked against, unix seconds."),
    "runtime_crl_next_update_timestamp_seconds": (
        ("sbc", "path", "issuer"),
        "nextUpdate of each CRL in the run-time bundle Kamailio checks its peers against, unix seconds."),
}


class MetricsError(SecureTrunkError):
    """Input the formatter cannot turn into metrics (the object, the defect and the fix)."""


def escape_label_value(value: object) -> str:
    """A label value in the text format: backslash, double quote and line feed escaped."""
    return str(value).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def escape_help(text: str) -> str:
    """HELP text in the text format: backslash and line feed escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else repr(value)


def _parse_time(value: object, what: str) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    try:
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MetricsError(what, "is not an ISO 8601 time (%r)" % (value,),
                           "pass tls_validate's results unchanged") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _days_left(moment: datetime.datetime, now: datetime.datetime) -> int:
    return x509u.days_until(moment, now)


class _Collector:
    def __init__(self) -> None:
        self.samples: Dict[str, List[Tuple[Tuple[Tuple[str, str], ...], object]]] = {name: [] for name in METRICS}

    def add(self, name: str, value: Any, **labels: Any) -> None:
        names, _unused = METRICS[name]
        if set(labels) != set(names):
            raise ValueError("metric %s takes labels %s, got %s" % (name, names, sorted(labels)))
        key = tuple((label, "" if labels[label] is None else str(labels[label])) for label in names)
        if any(existing == key for existing, _value in self.samples[name]):
            return  # the same series once (a CRL shared by several certificates of one endpoint)
        self.samples[name].append((key, value))


def _chain_samples(out: _Collector, sbc: str, validation: str, ep: dict, now: datetime.datetime) -> None:
    endpoint = ep.get("endpoint") or "?"
    for index, entry in enumerate(ep.get("chain") or []):
        if not entry.get("not_after"):
            continue
        end = _parse_time(entry["not_after"], "%s: chain entry %d notAfter" % (endpoint, index))
        labels = dict(sbc=sbc, validation=validation, endpoint=endpoint, position=entry.get("role") or "?",
                      index=index, subject=entry.get("subject") or "", serial=entry.get("serial") or "")
        out.add("certificate_days_left", _days_left(end, now), **labels)
        out.add("certificate_not_after_timestamp_seconds", int(end.timestamp()), **labels)
    for item in ep.get("crl") or []:
        if not item.get("next_update"):
            continue
        nxt = _parse_time(item["next_update"], "%s: CRL nextUpdate" % endpoint)
        out.add("crl_next_update_timestamp_seconds", int(nxt.timestamp()), sbc=sbc, validation=validation,
                endpoint=endpoint, subject=item.get("subject") or "", url=item.get("url") or "")


def runtime_crls(pem: Union[str, bytes, None], path: str = "") -> List[dict]:
    """The CRLs of a run-time bundle (PEM text): issuer and nextUpdate of each, in the bundle's order,
    and ``url``, where it was read (the bundle and the issuer; the report phase's CRL line shows it)."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else (pem or b"")
    out = []
    for number, block in enumerate(_CRL_BLOCK.findall(data), 1):
        try:
            crl = crlmod.load_crl(block)
        except ValueError as exc:
            raise MetricsError("%s: CRL %d" % (path or "run-time CRL bundle", number),
                               "is not a readable CRL (%s)" % exc,
                               "let byoc-crl-refresh rewrite the bundle (run it on the SBC, or re-run secure_trunk.yml)"
                               ) from None
        nxt = crlmod.crl_next_update(crl)
        issuer = crl.issuer.rfc4514_string()
        out.append({"issuer": issuer, "url": "%s: %s" % (path or "run-time CRL bundle", issuer),
                    "next_update": nxt.strftime("%Y-%m-%dT%H:%M:%SZ") if nxt else None})
    return out


def collect(results: Sequence, sbc: str, now: Optional[float] = None, sbc_certificate: Union[str, bytes, None] = None,
            sbc_certificate_path: str = "", runtime_crl_bundle: Union[str, bytes, None] = None,
            runtime_crl_path: str = "") -> _Collector:
    """Every sample of one SBC's audit. ``now``: the audit time, unix seconds (default: now)."""
    if not isinstance(results, (list, tuple)):
        raise MetricsError("validation results", "are not a list", "pass the labelled tls_validate results")
    if not sbc:
        raise MetricsError("sbc", "is empty", "name the SBC (inventory_hostname)")
    stamp = time.time() if now is None else float(now)
    moment = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)
    out = _Collector()
    out.add("audit_timestamp_seconds", stamp, sbc=sbc)
    blocking = report.blocking_defects(results)
    out.add("audit_ok", 0 if blocking else 1, sbc=sbc)
    out.add("defects", len(blocking), sbc=sbc, level="fail")
    out.add("defects", sum(1 for line in report.defects(results) if line.startswith("WARN ")), sbc=sbc, level="warn")
    for validation, result in report.labelled(results):
        endpoints = result.get("endpoints") or []
        out.add("validation_completed", 1 if endpoints and not result.get("skipped") else 0,
                sbc=sbc, validation=validation)
        for ep in endpoints:
            endpoint = ep.get("endpoint") or "?"
            out.add("endpoint_ok", 1 if ep.get("ok") else 0, sbc=sbc, validation=validation, endpoint=endpoint)
            for check, status in sorted((ep.get("checks") or {}).items()):
                if status in ("pass", "warn", "fail"):
                    out.add("check_compliant", 0 if status == "fail" else 1, sbc=sbc, validation=validation,
                            endpoint=endpoint, check=check)
            _chain_samples(out, sbc, validation, ep, moment)
    if sbc_certificate:
        certs = x509u.load_certificates(sbc_certificate, sbc_certificate_path or "the SBC certificate")
        for index, cert in enumerate(certs):
            end = x509u.not_after(cert)
            labels = dict(sbc=sbc, path=sbc_certificate_path, position="leaf" if index == 0 else "intermediate",
                          index=index, subject=cert.subject.rfc4514_string(), serial="%X" % cert.serial_number)
            out.add("sbc_certificate_days_left", _days_left(end, moment), **labels)
            out.add("sbc_certificate_not_after_timestamp_seconds", int(end.timestamp()), **labels)
    if runtime_crl_bundle:
        for item in runtime_crls(runtime_crl_bundle, runtime_crl_path):
            if item["next_update"]:
                out.add("runtime_crl_next_update_timestamp_seconds",
                        int(_parse_time(item["next_update"], "CRL nextUpdate").timestamp()),
                        sbc=sbc, path=runtime_crl_path, issuer=item["issuer"])
    return out


def render(collected: _Collector) -> str:
    """The text format: per metric with samples, HELP, TYPE gauge, then one line per sample."""
    lines: List[str] = []
    for name, (_labels, text) in METRICS.items():
        samples = collected.samples[name]
        if not samples:
            continue
        full = PREFIX + name
        lines.append("# HELP %s %s" % (full, escape_help(text)))
        lines.append("# TYPE %s gauge" % full)
        for key, value in samples:
            labels = ",".join('%s="%s"' % (label, escape_label_value(val)) for label, val in key)
            lines.append("%s{%s} %s" % (full, labels, format_value(value)))
    return "\n".join(lines) + "\n"


def metrics_text(results: Sequence, sbc: str, now: Optional[float] = None, **sources: Any) -> str:
    """``collect`` then ``render``: the file node_exporter's textfile collector reads."""
    return render(collect(results, sbc, now, **sources))


def names_and_labels() -> Iterable[Tuple[str, Tuple[str, ...]]]:
    """Every metric's full name and label names (for tests and the docs)."""
    return [(PREFIX + name, labels) for name, (labels, _text) in METRICS.items()]
