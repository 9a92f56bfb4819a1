"""A throwaway PKI for tests: roots, intermediates, leaves and CRLs built with ``cryptography``.

Small API, everything in memory until you write it out::

    from support import pki

    root = pki.make_root("Test Root CA")
    inter = pki.make_intermediate(root, "Test Issuing CA", crl_urls=["http://127.0.0.1:8080/root.crl"])
    leaf = pki.make_leaf(inter, ["sbc.example.test"], crl_urls=["http://127.0.0.1:8080/inter.crl"])
    crl = pki.make_crl(inter, revoked=[leaf])          # x509.CertificateRevocationList
    paths = leaf.write(tmp_path, chain=[inter])          # leaf.crt, leaf.key, leaf-chain.crt

* ``Issued``: a certificate with its private key (``.cert``, ``.key``, ``.pem``, ``.key_pem``,
  ``.der``, ``.name``, ``.write()``). Issuers are ``Issued`` objects.
* Keys: ``key_type="rsa"`` (``key_size``, default 2048) or ``"ec"`` (``curve``, default
  ``"secp384r1"``); or pass ``key=`` to reuse one. Keys are cached per (role, type, size/curve)
  in the process unless ``fresh_key=True``: RSA generation dominates test time. Roots,
  intermediates and leaves use different cached keys; two roots made with the same type share
  one (pass ``fresh_key=True`` for a look-alike root whose signatures must not verify).
* Validity: ``not_before`` / ``not_after`` as aware datetimes, or ``days`` (from now, default 365;
  roots 3650). ``now()`` gives the aware UTC time the defaults use.
* Extensions: leaves get SAN (DNS names and/or ``ips``), serverAuth EKU (``eku=None`` omits it,
  ``eku=[...]`` sets other OIDs), digitalSignature+keyEncipherment key usage
  (``key_usage=None`` omits it, or a dict of ``KeyUsage`` flags), and an optional CRL
  distribution point (``crl_urls``). CAs get basicConstraints CA=true, keyCertSign+cRLSign,
  SKI/AKI. ``ca=False`` on an "intermediate" makes a defective chain whose issuer is not a CA.
* ``self_signed_leaf(...)``: a leaf that is its own issuer (R8 says this must fail).
* ``make_crl(issuer, revoked=[...], last_update=..., next_update=..., signer=...)``: a CRL
  signed by the issuer (or by ``signer``, to make a CRL with a bad signature).
* ``chain_pem(*issued)``: PEM bytes of several certificates, in the order given.

Works with cryptography 38 (Debian 12) and newer.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import threading
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "Issued",
    "now",
    "make_key",
    "make_root",
    "make_intermediate",
    "make_leaf",
    "self_signed_leaf",
    "make_crl",
    "chain_pem",
    "crl_der",
    "crl_pem",
    "SERVER_AUTH",
    "CLIENT_AUTH",
]

SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH

_CURVES = {
    "secp256r1": ec.SECP256R1,
    "prime256v1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
}

_KEY_CACHE: Dict[Tuple[str, str, object], object] = {}
_KEY_LOCK = threading.Lock()


def now() -> datetime.datetime:
    """The current time, aware UTC, truncated to whole seconds (X.509 has no fractions)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def make_key(key_type: str = "rsa", key_size: int = 2048, curve: str = "secp384r1", fresh: bool = False,
             role: str = "any"):
    """A private key. Cached per (role, type, size or curve) in this process unless ``fresh``.

    ``role`` keeps roots, intermediates and leaves on different keys (the builders pass
    "root", "intermediate", "leaf"), so a signature made by one never verifies under another.
    """
    key_type = key_type.lower()
    if key_type == "rsa":
        spec: object = key_size
    elif key_type == "ec":
        spec = curve
    else:
        raise ValueError("key_type must be 'rsa' or 'ec', not %r" % key_type)
    cache_key = (role, key_type, spec)
    if not fresh:
        with _KEY_LOCK:
            if cache_key in _KEY_CACHE:
                return _KEY_CACHE[cache_key]
    if key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    else:
        key = ec.generate_private_key(_CURVES[curve]())
    if not fresh:
        with _KEY_LOCK:
            key = _KEY_CACHE.setdefault(cache_key, key)
    return key


