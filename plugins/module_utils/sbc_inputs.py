# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operator inputs that are written into Kamailio's and rtpengine's files.

A value rendered into ``kamailio.cfg`` as it is can add whole lines (a newline, a quote). Every
such value is checked here with a full match and no control characters, and each defect is
reported with the variable, what is wrong and the fix. The role asserts that the list is empty
before it writes anything.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, Iterable, Optional, Union

from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import PolicyError, cite
from ansible_collections.byoc.secure_trunk.plugins.module_utils.sip_uri import is_host_name

_PORT = r"([1-9][0-9]{0,4})"
_SOCKET = re.compile(r"(udp|tcp):(?P<host>\[[0-9A-Fa-f:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):" + _PORT)
_CUSTOMER_URI = re.compile(
    r"sip:(?P<host>\[[0-9A-Fa-f:.]+\]|[0-9.]+|[A-Za-z0-9.-]+)(:" + _PORT + r")?(;transport=(udp|tcp))?")
_PATH = re.compile(r"/[A-Za-z0-9._/+-]*")


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _host(text: str) -> bool:
    return _ip(text) or is_host_name(text)


def _port_ok(text: Any) -> bool:
    return text is None or 0 < int(text) < 65536


def _show(value: object) -> str:
    return repr(value) if not isinstance(value, str) else '"%s"' % value.encode("unicode_escape").decode("ascii")


def source_networks(values: Any, what: str = "kamailio_trunk_genesys_sources") -> list:
    """Addresses or CIDR networks -> normalised CIDR strings ('192.0.2.7' -> '192.0.2.7/32').

    Host bits set in a network ('10.0.0.1/24') are refused rather than silently widened.
    """
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise PolicyError("%s %s" % (what, _show(values)), "is not a list",
                          "give a YAML list of addresses or CIDR networks, e.g. [192.0.2.0/24]")
    networks = []
    for value in values:
        text = value if isinstance(value, str) else ""
        try:
            if not text or text != text.strip():
                raise ValueError
            network = ipaddress.ip_network(text, strict=True)
        except ValueError:
            raise PolicyError("%s entry %s" % (what, _show(value)),
                              "is not an IP address or a CIDR network with its host bits clear",
                              "write e.g. 192.0.2.10, 192.0.2.0/24 or 2001:db8::/32") from None
        if network.prefixlen == 0:
            raise PolicyError("%s entry %s" % (what, _show(value)), "allows every address",
                              "list only the Genesys signalling networks of the region")
        if str(network) not in networks:
            networks.append(str(network))
    return networks


def input_errors(values: dict) -> list:
    """Every defect of the role inputs that reach Kamailio's files, as 'object: defect; fix' lines."""
    errors = []

    def bad(name: str, defect: str, fix: str) -> None:
        errors.append("%s %s: %s; %s" % (name, _show(values.get(name)), defect, fix))

    def text(name: str) -> Optional[str]:
        value = values.get(name)
        return value if isinstance(value, str) and value.isprintable() else None

    if "kamailio_trunk_tls_advertise" in values:
        adv = text("kamailio_trunk_tls_advertise")
        if adv is None or (adv and not is_host_name(adv)):
            bad("kamailio_trunk_tls_advertise", "is not a fully qualified host name",
                "leave it empty (the SBC FQDN is advertised) or give the public FQDN that the SBC certificate names")
    if "kamailio_trunk_tls_listen_address" in values:
        addr = text("kamailio_trunk_tls_listen_address")
        if addr is None or not _ip(addr):
            bad("kamailio_trunk_tls_listen_address", "is not an IP address",
                "give the local address of the TLS listener, e.g. 0.0.0.0 or 192.0.2.10")
    if "kamailio_trunk_customer_uri" in values:
        uri = text("kamailio_trunk_customer_uri")
        match = _CUSTOMER_URI.fullmatch(uri or "")
        if not match or not _host(match.group("host")) or not _port_ok(match.group(3)):
            bad("kamailio_trunk_customer_uri", "is not a SIP URI of the form sip:HOST[:PORT][;transport=udp|tcp]",
                "give the customer's PBX or SBC, e.g. sip:192.0.2.20:5060")
    if "kamailio_trunk_customer_listen" in values:
        sockets = values.get("kamailio_trunk_customer_listen")
        if isinstance(sockets, str) or not isinstance(sockets, (list, tuple)) or not sockets:
            bad("kamailio_trunk_customer_listen", "is not a non-empty list",
                "give a list of sockets, e.g. [udp:192.0.2.10:5060]")
        else:
            for sock in sockets:
                match = _SOCKET.fullmatch(sock) if isinstance(sock, str) else None
                if not match or not _host(match.group("host")) or not _port_ok(match.group(3)):
                    errors.append("kamailio_trunk_customer_listen entry %s: is not a socket of the form "
                                  "udp|tcp:ADDRESS:PORT; write e.g. udp:192.0.2.10:5060" % _show(sock))
    for name in ("kamailio_trunk_certificate_file", "kamailio_trunk_private_key_file", "kamailio_trunk_ca_file",
                 "kamailio_trunk_byoc_dir", "kamailio_trunk_config_dir", "kamailio_trunk_include_cfg"):
        if name in values and not _PATH.fullmatch(text(name) or ""):
            bad(name, "is not an absolute path of letters, digits and ._/+-",
                "give a plain absolute path, e.g. /etc/kamailio/byoc/sbc.crt")
    if "kamailio_trunk_rtpengine_interface" in values:
        iface = text("kamailio_trunk_rtpengine_interface")
        if iface is None or (iface and not re.fullmatch(r"[A-Za-z0-9_.:/!-]+", iface)):
            bad("kamailio_trunk_rtpengine_interface", "has characters an rtpengine interface cannot have",
                "give an interface spec such as 192.0.2.10 or internal/10.0.0.2!192.0.2.10, or leave it empty")
    for name in ("kamailio_trunk_genesys_sources", "kamailio_trunk_customer_sources"):
        if name in values:
            try:
                source_networks(values.get(name), name)
            except PolicyError as exc:
                errors.append(str(exc))
    return errors


def edge_list(value: Union[str, Iterable[str], None], name: str, port: int) -> dict:
    """The Edges of BYOC Premises as every role reads them, with their defects.

    A YAML list is taken as it is; a string (``-e key=value``, an AWX survey text field) is a
    comma-separated list, as Ansible's argument specs read it, each item trimmed. Returns
    ``{"edges": [...], "errors": [...]}``: an Edge is addressed, and its certificate checked, by its
    FQDN (R9), so an IP address, a port or stray white space inside a list item is refused, and so
    is the same Edge twice (names compare in any case).
    """
    if isinstance(value, str):
        edges = [item.strip() for item in value.split(",") if item.strip()]
    else:
        edges = list(value or [])
    errors = []
    not_names = [edge for edge in edges if not is_host_name(edge)]
    if not_names:
        errors.append(cite("%s %s: not fully qualified host names (an Edge is checked by the name in its "
                           "certificate, and an IP address or a port cannot pass, R9); give each Edge's FQDN "
                           "only, the port is %d" % (name, json.dumps(not_names), port)))
    lowered = [str(edge).lower() for edge in edges]
    if len(set(lowered)) != len(lowered):
        errors.append("%s %s: lists an Edge twice; list each once" % (name, json.dumps(edges)))
    return {"edges": edges, "errors": errors}
