# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS handshakes against a peer, with the standard library's OpenSSL binding.

``handshake()`` makes one connection with a chosen protocol range, cipher string
and (optionally) a single ECDHE group, and reports what was negotiated and the
certificates the peer sent. It never verifies the peer: chain, name and dates
are checked offline by chain.py, so a defective peer is described, not refused.

The ECDHE group: ``SSLContext.set_ecdh_curve`` limits the groups a *client*
offers too (CPython calls ``SSL_CTX_set1_groups`` on OpenSSL 3, and
``SSL_CTX_set_tmp_ecdh``, which sets the group list, on 1.1). So a handshake
that offers only secp384r1 and lands on an ECDHE suite used secp384r1. X25519
is not an EC curve to ``set_ecdh_curve``: it is probed with ``openssl s_client``
when that command exists, otherwise reported as not probed.

The certificates sent: ``SSLSocket.get_unverified_chain()`` (public in Python
3.13; the same C method exists on ``_sslobj`` since 3.10). Older Pythons only
expose the leaf, and the result says so.
"""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy, verifier

# Probing TLS 1.0/1.1 is the point of some probes; the deprecation warning is noise here.
warnings.filterwarnings("ignore", message=r"ssl\.TLSVersion\.TLSv1(_1)? is deprecated", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=r"ssl\.PROTOCOL_TLS is deprecated", category=DeprecationWarning)

# policy.PROTOCOLS (oldest first) as the standard library names them.
VERSIONS: Dict[str, ssl.TLSVersion] = dict(zip(policy.PROTOCOLS, (
    ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)))
# Client-side restriction of ECDHE groups works through set_ecdh_curve on OpenSSL >= 1.1.0.
CLIENT_GROUPS_SUPPORTED = ssl.OPENSSL_VERSION_INFO >= (1, 1, 0)
# Short names OpenSSL's set_ecdh_curve knows, by the names the results use.
EC_CURVE_NAMES: Dict[str, str] = {name: curve for name, (curve, _group) in policy.ECDHE_GROUPS.items() if curve}
OPENSSL_GROUP_NAMES: Dict[str, str] = {name: group for name, (_curve, group) in policy.ECDHE_GROUPS.items()}
TLS_ONLY: Tuple[str, str] = (policy.TLS_VERSION, policy.TLS_VERSION)
S_CLIENT_PROTOCOL_FLAG = "-" + policy.TLS_VERSION.lower().replace("v", "").replace(".", "_")  # -tls1_2


@dataclass(frozen=True)
class Endpoint:
    """A TLS peer: the name it must carry (and is sent as SNI), its port, where to connect.

    ``connect_address`` is what the user gave (an address or a name to dial instead of host);
    ``address`` what it resolved to, once, so that every probe talks to the same server
    (``resolved()``). A handshake dials ``address``, else ``connect_address``, else ``host``."""

    host: str
    port: int = policy.SIP_TLS_PORT
    connect_address: Optional[str] = None
    address: Optional[str] = None
    timeout: float = 10.0

    @property
    def label(self) -> str:
        return "%s:%d" % (self.host, self.port)

    @property
    def dial(self) -> str:
        return self.address or self.connect_address or self.host

    def resolved(self, address: str, timeout: float) -> "Endpoint":
        return replace(self, address=address, timeout=timeout)


@dataclass
class Handshake:
    ok: bool
    protocol: Optional[str] = None
    cipher: Optional[str] = None  # OpenSSL name
    chain: List[bytes] = field(default_factory=list)  # DER, as sent, leaf first
    chain_complete: bool = True  # False when only the leaf could be read (Python < 3.10)
    error_kind: Optional[str] = None  # dns | refused | timeout | closed | alert | local | tls | network
    error: Optional[str] = None  # words for humans
    seconds: float = 0.0
    verify_code: Optional[int] = None  # OpenSSL's X509 error when error_kind == "verify"


def resolve(host: str, port: int, address: Optional[str], timeout: float) -> Tuple[Optional[str], Optional[Handshake]]:
    """The address to connect to: ``address`` if given, else the first the resolver returns for ``host``
    (resolved once, so every probe of an endpoint talks to the same server)."""
    name = (address or host).strip().strip("[]")
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return None, Handshake(False, error_kind="dns", error="cannot resolve %s: %s" % (name, exc.strerror or exc))
    except UnicodeError as exc:
        return None, Handshake(False, error_kind="dns", error="cannot resolve %s: %s" % (name, exc))
    return str(infos[0][4][0]), None


def _alert_words(exc: ssl.SSLError) -> Tuple[str, str]:
    reason = (getattr(exc, "reason", None) or "").upper()
    if "ALERT" in reason:
        words = re.sub(r"^(SSLV3|TLSV1|TLSV13)_ALERT_", "", reason).replace("_", " ").lower()
        return "alert", "%s alert" % words
    if reason in ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE", "UNSUPPORTED_PROTOCOL"):
        return "local", "this host's OpenSSL cannot offer it (%s)" % reason.replace("_", " ").lower()
    if reason in ("WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
        return "tls", "the peer does not answer with TLS (%s)" % reason.replace("_", " ").lower()
    if reason in ("UNEXPECTED_EOF_WHILE_READING",) or isinstance(exc, ssl.SSLEOFError):
        return "closed", "the peer closed the connection during the handshake"
    return "tls", "TLS error: %s" % (reason.replace("_", " ").lower() or str(exc))


def handshake(target: Endpoint, *, versions: Tuple[str, str] = TLS_ONLY, ciphers: Optional[str] = None,
              group: Optional[str] = None, want_chain: bool = False,
              verify_cadata: Optional[str] = None) -> Handshake:
    """One handshake. ``ciphers`` is an OpenSSL string for TLS <= 1.2 (``@SECLEVEL=0`` is
    added so that weak peers can be described); ``group`` one of EC_CURVE_NAMES or None;
    ``verify_cadata`` (PEM anchors) makes OpenSSL verify the peer's chain (verifier.py)."""
    started = time.monotonic()
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = VERSIONS[versions[1]]
        ctx.minimum_version = VERSIONS[versions[0]]
        ctx.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
        if group:
            ctx.set_ecdh_curve(EC_CURVE_NAMES.get(group, group))
        if verify_cadata is not None:
            verifier.apply_to_context(ctx, verify_cadata)
    except (ssl.SSLError, ValueError) as exc:
        return Handshake(False, error_kind="local", error="this host's OpenSSL cannot offer it (%s)" % exc)
    result = Handshake(False)
    try:
        with socket.create_connection((target.dial, target.port), timeout=target.timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=target.host) as tls:
                result.ok = True
                result.protocol = tls.version()
                result.cipher = (tls.cipher() or (None,))[0]
                if want_chain:
                    result.chain, result.chain_complete = _peer_chain(tls)
    except ssl.SSLCertVerificationError as exc:
        result.error_kind, result.verify_code = "verify", getattr(exc, "verify_code", None)
        result.error = getattr(exc, "verify_message", None) or str(exc)
    except ssl.SSLError as exc:
        result.error_kind, result.error = _alert_words(exc)
    except socket.timeout:
        result.error_kind, result.error = "timeout", "no answer within %g s" % target.timeout
    except ConnectionRefusedError:
        result.error_kind, result.error = "refused", "connection refused (nothing listens on port %d)" % target.port
    except ConnectionResetError:
        result.error_kind, result.error = "closed", "the peer reset the connection during the handshake"
    except OSError as exc:
        result.error_kind, result.error = "network", "network error: %s" % (exc.strerror or exc)
    result.seconds = time.monotonic() - started
    return result


