#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: org_ca
short_description: Install the Genesys Cloud organisation CA that signs BYOC Premises Edge certificates
version_added: 1.0.0
description:
  - For BYOC Premises (requirement R16) the SBC talks TLS to the organisation's own Genesys Cloud Edge
    appliances, whose server certificates are issued by the organisation's certificate authority, not
    by DigiCert. This module obtains that CA certificate, checks it, and writes it as PEM to O(dest).
  - The CA comes from a PEM or DER file on the managed node (O(src)), from inline PEM (O(content)), or,
    when neither is given, from the Genesys Cloud Platform API
    (C(GET /api/v2/telephony/providers/edges/certificateauthorities)) with an OAuth client-credentials token
    from the region's login host.
  - From the API listing (every page is read) the module keeps authorities of type C(MANAGED) that list
    C(SIP) among their services and are not C(inactive) or C(deleted) (and carry O(authority_name) if
    given). If several qualify, the one whose certificate ends last is chosen, with a warning.
  - Every certificate written must be a CA certificate (basicConstraints CA:TRUE, keyUsage keyCertSign)
    inside its validity dates; anything else is refused and O(dest) is left alone.
  - Requests that get 429 or 5xx answers are retried with exponential backoff, honouring C(Retry-After).
  - The write is atomic; the module reports C(changed) only when bytes or file attributes change.
