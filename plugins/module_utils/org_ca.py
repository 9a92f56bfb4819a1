# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""BYOC Premises (R16): the organisation's certificate authority that signs the Edges' TLS certificates.

Nothing here writes files or imports Ansible: the ``org_ca`` module applies the result.

Sources: PEM/DER bytes (a file or inline content), or the Genesys Cloud Platform API
``GET /api/v2/telephony/providers/edges/certificateauthorities`` (a paged
``CertificateAuthorityEntityListing`` of ``DomainCertificateAuthority`` objects).

Fields relied on, per ``DomainCertificateAuthority`` in the Platform API model:

* ``type``: ``MANAGED`` (generated and maintained by Genesys, read-only) or ``REMOTE``
  (customer managed);
* ``services``: list of ``SIP``, ``PROVISION``, ``PROVISION_PHONE``;
* ``state``: ``active``, ``inactive`` or ``deleted`` (optional; absent counts as active);
* ``certificate``: the authority's X.509 certificate(s), PEM;
* ``name``, ``id``, ``selfUri``: to name the authority in results and errors.
  (``certificateDetails`` is informational only: dates are read from the certificate.)

Choice rule: keep authorities that are ``MANAGED``, list ``SIP`` among their services and are
not ``inactive``/``deleted`` (and, when ``name`` is given, carry that name, any case). Each
must parse and be a CA certificate (basicConstraints CA:TRUE, keyUsage keyCertSign) within
its dates. One left: that one. Several: the one whose certificate ends last, with a warning
naming the others. None: an error naming what the organisation has and how to fix it.
"""

from __future__ import annotations

import datetime
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy, x509
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import (
    CertificateError,
    FetchError,
    PolicyError,
    SecureTrunkError,
)

_cx509: Any
try:
    from cryptography import x509 as _cx509
except ImportError:  # reported by the module (x509.HAS_CRYPTOGRAPHY)
    _cx509 = None

CA_PATH = "/api/v2/telephony/providers/edges/certificateauthorities"
ENV_CLIENT_ID = "GENESYSCLOUD_OAUTHCLIENT_ID"
ENV_CLIENT_SECRET = "GENESYSCLOUD_OAUTHCLIENT_SECRET"
ENV_REGION = "GENESYSCLOUD_REGION"
EXPIRY_WARNING_DAYS = 30
MANAGED = "MANAGED"
SIP = "SIP"
_UNUSABLE_STATES = ("inactive", "deleted")
_FIX_DOWNLOAD = ("download the organisation's certificate authority from Genesys Cloud (Admin > Telephony > "
                 "Certificate Authorities) or use the API source")


@dataclass
class OrgCA:
    """The organisation CA as obtained, checked and ready to write."""

    certs: list  # cryptography x509.Certificate, the authority first
    source: str  # src | content | api
    label: str  # a path, "content", or the API URL
    authority: Optional[dict] = None  # id, name, type, services, state, self_uri (API only)
    warnings: List[str] = field(default_factory=list)
    pages: int = 0

    @property
    def cert(self) -> x509.Certificate:
        return self.certs[0]

    @property
    def pem(self) -> bytes:
        """What goes into ``dest``: a short comment, then every certificate as PEM."""
        name = (self.authority or {}).get("name") or x509.display_name(self.cert.subject)
        name = " ".join(str(name).split())  # one comment line, whatever the API sends
        head = "# Genesys Cloud organisation certificate authority: %s\n# SHA-256 %s\n" % (
            name, x509.sha256_hex(x509.der_bytes(self.cert)))
        return (head + "".join(x509.pem_text(c) for c in self.certs)).encode("utf-8")

    def describe(self, now: Optional[datetime.datetime] = None) -> dict:
        info = x509.summary(self.cert)
        info.update(
            days_left=x509.days_until(x509.not_after(self.cert), now),
            source=self.source,
            authority=self.authority,
            certificates=[x509.summary(c) for c in self.certs],
        )
        return info


# -------------------------------------------------------------- checks


def check_ca_certificate(cert: x509.Certificate, label: str, now: Optional[datetime.datetime] = None) -> None:
    """Refuse anything but a CA certificate (CA:TRUE, keyCertSign) inside its validity dates."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    name = "%s (%s)" % (label, cert.subject.rfc4514_string())
    try:
        basic = cert.extensions.get_extension_for_class(_cx509.BasicConstraints).value
    except _cx509.ExtensionNotFound:
        basic = None
    if basic is None or not basic.ca:
        raise CertificateError(
            name,
            "is not a CA certificate (basicConstraints CA:TRUE is %s)" % ("missing" if basic is None else "false"),
            "give the organisation's certificate authority, not an Edge's or the SBC's server certificate; "
            + _FIX_DOWNLOAD)
    try:
        usage = cert.extensions.get_extension_for_class(_cx509.KeyUsage).value
    except _cx509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.key_cert_sign:
        raise CertificateError(
            name, "may not sign certificates (keyUsage keyCertSign is %s)" % ("missing" if usage is None else "off"),
            "give the certificate authority that issues the Edge certificates; " + _FIX_DOWNLOAD)
    if x509.not_after(cert) < now:
        raise CertificateError(
            name, "expired on %s (notAfter)" % x509.not_after(cert).strftime("%Y-%m-%d %H:%M:%SZ"),
            "fetch the organisation's current authority again (Genesys renews managed authorities) "
            "or check the system clock")
    if x509.not_before(cert) > now:
        raise CertificateError(
            name, "is not valid before %s (notBefore)" % x509.not_before(cert).strftime("%Y-%m-%d %H:%M:%SZ"),
            "check the system clock (NTP) of the host running the task")


