#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tls_validate
short_description: Prove a TLS peer's chain, name, dates, revocation and BYOC policy before the play completes
version_added: 1.0.0
description:
  - Connects to one TLS endpoint, or many concurrently, the way Genesys Cloud BYOC does (TLS 1.2,
    the policy cipher suites, ECDHE on secp384r1), and checks what the peer presents, the chain as
    sent (leaf and every intermediate, R8) up to a trust anchor, the name (R9), the dates (R10),
    the key and its usage (R2), and revocation by CRL (R11).
  - With O(probe_policy), also proves the peer B(refuses) what the policy forbids (R1-R3, R5), TLS
    1.0, 1.1 and 1.3, cipher suites outside the policy, ECDHE on P-256, P-521 and X25519, and a
    client-certificate request, and reports what it accepted.
  - With O(chain_file), checks a PEM chain on disk (the SBC's own certificate before it is
    installed) without any connection.
  - The task fails when any check fails; RV(msg) names every defect of every endpoint (object,
    defect, fix). The structured RV(failures) and per-endpoint RV(endpoints) are returned either way.
  - Runs on the managed node, so the node's own DNS, routes and firewall are what is tested.
    Nothing is changed; C(changed) is always false.
  - How each check works, and its limits, are in the collection's C(docs/tls_validate.md).
requirements:
  - Python 3.10 or later on the managed node to see the intermediates the peer sent (3.8/3.9 see
    only the leaf, and the result says so). Debian 12's C(/usr/bin/python3) (3.11) is enough.
  - C(cryptography) 38 or newer (Debian 12 C(python3-cryptography)); no pip needed.
  - The C(openssl) command (Debian C(openssl)) for two probes of O(probe_policy) the Python C(ssl)
    module cannot make, X25519 key exchange and a client-certificate request. Without it those
    two are reported as not probed.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Runs every check in check mode too; the module only reads and changes nothing.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  host:
    description:
      - The FQDN the certificate must carry; also sent as SNI. An IP address is refused (R9); put
        the address in O(connect_address).
      - With O(chain_file), the name the chain's leaf must carry.
    type: str
  port:
    description:
      - TCP port of O(host), and the default port of O(endpoints) entries that give none.
    type: int
    default: 5061
  connect_address:
    description:
      - Address (or another name) to connect to instead of resolving O(host), for split DNS, a lab, or
        a proxy's IP while checking its name.
    type: str
  endpoints:
    description:
      - Several endpoints, validated concurrently in one call (one CRL fetch per URL for all).
    type: list
    elements: dict
    suboptions:
      host:
        description: The FQDN the certificate must carry; also SNI.
        type: str
        required: true
      port:
        description: TCP port; defaults to O(port).
        type: int
      connect_address:
        description: Address to connect to instead of resolving RV(endpoints[].host).
        type: str
  chain_file:
    description:
      - Validate a PEM chain on the managed node (leaf first, then the intermediates) instead of a
        live peer. Needs O(host); no connection is made, so O(probe_policy) cannot be used.
    type: path
  private_key_file:
    description:
      - With O(chain_file), the private key (PEM or DER, unencrypted) that must belong to the chain's
        leaf; a key that cannot be read or is another certificate's is a defect. Mutually exclusive
        with O(private_key_content).
    type: path
    version_added: 1.1.0
  private_key_content:
    description:
      - With O(chain_file), the private key as PEM text, checked as O(private_key_file) is. Never
        logged.
    type: str
    version_added: 1.1.0
  ca_file:
    description:
      - Trust anchors from a PEM bundle (or one DER certificate) on the managed node, such as a
        BYOC Premises organisation CA (R16) or the file C(byoc.secure_trunk.digicert_roots) wrote.
      - Exactly one of O(ca_file), O(region) and O(public_cas) is required.
    type: path
  region:
    description:
      - Trust the pinned DigiCert roots of this Genesys Cloud region (R7), by id (C(euc2)) or AWS
        name (C(eu-central-2)), that is its current root plus those Genesys advises trusting for the
        migration, unless O(strict_roots).
    type: str
  strict_roots:
    description: With O(region), trust only the region's current root.
    type: bool
    default: false
  public_cas:
    description:
      - Trust the public roots Genesys accepts for a customer SBC (R8), taken from the managed node's
        CA store (O(ca_store)) by OpenSSL subject hash. The result lists the accepted roots the store
        lacks (RV(trust.missing_public_cas)).
    type: bool
    default: false
  ca_store:
    description:
      - CA bundle searched by O(public_cas). Defaults to the first of
        C(/etc/ssl/certs/ca-certificates.crt) and C(/etc/pki/tls/certs/ca-bundle.crt).
    type: path
  cipher_policy:
    description:
      - The cipher-suite policy offered and enforced, C(byoc-2019) (the eight suites of the
        specification) or C(byoc-2025) (less the two SHA-2 CBC suites Genesys retired).
      - Defaults to C(byoc-2019). Mutually exclusive with O(cipher_suites).
    type: str
  cipher_suites:
    description: An explicit list of policy suites by IANA name, instead of O(cipher_policy).
    type: list
    elements: str
  min_days_remaining:
    description:
      - Fail when a certificate of the chain (other than the trust anchor) expires within this many
        days; the anchor only warns.
    type: int
    default: 30
  revocation:
    description:
      - C(none) skips revocation. C(soft) fetches each certificate's CRL over HTTP, verifies its
        signature and freshness against the issuer and looks the serial up; a revoked certificate
        fails, a CRL that cannot be had only warns. C(hard) also fails when a CRL cannot be checked
        (including a certificate with no CRL distribution point, and a CRL that does not cover it, such as
        a delta or partition CRL).
      - CRLs are fetched only for a chain OpenSSL verified to a trust anchor, never following redirects, within
        O(timeout) in all per fetch.
    type: str
    choices: [none, soft, hard]
    default: soft
  probe_policy:
    description:
      - Also prove the peer refuses what the policy forbids (about 25 extra handshakes per endpoint,
        run concurrently) and report what it accepted in RV(endpoints[].probes).
    type: bool
    default: false
  timeout:
    description: Seconds to wait for each connection and handshake, and in all for each CRL download.
    type: float
    default: 10
  openssl_path:
    description: The C(openssl) command used by two probes of O(probe_policy); found on C(PATH) by default.
    type: str