requirements:
  - Python 3.8+ on the managed node (Debian 12's C(/usr/bin/python3) is enough).
  - C(cryptography) 38 or newer on the managed node (Debian 12 C(python3-cryptography)); no pip needed.
  - For the API source, HTTPS access from the managed node to the region's C(api.) and C(login.) hosts
    (or to O(api_base_url)/O(login_base_url)). Delegate the task to another host if the SBC has no such access.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  dest:
    description:
      - Absolute path of the PEM file to write (for example the CA list of Kamailio's TLS profile toward the
        Edges). Missing parent directories are created.
    type: path
    required: true
  src:
    description:
      - Path on the managed node of the organisation CA as downloaded from Genesys Cloud
        (Admin > Telephony > Certificate Authorities), PEM or DER.
      - Mutually exclusive with O(content). When neither is given, the Platform API is asked.
    type: path
  content:
    description:
      - The organisation CA as PEM text. Mutually exclusive with O(src).
    type: str
  region:
    description:
      - Genesys Cloud region of the organisation, by id (C(euc1)) or AWS name (C(eu-central-1)); picks the
        C(api.) and C(login.) hosts from the collection's region table.
      - Falls back to the E(GENESYSCLOUD_REGION) environment variable of the task.
      - Needed for the API source unless O(api_base_url) is given.
    type: str
  client_id:
    description:
      - OAuth client ID of a Client Credentials grant in the organisation; the client's role needs the
        C(telephony:plugin:all) permission.
      - Falls back to the E(GENESYSCLOUD_OAUTHCLIENT_ID) environment variable (the name the Genesys Cloud CLI,
        SDKs and Terraform provider use).
    type: str
  client_secret:
    description:
      - Secret of that OAuth client, C(no_log), never logged or returned. Module options travel inside the
        module's payload, never on a command line. Template it from a vault or a C(0600) file.
      - Falls back to the E(GENESYSCLOUD_OAUTHCLIENT_SECRET) environment variable of the process that runs the
        module, read by the module itself. Do B(not) set it with the task's C(environment) keyword, because Ansible
        puts those variables on the C(/bin/sh -c) command line that starts the module, which C(-vvv) prints
        and C(ps) shows on the node.
      - O(client_secret_file) wins when both are given.
    type: str
  client_secret_file:
    description:
      - Path of a file on the host that runs the task holding the client secret (its first line), for
        example a C(0600) file managed outside Ansible. Read by the module; the secret is never logged.
      - When given, it wins over O(client_secret) and the environment variable.
    type: path
    version_added: 1.1.0
  api_base_url:
    description:
      - Base URL of the Platform API instead of C(https://api.<region's cloud domain>), for an internal mirror
        or proxy. Must be C(https://). Redirects are not followed, so the token only goes to this host.
    type: str
  login_base_url:
    description:
      - Base URL of the OAuth login service instead of C(https://login.<region's cloud domain>). When only
        O(api_base_url) is given and its host starts with C(api.), the C(login.) host next to it is used.
    type: str
  authority_name:
    description:
      - Choose the authority with this name (any case) when the organisation has more than one managed SIP
        authority.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificates of the API and login hosts. Turn off only for a lab. Without it the
        client credentials and the access token go to whoever answers, and the module warns so.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA(s) to verify the API and login hosts with, instead of the system store (for an
        intercepting proxy or a mirror with a private certificate).
    type: path
  timeout:
    description:
      - Seconds allowed for each HTTP request in all (connection, headers and body), not per read; a slow
        or dripping server is cut at this deadline. Answers over 16 MiB are refused.
    type: int
    default: 30
  retries:
    description: How many times to retry a request answered with 429 or 5xx.
    type: int
    default: 4
  retry_backoff:
    description:
      - First retry delay in seconds; doubles on each retry. A C(Retry-After) header from the server wins.
    type: float
    default: 1.0
  retry_max_delay:
    description: Upper bound in seconds for any single retry delay, C(Retry-After) included.
    type: float
    default: 60.0
  backup:
    description: Keep a timestamped copy of O(dest) before replacing it.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reads the source (the API too, read-only) and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the PEM text before and after.
notes:
  - Secrets are marked C(no_log); the access token is only ever sent in the C(Authorization) header and is
    never returned or put into an error message.
  - The CA replaces the region's DigiCert roots only for the TLS profile toward the Edges (BYOC Premises);
    BYOC Cloud trunks keep trusting the DigiCert roots (see M(byoc.secure_trunk.digicert_roots)).
seealso:
  - module: byoc.secure_trunk.digicert_roots
  - name: Genesys Cloud Platform API, Telephony Providers Edge
    description: The certificateauthorities endpoints and the DomainCertificateAuthority model.
    link: https://developer.genesys.cloud/telephony/telephony-apis
"""

EXAMPLES = r"""
- name: Fetch the organisation CA from Genesys Cloud for the Edge TLS profile
  byoc.secure_trunk.org_ca:
    region: euc1
    dest: /etc/kamailio/byoc/org-ca.pem
    owner: root
    group: kamailio
    mode: "0644"
    client_id: "{{ vault_genesys_client_id }}"
    client_secret: "{{ vault_genesys_client_secret }}"
  register: byoc_org_ca

- name: Show which authority is trusted
  ansible.builtin.debug:
    msg: "{{ byoc_org_ca.authority.name }} {{ byoc_org_ca.sha256 }} until {{ byoc_org_ca.not_after }}"

- name: Fetch the organisation CA with the secret kept in a 0600 file on the host that runs the task
  byoc.secure_trunk.org_ca:
    region: euc1
    client_id: "{{ vault_genesys_client_id }}"
    client_secret_file: /etc/byoc/genesys-client-secret
    dest: /etc/kamailio/byoc/org-ca.pem

- name: Install the organisation CA from a file downloaded by an administrator
  byoc.secure_trunk.org_ca:
    src: /root/genesys-org-ca.crt
    dest: /etc/kamailio/byoc/org-ca.pem
    backup: true

- name: Ask the API through an internal mirror with a private certificate
  byoc.secure_trunk.org_ca:
    api_base_url: https://genesys-api.mirror.example.com
    login_base_url: https://genesys-login.mirror.example.com
    ca_path: /etc/ssl/certs/corp-proxy-ca.pem
    client_id: "{{ vault_genesys_client_id }}"
    client_secret: "{{ vault_genesys_client_secret }}"
    authority_name: Example Org Edge CA
    dest: /etc/kamailio/byoc/org-ca.pem
"""

RETURN = r"""
dest:
  description: The file written (or that would be written in check mode).
  returned: success
  type: str
  sample: /etc/kamailio/byoc/org-ca.pem
source:
  description: Where the CA came from, C(src), C(content) or C(api).
  returned: success
  type: str
  sample: api
subject:
  description: Subject of the authority's certificate (RFC 4514).
  returned: success
  type: str
  sample: CN=Example Org Edge CA,O=Example Org
issuer:
  description: Issuer of the authority's certificate (RFC 4514).
  returned: success
  type: str
  sample: CN=Example Org Edge CA,O=Example Org
sha256:
  description: SHA-256 fingerprint of the authority's certificate (DER), upper-case hex without colons.
  returned: success
  type: str
  sample: 3F1C0E5E1A6B2A59C2A7D7C3E5F0E4B8C9D2A1B0F3E4D5C6B7A8998877665544
subject_hash:
  description: OpenSSL subject-name hash of the authority (the C(<hash>.0) name in a CA directory).
  returned: success
  type: str
  sample: 9d66eef0
serial:
  description: Serial number of the authority's certificate, hex.
  returned: success
  type: str
  sample: 5A3F19C2
not_before:
  description: Start of validity (UTC).
  returned: success
  type: str
  sample: "2025-01-10T00:00:00Z"
not_after:
  description: End of validity (UTC).
  returned: success
  type: str
  sample: "2035-01-08T00:00:00Z"
days_left:
  description: Whole days until O(dest)'s authority expires.
  returned: success
  type: int
  sample: 3330
authority:
  description: The Platform API object chosen (C(id), C(name), C(type), C(services), C(state), C(self_uri)); null
    for O(src) and O(content).
  returned: success
  type: dict
  sample:
    id: 4b1a6f0e-5f55-4c0c-9a53-2f0f0e8f6a10
    name: Example Org Edge CA
    type: MANAGED
    services: [SIP]
    state: active
    self_uri: /api/v2/telephony/providers/edges/certificateauthorities/4b1a6f0e-5f55-4c0c-9a53-2f0f0e8f6a10
certificates:
  description: Every certificate written to O(dest), the authority first, with the same keys as above.
  returned: success
  type: list
  elements: dict
  sample:
    - subject: CN=Example Org Edge CA,O=Example Org
      issuer: CN=Example Org Edge CA,O=Example Org
      sha256: 3F1C0E5E1A6B2A59C2A7D7C3E5F0E4B8C9D2A1B0F3E4D5C6B7A8998877665544
      subject_hash: 9d66eef0
      serial: 5A3F19C2
      not_before: "2025-01-10T00:00:00Z"
      not_after: "2035-01-08T00:00:00Z"
api:
  description: For the API source, the listing URL, HTTP requests sent, pages read and each retry made; null
    otherwise. Never holds credentials or tokens.
  returned: success
  type: dict
  sample:
    url: https://api.mypurecloud.de/api/v2/telephony/providers/edges/certificateauthorities
    requests: 3
    pages: 1
    retries:
      - url: https://api.mypurecloud.de/api/v2/telephony/providers/edges/certificateauthorities
        status: 429
        delay: 2.0
backup_file:
  description: Path of the backup copy, when O(backup) made one.
  returned: changed and backup made
  type: str
  sample: /etc/kamailio/byoc/org-ca.pem.4021.2026-11-26@17:40:01~
"""

import os

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.byoc.secure_trunk.plugins.module_utils import files, genesys_api, org_ca, x509
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import SecureTrunkError


def _obtain(module):
    p = module.params
    if p["content"] is not None:
        return org_ca.from_bytes(p["content"].encode("utf-8"), "content", "content"), None
    if p["src"]:
        try:
            with open(p["src"], "rb") as handle:
                data = handle.read()
        except OSError as exc:
            module.fail_json(msg="src %s: cannot be read (%s); check the path on the managed node" % (
                p["src"], exc.strerror or exc))
        return org_ca.from_bytes(data, p["src"], "src"), None
    api, login = org_ca.endpoints(p["region"], p["api_base_url"], p["login_base_url"])
    secret = org_ca.read_secret_file(p["client_secret_file"]) if p["client_secret_file"] else p["client_secret"]
    client_id, client_secret = org_ca.require_credentials(p["client_id"], secret)
    if not p["validate_certs"]:
        module.warn(org_ca.insecure_tls_warning(api, login))
    opener = genesys_api.open_url_adapter(validate_certs=p["validate_certs"], ca_path=p["ca_path"],
                                          use_proxy=True, use_netrc=False)
    client = genesys_api.GenesysClient(api, login, client_id, client_secret, opener, timeout=p["timeout"],
                                       retries=p["retries"], backoff=p["retry_backoff"],
                                       max_delay=p["retry_max_delay"])
    return org_ca.from_api(client, p["authority_name"]), client


def _write(module, dest, data):
    """Atomic replace of dest; returns (changed, diff, backup_file)."""
    if os.path.isdir(dest):
        module.fail_json(msg="dest %s: is a directory; give the path of the PEM file to write, e.g. %s" % (
            dest, os.path.join(dest, "org-ca.pem")))
    before, header = None, dest
    if os.path.islink(dest):  # never read through a link: the file is replaced by a regular one
        header = "%s (a symlink to %s, not followed)" % (dest, os.readlink(dest))
    elif os.path.isfile(dest):
        with open(dest, "rb") as handle:
            before = handle.read()
    changed, backup_file = before != data, None
    diff = files.text_diff(dest, before, data, before_header=header) if changed else {}
    if changed and not module.check_mode:
        if before is not None and module.params["backup"]:
            backup_file = module.backup_local(dest)
        # a CA certificate is public (0644); mode/owner options apply after
        files.write_atomically(dest, data, 0o644, move=module.atomic_move, prefix=".byoc-org-ca-")
    changed = files.apply_attributes(module, dest, changed)
    return changed, diff, backup_file


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            src=dict(type="path"),
            content=dict(type="str"),
            region=dict(type="str", fallback=(env_fallback, [org_ca.ENV_REGION])),
            client_id=dict(type="str", no_log=True, fallback=(env_fallback, [org_ca.ENV_CLIENT_ID])),
            client_secret=dict(type="str", no_log=True, fallback=(env_fallback, [org_ca.ENV_CLIENT_SECRET])),
            client_secret_file=dict(type="path"),
            api_base_url=dict(type="str"),
            login_base_url=dict(type="str"),
            authority_name=dict(type="str"),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            timeout=dict(type="int", default=30),
            retries=dict(type="int", default=genesys_api.DEFAULT_RETRIES),
            retry_backoff=dict(type="float", default=genesys_api.DEFAULT_BACKOFF),
            retry_max_delay=dict(type="float", default=genesys_api.DEFAULT_MAX_DELAY),
            backup=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("src", "content")],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    if not x509.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography (Debian: python3-cryptography)"),
                         exception=str(x509.CRYPTOGRAPHY_IMPORT_ERROR))
    dest = module.params["dest"]
    try:
        found, client = _obtain(module)
        changed, diff, backup_file = _write(module, dest, found.pem)
    except SecureTrunkError as exc:
        module.fail_json(msg=str(exc), error=exc.as_dict())
    except OSError as exc:
        module.fail_json(msg="dest %s: %s; check the path and permissions" % (dest, exc))
    for warning in found.warnings:
        module.warn(warning)
    api = None if client is None else dict(
        url=found.label, requests=client.requests, pages=found.pages,
        retries=[dict(url=u, status=s, delay=d) for u, s, d in client.retried])
    result = dict(changed=changed, diff=diff, dest=dest, api=api, **found.describe())
    if backup_file:
        result["backup_file"] = backup_file
    module.exit_json(**result)


if __name__ == "__main__":
    main()