def load_checked(data: Union[str, bytes], label: str, now: Optional[datetime.datetime] = None) -> list:
    """PEM (one or more certificates) or DER -> certificates, each checked as a CA."""
    certs = x509.load_certificates(data, label)
    for cert in certs:
        check_ca_certificate(cert, label, now)
    return certs


def expiry_warnings(certs: Sequence[x509.Certificate], label: str,
                    now: Optional[datetime.datetime] = None) -> List[str]:
    """A warning for each certificate that ends within EXPIRY_WARNING_DAYS."""
    found = []
    for cert in certs:
        days = x509.days_until(x509.not_after(cert), now)
        if days < EXPIRY_WARNING_DAYS:
            found.append("%s (%s): expires in %d days, on %s; Genesys renews managed authorities: run this again "
                         "after the renewal so the Edges' new certificates are trusted" % (
                             label, cert.subject.rfc4514_string(), days, x509.not_after(cert).strftime("%Y-%m-%d")))
    return found


def from_bytes(data: Union[str, bytes], label: str, source: str, now: Optional[datetime.datetime] = None) -> OrgCA:
    certs = load_checked(data, label, now)
    return OrgCA(certs, source, label, warnings=expiry_warnings(certs, label, now))


# ------------------------------------------------------------- selection


def _describe_entity(entity: Mapping) -> dict:
    return {
        "id": entity.get("id"),
        "name": entity.get("name"),
        "type": entity.get("type"),
        "services": list(entity.get("services") or []),
        "state": entity.get("state"),
        "self_uri": entity.get("selfUri"),
    }


def _entity_label(entity: Mapping, url: str) -> str:
    return "certificate authority %r (id %s) from %s" % (entity.get("name"), entity.get("id") or "?", url)


def candidates(entities: Sequence[Mapping], name: Optional[str] = None) -> List[Mapping]:
    """Authorities that may sign Edge certificates, per the choice rule (no certificate checks)."""
    found = []
    for entity in entities:
        if str(entity.get("type") or "").upper() != MANAGED:
            continue
        if SIP not in [str(s).upper() for s in entity.get("services") or []]:
            continue
        if str(entity.get("state") or "active").lower() in _UNUSABLE_STATES:
            continue
        if name is not None and str(entity.get("name") or "").lower() != name.lower():
            continue
        found.append(entity)
    return found


def choose(entities: Sequence[Mapping], url: str, name: Optional[str] = None,
           now: Optional[datetime.datetime] = None) -> Tuple[Mapping, list, List[str]]:
    """(entity, checked certificates, warnings) of the organisation's Edge-signing authority."""
    if not entities:
        raise FetchError(
            url, "the organisation has no certificate authorities",
            "check that the OAuth client belongs to the organisation that runs the BYOC Premises Edges "
            "(region, org), or give src/content with the CA downloaded from Genesys Cloud")
    pool = candidates(entities, name)
    if not pool:
        seen = "; ".join("%s (type %s, services %s, state %s)" % (
            e.get("name"), e.get("type"), ",".join(e.get("services") or []) or "none", e.get("state") or "-")
            for e in entities)
        wanted = "a MANAGED, SIP, active authority" + (" named %r" % name if name is not None else "")
        raise FetchError(
            url, "none of the organisation's certificate authorities is %s; found: %s" % (wanted, seen),
            ("check authority_name against the names found" if name is not None else
             "an organisation with BYOC Premises Edges has a Genesys-managed SIP authority; check region/org, "
             "or give src/content"))
    good, problems = [], []
    for entity in pool:
        label = _entity_label(entity, url)
        try:
            good.append((entity, load_checked(entity.get("certificate") or "", label, now)))
        except SecureTrunkError as exc:
            problems.append(exc)
    if not good:
        raise problems[0]
    good.sort(key=lambda item: (x509.not_after(item[1][0]), str(item[0].get("name") or "")), reverse=True)
    entity, certs = good[0]
    warnings = ["%s; skipped it" % exc for exc in problems]
    if len(good) > 1:
        others = ", ".join("%r (id %s)" % (e.get("name"), e.get("id")) for e, _unused in good[1:])
        warnings.append(
            "several managed SIP certificate authorities are usable; chose %r (id %s), the one valid longest, "
            "over %s; set authority_name to choose explicitly" % (entity.get("name"), entity.get("id"), others))
    return entity, certs, warnings


