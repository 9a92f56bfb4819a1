# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TGRP request-URIs toward Genesys (R12, R13; RFC 3261 and RFC 4904).

``tgrp`` and ``trunk-context`` belong to the *user* part (they qualify the
number), ``transport=tls`` to the *host* part; placing them wrong breaks
routing. The host must be a proxy FQDN that the certificate names: an IP
address defeats name validation (R9, R13).
"""

from __future__ import annotations

import ipaddress
import re
from typing import AbstractSet

from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import PolicyError
from ansible_collections.byoc.secure_trunk.plugins.module_utils.policy import SIP_TLS_PORT

_UNRESERVED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()")
_TGRP_SAFE = _UNRESERVED | set("/&+$")  # RFC 4904 trunk-group-unreserved
_VISUAL_SEPARATORS = re.compile(r"[\s\-.()]")
_NUMBER = re.compile(r"^\+?[0-9*#]+$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_GLOBAL_DIGITS = re.compile(r"^\+[0-9][0-9\-.()]*$")


def _escape(text: str, safe: AbstractSet[str]) -> str:
    return "".join(ch if ch in safe else "".join("%%%02X" % b for b in ch.encode("utf-8")) for ch in text)


def is_host_name(value: object) -> bool:
    """Strictly a fully qualified DNS host name, as typed: no IP address, port, spaces or newline."""
    if not isinstance(value, str) or not 3 <= len(value) <= 253:
        return False
    labels = value.lower().split(".")
    return len(labels) >= 2 and labels[-1].isalpha() and all(_LABEL.fullmatch(label) for label in labels)


def check_hostname(host: str, what: str = "host") -> str:
    """A DNS host name a certificate can carry; never an IP address."""
    name = str(host or "").strip().rstrip(".").lower()
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        pass
    else:
        raise PolicyError(
            "%s %s" % (what, host),
            "is an IP address; certificates name hosts, so name validation would fail (R9, R13)",
            "use the proxy's FQDN, e.g. lb01.voice.use1.pure.cloud",
        )
    labels = name.split(".")
    if "_" in name:
        raise PolicyError(
            "%s %s" % (what, host),
            "contains an underscore (an SRV _service._proto name?); public certificates cannot carry it",
            "use the proxy's FQDN itself, not the SRV record name",
        )
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise PolicyError("%s %r" % (what, host), "is not a fully qualified host name", "use the proxy's FQDN")
    return name


def _trunk_context(value: str) -> str:
    text = str(value or "").strip()
    if _GLOBAL_DIGITS.match(text):
        return text
    try:
        return check_hostname(text, "trunk_context")
    except PolicyError:
        raise PolicyError(
            "trunk_context %r" % (value,),
            "is neither a domain name nor a global number (RFC 4904)",
            "use the namespace Genesys shows for the trunk, e.g. myorg.byoc.example.com",
        ) from None


def tgrp_uri(number: object, tgrp: str, trunk_context: str, host: str, port: int = SIP_TLS_PORT,
             user_phone: bool = False) -> str:
    """``sip:+15551230000;tgrp=T1;trunk-context=ctx@host:5061;transport=tls``."""
    digits = _VISUAL_SEPARATORS.sub("", str(number or ""))
    if not _NUMBER.match(digits):
        raise PolicyError(
            "number %r" % (number,),
            "is not a telephone number (digits, optional leading +)",
            "pass the dialled number, e.g. +41445550100",
        )
    if not str(tgrp or "").strip():
        raise PolicyError("tgrp", "is empty", "set the trunk group label configured on the Genesys trunk")
    try:
        port = int(port)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise PolicyError("port %r" % (port,), "is not a TCP port", "use %d for Genesys BYOC" % SIP_TLS_PORT)
    user = "%s;tgrp=%s;trunk-context=%s" % (
        _escape(digits, _UNRESERVED | {"+"}),
        _escape(str(tgrp).strip(), _TGRP_SAFE),
        _trunk_context(trunk_context),
    )
    uri = "sip:%s@%s:%d;transport=tls" % (user, check_hostname(host), port)
    return uri + (";user=phone" if user_phone else "")
