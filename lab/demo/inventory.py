#!/usr/bin/env python3
"""Write the demo inventory from the molecule default scenario: one lab, one description of it.

usage: inventory.py PROJECT_DIR OUT_FILE
The SBC platform becomes group byoc_sbcs with the scenario's connection settings.
"""

import os
import sys

import yaml

project, out = sys.argv[1], sys.argv[2]
with open(os.path.join(project, "molecule", "default", "molecule.yml")) as handle:
    text = handle.read().replace("${MOLECULE_PROJECT_DIRECTORY}", project)
scenario = yaml.safe_load(text)
inventory = scenario["provisioner"]["inventory"]
hosts = {}
for platform in scenario["platforms"]:
    if "sbcs" in platform.get("groups", []):
        host = dict(inventory["group_vars"]["all"])
        host.update(inventory["group_vars"].get("sbcs", {}))
        host.update(inventory["host_vars"].get(platform["name"], {}))
        hosts[platform["name"]] = host
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as handle:
    yaml.safe_dump({"all": {"children": {"byoc_sbcs": {"hosts": hosts}}}}, handle, sort_keys=True)
print(out)
