# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The BYOC secure-trunk policy: the single source of truth.

Regions and their proxies, the DigiCert roots each region chains to, the TLS
protocol, cipher-suite policies, the ECDHE group, and the public CAs Genesys
accepts for a customer's certificate. Modules, lookups, filters, templates and
tests all read this file; nothing here imports Ansible.

Requirement numbers (R1..R16) refer to docs/spec-corrections.md and the spec
digest. Every correction of the source text is listed in docs/spec-corrections.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import PolicyError

# R1: TLS 1.2 only, both directions.
TLS_VERSION = "TLSv1.2"
# Every protocol version the probes can name, oldest first (only TLS_VERSION is allowed).
PROTOCOLS = ("TLSv1.0", "TLSv1.1", TLS_VERSION, "TLSv1.3")
# R4: TLS-only listener.
SIP_TLS_PORT = 5061
# R3: ECDHE only on secp384r1 (NIST P-384).
ECDHE_GROUP = "secp384r1"
ECDHE_GROUP_ALIASES = ("secp384r1", "P-384", "prime384v1")
# The ECDHE groups the probes offer, by the name results use: (the curve name Python's
# set_ecdh_curve takes, or None when only ``openssl s_client -groups`` can offer it; the
# OpenSSL group name).
ECDHE_GROUPS: Dict[str, Tuple[Optional[str], str]] = {
    "P-256": ("prime256v1", "P-256"),
    "P-521": ("secp521r1", "P-521"),
    "X25519": (None, "X25519"),
    ECDHE_GROUP: ("secp384r1", "P-384"),
}

# ---------------------------------------------------------------- roots (R7)


@dataclass(frozen=True)
class Root:
    """A DigiCert root that Genesys BYOC Cloud endpoints chain to."""

    key: str  # short id used in options: ev, g2, g3
    name: str  # the certificate's common name
    sha256: str  # SHA-256 of the DER certificate, upper-case hex, no colons
    subject_hash: str  # OpenSSL subject-name hash (x509 -subject_hash)
    file_stem: str  # DigiCert's download file name without extension

    @property
    def der_url_path(self) -> str:
        return self.file_stem + ".crt"  # DigiCert serves DER as .crt

    @property
    def pem_url_path(self) -> str:
        return self.file_stem + ".crt.pem"

    @property
    def local_stem(self) -> str:
        """File name stem used when the roots are written to disk."""
        return self.name.replace(" ", "_")

    def as_dict(self, download_base: str = "") -> dict:
        base = (download_base or DIGICERT_DOWNLOAD_BASE).rstrip("/")
        return {
            "key": self.key,
            "name": self.name,
            "sha256": self.sha256,
            "subject_hash": self.subject_hash,
            "der_url": "%s/%s" % (base, self.der_url_path),
            "pem_url": "%s/%s" % (base, self.pem_url_path),
        }


DIGICERT_DOWNLOAD_BASE = "https://cacerts.digicert.com"

ROOTS: Dict[str, Root] = {
    r.key: r
    for r in (
        Root(
            "ev",
            "DigiCert High Assurance EV Root CA",
            "7431E5F4C3C1CE4690774F0B61E05440883BA9A01ED00BA6ABD7806ED3B118CF",
            "244b5494",
            "DigiCertHighAssuranceEVRootCA",
        ),
        Root(
            "g2",
            "DigiCert Global Root G2",
            "CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F",
            "607986c7",
            "DigiCertGlobalRootG2",
        ),
        Root(
            "g3",
            "DigiCert Global Root G3",
            "31AD6648F8104138C738F39EA4320133393E3A18CC02296EF97C2AC9EF6731D0",
            "dd8e9d41",
            "DigiCertGlobalRootG3",
        ),
    )
}

# A root family: the roots a region chains to today, and the ones Genesys
# advises trusting now so the coming migration does not break the trunk.
ROOT_FAMILIES: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    # family: (current, migration)
    "ev": (("ev",), ("g2", "g3")),
    "g2": (("g2",), ("g3",)),
}

# ---------------------------------------------------------------- regions


