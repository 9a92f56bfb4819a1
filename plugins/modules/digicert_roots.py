#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: digicert_roots
short_description: Install the DigiCert roots a Genesys Cloud BYOC region chains to, pinned
version_added: 1.0.0
description:
  - Writes the DigiCert root certificates that Genesys Cloud BYOC Cloud SIP proxies of the given
    regions chain to (requirement R7), as PEM files, DER files, one PEM bundle and/or OpenSSL
    hashed-directory links (C(<hash>.0)).
  - Every root is checked against its SHA-256 pin before anything is written; a root that does
    not match is refused and no file changes.
  - By default a region's current root and the roots Genesys advises trusting for the coming
    migration are installed (EV regions get EV, G2 and G3; G2 regions get G2 and G3). O(strict)
    installs only the current root.
  - Writes are atomic; the module reports C(changed) only when bytes, link targets or modes change.
  - The module records what it wrote in O(dest) (C(.byoc-digicert-roots.json)). When a later run plans
    other files (another region, O(strict), O(formats) or O(bundle_name)), the files and hash links it
    wrote before and no longer plans are removed, and only those, and only while they still hold what
    it wrote. Give each O(dest) to one task.
requirements:
  - Python 3.8+ on the managed node (Debian 12's C(/usr/bin/python3) is enough).
  - C(cryptography) 38 or newer on the managed node (Debian 12 C(python3-cryptography)); no pip needed.
author:
  - byoc.secure_trunk contributors (!UNKNOWN)
options:
  region:
    description:
      - One region id (C(euc2)) or AWS name (C(eu-central-2)), a list of them, or C(all).
    type: list
    elements: str
    required: true
  dest:
    description:
      - Absolute path of the directory to write into; created if missing.
    type: path
    required: true
  formats:
    description:
      - C(pem) one PEM file per root, C(der) one DER file per root, C(bundle) one PEM bundle of
        all roots (named by O(bundle_name)), C(hashed) OpenSSL C(<subject-hash>.0) links to the
        PEM files (needs C(pem)).
    type: list
    elements: str
    choices: [pem, der, bundle, hashed]
    default: [pem, bundle, hashed]
  bundle_name:
    description:
      - File name of the PEM bundle inside O(dest). A plain name; C(../), C(/) and absolute paths are
        refused.
    type: str
    default: byoc-digicert-roots.pem
  strict:
    description:
      - Install only the region's current root, not the roots Genesys advises trusting ahead of
        the root migration.
    type: bool
    default: false
  source:
    description:
      - C(download) fetches each root (DER) from DigiCert, or from O(base_url), and checks its pin;
        any failure fails the task.
      - C(bundled) uses the pinned copies shipped in this collection; no network.
      - C(auto) downloads, and falls back to the bundled copy with a warning when a download
        fails or does not match its pin.
    type: str
    choices: [download, bundled, auto]
    default: auto
  base_url:
    description:
      - Where the root files are served from (an internal mirror of DigiCert's C(cacerts) site);
        the file names are DigiCert's (C(DigiCertGlobalRootG2.crt) ...).
      - Defaults to DigiCert's own download site.
    type: str
  timeout:
    description: Seconds allowed for each download in all (connection, headers and body).
    type: int
    default: 10
  proxy:
    description:
      - URL of an HTTP(S) proxy for the downloads; overrides C(https_proxy)/C(http_proxy) in the
        environment.
    type: str
  validate_certs:
    description: Verify the HTTPS server certificate of O(base_url) (the pin is checked regardless).
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the PEM text of files that would change.
notes:
  - The bundled copies are the same certificates Debian's C(ca-certificates) carries; unit tests
    check them against their pins.
  - Trust Genesys by these roots, never by the proxies' server certificates, which change without
    notice.
seealso:
  - plugin: byoc.secure_trunk.byoc_region
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Install the Zurich region roots for Kamailio
  byoc.secure_trunk.digicert_roots:
    region: euc2
    dest: /etc/kamailio/byoc/roots
    owner: root
    group: kamailio
    mode: "0644"

- name: Install every region's roots from an internal mirror, DER for Java-based SBCs
  byoc.secure_trunk.digicert_roots:
    region: all
    dest: /opt/sbc/trust
    formats: [der, pem, hashed]
    source: download
    base_url: https://mirror.example.com/digicert

- name: Trust only the current root (no migration roots), from the bundled copies
  byoc.secure_trunk.digicert_roots:
    region: [use1, eu-west-1]
    dest: /etc/ssl/byoc
    strict: true
    source: bundled
  register: byoc_roots

- name: Show the installed roots
  ansible.builtin.debug:
    msg: "{{ byoc_roots.roots | map(attribute='name') | list }}"
"""

RETURN = r"""
roots:
  description: The roots installed, in policy order.
  returned: success
  type: list
  elements: dict
  sample:
    - key: g2
      name: DigiCert Global Root G2
      subject: CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US
      sha256: CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F
      subject_hash: 607986c7
      not_after: "2038-01-15T12:00:00Z"
      source: bundled
      url: ""
      paths:
        pem: /etc/kamailio/byoc/roots/DigiCert_Global_Root_G2.pem
        hashed: /etc/kamailio/byoc/roots/607986c7.0
bundle:
  description: Path of the PEM bundle, or null when C(bundle) is not among O(formats).
  returned: success
  type: str
  sample: /etc/kamailio/byoc/roots/byoc-digicert-roots.pem
files:
  description: Every path the module manages in O(dest).
  returned: success
  type: list
  elements: str
  sample: [/etc/kamailio/byoc/roots/DigiCert_Global_Root_G2.pem]
removed:
  description: Files and hash links an earlier run wrote that this run removed (or would remove in check mode).
  returned: success
  type: list
  elements: str
  sample: [/etc/kamailio/byoc/roots/DigiCert_High_Assurance_EV_Root_CA.pem]
regions:
  description: The region ids the roots were chosen for.
  returned: success
  type: list
  elements: str
  sample: [euc2]
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.byoc.secure_trunk.plugins.module_utils import files, http_fetch, policy, roots, x509
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import FetchError, SecureTrunkError


def _fetcher(module):
    if module.params["proxy"]:
        # open_url takes its proxy from the environment; this process is the module's own.
        for var in ("https_proxy", "http_proxy", "HTTPS_PROXY", "HTTP_PROXY"):
            os.environ[var] = module.params["proxy"]

    def fetch(url):
        try:
            return http_fetch.get_ok(url, module.params["timeout"], roots.MAX_ROOT_BYTES,
                                     validate_certs=module.params["validate_certs"])
        except FetchError as exc:
            raise FetchError(url, "download failed (%s)" % exc.defect,
                             "check the network path or proxy, or use source: bundled") from None

    return fetch


def _remove(module, paths, diffs):
    """Remove what an earlier run wrote and this one no longer plans (roots.stale chose them)."""
    for path in paths:
        if not os.path.islink(path) and not path.endswith(".der"):
            with open(path, "rb") as handle:
                diffs.append({"before_header": path, "after_header": path + " (removed)",
                              "before": handle.read().decode("ascii", "replace"), "after": ""})
        if not module.check_mode:
            os.unlink(path)


def _record(module, dest, planned):
    """Write the manifest of what this run manages; True when it changed."""
    data = roots.manifest(planned)
    path = os.path.join(dest, roots.MANIFEST_NAME)
    if files.current(path) == (data, None):
        return False
    if not module.check_mode:
        _write(module, roots.PlannedFile(path, content=data))
    return True


def _apply(module, planned):
    """Write what differs, atomically; return (changed, diffs)."""
    changed, diffs = False, []
    for item in planned:
        content, target = files.current(item.path)
        if (content, target) != (item.content, item.link_target):
            changed = True
            if item.content is not None and not item.path.endswith(".der"):
                diffs.append(files.text_diff(item.path, content, item.content, encoding="ascii"))
            if not module.check_mode:
                _write(module, item)
        if item.content is not None:
            changed = files.apply_attributes(module, item.path, changed)
    return changed, diffs


def _write(module, item):
    if item.link_target is not None:
        files.replace_symlink(item.path, item.link_target)
    else:  # certificates are public (0644); mode/owner options apply after
        files.write_atomically(item.path, item.content, 0o644, move=module.atomic_move)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            region=dict(type="list", elements="str", required=True),
            dest=dict(type="path", required=True),
            formats=dict(type="list", elements="str", choices=list(roots.FORMATS),
                         default=["pem", "bundle", "hashed"]),
            bundle_name=dict(type="str", default=roots.DEFAULT_BUNDLE_NAME),
            strict=dict(type="bool", default=False),
            source=dict(type="str", choices=list(roots.SOURCES), default="auto"),
            base_url=dict(type="str"),
            timeout=dict(type="int", default=10),
            proxy=dict(type="str"),
            validate_certs=dict(type="bool", default=True),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    if not x509.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography (Debian: python3-cryptography)"),
                         exception=str(x509.CRYPTOGRAPHY_IMPORT_ERROR))
    p = module.params
    try:
        regions = policy.resolve_regions(p["region"])
        formats = roots.check_formats(p["formats"])
        roots.check_dest(p["dest"])
        roots.check_bundle_name(p["bundle_name"])
        wanted = policy.roots_for_regions(regions, strict=p["strict"])
        obtained, warnings = roots.obtain(wanted, p["source"], _fetcher(module), p["base_url"] or "")
        planned = roots.plan(obtained, p["dest"], formats, p["bundle_name"])
        removed = roots.stale(p["dest"], planned)
        changed, diffs = _apply(module, planned)
        _remove(module, removed, diffs)
        changed = _record(module, p["dest"], planned) or bool(removed) or changed
    except SecureTrunkError as exc:
        module.fail_json(msg=str(exc), error=exc.as_dict())
    except OSError as exc:
        module.fail_json(msg="dest %s: %s; check the path and permissions" % (p["dest"], exc))
    for warning in warnings:
        module.warn(warning)
    bundle = [f.path for f in planned if os.path.basename(f.path) == p["bundle_name"]]
    module.exit_json(
        changed=changed,
        diff=diffs,
        roots=[roots.describe(item, planned) for item in obtained],
        bundle=bundle[0] if bundle else None,
        files=[f.path for f in planned],
        removed=removed,
        regions=[r.id for r in regions],
    )


if __name__ == "__main__":
    main()
