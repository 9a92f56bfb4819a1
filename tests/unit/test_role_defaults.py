"""Each role's meta/argument_specs.yml is the single source of truth for its inputs."""

import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECS = sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")))


def _options(spec_file):
    with open(spec_file) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    options = {}
    for entry in specs.values():
        options.update(entry.get("options") or {})
    return options


def _defaults(role_dir):
    path = os.path.join(role_dir, "defaults", "main.yml")
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def test_every_role_has_an_argument_spec():
    roles = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "roles", "*")))
    with_specs = sorted(p.split(os.sep)[-3] for p in SPECS)
    assert roles and roles == with_specs


@pytest.mark.parametrize("spec_file", SPECS, ids=lambda p: p.split(os.sep)[-3])
def test_defaults_match_argument_specs(spec_file):
    role_dir = os.path.dirname(os.path.dirname(spec_file))
    role = os.path.basename(role_dir)
    options, defaults = _options(spec_file), _defaults(role_dir)
    for name, option in options.items():
        assert name.startswith(role + "_"), "%s: input %s must carry the role's prefix" % (role, name)
        if option.get("required"):
            assert name not in defaults, "%s: required input %s must not have a default" % (role, name)
        elif "default" in option:
            assert name in defaults, "%s: %s has a default in argument_specs but not in defaults/main.yml" % (
                role, name)
            assert defaults[name] == option["default"], "%s: %s defaults differ" % (role, name)
    for name in defaults:
        assert name in options, "%s: defaults/main.yml sets %s, which argument_specs does not declare" % (role, name)