@dataclass(frozen=True)
class Region:
    """A Genesys Cloud region that offers BYOC Cloud trunks."""

    id: str
    name: str
    aws_name: str
    root_family: str
    voice_domain: str  # lbNN.voice.<voice_domain>
    cloud_domain: str  # api.<cloud_domain>, login.<cloud_domain>

    @property
    def endpoints(self) -> List[str]:
        # R14: four proxies, lb01..lb04, each by FQDN.
        return ["lb%02d.voice.%s" % (n, self.voice_domain) for n in range(1, 5)]

    def roots(self, strict: bool = False) -> List[Root]:
        current, migration = ROOT_FAMILIES[self.root_family]
        keys = current if strict else current + migration
        return [ROOTS[k] for k in keys]

    @property
    def api_host(self) -> str:
        return "api." + self.cloud_domain

    @property
    def login_host(self) -> str:
        return "login." + self.cloud_domain

    def as_dict(self, strict: bool = False) -> dict:
        current = ROOT_FAMILIES[self.root_family][0]
        return {
            "id": self.id,
            "name": self.name,
            "aws_name": self.aws_name,
            "endpoints": self.endpoints,
            "port": SIP_TLS_PORT,
            "transport": "tls",
            "tls_version": TLS_VERSION,
            "ecdhe_group": ECDHE_GROUP,
            "ecdhe_group_aliases": list(ECDHE_GROUP_ALIASES),
            "root_family": self.root_family,
            "roots": [dict(r.as_dict(), current=r.key in current) for r in self.roots(strict)],
            "strict_roots": strict,
            "api_host": self.api_host,
            "login_host": self.login_host,
        }


def _region(rid: str, name: str, aws: str, family: str, voice_domain: Optional[str] = None,
            cloud_domain: Optional[str] = None) -> Region:
    return Region(rid, name, aws, family, voice_domain or rid + ".pure.cloud", cloud_domain or rid + ".pure.cloud")


# The corrected catalogue (the source's errors are listed in docs/spec-corrections.md).
REGIONS: Dict[str, Region] = {
    r.id: r
    for r in (
        _region("use1", "US East (N. Virginia)", "us-east-1", "ev", cloud_domain="mypurecloud.com"),
        _region("use2", "US East 2 (Ohio), US government", "us-east-2", "ev",
                voice_domain="use2.us-gov-pure.cloud", cloud_domain="use2.us-gov-pure.cloud"),
        _region("usw2", "US West (Oregon)", "us-west-2", "ev"),
        _region("cac1", "Canada (Central)", "ca-central-1", "ev"),
        _region("sae1", "South America (Sao Paulo)", "sa-east-1", "ev"),
        _region("euw1", "Europe (Ireland)", "eu-west-1", "ev", cloud_domain="mypurecloud.ie"),
        _region("euw2", "Europe (London)", "eu-west-2", "ev"),
        _region("euc1", "Europe (Frankfurt)", "eu-central-1", "ev", cloud_domain="mypurecloud.de"),
        _region("euc2", "Europe (Zurich)", "eu-central-2", "g2"),
        _region("mec1", "Middle East (UAE)", "me-central-1", "g2"),
        _region("apne1", "Asia Pacific (Tokyo)", "ap-northeast-1", "ev", cloud_domain="mypurecloud.jp"),
        _region("apne2", "Asia Pacific (Seoul)", "ap-northeast-2", "ev"),
        _region("apse2", "Asia Pacific (Sydney)", "ap-southeast-2", "ev", cloud_domain="mypurecloud.com.au"),
        _region("aps1", "Asia Pacific (Mumbai)", "ap-south-1", "ev"),
        _region("apne3", "Asia Pacific (Osaka)", "ap-northeast-3", "g2"),
    )
}

_REGION_ALIASES: Dict[str, str] = {r.aws_name: r.id for r in REGIONS.values()}


def region_ids() -> List[str]:
    return list(REGIONS)


def get_region(name: str) -> Region:
    """Look a region up by id (``euc2``) or AWS name (``eu-central-2``), any case."""
    key = str(name or "").strip().lower()
    rid = key if key in REGIONS else _REGION_ALIASES.get(key)
    if rid is None:
        raise PolicyError(
            "region %r" % (name,),
            "is not a Genesys Cloud BYOC region",
            "use one of: %s (or its AWS name, e.g. eu-central-2)" % ", ".join(REGIONS),
        )
    return REGIONS[rid]