def _peer_chain(tls: ssl.SSLSocket) -> Tuple[List[bytes], bool]:
    getter = getattr(tls, "get_unverified_chain", None) or getattr(getattr(tls, "_sslobj", None),
                                                                   "get_unverified_chain", None)
    if getter is not None:
        certs = getter() or []
        out = []
        for cert in certs:
            der = cert if isinstance(cert, bytes) else cert.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined] # noqa: SLF001
            out.append(der)
        return out, True
    leaf = tls.getpeercert(binary_form=True)
    return ([leaf] if leaf else []), False


# ------------------------------------------------------------------ cipher families

def _client_ciphers() -> List[Dict[str, Any]]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    except ssl.SSLError:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    return [dict(c) for c in ctx.get_ciphers() if c.get("protocol") != policy.PROTOCOLS[-1]]


def _family(c: dict) -> str:
    kea, auth = c.get("kea", ""), c.get("auth", "")
    if "psk" in kea or "srp" in kea:
        return "PSK/SRP"
    if auth == "auth-null":
        return "anonymous (no authentication)"
    if kea == "kx-ecdhe" and auth == "auth-ecdsa":
        return "ECDHE-ECDSA"
    if kea == "kx-dhe":
        return "DHE (finite-field)"
    if kea == "kx-ecdhe":
        return "ECDHE-RSA outside the policy"
    if kea == "kx-rsa":
        return "RSA key exchange outside the policy"
    return "other"


