"""Every plugin's documentation parses, and every RETURN key of a module has a sample."""

import glob
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = sorted(
    (kind, os.path.splitext(os.path.basename(path))[0])
    for kind in ("modules", "filter", "lookup", "callback")
    for path in glob.glob(os.path.join(ROOT, "plugins", kind, "*.py"))
    if not os.path.basename(path).startswith("_")
)
TYPES = {"modules": "module", "filter": "filter", "lookup": "lookup", "callback": "callback"}
# A plugin is added in the released version (galaxy.yml) or in the next minor one, never later.
with open(os.path.join(ROOT, "galaxy.yml")) as _galaxy:
    RELEASED = re.search(r"^version: (\S+)", _galaxy.read(), re.M).group(1)
NEXT_MINOR = "%s.%d.0" % (RELEASED.split(".")[0], int(RELEASED.split(".")[1]) + 1)


@pytest.mark.parametrize("kind, name", PLUGINS, ids=lambda v: v)
def test_ansible_doc_parses(kind, name):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json", "-t", TYPES[kind],
         "byoc.secure_trunk." + name], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)["byoc.secure_trunk." + name]
    assert doc["doc"]["version_added"] in (RELEASED, NEXT_MINOR)
    assert doc["doc"]["short_description"]
    assert doc["examples"].strip()
    if kind == "modules":
        for key, value in (doc["return"] or {}).items():
            assert "returned" in value and "type" in value, key
            assert "sample" in value or "contains" in value, "%s: RETURN %s has no sample" % (name, key)