def resolve_regions(spec: Any) -> List[Region]:
    """``'all'``, one region, or a list of regions -> Region objects, no repeats."""
    names = spec if isinstance(spec, (list, tuple)) else [spec]
    if any(str(n).strip().lower() == "all" for n in names):
        return list(REGIONS.values())
    found: List[Region] = []
    for n in names:
        region = get_region(n)
        if region not in found:
            found.append(region)
    if not found:
        raise PolicyError("region", "is empty", "name at least one region, or 'all'")
    return found


def roots_for_regions(regions: Iterable[Region], strict: bool = False) -> List[Root]:
    """The union of the regions' roots, in policy order (ev, g2, g3)."""
    wanted = {r.key for region in regions for r in region.roots(strict)}
    return [root for key, root in ROOTS.items() if key in wanted]


# ---------------------------------------------------------------- ciphers (R2)


@dataclass(frozen=True)
class CipherSuite:
    iana: str
    openssl: str
    code: int  # IANA code point
    kx: str  # key exchange: ECDHE (forward secret) or RSA
    mode: str  # GCM or CBC


SUITES: Dict[str, CipherSuite] = {
    s.iana: s
    for s in (
        CipherSuite("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", 0xC030, "ECDHE", "GCM"),
        CipherSuite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", 0xC02F, "ECDHE", "GCM"),
        CipherSuite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", 0xC028, "ECDHE", "CBC"),
        CipherSuite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", 0xC014, "ECDHE", "CBC"),
        CipherSuite("TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", 0x009D, "RSA", "GCM"),
        CipherSuite("TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", 0x009C, "RSA", "GCM"),
        CipherSuite("TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", 0x003D, "RSA", "CBC"),
        CipherSuite("TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", 0x0035, "RSA", "CBC"),
    )
}


@dataclass(frozen=True)
class CipherPolicy:
    name: str
    description: str
    suites: Tuple[str, ...] = field(default_factory=tuple)  # IANA names, server-preference order


