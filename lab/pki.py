#!/usr/bin/env python3
"""Lab PKI for the molecule scenarios and the demo (stand-ins, never real trust).

    python3 lab/pki.py DEST [--region euc2] [--sbc-fqdn sbc.customer.example] [--edge FQDN ...]

Writes into DEST (idempotent: nothing is regenerated while every file exists and no
certificate expires within 30 days):

- ``genesys-root.crt``       "Lab DigiCert stand-in" root: what the SBC trusts for the region
  (with ``genesys-root.key``, ``genesys-inter.{crt,key}``: the lab CAs that sign the CRLs)
- ``genesys-good.{crt,key}``  leaf + intermediate naming lb01..lb04.voice.<region>...
- ``crl/lab-root.crl``, ``crl/lab-tls-ca.crl``  the CRLs of the "Genesys" root and issuing CA (DER,
  7 days), named by the certificates' CRL distribution points on http://crl.byoc-lab.test/ (the
  lab's good peer serves them). ``--revoke STEM`` rewrites them listing that leaf as revoked;
  ``--revoke none`` lists nothing again.
- ``genesys-badname.*``      same root, but names another host (impostor.lab.invalid)
- ``genesys-badroot.*``      names lb04..., but chains to another root ("Lab rogue root")
- ``public-root.crt``        "Lab public CA" standing in for a root Genesys accepts (R8)
- ``sbc.crt`` / ``sbc.key``  the SBC's leaf + intermediate (full chain) for ``--sbc-fqdn``
- ``sbc-next.crt`` / ``.key`` its successor (same name and issuer, a new key and serial): what a
  renewal installs; the rotation tests (molecule/default) put it in place with a call up
- ``org-ca.crt`` / ``.der``  "Lab organisation CA": stands in for the CA Genesys Cloud manages for an
  organisation, which signs its Edges (BYOC Premises, R16); served by the API stand-in
- ``edge-good.{crt,key}``    an Edge certificate signed by it, naming every ``--edge``
- ``edge-rogue.*``           names the same Edges, signed by another organisation's CA
- ``bad/``                   defective SBC inputs for the negative tests: ECDSA certificate,
  IP-only certificate, mismatched key, garbled PEM certificate and key, expired certificate,
  self-signed certificate, a leaf without its intermediate.

Built with tests/support/pki.py (cryptography). The lab CAs stand in for DigiCert and for a
public CA; they are generated on this machine and never leave it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from support import pki  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(HERE), ".collections"))  # scripts/setup.sh links it
ORG = "byoc.secure_trunk lab"
CRL_BASE = "http://crl.byoc-lab.test/"  # the lab's good "Genesys" peer serves crl/ there
ROOT_CRL, CA_CRL = "lab-root.crl", "lab-tls-ca.crl"
EDGES = ["edge1.customer.example", "edge2.customer.example"]  # the premises lab's Edge FQDNs


def endpoints(region: str):
    try:
        from ansible_collections.byoc.secure_trunk.plugins.module_utils.policy import get_region
    except ImportError:  # collection path not set up: fall back to the documented pattern
        return ["lb%02d.voice.%s.pure.cloud" % (n, region) for n in range(1, 5)]
    return get_region(region).endpoints


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _fresh(dest: str, names) -> bool:
    horizon = pki.now() + datetime.timedelta(days=30)
    for name in names:
        path = os.path.join(dest, name)
        if not os.path.exists(path):
            return False
        if name.endswith(".crt") and not name.startswith("bad/"):
            with open(path, "rb") as handle:
                cert = x509.load_pem_x509_certificate(handle.read())
            end = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(
                tzinfo=datetime.timezone.utc)
            if end < horizon:
                return False
    return True


def _issued(dest: str, stem: str) -> "pki.Issued":
    with open(os.path.join(dest, stem + ".crt"), "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(dest, stem + ".key"), "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), None)
    return pki.Issued(cert, key)


def _crls_fresh(dest: str) -> bool:
    horizon = pki.now() + datetime.timedelta(days=1)
    for name in (ROOT_CRL, CA_CRL):
        try:
            with open(os.path.join(dest, "crl", name), "rb") as handle:
                crl = x509.load_der_x509_crl(handle.read())
        except (OSError, ValueError):
            return False
        end = getattr(crl, "next_update_utc", None) or crl.next_update.replace(tzinfo=datetime.timezone.utc)
        if end < horizon:
            return False
    return True


def write_crls(dest: str, revoke=(), out: str = "") -> None:
    """The CRLs of the lab "Genesys" root and issuing CA into ``out`` (default DEST/crl);
    ``revoke``: leaf stems to list as revoked."""
    root, inter = _issued(dest, "genesys-root"), _issued(dest, "genesys-inter")
    leaves = [_issued(dest, stem).cert.serial_number for stem in revoke]
    out = out or os.path.join(dest, "crl")
    os.makedirs(out, exist_ok=True)
    _write(os.path.join(out, ROOT_CRL), pki.crl_der(pki.make_crl(root)))
    _write(os.path.join(out, CA_CRL), pki.crl_der(pki.make_crl(inter, revoked=leaves)))


def build(dest: str, region: str, sbc_fqdn: str, edges=tuple(EDGES)) -> bool:
    files = ["genesys-root.crt", "genesys-good.crt", "genesys-good.key", "genesys-badname.crt",
             "genesys-badname.key", "genesys-badroot.crt", "genesys-badroot.key", "public-root.crt",
             "sbc.crt", "sbc.key", "bad/ecdsa.crt", "bad/ecdsa.key", "bad/ip-only.crt", "bad/ip-only.key",
             "bad/mismatched.key", "bad/garbled.crt", "bad/expired.crt", "bad/self-signed.crt",
             "bad/self-signed.key", "bad/garbled.key", "bad/leaf-only.crt", "org-ca.crt", "org-ca.der",
             "edge-good.crt", "edge-good.key", "edge-rogue.crt", "edge-rogue.key", "lab.txt",
             "genesys-root.key", "genesys-inter.crt", "genesys-inter.key", "sbc-next.crt", "sbc-next.key"]
    stamp = "region=%s sbc=%s edges=%s crl=%s\n" % (region, sbc_fqdn, ",".join(edges), CRL_BASE)
    stamp_path = os.path.join(dest, "lab.txt")
    if _fresh(dest, files) and open(stamp_path).read() == stamp:
        if _crls_fresh(dest):
            return False
        write_crls(dest)
        return True
    os.makedirs(os.path.join(dest, "bad"), exist_ok=True)

    def key(kind="rsa"):
        return pki.make_key(kind, fresh=True)

    # The "Genesys" side: a root standing in for DigiCert, an issuing CA, three peers.
    g_root = pki.make_root("Lab DigiCert stand-in Root", key=key(), organization=ORG)
    g_inter = pki.make_intermediate(g_root, "Lab DigiCert stand-in TLS CA", key=key(), organization=ORG,
                                    crl_urls=[CRL_BASE + ROOT_CRL])
    rogue_root = pki.make_root("Lab rogue Root", key=key(), organization=ORG)
    rogue_inter = pki.make_intermediate(rogue_root, "Lab rogue TLS CA", key=key(), organization=ORG)
    names = endpoints(region)
    peers = {
        "genesys-good": pki.make_leaf(g_inter, names, key=key(), organization=ORG, days=397,
                                      crl_urls=[CRL_BASE + CA_CRL]),
        "genesys-badname": pki.make_leaf(g_inter, ["impostor.lab.invalid"], key=key(), organization=ORG,
                                         days=397, crl_urls=[CRL_BASE + CA_CRL]),
        "genesys-badroot": pki.make_leaf(rogue_inter, names, key=key(), organization=ORG, days=397),
    }
    _write(os.path.join(dest, "genesys-root.crt"), g_root.pem)
    _write(os.path.join(dest, "genesys-root.key"), g_root.key_pem, 0o600)
    _write(os.path.join(dest, "genesys-inter.crt"), g_inter.pem)
    _write(os.path.join(dest, "genesys-inter.key"), g_inter.key_pem, 0o600)
    for stem, leaf in peers.items():
        _write(os.path.join(dest, stem + ".crt"), pki.chain_pem(leaf, leaf.issuer))
        _write(os.path.join(dest, stem + ".key"), leaf.key_pem, 0o600)

    # The customer side: a root standing in for a public CA Genesys accepts, and the SBC.
    p_root = pki.make_root("Lab public Root", key=key(), organization=ORG)
    p_inter = pki.make_intermediate(p_root, "Lab public TLS CA", key=key(), organization=ORG)
    sbc = pki.make_leaf(p_inter, [sbc_fqdn], key=key(), organization=ORG, days=397)
    _write(os.path.join(dest, "public-root.crt"), p_root.pem)
    _write(os.path.join(dest, "sbc.crt"), pki.chain_pem(sbc, p_inter))
    _write(os.path.join(dest, "sbc.key"), sbc.key_pem, 0o600)
    renewed = pki.make_leaf(p_inter, [sbc_fqdn], key=key(), organization=ORG, days=397)
    _write(os.path.join(dest, "sbc-next.crt"), pki.chain_pem(renewed, p_inter))
    _write(os.path.join(dest, "sbc-next.key"), renewed.key_pem, 0o600)

    # BYOC Premises: the organisation CA signs the Edges directly; a rogue one signs an impostor.
    org_ca = pki.make_root("Lab organisation CA", key=key(), organization=ORG)
    rogue_org_ca = pki.make_root("Lab rogue organisation CA", key=key(), organization=ORG)
    _write(os.path.join(dest, "org-ca.crt"), org_ca.pem)
    _write(os.path.join(dest, "org-ca.der"), org_ca.cert.public_bytes(serialization.Encoding.DER))
    for stem, issuer in (("edge-good", org_ca), ("edge-rogue", rogue_org_ca)):
        edge = pki.make_leaf(issuer, list(edges), key=key(), organization=ORG, days=397)
        _write(os.path.join(dest, stem + ".crt"), edge.pem)
        _write(os.path.join(dest, stem + ".key"), edge.key_pem, 0o600)

    # Defective SBC inputs (each must fail before the host changes).
    bad = os.path.join(dest, "bad")
    ecdsa = pki.make_leaf(p_inter, [sbc_fqdn], key=key("ec"), organization=ORG)
    _write(os.path.join(bad, "ecdsa.crt"), pki.chain_pem(ecdsa, p_inter))
    _write(os.path.join(bad, "ecdsa.key"), ecdsa.key_pem, 0o600)
    ip_only = pki.make_leaf(p_inter, [], ips=["192.0.2.10"], common_name="192.0.2.10", key=key(),
                            organization=ORG)
    _write(os.path.join(bad, "ip-only.crt"), pki.chain_pem(ip_only, p_inter))
    _write(os.path.join(bad, "ip-only.key"), ip_only.key_pem, 0o600)
    other = pki.make_leaf(p_inter, [sbc_fqdn], key=key(), organization=ORG)
    _write(os.path.join(bad, "mismatched.key"), other.key_pem, 0o600)
    pem = sbc.pem.decode()
    lines = pem.splitlines()
    lines[3] = lines[3][:20] + "!!garbled!!" + lines[3][31:]
    _write(os.path.join(bad, "garbled.crt"), ("\n".join(lines) + "\n").encode())
    past = pki.now() - datetime.timedelta(days=10)
    expired = pki.make_leaf(p_inter, [sbc_fqdn], key=sbc.key, organization=ORG,
                            not_before=past - datetime.timedelta(days=90), not_after=past)
    _write(os.path.join(bad, "expired.crt"), pki.chain_pem(expired, p_inter))
    selfs = pki.self_signed_leaf([sbc_fqdn], key=key())
    _write(os.path.join(bad, "self-signed.crt"), selfs.pem)
    _write(os.path.join(bad, "self-signed.key"), selfs.key_pem, 0o600)
    _write(os.path.join(bad, "garbled.key"), b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
           0o600)
    _write(os.path.join(bad, "leaf-only.crt"), sbc.pem)
    write_crls(dest)
    _write(stamp_path, stamp.encode())
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest")
    parser.add_argument("--region", default="euc2")
    parser.add_argument("--sbc-fqdn", default="sbc.customer.example")
    parser.add_argument("--edge", action="append", help="an Edge FQDN (repeat); default %s" % " ".join(EDGES))
    parser.add_argument("--revoke", metavar="STEM", help="rewrite the CRLs listing this leaf as revoked "
                        "(e.g. genesys-good), or 'none'; the certificates are left as they are")
    args = parser.parse_args()
    dest = os.path.abspath(args.dest)
    changed = build(dest, args.region, args.sbc_fqdn, tuple(args.edge or EDGES))
    if args.revoke:
        write_crls(dest, () if args.revoke == "none" else (args.revoke,))
        changed = True
    print("changed" if changed else "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
