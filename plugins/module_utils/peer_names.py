# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does a certificate name the host that was dialled? (RFC 6125, DNS names only.)

Standalone on purpose: besides the collection's own code, Kamailio's Python interpreter on the
SBC imports this file (roles/kamailio_trunk installs it) to check each TLS peer at run time,
so it needs nothing but the standard library and ``cryptography``.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Union


def match_dns(pattern: str, host: str, wildcard: bool = True) -> bool:
    """RFC 6125 6.4: exact match in any case, or '*' as the whole left-most label of a pattern
    with at least two more labels, standing for exactly one label of the host."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if not pattern or not host:
        return False
    if pattern == host:
        return "*" not in pattern
    if not wildcard or not pattern.startswith("*.") or "*" in pattern[2:]:
        return False
    rest = pattern[2:]
    head, _unused, tail = host.partition(".")
    return bool(head) and tail == rest and rest.count(".") >= 1


def dns_names(cert: Any) -> list:
    """The certificate's subjectAltName DNS names (never the CN: RFC 6125 6.4.4, CA/B Forum)."""
    from cryptography import x509  # here, so that importers without cryptography still get match_dns
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(name) for name in san.get_values_for_type(x509.DNSName)]


def names_host(cert_pem: Union[str, bytes], host: str, wildcard: bool = True) -> bool:
    """True when the PEM certificate names HOST in a DNS SAN; never for an IP address."""
    if not host:
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
        return False
    except ValueError:
        pass
    from cryptography import x509

    data = cert_pem.encode("ascii") if isinstance(cert_pem, str) else cert_pem
    cert = x509.load_pem_x509_certificate(data)
    return any(match_dns(name, host, wildcard) for name in dns_names(cert))