notes:
  - Trust is OpenSSL's verdict, on the managed node, with X.509 strict checks and the C(sslserver) purpose; the
    collection's own checks explain a refusal and may add failures, never remove one.
    A O(chain_file) needs the C(openssl) command.
  - The chain is checked as the peer sent it; missing intermediates are never fetched (no AIA), because
    Genesys does not fetch them either.
  - The negotiated ECDHE group is known because the module offers only secp384r1 in its main
    handshake; with RSA key exchange RV(endpoints[].group) says so.
seealso:
  - module: byoc.secure_trunk.digicert_roots
"""

EXAMPLES = r"""
- name: Check that this SBC reaches the four Genesys proxies of its region over TLS
  byoc.secure_trunk.tls_validate:
    endpoints:
      - host: lb01.voice.euc2.pure.cloud
      - host: lb02.voice.euc2.pure.cloud
      - host: lb03.voice.euc2.pure.cloud
      - host: lb04.voice.euc2.pure.cloud
    region: euc2

- name: Audit the SBC's own listener the way Genesys sees it
  byoc.secure_trunk.tls_validate:
    host: sbc1.example.com
    connect_address: 127.0.0.1
    public_cas: true
    probe_policy: true
    min_days_remaining: 21
    revocation: hard

- name: Check a new certificate chain before installing it
  byoc.secure_trunk.tls_validate:
    chain_file: /etc/kamailio/tls/new-chain.pem
    host: sbc1.example.com
    public_cas: true

