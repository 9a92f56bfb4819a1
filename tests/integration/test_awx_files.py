"""The AWX job templates as code agree with the playbook's inputs and the policy core.

awx/job_templates.yml (survey) and awx/credential_type.yml (the SBC identity) are data that
awx/load.yml pushes into AWX; roles/secure_trunk/meta/argument_specs.yml and
plugins/module_utils/policy.py are the single sources of truth they must follow.
"""

import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX = os.path.join(ROOT, "awx")
BIN = os.path.dirname(sys.executable)
SURVEY_VARS = {"secure_trunk_region", "secure_trunk_sbc_fqdn", "secure_trunk_cipher_policy",
               "secure_trunk_tgrp", "secure_trunk_trunk_context"}


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads Ansible's ``!unsafe`` as a plain string (what AWX receives)."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _load(path):
    with open(path) as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - SafeLoader subclass


@pytest.fixture(scope="module")
def options():
    specs = _load(os.path.join(ROOT, "roles", "secure_trunk", "meta", "argument_specs.yml"))["argument_specs"]
    return specs["preflight"]["options"]


@pytest.fixture(scope="module")
def templates():
    return _load(os.path.join(AWX, "job_templates.yml"))


@pytest.fixture(scope="module")
def credential_type():
    return _load(os.path.join(AWX, "credential_type.yml"))["byoc_awx_credential_type"]


def _questions(survey):
    return {q["variable"]: q for q in survey["spec"]}


def test_survey_asks_exactly_the_trunk_inputs(templates, options):
    questions = _questions(templates["byoc_awx_survey"])
    assert set(questions) == SURVEY_VARS
    assert len(questions) == len(templates["byoc_awx_survey"]["spec"]), "a variable is asked twice"
    for name in questions:
        assert name in options, "survey variable %s is not an input of secure_trunk.yml" % name
    required = {name for name, opt in options.items() if opt.get("required")}
    assert required <= set(questions), "AWX could launch without %s" % sorted(required - set(questions))


def test_survey_region_choices_are_the_policy_regions(templates):
    region = _questions(templates["byoc_awx_survey"])["secure_trunk_region"]
    assert region["type"] == "multiplechoice"
    assert region["choices"] == policy.region_ids()


def test_survey_matches_argument_specs(templates, options):
    for name, question in _questions(templates["byoc_awx_survey"]).items():
        option = options[name]
        assert question["required"] is True, name
        assert option.get("type", "str") == "str", name
        assert not option.get("no_log"), "%s is a secret: it belongs in a credential, not a survey" % name
        assert question["type"] in ("text", "multiplechoice"), name
        if "choices" in option:
            assert question["type"] == "multiplechoice", name
            assert question["choices"] == option["choices"], name
        if "default" in option:
            assert question["default"] == option["default"], name
        elif question["type"] == "multiplechoice":
            assert question["default"] == "", "%s has no default in argument_specs" % name


def test_cipher_policy_choices_are_the_policy_core(templates):
    question = _questions(templates["byoc_awx_survey"])["secure_trunk_cipher_policy"]
    assert question["choices"] == list(policy.CIPHER_POLICIES)
    assert question["default"] == policy.DEFAULT_CIPHER_POLICY


def test_every_job_template_runs_the_playbook_with_the_survey(templates):
    names = [jt["name"] for jt in templates["byoc_awx_job_templates"]]
    assert len(names) == len(set(names)) >= 2
    # The playbook is the secure_trunk role, whose tasks/main.yml carries the phase tags.
    with open(os.path.join(ROOT, "roles", "secure_trunk", "tasks", "main.yml")) as handle:
        playbook_text = handle.read()
    for jt in templates["byoc_awx_job_templates"]:
        assert os.path.isfile(os.path.join(ROOT, jt["playbook"])), jt["playbook"]
        assert jt["survey_enabled"] is True and jt["survey_spec"] == templates["byoc_awx_survey"]
        for tag in filter(None, jt["job_tags"].split(",")):
            assert re.search(r"tags: \[[^\]]*\b%s\b" % re.escape(tag), playbook_text), "no tag %s" % tag
    preflight = [jt for jt in templates["byoc_awx_job_templates"] if jt["job_tags"] == "preflight"]
    assert len(preflight) == 1 and preflight[0]["become_enabled"] is False


