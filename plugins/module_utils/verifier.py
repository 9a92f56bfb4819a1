# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The accept/refuse verdict on a chain, from OpenSSL: never from our own path builder.

Two ways in, one verifier (OpenSSL's ``X509_verify_cert``, purpose ``sslserver``, X.509 strict):

* a live peer: the verdict's handshake itself runs with ``CERT_REQUIRED``, the trust anchors
  as ``cadata`` and ``VERIFY_X509_STRICT`` (``handshake_context_options``; tls_probe applies it).
  libssl verifies a server's chain with the ``ssl_server`` purpose, as ``openssl verify
  -purpose sslserver`` does;
* a chain file: ``openssl verify -purpose sslserver -x509_strict`` on the same certificates
  (``verify_chain``). Debian 12 ships it with the ``openssl`` package (ca-certificates depends
  on it); ``cryptography.x509.verification`` is not needed, so cryptography 38 is enough.

Both also set ``partial_chain``: a certificate in the trust anchors (ca_file, the region's
roots) is trusted as given, even when it is not self-signed (an organisation CA that is
itself an intermediate). For self-signed roots, the usual case, it changes nothing.

chain.py still builds a path, but only to *explain* a refusal in the product's words; it can
add failures, never remove OpenSSL's.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Optional, Sequence

# VERIFY_X509_PARTIAL_CHAIN is exposed from Python 3.10; the OpenSSL flag value is stable.
PARTIAL_CHAIN = getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0x80000)
VERIFY_FLAGS = ssl.VERIFY_X509_STRICT | PARTIAL_CHAIN
_ERROR_LINE = re.compile(r"error (\d+) at (\d+) depth lookup: ?(.*)")


@dataclass
class Verdict:
    """OpenSSL's answer: ``ok``, or the X509 error code, its words and the depth it names."""

    ok: bool
    verifier: str
    code: Optional[int] = None
    message: str = ""
    depth: Optional[int] = None
    available: bool = True

    @property
    def words(self) -> str:
        where = " at depth %d" % self.depth if self.depth is not None else ""
        code = " (X509 error %d%s)" % (self.code, where) if self.code is not None else ""
        return "%s%s" % (self.message or "refused", code)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "verifier": self.verifier, "code": self.code, "message": self.message,
                "depth": self.depth}


def anchors_pem(anchors_der: Sequence[bytes]) -> str:
    return "".join(ssl.DER_cert_to_PEM_cert(der) for der in anchors_der)


def apply_to_context(ctx: ssl.SSLContext, cadata: str) -> None:
    """Make ``ctx`` verify the server's chain against ``cadata`` only, strictly."""
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=cadata)
    ctx.verify_flags |= VERIFY_FLAGS


def handshake_verifier() -> str:
    return "%s (Python ssl, in the handshake)" % ssl.OPENSSL_VERSION


def from_handshake_error(exc: ssl.SSLCertVerificationError) -> Verdict:
    return Verdict(False, handshake_verifier(), getattr(exc, "verify_code", None),
                   getattr(exc, "verify_message", "") or str(exc))


def _pem_file(directory: str, name: str, ders: Sequence[bytes]) -> str:
    path = os.path.join(directory, name)
    with open(path, "w", encoding="ascii") as handle:
        handle.write(anchors_pem(ders))
    return path


def verify_chain(sent_der: Sequence[bytes], anchors_der: Sequence[bytes], openssl: Optional[str] = None,
                 at_time: Optional[int] = None, timeout: float = 30.0) -> Verdict:
    """``openssl verify -purpose sslserver -x509_strict -partial_chain`` on a chain (leaf first)."""
    binary = shutil.which(openssl or "openssl")
    if not binary:
        return Verdict(False, "openssl verify", message="the openssl command is not installed", available=False)
    if not anchors_der:
        return Verdict(False, "openssl verify", message="no trust anchors")
    with tempfile.TemporaryDirectory(prefix="byoc-verify-") as tmp:
        cmd = [binary, "verify", "-purpose", "sslserver", "-x509_strict", "-partial_chain",
               "-CAfile", _pem_file(tmp, "anchors.pem", anchors_der)]
        if len(sent_der) > 1:
            cmd += ["-untrusted", _pem_file(tmp, "untrusted.pem", sent_der[1:])]
        if at_time is not None:
            cmd += ["-attime", str(int(at_time))]
        cmd.append(_pem_file(tmp, "leaf.pem", sent_der[:1]))
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Verdict(False, "openssl verify", message="cannot run %s: %s" % (binary, exc), available=False)
    verifier = "openssl verify (%s)" % binary
    text = proc.stdout + proc.stderr
    if proc.returncode == 0 and text.rstrip().endswith(": OK"):
        return Verdict(True, verifier)
    match = _ERROR_LINE.search(text)
    if match:
        return Verdict(False, verifier, int(match.group(1)), match.group(3).strip(), int(match.group(2)))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return Verdict(False, verifier, message=lines[-1] if lines else "exit status %d" % proc.returncode)
