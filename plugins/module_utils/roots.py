# -*- coding: utf-8 -*-
# Copyright: contributors to byoc.secure_trunk
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Obtain the pinned DigiCert roots and plan the files that hold them.

Nothing here writes to disk or imports Ansible: the digicert_roots module
applies the plan. Every root is checked against its SHA-256 pin before it is
planned, so a wrong or garbled root stops the run before any file changes.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy, x509
from ansible_collections.byoc.secure_trunk.plugins.module_utils.digicert_bundled import BUNDLED_PEM
from ansible_collections.byoc.secure_trunk.plugins.module_utils.errors import (
    CertificateError,
    FetchError,
    PolicyError,
    SecureTrunkError,
)

FORMATS = ("pem", "der", "bundle", "hashed")
SOURCES = ("download", "bundled", "auto")
DEFAULT_BUNDLE_NAME = "byoc-digicert-roots.pem"
MANIFEST_NAME = ".byoc-digicert-roots.json"  # what the module wrote in dest, so it removes only its own
MAX_ROOT_BYTES = 1024 * 1024

Fetcher = Callable[[str], bytes]  # url -> body; raises FetchError


@dataclass(frozen=True)
class ObtainedRoot:
    root: policy.Root
    cert: object  # cryptography x509.Certificate
    source: str  # download | bundled
    url: str = ""

    @property
    def pem(self) -> bytes:
        return x509.pem_text(self.cert).encode("ascii")

    @property
    def der(self) -> bytes:
        return x509.der_bytes(self.cert)


@dataclass(frozen=True)
class PlannedFile:
    path: str
    content: Optional[bytes] = None  # a regular file's bytes
    link_target: Optional[str] = None  # or a symlink's target (relative)


def check_pin(root: policy.Root, data: bytes, label: str) -> x509.Certificate:
    """Parse ``data`` (PEM or DER) and insist it is exactly the pinned root."""
    certs = x509.load_certificates(data, label)
    digest = x509.sha256_hex(x509.der_bytes(certs[0]))
    if len(certs) != 1 or digest != root.sha256:
        raise FetchError(
            label,
            "is not the pinned %s (SHA-256 %s, expected %s)" % (root.name, digest, root.sha256),
            "check the mirror or an intercepting proxy; nothing was written",
        )
    return certs[0]


def bundled(root: policy.Root) -> ObtainedRoot:
    label = "bundled copy of %s" % root.name
    return ObtainedRoot(root, check_pin(root, BUNDLED_PEM[root.key].encode("ascii"), label), "bundled")


def download(root: policy.Root, fetch: Fetcher, base_url: str = "") -> ObtainedRoot:
    url = "%s/%s" % ((base_url or policy.DIGICERT_DOWNLOAD_BASE).rstrip("/"), root.der_url_path)
    return ObtainedRoot(root, check_pin(root, fetch(url), url), "download", url)


def obtain(
    roots: Sequence[policy.Root], source: str, fetch: Fetcher, base_url: str = ""
) -> Tuple[List[ObtainedRoot], List[str]]:
    """Every root, from ``source``; returns (roots, warnings).

    ``auto`` falls back to the bundled copy when the download fails or does
    not match its pin: the bundled copy is the pinned root, so trust stays
    exact, and the warning says why the download was not used.
    """
    if source not in SOURCES:
        raise PolicyError("source %r" % (source,), "is not a root source", "use one of: %s" % ", ".join(SOURCES))
    obtained, warnings = [], []
    for root in roots:
        if source == "bundled":
            obtained.append(bundled(root))
            continue
        try:
            obtained.append(download(root, fetch, base_url))
        except (FetchError, CertificateError) as exc:
            if source == "download":
                raise
            warnings.append("%s; using the bundled pinned copy of %s instead" % (exc, root.name))
            obtained.append(bundled(root))
    return obtained, warnings