def _by_name(templates):
    return {jt["name"]: jt for jt in templates["byoc_awx_job_templates"]}


def test_the_audit_template_runs_the_read_only_audit_without_the_sbc_key(templates):
    audit = _by_name(templates)["BYOC secure trunk - audit"]
    assert audit["playbook"] == "playbooks/audit.yml" and audit["job_tags"] == ""
    assert "identity" not in audit["credentials"] and "machine" in audit["credentials"]
    assert not audit.get("extra_vars")


def test_the_renewal_template_runs_the_main_job_with_acme(templates):
    renewal = _by_name(templates)["BYOC secure trunk - renewal"]
    assert renewal["playbook"] == "playbooks/secure_trunk.yml"
    assert renewal["extra_vars"] == {"secure_trunk_certificate_source": "acme"}
    assert "identity" not in renewal["credentials"]  # ACME issues the certificate on the SBC


def test_every_template_names_known_credential_kinds(templates):
    for jt in templates["byoc_awx_job_templates"]:
        assert jt["credentials"] and set(jt["credentials"]) <= {"identity", "machine", "vault"}, jt["name"]
        assert ("machine" in jt["credentials"]) == jt["become_enabled"], jt["name"]  # what reaches an SBC


@pytest.mark.parametrize("name, freq", [("BYOC secure trunk - audit", "DAILY"),
                                        ("BYOC secure trunk - renewal", "WEEKLY")])
def test_schedule_examples_daily_audit_and_weekly_renewal(templates, name, freq):
    (schedule,) = [s for s in templates["byoc_awx_schedules"] if s["job_template"] == name]
    assert name in _by_name(templates)
    # AWX's form: DTSTART with a time zone, then one RRULE.
    match = re.fullmatch(r"DTSTART;TZID=UTC:(\d{8}T\d{6}) RRULE:FREQ=(\w+);INTERVAL=1(;BYDAY=[A-Z]{2})?",
                         schedule["rrule"])
    assert match and match.group(2) == freq, schedule["rrule"]
    assert (match.group(3) is not None) == (freq == "WEEKLY")


def test_credential_type_delivers_files_only(credential_type, options):
    fields = {f["id"]: f for f in credential_type["inputs"]["fields"]}
    assert set(fields) == {"certificate", "private_key"}
    assert set(credential_type["inputs"]["required"]) == set(fields)
    assert fields["private_key"]["secret"] is True
    assert not fields["certificate"].get("secret")
    injectors = credential_type["injectors"]
    # Nothing in env: ansible-runner writes the environment to artifacts/*/command.
    assert set(injectors) == {"file", "extra_vars"}
    assert injectors["file"] == {"template.%s" % f: "{{ %s }}" % f for f in fields}
    assert injectors["extra_vars"] == {
        "secure_trunk_certificate_src": "{{ tower.filename.certificate }}",
        "secure_trunk_private_key_src": "{{ tower.filename.private_key }}",
    }
    for name in injectors["extra_vars"]:
        assert options[name]["type"] == "path", name


def test_credential_type_secrets_reach_files_only(credential_type):
    secrets = {f["id"] for f in credential_type["inputs"]["fields"] if f.get("secret")}
    for section, values in credential_type["injectors"].items():
        if section == "file":
            continue
        for value in values.values():
            for secret in secrets:
                assert not re.search(r"\b%s\b" % secret, value.replace("tower.filename." + secret, "")), (
                    "%s injector renders the secret %s" % (section, secret))


def _ansible_env():
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               PATH=BIN + os.pathsep + env.get("PATH", ""))
    return env


def test_loader_passes_syntax_check():
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "--syntax-check", os.path.join(AWX, "load.yml")],
                          capture_output=True, text=True, env=_ansible_env(), cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_loader_passes_ansible_lint():
    proc = subprocess.run([os.path.join(BIN, "ansible-lint"), "--offline", "--profile", "production", "--nocolor",
                           "awx/"], capture_output=True, text=True, env=_ansible_env(), cwd=ROOT, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