- name: Collect the result without failing, then assert on it
  byoc.secure_trunk.tls_validate:
    host: edge1.premises.example.com
    ca_file: /etc/kamailio/tls/org-ca.pem
  register: edge_tls
  ignore_errors: true

- name: Show the days left on the Edge certificate
  ansible.builtin.debug:
    msg: "{{ edge_tls.endpoints[0].days_remaining }} days left; failures: {{ edge_tls.failures | length }}"
"""

RETURN = r"""
msg:
  description:
    - Every defect of every endpoint as C(endpoint) C(object) C(defect) C(fix), or a one-line summary per endpoint.
  returned: always
  type: str
  sample: >-
    1 defect on 1 of 4 endpoints: lb02.voice.euc2.pure.cloud:5061: leaf CN=lb02.voice.euc2.pure.cloud:
    certificate expired on 2026-10-01 (notAfter); renew it or check the system clock
failures:
  description: Every failed check of every endpoint, structured.
  returned: always
  type: list
  elements: dict
  sample:
    - endpoint: "sbc1.example.com:5061"
      check: chain
      level: fail
      object: "leaf CN=sbc1.example.com"
      defect: "incomplete chain: the issuer of CN=sbc1.example.com (CN=R11) was not sent and is not a trust anchor"
      fix: "send the leaf and every intermediate in the handshake (R8), or trust the root it chains to"
      msg: "sbc1.example.com:5061: leaf CN=sbc1.example.com: incomplete chain: ..."