def check_formats(formats: Sequence[str]) -> List[str]:
    chosen = list(dict.fromkeys(formats or ()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise PolicyError(
            "formats %s" % (", ".join(unknown) or "(empty)"),
            "is not a root file format",
            "use one or more of: %s" % ", ".join(FORMATS),
        )
    if "hashed" in chosen and "pem" not in chosen:
        raise PolicyError(
            "formats: hashed",
            "needs the PEM files its <hash>.0 links point at",
            "add pem to formats",
        )
    return chosen


def plan(
    obtained: Sequence[ObtainedRoot], dest: str, formats: Sequence[str], bundle_name: str = DEFAULT_BUNDLE_NAME
) -> List[PlannedFile]:
    """The files (and hash links) that hold ``obtained`` under ``dest``."""
    bundle_name = check_bundle_name(bundle_name)
    files: List[PlannedFile] = []
    used_links: dict = {}
    for item in obtained:
        stem = item.root.local_stem
        if "pem" in formats:
            files.append(PlannedFile(os.path.join(dest, stem + ".pem"), content=item.pem))
        if "der" in formats:
            files.append(PlannedFile(os.path.join(dest, stem + ".der"), content=item.der))
        if "hashed" in formats:
            digest = x509.subject_hash(item.cert)
            n = used_links.get(digest, 0)  # OpenSSL's c_rehash numbering: .0, .1, ...
            used_links[digest] = n + 1
            files.append(PlannedFile(os.path.join(dest, "%s.%d" % (digest, n)), link_target=stem + ".pem"))
    if "bundle" in formats:
        parts = [
            b"# %s\n# SHA-256 %s\n" % (i.root.name.encode(), i.root.sha256.encode()) + i.pem for i in obtained
        ]
        files.append(PlannedFile(os.path.join(dest, bundle_name), content=b"".join(parts)))
    return files


def describe(item: ObtainedRoot, files: Sequence[PlannedFile]) -> dict:
    """The module's per-root result."""
    stem = item.root.local_stem
    mine = {
        "pem": stem + ".pem",
        "der": stem + ".der",
    }
    paths = {}
    for f in files:
        base = os.path.basename(f.path)
        for kind, name in mine.items():
            if base == name:
                paths[kind] = f.path
        if f.link_target == stem + ".pem":
            paths["hashed"] = f.path
    info = x509.summary(item.cert)
    return {
        "key": item.root.key,
        "name": item.root.name,
        "subject": info["subject"],
        "sha256": info["sha256"],
        "subject_hash": info["subject_hash"],
        "not_after": info["not_after"],
        "source": item.source,
        "url": item.url,
        "paths": paths,
    }


def check_dest(dest: str) -> None:
    """Refuse a destination that cannot hold the files, before anything is written."""
    if not dest or not os.path.isabs(dest):
        raise PolicyError("dest %r" % (dest,), "is not an absolute path", "give the directory as an absolute path")
    probe = dest
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise SecureTrunkError(
            "dest %s" % dest,
            "cannot be created: %s is not a directory" % probe,
            "choose a directory path, or remove the file in the way",
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise SecureTrunkError(
            "dest %s" % dest,
            "is not writable (%s denies write access)" % probe,
            "run with become, or choose a writable directory",
        )


def check_bundle_name(name: str) -> str:
    """A plain file name inside dest: no directory part, not absolute, not . or .., not the manifest."""
    text = "" if name is None else str(name)
    if (not text or "/" in text or "\\" in text or "\x00" in text or text in (".", "..")
            or text == MANIFEST_NAME):
        raise PolicyError("bundle_name %r" % (name,),
                          "is not a plain file name (it is empty, absolute, has a directory part such as ../, "
                          "or is . or ..)",
                          "give a file name such as %s; the bundle is always written inside dest" % DEFAULT_BUNDLE_NAME)
    return text


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(planned: Sequence[PlannedFile]) -> bytes:
    """What this run writes, by file name: the content's SHA-256, or the link's target."""
    entries = {}
    for item in planned:
        name = os.path.basename(item.path)
        entries[name] = {"link": item.link_target} if item.link_target is not None else {
            "sha256": _digest(item.content or b"")}
    return (json.dumps({"written_by": "byoc.secure_trunk.digicert_roots", "files": entries}, indent=1,
                       sort_keys=True) + "\n").encode("ascii")


def read_manifest(dest: str) -> dict:
    """The previous run's entries ({} when there is none or it is unreadable)."""
    try:
        with open(os.path.join(dest, MANIFEST_NAME), "rb") as handle:
            data = json.loads(handle.read(MAX_ROOT_BYTES).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return files if isinstance(files, dict) else {}


def _still_ours(path: str, entry: dict) -> bool:
    if not isinstance(entry, dict):
        return False
    if "link" in entry:
        return os.path.islink(path) and os.readlink(path) == entry["link"]
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    with open(path, "rb") as handle:
        return _digest(handle.read(MAX_ROOT_BYTES + 1)) == entry.get("sha256")


def stale(dest: str, planned: Sequence[PlannedFile], previous: Optional[dict] = None) -> List[str]:
    """Paths under ``dest`` that an earlier run wrote and this run no longer plans (another region,
    strictness, format or bundle name), and that still hold exactly what was written: only those
    are removed. A file someone changed since, or never ours, is left alone. Only the manifest
    says what is ours: files that look like roots are never guessed at (dest may be a shared CA
    directory such as /etc/ssl/certs, whose hash links have the same names)."""
    entries = read_manifest(dest) if previous is None else previous
    keep = {os.path.basename(item.path) for item in planned}
    out = []
    for name in sorted(entries):
        if name in keep or "/" in name or name in (".", "..", MANIFEST_NAME):
            continue
        path = os.path.join(dest, name)
        if _still_ours(path, entries[name]):
            out.append(path)
    return out
