# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does a private key belong to a certificate? The SBC's key, checked once before it is installed.

Pure core: ``cryptography`` parses the key (any PEM or DER private key, unencrypted) and the
comparison is of the public keys' SubjectPublicKeyInfo, which is what a TLS server proves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import CertificateError

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:  # the caller reports the missing library (x509.HAS_CRYPTOGRAPHY)
    pass

if TYPE_CHECKING:
    from cryptography import x509

_UNREADABLE_FIX = ("export the key in PEM without a passphrase (openssl pkey -in KEY -out KEY.pem) "
                   "and keep it in Ansible Vault")
_MISMATCH_FIX = ("install the key the certificate was issued for "
                 "(compare openssl x509 -pubkey and openssl pkey -pubout)")


def _spki(public_key: Any) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_key_matches(key_data: bytes, leaf: "x509.Certificate", label: str) -> None:
    """Raise CertificateError naming ``label`` when the key cannot be read or is not the leaf's."""
    try:
        if b"-----BEGIN" in key_data:
            key = serialization.load_pem_private_key(key_data, password=None)
        else:
            key = serialization.load_der_private_key(key_data, password=None)
    except (ValueError, TypeError) as exc:
        # TypeError: the key is encrypted. The reason never carries key material.
        raise CertificateError(label, "is not a readable unencrypted PEM private key (%s)"
                               % str(exc).splitlines()[0][:120], _UNREADABLE_FIX) from None
    if _spki(key.public_key()) != _spki(leaf.public_key()):
        raise CertificateError(label, "does not match the certificate's public key", _MISMATCH_FIX)