def non_policy_families(policy_openssl_names: Sequence[str]) -> List[Tuple[str, List[str]]]:
    """The TLS <= 1.2 suites this host's OpenSSL can offer, less the policy's, grouped by family."""
    families: dict = {}
    for c in _client_ciphers():
        if c["name"] in policy_openssl_names:
            continue
        families.setdefault(_family(c), []).append(c["name"])
    return sorted(families.items())


def accepted_in(target: Endpoint, names: Sequence[str], limit: int = 24) -> Tuple[List[str], Optional[Handshake]]:
    """Every suite of ``names`` the peer accepts: one handshake per accepted suite, plus one.

    Returns (accepted suites, the handshake that ended the search: a refusal or a fault;
    None when the peer accepted every suite offered)."""
    left = list(names)
    accepted: List[str] = []
    while left and len(accepted) < limit:
        hs = handshake(target, ciphers=":".join(left))
        if not hs.ok:
            return accepted, hs
        if hs.cipher is not None:
            accepted.append(hs.cipher)
        if hs.cipher is None or hs.cipher not in left:
            break
        left.remove(hs.cipher)
    return accepted, None


# ------------------------------------------------------------------ openssl s_client

@dataclass
class SClient:
    available: bool
    ok: bool = False
    group: Optional[str] = None  # from "Server Temp Key" (OpenSSL 3.0) or "Peer Temp Key" (3.5)
    cipher: Optional[str] = None
    client_cert_requested: bool = False
    error: Optional[str] = None


_TEMP_KEY = re.compile(r"^(?:Server|Peer) Temp Key: (?:ECDH, )?([^,]+),", re.M)
_CIPHER = re.compile(r"^New, (TLSv[\d.]+|\(NONE\)), Cipher is (\S+)", re.M)


def openssl_binary(path: Optional[str] = None) -> Optional[str]:
    return shutil.which(path or "openssl")


def s_client(target: Endpoint, openssl: Optional[str], *, ciphers: str, group: str) -> SClient:
    """A TLS 1.2 handshake by ``openssl s_client`` offering one group (OpenSSL group name)."""
    if not openssl:
        return SClient(False, error="openssl command not found")
    address = "[%s]" % target.dial if ":" in target.dial else target.dial
    cmd = [openssl, "s_client", "-connect", "%s:%d" % (address, target.port), "-servername", target.host,
           S_CLIENT_PROTOCOL_FLAG, "-cipher", ciphers + ":@SECLEVEL=0", "-groups", group]
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=target.timeout + 5, check=False)
    except subprocess.TimeoutExpired:
        return SClient(True, error="no answer within %g s" % target.timeout)
    except OSError as exc:
        return SClient(False, error="cannot run %s: %s" % (openssl, exc))
    out = proc.stdout
    cipher = _CIPHER.search(out)
    temp = _TEMP_KEY.search(out)
    result = SClient(True, client_cert_requested="Client Certificate Types:" in out)
    if cipher and cipher.group(2) != "(NONE)":
        result.ok = True
        result.cipher = cipher.group(2)
        result.group = temp.group(1).strip() if temp else None
    else:
        lines = [line for line in proc.stderr.splitlines() if "error" in line]
        match = re.search(r"alert ([a-z ]+?):", lines[-1]) if lines else None
        result.error = ("%s alert" % match.group(1)) if match else ((lines[-1].strip() if lines else "")
                                                                    or "handshake failed")
    return result