class Issued:
    """A certificate and its private key (and the issuer it was made by, if any)."""

    def __init__(self, cert: x509.Certificate, key, issuer: Optional["Issued"] = None) -> None:
        self.cert = cert
        self.key = key
        self.issuer = issuer

    @property
    def name(self) -> x509.Name:
        return self.cert.subject

    @property
    def common_name(self) -> str:
        attrs = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else ""

    @property
    def serial(self) -> int:
        return self.cert.serial_number

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )

    def chain_to_root(self) -> List["Issued"]:
        """This certificate, then each issuer up to the self-signed root."""
        out: List[Issued] = [self]
        while out[-1].issuer is not None and out[-1].issuer is not out[-1]:
            out.append(out[-1].issuer)
        return out

    def write(self, directory: Union[str, os.PathLike], stem: str = "leaf",
              chain: Sequence["Issued"] = ()) -> Dict[str, str]:
        """Write ``<stem>.crt``, ``<stem>.key`` and, if ``chain`` is given, ``<stem>-chain.crt``
        (this certificate then ``chain`` in order: what a server sends). Returns the paths
        under keys ``cert``, ``key`` and ``chain`` (chain = cert when no chain is given)."""
        directory = os.fspath(directory)
        os.makedirs(directory, exist_ok=True)
        paths = {
            "cert": os.path.join(directory, stem + ".crt"),
            "key": os.path.join(directory, stem + ".key"),
        }
        with open(paths["cert"], "wb") as handle:
            handle.write(self.pem)
        with open(paths["key"], "wb") as handle:
            handle.write(self.key_pem)
        os.chmod(paths["key"], 0o600)
        paths["chain"] = paths["cert"]
        if chain:
            paths["chain"] = os.path.join(directory, stem + "-chain.crt")
            with open(paths["chain"], "wb") as handle:
                handle.write(chain_pem(self, *chain))
        return paths

    def __repr__(self) -> str:
        return "Issued(%s)" % self.cert.subject.rfc4514_string()


def _name(common_name: str, organization: Optional[str] = "byoc.secure_trunk tests") -> x509.Name:
    attrs = []
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if common_name:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _window(not_before, not_after, days) -> Tuple[datetime.datetime, datetime.datetime]:
    start = not_before or (now() - datetime.timedelta(days=1))
    end = not_after or (start + datetime.timedelta(days=days + 1))
    return start, end


def _key(key, key_type, key_size, curve, fresh_key, role):
    return key if key is not None else make_key(key_type, key_size, curve, fresh=fresh_key, role=role)


def _sign_hash(key):
    return None if _is_eddsa(key) else hashes.SHA256()


def _is_eddsa(key) -> bool:
    return type(key).__name__.startswith(("Ed25519", "Ed448"))


def _crl_dp(urls: Iterable[str]) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([
        x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(u)], relative_name=None, reasons=None, crl_issuer=None)
        for u in urls
    ])


def _builder(subject: x509.Name, issuer_name: x509.Name, public_key, start, end, serial) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )


def _ca_extensions(builder, key, issuer_key, path_length, ca=True, key_cert_sign=True):
    builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None),
                                    critical=True)
    builder = builder.add_extension(
        x509.KeyUsage(digital_signature=not ca or not key_cert_sign, content_commitment=False,
                      key_encipherment=not ca, data_encipherment=False, key_agreement=False,
                      key_cert_sign=ca and key_cert_sign, crl_sign=ca, encipher_only=False, decipher_only=False),
        critical=True,
    )
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    return builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)


def make_root(common_name: str = "byoc test root CA", *, key=None, key_type: str = "rsa", key_size: int = 2048,
              curve: str = "secp384r1", fresh_key: bool = False, not_before=None, not_after=None,
              days: int = 3650, serial: Optional[int] = None, organization: Optional[str] = "byoc.secure_trunk tests",
              ) -> Issued:
    """A self-signed root CA (basicConstraints CA=true, keyCertSign, cRLSign)."""
    key = _key(key, key_type, key_size, curve, fresh_key, "root")
    start, end = _window(not_before, not_after, days)
    name = _name(common_name, organization)
    builder = _ca_extensions(_builder(name, name, key.public_key(), start, end, serial), key, key, None)
    issued = Issued(builder.sign(key, _sign_hash(key)), key)
    issued.issuer = None
    return issued


def make_intermediate(issuer: Issued, common_name: str = "byoc test issuing CA", *, key=None,
                      key_type: str = "rsa", key_size: int = 2048, curve: str = "secp384r1",
                      fresh_key: bool = False, not_before=None, not_after=None, days: int = 1825,
                      crl_urls: Sequence[str] = (), path_length: Optional[int] = 0, ca: bool = True,
                      serial: Optional[int] = None, organization: Optional[str] = "byoc.secure_trunk tests",
                      key_cert_sign: bool = True,
                      extra_extensions: Sequence[Tuple[x509.ExtensionType, bool]] = ()) -> Issued:
    """An intermediate CA signed by ``issuer``. ``ca=False`` makes a non-CA "intermediate"
    (a defective chain). ``crl_urls`` adds a CRL distribution point (the issuer's CRL).
    ``key_cert_sign=False`` leaves keyCertSign out of its key usage; ``extra_extensions``
    adds (extension, critical) pairs (name constraints, EKU ...)."""
    key = _key(key, key_type, key_size, curve, fresh_key, "intermediate")
    start, end = _window(not_before, not_after, days)
    builder = _builder(_name(common_name, organization), issuer.name, key.public_key(), start, end, serial)
    builder = _ca_extensions(builder, key, issuer.key, path_length, ca=ca, key_cert_sign=key_cert_sign)
    if crl_urls:
        builder = builder.add_extension(_crl_dp(crl_urls), critical=False)
    for ext, critical in extra_extensions:
        builder = builder.add_extension(ext, critical=critical)
    return Issued(builder.sign(issuer.key, _sign_hash(issuer.key)), key, issuer)


