"""A per-test TLS lab: a throwaway PKI whose CRLs are served over HTTP, and loopback peers.

    with Lab(tmp_path) as lab:
        leaf = lab.leaf(["sbc.example.test"])             # issued by lab.inter, CRL DP on lab.crls
        peer = lab.serve(leaf)                           # sends leaf + intermediate; TLS 1.2 policy
        peer = lab.serve(leaf, chain=[])                 # sends the leaf only
        lab.revoke(leaf)                                 # republishes the intermediate's CRL
        lab.root_file                                    # the trust anchor, PEM

Everything stops when the ``with`` block ends.
"""

from __future__ import annotations

import os
from typing import List, Optional, Sequence

from support import pki, servers

HOST = "sbc.example.test"


class Lab:
    def __init__(self, directory) -> None:
        self.dir = os.fspath(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.crls = servers.CRLServer().start()
        self._servers: List[servers.TLSServer] = []
        self._count = 0
        self.root = pki.make_root("byoc lab root CA")
        self.inter = pki.make_intermediate(self.root, "byoc lab issuing CA", crl_urls=[self.crls.url("root.crl")])
        self.revoked: List[pki.Issued] = []
        self.crls.put("root.crl", pki.crl_der(pki.make_crl(self.root)))
        self.publish()
        self.root_file = os.path.join(self.dir, "root.pem")
        with open(self.root_file, "wb") as handle:
            handle.write(self.root.pem)

    # --------------------------------------------------------------- certificates
    def leaf(self, hostnames: Sequence[str] = (HOST,), issuer: Optional[pki.Issued] = None, crl: bool = True,
             **kwargs) -> pki.Issued:
        """A leaf from the lab's intermediate (or ``issuer``) with a CRL DP unless ``crl=False``."""
        if crl and "crl_urls" not in kwargs:
            kwargs["crl_urls"] = [self.crls.url("inter.crl")]
        return pki.make_leaf(issuer or self.inter, hostnames, **kwargs)

    def publish(self, **crl_kwargs) -> None:
        """(Re)publish the intermediate's CRL listing ``self.revoked``."""
        self.crls.put("inter.crl", pki.crl_der(pki.make_crl(self.inter, revoked=self.revoked, **crl_kwargs)))

    def revoke(self, issued: pki.Issued) -> None:
        self.revoked.append(issued)
        self.publish()

    def files(self, leaf: pki.Issued, chain: Optional[Sequence[pki.Issued]] = None) -> dict:
        """Write leaf, key and chain file (leaf + ``chain``, default the intermediate)."""
        self._count += 1
        chain = [self.inter] if chain is None else list(chain)
        paths = leaf.write(os.path.join(self.dir, "peer%d" % self._count), "leaf", chain=chain)
        if not chain:
            paths["chain"] = paths["cert"]
        return paths

    # --------------------------------------------------------------- peers
    def serve(self, leaf: pki.Issued, chain: Optional[Sequence[pki.Issued]] = None, **server_kwargs):
        """Start a TLS peer presenting ``leaf`` + ``chain`` (default: the intermediate)."""
        paths = self.files(leaf, chain)
        server = servers.TLSServer(paths["chain"], paths["key"], **server_kwargs).start()
        server.paths = paths
        self._servers.append(server)
        return server

    def close(self) -> None:
        for server in self._servers:
            server.stop()
        self.crls.stop()

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