def from_api(client: Any, name: Optional[str] = None, now: Optional[datetime.datetime] = None) -> OrgCA:
    """Fetch every page of the listing, choose the authority, check it."""
    entities, pages = client.list_entities(CA_PATH)
    url = client.url_for(CA_PATH)
    entity, certs, warnings = choose(entities, url, name, now)
    warnings += expiry_warnings(certs, _entity_label(entity, url), now)
    return OrgCA(certs, "api", url, _describe_entity(entity), warnings, pages)


# ------------------------------------------------------------- inputs


def _https(url: str, option: str) -> str:
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme != "https" or not parts.netloc:
        raise PolicyError(
            "%s %r" % (option, url), "is not an https:// URL",
            "give the base address as https://host[:port] (credentials and tokens never travel in clear text)")
    return url.rstrip("/")


def endpoints(region: Optional[str] = None, api_base_url: Optional[str] = None,
              login_base_url: Optional[str] = None) -> Tuple[str, str]:
    """(API base URL, login base URL) from the region or the overrides."""
    reg = policy.get_region(region) if region else None
    if api_base_url:
        api = _https(api_base_url, "api_base_url")
    elif reg is not None:
        api = "https://" + reg.api_host
    else:
        raise PolicyError(
            "region", "is not set, and api_base_url is not given either",
            "give region (e.g. euc1 or eu-central-1), set %s, or give api_base_url" % ENV_REGION)
    if login_base_url:
        login = _https(login_base_url, "login_base_url")
    elif reg is not None:
        login = "https://" + reg.login_host
    else:
        parts = urllib.parse.urlsplit(api)
        if not parts.netloc.startswith("api."):
            raise PolicyError(
                "login_base_url", "cannot be derived from api_base_url %s (its host does not start with api.)" % api,
                "give login_base_url too, or region")
        login = urllib.parse.urlunsplit((parts.scheme, "login." + parts.netloc[4:], "", "", ""))
    return api, login


MAX_SECRET_FILE_BYTES = 4096


def read_secret_file(path: str) -> str:
    """The client secret from a file (first line, surrounding white space dropped).

    A file keeps the secret off every command line: module options travel inside the module's
    payload, but a task's ``environment:`` is rendered as ``NAME=value`` on the ``/bin/sh -c``
    line that starts the module, which ``-vvv`` prints and ``ps`` shows on the node."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SECRET_FILE_BYTES + 1)
    except OSError as exc:
        raise PolicyError("client_secret_file %s" % path, "cannot be read (%s)" % (exc.strerror or exc),
                          "check the path and its permissions on the host that runs the task") from None
    lines = data.decode("utf-8", "replace").strip().splitlines()
    if len(data) > MAX_SECRET_FILE_BYTES or not lines or not lines[0].strip():
        raise PolicyError("client_secret_file %s" % path, "does not hold a client secret (empty, or over %d "
                          "bytes)" % MAX_SECRET_FILE_BYTES, "put the OAuth client's secret alone in the file")
    return lines[0].strip()


def insecure_tls_warning(api: str, login: str) -> str:
    return ("validate_certs is false: the client credentials (HTTP Basic) and the access token are sent to "
            "%s and %s WITHOUT checking who answers; anyone on the path can take them. Use it only in a lab, "
            "or give ca_path (the mirror's or proxy's CA) and keep validate_certs true" % (login, api))


def require_credentials(client_id: Optional[str], client_secret: Optional[str]) -> Tuple[str, str]:
    missing = [n for n, v in (("client_id", client_id), ("client_secret", client_secret)) if not v]
    if missing:
        raise PolicyError(
            " and ".join(missing), "not set (needed to ask the Platform API)",
            "pass client_id and client_secret (no_log options, e.g. from a vault) or client_secret_file, or "
            "have %s and %s in the environment of the process that runs the module (never through the task's "
            "environment: keyword, which puts them on a command line), or give src/content instead"
            % (ENV_CLIENT_ID, ENV_CLIENT_SECRET))
    return str(client_id), str(client_secret)