endpoints:
  description: One result per endpoint (or one for O(chain_file)), in the order given.
  returned: always
  type: list
  elements: dict
  sample:
    - endpoint: "lb01.voice.euc2.pure.cloud:5061"
      ok: true
      protocol: TLSv1.2
      cipher_iana: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
      group: secp384r1
      days_remaining: 312
  contains:
    endpoint:
      description: C(host:port), or the chain file's path.
      returned: always
      type: str
      sample: "lb01.voice.euc2.pure.cloud:5061"
    host:
      description: The name checked.
      returned: always
      type: str
      sample: lb01.voice.euc2.pure.cloud
    port:
      description: The TCP port.
      returned: always
      type: int
      sample: 5061
    connect_address:
      description: The O(connect_address) given, if any.
      returned: always
      type: str
      sample: 192.0.2.10
    address:
      description: The address actually connected to.
      returned: always
      type: str
      sample: 192.0.2.10
    source:
      description: C(handshake) or C(chain_file).
      returned: always
      type: str
      sample: handshake
    ok:
      description: Whether every check of this endpoint passed.
      returned: always
      type: bool
      sample: true
    protocol:
      description: The negotiated protocol.
      returned: always
      type: str
      sample: TLSv1.2
    cipher:
      description: The negotiated suite, OpenSSL name.
      returned: always
      type: str
      sample: ECDHE-RSA-AES256-GCM-SHA384
    cipher_iana:
      description: The negotiated suite, IANA name.
      returned: always
      type: str
      sample: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    key_exchange:
      description: C(ECDHE) or C(RSA).
      returned: always
      type: str
      sample: ECDHE
    group:
      description: The ECDHE group, C(none (RSA key exchange)), or C(unknown).
      returned: always
      type: str
      sample: secp384r1
    chain:
      description: The path from the leaf to the trust anchor, then any sent certificate not on it.
      returned: always
      type: list
      elements: dict
      sample:
        - role: leaf
          sent: true
          subject: "CN=lb01.voice.euc2.pure.cloud"
          issuer: "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1,O=DigiCert Inc,C=US"
          sha256: "5D0A...E1"
          subject_hash: "1a2b3c4d"
          serial: "0A1B"
          not_before: "2026-01-01T00:00:00Z"
          not_after: "2027-01-31T23:59:59Z"
    chain_complete:
      description: False when the Python on the node exposes only the leaf.
      returned: always
      type: bool
      sample: true
    matched_root:
      description: The trust anchor the chain ends in (null when none).
      returned: always
      type: dict
      sample: {"name": "DigiCert Global Root G2", "sha256": "CB3CCBB7...CB5F", "subject_hash": "607986c7"}
    san:
      description: The leaf's subjectAltName entries.
      returned: always
      type: list
      elements: str
      sample: ["DNS:lb01.voice.euc2.pure.cloud"]
    name_match:
      description: The name that matched O(host), and where (SAN or CN).
      returned: always
      type: str
      sample: "lb01.voice.euc2.pure.cloud (SAN)"
    wildcard:
      description: Whether the name matched through a wildcard (R13 caution).
      returned: always
      type: bool
      sample: false
    days_remaining:
      description: Days until the leaf expires.
      returned: always
      type: int
      sample: 312
    chain_days_remaining:
      description: Days until the first certificate of the path expires.
      returned: always
      type: int
      sample: 312
    verdict:
      description:
        - OpenSSL's verdict on the chain, which decides trust (null when no chain was seen). C(verifier) says
          which OpenSSL (the handshake's, or C(openssl verify) for O(chain_file)); C(code), C(message) and
          C(depth) are OpenSSL's X509 error when it refused.
      returned: always
      type: dict
      sample: {"ok": false, "verifier": "OpenSSL 3.0.19 (Python ssl, in the handshake)", "code": 26,
               "message": "unsuitable certificate purpose", "depth": null}
    crl:
      description:
        - Revocation status of each certificate checked (C(good), C(revoked), C(unknown), or C(trust anchor) for
          a leaf pinned in O(ca_file)). Only a chain OpenSSL verified to a trust anchor is checked; otherwise the
          leaf is C(unknown) and nothing is fetched.
      returned: always
      type: list
      elements: dict
      sample:
        - subject: "CN=lb01.voice.euc2.pure.cloud"
          status: good
          url: "http://crl3.digicert.com/DigiCertGlobalG2TLSRSASHA2562020CA1-1.crl"
          urls: ["http://crl3.digicert.com/DigiCertGlobalG2TLSRSASHA2562020CA1-1.crl"]
          detail: not listed in the CRL
          next_update: "2026-12-03T00:00:00Z"
          revoked_on: null
    checks:
      description:
        - Each named check (handshake, chain, name, dates, key, revocation, policy) as C(pass), C(warn),
          C(fail) or C(skipped).
      returned: always
      type: dict
      sample: {"handshake": "pass", "chain": "pass", "name": "pass", "dates": "pass", "key": "pass",
               "revocation": "pass", "policy": "skipped"}
    probes:
      description: With O(probe_policy), what the peer accepted or refused; null otherwise.
      returned: always
      type: dict
      sample:
        protocols: {"TLSv1.0": refused, "TLSv1.1": refused, "TLSv1.2": accepted, "TLSv1.3": refused}
        non_policy_suites: {"ECDHE-ECDSA": [], "RSA key exchange outside the policy": []}
        groups: {"secp384r1": accepted, "P-256": refused, "P-521": refused, "X25519": refused}
        policy_suites: {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": accepted}
        client_certificate_requested: false
    failures:
      description: This endpoint's failed checks (same form as RV(failures)).
      returned: always
      type: list
      elements: dict
      sample: []
    warnings:
      description: This endpoint's cautions (same form as RV(failures), level C(warn)).
      returned: always
      type: list
      elements: dict
      sample: []
    seconds:
      description: Wall time spent on this endpoint.
      returned: always
      type: float
      sample: 0.41
trust:
  description: The trust anchors used.
  returned: always
  type: dict
  contains:
    source:
      description: C(ca_file), C(region) or C(public_cas).
      returned: always
      type: str
      sample: region
    anchors:
      description: Name, subject, SHA-256 and subject hash of each anchor.
      returned: always
      type: list
      elements: dict
      sample: [{"name": "DigiCert Global Root G2", "sha256": "CB3CCBB7...CB5F", "subject_hash": "607986c7"}]
    missing_public_cas:
      description: With O(public_cas), the accepted roots (R8) not found in the CA store.
      type: list
      elements: str
      returned: when O(public_cas=true)
      sample: ["Certum CA"]
  sample: {"source": "region", "region": "euc2", "strict_roots": false, "anchors": []}
crl_fetches:
  description: The CRL URLs fetched in this call, each once.
  returned: always
  type: list
  elements: str
  sample: ["http://crl3.digicert.com/DigiCertGlobalG2TLSRSASHA2562020CA1-1.crl"]
seconds:
  description: Wall time of the whole call.
  returned: always
  type: float
  sample: 0.62
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.byoc.secure_trunk.plugins.module_utils import crl, key_pair, policy, tls_validation, x509
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import SecureTrunkError

CORE_OPTIONS = ("host", "port", "connect_address", "endpoints", "chain_file", "ca_file", "region", "public_cas",
                "ca_store", "strict_roots", "cipher_policy", "cipher_suites", "min_days_remaining", "revocation",
                "probe_policy", "timeout")


def _key_defect(params):
    """The key's defect (it cannot be read, or it is not the chain leaf's), or None."""
    if not (params["private_key_file"] or params["private_key_content"]):
        return None
    label = params["private_key_file"] or "private_key_content"
    try:
        if params["private_key_file"]:
            with open(params["private_key_file"], "rb") as handle:
                key_data = handle.read()
        else:
            key_data = params["private_key_content"].encode()
        with open(params["chain_file"], "rb") as handle:
            leaf = x509.load_certificates(handle.read(), params["chain_file"])[0]
        key_pair.check_key_matches(key_data, leaf, label)
    except OSError as exc:
        return "%s: cannot be read: %s; check the path and its permissions" % (label, exc.strerror)
    except SecureTrunkError as exc:
        return str(exc)
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str"),
            port=dict(type="int", default=policy.SIP_TLS_PORT),
            connect_address=dict(type="str"),
            endpoints=dict(type="list", elements="dict", options=dict(
                host=dict(type="str", required=True),
                port=dict(type="int"),
                connect_address=dict(type="str"),
            )),
            chain_file=dict(type="path"),
            private_key_file=dict(type="path"),
            private_key_content=dict(type="str", no_log=True),
            ca_file=dict(type="path"),
            region=dict(type="str"),
            strict_roots=dict(type="bool", default=False),
            public_cas=dict(type="bool", default=False),
            ca_store=dict(type="path"),
            cipher_policy=dict(type="str"),
            cipher_suites=dict(type="list", elements="str"),
            min_days_remaining=dict(type="int", default=30),
            revocation=dict(type="str", choices=list(crl.MODES), default="soft"),
            probe_policy=dict(type="bool", default=False),
            timeout=dict(type="float", default=10),
            openssl_path=dict(type="str"),
        ),
        mutually_exclusive=[("host", "endpoints"), ("chain_file", "endpoints"), ("chain_file", "connect_address"),
                            ("chain_file", "probe_policy"), ("cipher_policy", "cipher_suites"),
                            ("private_key_file", "private_key_content")],
        required_by={"private_key_file": "chain_file", "private_key_content": "chain_file"},
        required_one_of=[("host", "endpoints")],
        supports_check_mode=True,
    )
    if not x509.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography (Debian: python3-cryptography)"),
                         exception=str(x509.CRYPTOGRAPHY_IMPORT_ERROR))
    options = {name: module.params[name] for name in CORE_OPTIONS}
    try:
        request = tls_validation.build_request(openssl=module.params["openssl_path"], **options)
        result = tls_validation.validate(request)
    except SecureTrunkError as exc:
        module.fail_json(msg=str(exc), error=exc.as_dict(), changed=False)
    for warning in result.pop("warnings"):
        module.warn(warning)
    ok = result.pop("ok")
    key_defect = _key_defect(module.params)
    if key_defect:  # beside the chain's own defects, if any
        result["msg"] = key_defect if ok else "%s | %s" % (key_defect, result["msg"])
        ok = False
    if not ok:
        module.fail_json(changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