# Server preference order matters: Kamailio enforces it, and in the order the
# source lists the suites every client lands on AES256-SHA (no forward secrecy).
CIPHER_POLICIES: Dict[str, CipherPolicy] = {
    p.name: p
    for p in (
        CipherPolicy(
            "byoc-2019",
            "The eight suites of the Genesys specification (R2).",
            tuple(SUITES),
        ),
        CipherPolicy(
            "byoc-2025",
            "The specification's suites less the two SHA-2 CBC suites Genesys retired in 2025.",
            tuple(s for s in SUITES if s not in (
                "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "TLS_RSA_WITH_AES_256_CBC_SHA256")),
        ),
    )
}
DEFAULT_CIPHER_POLICY = "byoc-2019"


def get_cipher_policy(name: Optional[str] = None) -> CipherPolicy:
    key = name or DEFAULT_CIPHER_POLICY
    if key not in CIPHER_POLICIES:
        raise PolicyError(
            "cipher policy %r" % (name,),
            "is not defined",
            "use one of: %s" % ", ".join(CIPHER_POLICIES),
        )
    return CIPHER_POLICIES[key]


def policy_suites(spec: Union[None, str, Iterable[str]] = None) -> List[CipherSuite]:
    """A policy name, or a list of IANA suite names -> suites in policy order.

    A list keeps policy order, whatever order it was given in, because the
    listener's preference order is part of the policy.
    """
    if spec is None or isinstance(spec, str):
        return [SUITES[s] for s in get_cipher_policy(spec).suites]
    wanted = []
    for name in spec:
        key = str(name).strip().upper()
        if key not in SUITES:
            by_openssl = {s.openssl: s.iana for s in SUITES.values()}
            hint = (" (that is the OpenSSL name of %s)" % by_openssl[str(name).strip()]
                    if str(name).strip() in by_openssl else "")
            raise PolicyError(
                "cipher suite %r" % (name,),
                "is not a BYOC policy suite%s" % hint,
                "use IANA names from: %s" % ", ".join(SUITES),
            )
        wanted.append(key)
    if not wanted:
        raise PolicyError("cipher suites", "the list is empty", "name at least one policy suite, or a policy name")
    return [s for iana, s in SUITES.items() if iana in wanted]


def openssl_cipher_string(spec: Union[None, str, Iterable[str]] = None) -> str:
    return ":".join(s.openssl for s in policy_suites(spec))


def suite_by_openssl_name(name: str) -> Optional[CipherSuite]:
    for suite in SUITES.values():
        if suite.openssl == name:
            return suite
    return None


# ------------------------------------------------ public CAs Genesys accepts (R8)


@dataclass(frozen=True)
class PublicCA:
    vendor: str
    name: str  # the root's common name (or OU where it has no CN)
    subject_hash: str  # corrected: 8 lower-case hex digits
    source_hash: str = ""  # what the source printed, where it differs


# Names are the certificates' own (the source translated many of them).
# Hashes were computed from the certificates in Debian 12's ca-certificates
# where present (tests/unit re-check this); entries not in that bundle keep the
# source's value, normalised, and are reported as unverified by
# accepted_public_cas_report().
PUBLIC_CAS: Tuple[PublicCA, ...] = (
    PublicCA("Actalis", "Actalis Authentication Root CA", "930ac5d2"),
    PublicCA("Amazon Trust Services", "Amazon Root CA 1", "ce5e74ef"),
    PublicCA("Amazon Trust Services", "Amazon Root CA 2", "6d41d539"),
    PublicCA("Amazon Trust Services", "Amazon Root CA 3", "8cb5ee0f"),
    PublicCA("Amazon Trust Services", "Amazon Root CA 4", "de6d66f3"),
    PublicCA("Certum", "Certum CA", "442adcac"),
    PublicCA("Certum", "Certum Trusted Network CA", "48bec511"),
    PublicCA("Certum", "Certum Trusted Network CA 2", "40193066"),
    PublicCA("DigiCert", "DigiCert Global Root CA", "3513523f"),
    PublicCA("DigiCert", "DigiCert High Assurance EV Root CA", "244b5494"),
    PublicCA("DigiCert", "DigiCert Global Root G2", "607986c7"),
    PublicCA("DigiCert", "DigiCert Global Root G3", "dd8e9d41"),
    PublicCA("DigiCert", "DigiCert ECC P384 Root G5", "c1223238"),
    PublicCA("DigiCert", "DigiCert RSA4096 Root G5", "9ccd262b"),
    PublicCA("DigiCert", "DigiCert TLS ECC P384 Root G5", "9846683b"),
    PublicCA("DigiCert", "DigiCert TLS RSA4096 Root G5", "d52c538d"),
    PublicCA("DigiCert / QuoVadis", "QuoVadis Root CA 2", "d7e8dc79"),
    PublicCA("DigiCert / QuoVadis", "QuoVadis Root CA 3", "76faf6c0"),
    PublicCA("DigiCert / QuoVadis", "QuoVadis Root CA 1 G3", "749e9e03"),
    PublicCA("DigiCert / QuoVadis", "QuoVadis Root CA 2 G3", "064e0aa9"),
    PublicCA("DigiCert / QuoVadis", "QuoVadis Root CA 3 G3", "e18bfb83"),
    PublicCA("DigiCert / Thawte", "thawte Primary Root CA", "2e4eed3c"),
    PublicCA("DigiCert / Thawte", "thawte Primary Root CA - G2", "c089bbbd"),
    PublicCA("DigiCert / Thawte", "thawte Primary Root CA - G3", "ba89ed3b"),
    PublicCA("DigiCert / Thawte", "thawte Primary Root CA - G4", "854dca2b"),
    PublicCA("DigiCert / VeriSign", "VeriSign Class 3 Public Primary Certification Authority - G5", "b204d74a"),
    PublicCA("Entrust", "Entrust Root Certification Authority", "6b99d060"),
    PublicCA("Entrust", "Entrust.net Certification Authority (2048)", "aee5f10d"),
    PublicCA("Entrust", "Entrust Root Certification Authority - EC1", "106f3e4d"),
    PublicCA("Entrust", "Entrust Root Certification Authority - G2", "02265526"),
    PublicCA("Entrust", "Entrust Root Certification Authority - G3", "425d82a9"),
    PublicCA("Entrust", "Entrust Root Certification Authority - G4", "5e98733a"),
    PublicCA("GlobalSign", "GlobalSign Root E46", "feffd413", "413"),
    PublicCA("GlobalSign", "GlobalSign Root R46", "002c0b4f"),
    PublicCA("GlobalSign", "GlobalSign Root CA - R3", "062cdee6", "062cee6"),
    PublicCA("GlobalSign", "GlobalSign ECC Root CA - R4", "b0e59380"),
    PublicCA("GlobalSign", "GlobalSign ECC Root CA - R5", "1d3472b9"),
    PublicCA("GlobalSign", "GlobalSign Root CA - R6", "dc4d6a89"),
    PublicCA("GoDaddy / Starfield", "Go Daddy Class 2 Certification Authority", "f081611a"),
    PublicCA("GoDaddy / Starfield", "Go Daddy Root Certificate Authority - G2", "cbf06781"),
    PublicCA("GoDaddy / Starfield", "Go Daddy Root Certificate Authority - G3", "4b82aaf1"),
    PublicCA("GoDaddy / Starfield", "Go Daddy Root Certificate Authority - G4", "fd8d27e1", "FD8D27E1"),
    PublicCA("GoDaddy / Starfield", "Starfield Class 2 Certification Authority", "f387163d"),
    PublicCA("GoDaddy / Starfield", "Starfield Root Certificate Authority - G2", "4bfab552"),
    PublicCA("GoDaddy / Starfield", "Starfield Root Certificate Authority - G3", "3661ca00"),
    PublicCA("GoDaddy / Starfield", "Starfield Root Certificate Authority - G4", "978d3d03"),
    PublicCA("GoDaddy / Starfield", "Starfield Services Root Certificate Authority - G2", "09789157"),
    PublicCA("GoDaddy / Starfield / Amazon Trust Services", "Starfield Services Root Certificate Authority",
             "006016b6"),
    PublicCA("Internet Security Research Group (ISRG)", "ISRG Root X1", "4042bcee"),
    PublicCA("Internet Security Research Group (ISRG)", "ISRG Root X2", "0b9bc432"),
    PublicCA("Network Solutions", "Network Solutions Certificate Authority (Dec 2029)", "4304c5e5"),
    PublicCA("Network Solutions", "Network Solutions Certificate Authority (Dec 2030)", "4304c5e5"),
    PublicCA("Network Solutions", "Network Solutions EV SSL CA", "4df989ce", "4DF989CE"),
    PublicCA("Sectigo", "AAA Certificate Services", "ee64a828"),
    PublicCA("Sectigo", "AddTrust External CA Root", "157753a5"),
    PublicCA("Sectigo", "COMODO ECC Certification Authority", "eed8c118"),
    PublicCA("Sectigo", "COMODO RSA Certification Authority", "d6325660"),
    PublicCA("Sectigo", "USERTrust ECC Certification Authority", "f30dd6ad"),
    PublicCA("Sectigo", "USERTrust RSA Certification Authority", "fc5a8f99", "FC5A8F99"),
    PublicCA("Sectigo", "UTN-USERFirst-Hardware", "b13cc6df"),
    PublicCA("SwissSign", "SwissSign Silver CA - G2", "57bcb2da"),
    PublicCA("SwissSign", "SwissSign Gold CA - G2", "4f316efb"),
    PublicCA("SwissSign", "SwissSign Platinum CA - G2", "a8dee976"),
    PublicCA("Telia", "TeliaSonera Root CA v1", "5cd81ad7"),
    PublicCA("Telia", "Telia Root CA v2", "8f103249"),
    PublicCA("Trustwave", "Secure Global CA", "b66938e9"),
    PublicCA("Trustwave", "SecureTrust CA", "f39fc864"),
    PublicCA("Trustwave", "Trustwave Global Certification Authority", "f249de83"),
    PublicCA("Trustwave", "Trustwave Global ECC P256 Certification Authority", "9b5697b0"),
    PublicCA("Trustwave", "Trustwave Global ECC P384 Certification Authority", "d887a5bb"),
)


# ACME CAs by the CAA identity their directory publishes (RFC 8555 7.1.1, meta.caaIdentities), and
# the roots of PUBLIC_CAS their certificates chain to. A preflight hint only (a directory can claim
# anything): the issued chain is still validated against PUBLIC_CAS by the verifier before it is
# installed. tests/unit checks every name here is in PUBLIC_CAS.
ACME_CAA_IDENTITY_ROOTS: Dict[str, Tuple[str, ...]] = {
    "letsencrypt.org": ("ISRG Root X1", "ISRG Root X2"),
    "sectigo.com": ("USERTrust RSA Certification Authority", "USERTrust ECC Certification Authority"),
    "digicert.com": ("DigiCert Global Root CA", "DigiCert Global Root G2", "DigiCert TLS RSA4096 Root G5"),
    "globalsign.com": ("GlobalSign Root CA - R3", "GlobalSign Root R46"),
}


def accepted_subject_hashes() -> Sequence[str]:
    return sorted({ca.subject_hash for ca in PUBLIC_CAS})


# ------------------------------------------------ what probe_policy asks a peer (R1-R3, R5)

ACCEPT = "accept"  # a compliant peer must accept what the probe offers
REFUSE = "refuse"  # ... must refuse it
IN_POLICY = "in policy"  # ... must accept it when the chosen cipher policy lists it, else refuse it


@dataclass(frozen=True)
class ProbeRule:
    """One row of the policy probes: what is offered, what a compliant peer does, and what a peer
    that does otherwise is told. ``defect`` and ``fix`` are %-templates over ``offered``,
    ``cipher`` (negotiated), ``accepted`` (suites), ``openssl`` (the offered suite's OpenSSL
    name) and ``policy_ciphers``; ``unknown`` names a probe that got no answer in a warning
    ("" : its state says so, no warning)."""

    kind: str  # protocol | family | group | suite | client certificate
    offered: str  # the protocol, family, group or IANA suite offered ("" for the client certificate)
    expect: str  # ACCEPT | REFUSE | IN_POLICY
    requirement: str
    level: str  # what a peer that does otherwise gets: fail | warn
    defect: str
    fix: str
    unknown: str = ""

    @property
    def name(self) -> str:
        """How messages name the probe: ``group secp384r1``, ``suite TLS_...``."""
        return ("%s %s" % (self.kind, self.offered)).strip()

    def words(self, **values: str) -> Tuple[str, str]:
        """(defect, fix) for a peer that did otherwise."""
        values.setdefault("offered", self.offered)
        return self.defect % values, self.fix % values


def _protocol_rule(version: str) -> ProbeRule:
    return ProbeRule("protocol", version, REFUSE, "R1", "fail",
                     "accepts %(offered)s (negotiated %(cipher)s); R1 allows TLS 1.2 only",
                     "pin the listener to TLS 1.2 (Kamailio tls.cfg: method = TLSv1.2)", "%(offered)s")


def _group_rule(group: str) -> ProbeRule:
    if group == ECDHE_GROUP:
        return ProbeRule("group", group, ACCEPT, "R3", "warn",
                         "does no ECDHE on secp384r1, so only RSA key exchange (no forward secrecy) is left",
                         "enable the ECDHE-RSA policy suites with secp384r1", "ECDHE on %(offered)s")
    return ProbeRule("group", group, REFUSE, "R3", "fail", "accepts ECDHE on %(offered)s; R3 allows secp384r1 only",
                     "restrict the groups to secp384r1 (Kamailio: OPENSSL_CONF with Groups = secp384r1; it fails "
                     "open, so probe again after a change)", "ECDHE on %(offered)s")


# The rows, in the order results and findings are reported. The non-policy suite families depend
# on what this host's OpenSSL can offer: FAMILY_RULE is their row, ``offered`` filled per family.
PROTOCOL_RULES: Tuple[ProbeRule, ...] = tuple(_protocol_rule(v) for v in PROTOCOLS if v != TLS_VERSION)
FAMILY_RULE = ProbeRule("family", "", REFUSE, "R2", "fail", "accepts suites outside the policy (%(offered)s): "
                        "%(accepted)s", "restrict the cipher list to the policy suites: %(policy_ciphers)s",
                        "the %(offered)s suites")
GROUP_RULES: Tuple[ProbeRule, ...] = tuple(_group_rule(g) for g in ECDHE_GROUPS)
SUITE_RULES: Tuple[ProbeRule, ...] = tuple(
    ProbeRule("suite", s.iana, IN_POLICY, "R2", "fail", "accepts %(offered)s, which the chosen cipher policy excludes",
              "remove %(openssl)s from the cipher list") for s in SUITES.values())
CLIENT_CERTIFICATE_RULE = ProbeRule("client certificate", "", REFUSE, "R5", "fail",
                                    "requests a client certificate; R5: Genesys never sends one (no mutual TLS)",
                                    "stop requesting client certificates (Kamailio: verify_client = off, "
                                    "require_certificate = no)")
