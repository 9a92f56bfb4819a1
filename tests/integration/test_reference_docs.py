"""The module, plugin and role reference builds with antsibull-docs, offline, one page per plugin and role.

`make docs` writes it into docs/reference/ (generated, not committed); this test builds the same
into a scratch dir. Pages antsibull-docs could only render as "malformed" are a ratchet:
KNOWN_MALFORMED lists today's, and the test fails when one is added or one is fixed.
"""

import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
PLUGIN_DIRS = {"modules": "module", "filter": "filter", "lookup": "lookup", "test": "test", "callback": "callback"}
# Each needs a `description` its owner has to add (see the report of issue 5's AWX/docs part):
# tls_validate: attributes.check_mode/diff_mode (`details:` is not a field); the roles: an entry point.
KNOWN_MALFORMED = set()


def _expected_pages():
    pages = {"index.rst"}
    for directory, kind in PLUGIN_DIRS.items():
        for path in glob.glob(os.path.join(ROOT, "plugins", directory, "*.py")):
            name = os.path.basename(path)[:-3]
            if not name.startswith("_") and name != "__init__":
                pages.add("%s_%s.rst" % (name, kind))
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")):
        pages.add("%s_role.rst" % path.split(os.sep)[-3])
    return pages


def _build(dest):
    dest.mkdir(mode=0o755)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([os.path.join(BIN, "antsibull-docs"), "collection", "--use-current", "--squash-hierarchy",
                           "--output-format", "simplified-rst", "--no-add-antsibull-docs-version",
                           "--no-breadcrumbs", "--dest-dir", str(dest), "byoc.secure_trunk"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return dest


def test_reference_builds_one_page_per_plugin_and_role(tmp_path):
    """One build (antsibull-docs takes seconds), three checks."""
    reference = _build(tmp_path / "reference")
    pages = {p.name for p in reference.iterdir()}
    assert pages == _expected_pages()
    index = (reference / "index.rst").read_text()
    for page in pages - {"index.rst"}:
        assert "<%s>" % page in index, "index.rst does not link %s" % page
    malformed = {p.name for p in reference.iterdir() if "was malformed" in p.read_text()}
    assert not malformed - KNOWN_MALFORMED, "new malformed docs: %s" % sorted(malformed - KNOWN_MALFORMED)
    assert not KNOWN_MALFORMED - malformed, "fixed, remove from KNOWN_MALFORMED: %s" % sorted(
        KNOWN_MALFORMED - malformed)