_DEFAULT_KU = {"digital_signature": True, "key_encipherment": True}


def _leaf_builder(subject, issuer_name, key, issuer_key, start, end, serial, hostnames, ips, eku,
                  key_usage, crl_urls, extra_extensions, ca=False):
    builder = _builder(subject, issuer_name, key.public_key(), start, end, serial)
    builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    general_names: List[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    general_names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if general_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(general_names), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if key_usage:
        flags = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                     data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                     encipher_only=False, decipher_only=False)
        flags.update(key_usage)
        builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if crl_urls:
        builder = builder.add_extension(_crl_dp(crl_urls), critical=False)
    for ext, critical in extra_extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder


def make_leaf(issuer: Issued, hostnames: Sequence[str] = ("sbc.example.test",), *, ips: Sequence[str] = (),
              common_name: Optional[str] = None, key=None, key_type: str = "rsa", key_size: int = 2048,
              curve: str = "secp384r1", fresh_key: bool = False, not_before=None, not_after=None,
              days: int = 365, crl_urls: Sequence[str] = (), eku: Optional[Sequence] = (SERVER_AUTH,),
              key_usage: Optional[dict] = None, serial: Optional[int] = None,
              organization: Optional[str] = "byoc.secure_trunk tests",
              extra_extensions: Sequence[Tuple[x509.ExtensionType, bool]] = (), ca: bool = False) -> Issued:
    """A TLS server certificate signed by ``issuer``.

    ``hostnames`` go into the SAN as DNS names (empty: no DNS SAN); ``ips`` as IP addresses.
    ``common_name`` defaults to the first hostname ("" for none). ``eku`` defaults to serverAuth
    (``None``: no EKU extension). ``key_usage`` defaults to digitalSignature+keyEncipherment
    (pass a dict of flags, or ``{}`` for no KeyUsage extension). ``ca=True`` marks the leaf a CA
    (basicConstraints CA=true), a defect some verifiers refuse.
    """
    key = _key(key, key_type, key_size, curve, fresh_key, "leaf")
    start, end = _window(not_before, not_after, days)
    cn = common_name if common_name is not None else (hostnames[0] if hostnames else "")
    ku = _DEFAULT_KU if key_usage is None else key_usage
    builder = _leaf_builder(_name(cn, organization), issuer.name, key, issuer.key, start, end, serial,
                            hostnames, ips, eku, ku, crl_urls, extra_extensions, ca)
    return Issued(builder.sign(issuer.key, _sign_hash(issuer.key)), key, issuer)


def self_signed_leaf(hostnames: Sequence[str] = ("sbc.example.test",), *, common_name: Optional[str] = None,
                     key=None, key_type: str = "rsa", key_size: int = 2048, curve: str = "secp384r1",
                     fresh_key: bool = False, not_before=None, not_after=None, days: int = 365,
                     eku: Optional[Sequence] = (SERVER_AUTH,), key_usage: Optional[dict] = None) -> Issued:
    """A server certificate that is its own issuer (no CA): the thing R8 says must fail."""
    key = _key(key, key_type, key_size, curve, fresh_key, "self-signed")
    start, end = _window(not_before, not_after, days)
    cn = common_name if common_name is not None else (hostnames[0] if hostnames else "")
    name = _name(cn)
    ku = _DEFAULT_KU if key_usage is None else key_usage
    builder = _leaf_builder(name, name, key, key, start, end, None, hostnames, (), eku, ku, (), ())
    issued = Issued(builder.sign(key, _sign_hash(key)), key)
    return issued


def make_crl(issuer: Issued, revoked: Iterable[Union[Issued, int]] = (), *, last_update=None, next_update=None,
             next_update_days: int = 7, signer=None, revocation_date=None, crl_number: int = 1,
             extensions: Sequence[Tuple[x509.ExtensionType, bool]] = (),
             ) -> x509.CertificateRevocationList:
    """A CRL issued by ``issuer`` listing ``revoked`` (``Issued`` objects or serial numbers).

    ``last_update`` defaults to one hour ago, ``next_update`` to ``next_update_days`` later
    (set it in the past for a stale CRL). ``signer`` signs with another private key while
    keeping the issuer's name: a CRL whose signature does not verify. ``extensions`` adds
    (extension, critical) pairs: an IssuingDistributionPoint (a partition), a DeltaCRLIndicator.
    """
    last = last_update or (now() - datetime.timedelta(hours=1))
    nxt = next_update or (last + datetime.timedelta(days=next_update_days))
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.name)
        .last_update(last)
        .next_update(nxt)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
    )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    when = revocation_date or last
    for item in revoked:
        serial = item.serial if isinstance(item, Issued) else int(item)
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    key = signer if signer is not None else issuer.key
    return builder.sign(key, _sign_hash(key))


def crl_der(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.DER)


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


def chain_pem(*issued: Issued) -> bytes:
    """PEM of the given certificates, concatenated in the order given."""
    return b"".join(i.pem for i in issued)
