"""org_ca through ansible-playbook (system Python, cryptography 38) against the Genesys Cloud API stand-in."""

import datetime
import json
import os
import re
import stat
import subprocess

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import x509
from helpers import ROOT, ansible_env, run_playbook, task_results
from support import pki
from support.genesys_standin import CA_PATH, GenesysStandIn, authority
from support.servers import closed_port

TASK = "Install the organisation CA"
NOW = pki.now()
DAY = datetime.timedelta(days=1)
ORG_CA = pki.make_root("Example Org Edge CA")
PHONE_CA = pki.make_root("Example phone provisioning CA", fresh_key=True)
EXPIRED = pki.make_root("Old Org CA", not_before=NOW - 900 * DAY, not_after=NOW - DAY)
LEAF = pki.make_leaf(ORG_CA, ["edge1.example.test"])


def organisation():
    """What a premises organisation's listing looks like: a customer CA, a retired one, the managed one."""
    return [authority(PHONE_CA, type="REMOTE", services=["PROVISION_PHONE"]),
            authority(EXPIRED, state="deleted"),
            authority(ORG_CA)]


@pytest.fixture
def api(tmp_path):
    with GenesysStandIn(tmp_path / "standin", organisation(), page_size=2) as standin:
        yield standin


def install(dest, api=None, check=False, diff=False, creds="env", env=None, **options):
    """Run the playbook once; credentials go through the process environment, options or a file.

    ``creds``: "env", "options", "file" (client_secret_file), "wrong" (a wrong secret in the
    environment) or "none".
    """
    extra = {"org_ca_dest": str(dest)}
    env = dict(env or {})
    if api is not None:
        extra.update(org_ca_api_base_url=api.base_url, org_ca_login_base_url=api.base_url, org_ca_ca_path=api.ca_file)
        if creds in ("env", "wrong"):
            env.update(GENESYSCLOUD_OAUTHCLIENT_ID=api.client_id,
                       GENESYSCLOUD_OAUTHCLIENT_SECRET=api.client_secret if creds == "env" else "not-the-secret")
        elif creds == "options":
            extra.update(org_ca_client_id=api.client_id, org_ca_client_secret=api.client_secret)
        elif creds == "file":
            secret_file = os.path.join(os.path.dirname(str(dest)), "genesys-client-secret")
            os.makedirs(os.path.dirname(secret_file), exist_ok=True)
            with open(secret_file, "w") as handle:
                handle.write(api.client_secret + "\n")
            os.chmod(secret_file, 0o600)
            extra.update(org_ca_client_id=api.client_id, org_ca_client_secret_file=secret_file)
    extra.update({"org_ca_" + k: v for k, v in options.items()})
    rc, result = run_playbook("org_ca.yml", extra, check=check, diff=diff, env=env)
    (task,) = task_results(result, TASK)
    task["_whole_output"] = json.dumps(result)
    return rc, task


def assert_no_secrets(api, task):
    text = task["_whole_output"]
    assert api.client_secret not in text
    for token in api.issued_tokens:
        assert token not in text


# ------------------------------------------------------------------ success paths


def test_api_source_installs_the_managed_ca_then_changes_nothing(api, tmp_path):
    dest = tmp_path / "etc" / "org-ca.pem"
    rc, task = install(dest, api)
    assert rc == 0 and task["changed"] is True, task.get("msg")
    assert task["source"] == "api" and task["authority"]["name"] == "Example Org Edge CA"
    assert task["authority"]["type"] == "MANAGED" and task["authority"]["services"] == ["SIP"]
    assert task["sha256"] == x509.sha256_hex(ORG_CA.der) and task["days_left"] > 3000
    assert task["api"]["pages"] == 2 and task["api"]["url"] == api.base_url + CA_PATH
    written = x509.load_certificates(dest.read_bytes())
    assert [x509.sha256_hex(x509.der_bytes(c)) for c in written] == [task["sha256"]]
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o644
    assert_no_secrets(api, task)

    rc, again = install(dest, api)
    assert rc == 0 and again["changed"] is False and again["sha256"] == task["sha256"]


def test_credentials_as_options_are_hidden_too(api, tmp_path):
    rc, task = install(tmp_path / "org-ca.pem", api, creds="options")
    assert rc == 0 and task["invocation"]["module_args"]["client_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert_no_secrets(api, task)


def test_check_mode_reports_a_change_with_a_diff_and_writes_nothing(api, tmp_path):
    dest = tmp_path / "etc" / "org-ca.pem"
    rc, task = install(dest, api, check=True, diff=True)
    assert rc == 0 and task["changed"] is True
    assert "BEGIN CERTIFICATE" in task["diff"]["after"] and task["diff"]["before"] == ""
    assert not dest.parent.exists()


def test_check_mode_on_an_installed_ca_reports_no_change(api, tmp_path):
    dest = tmp_path / "org-ca.pem"
    assert install(dest, api)[0] == 0
    rc, task = install(dest, api, check=True, diff=True)
    assert rc == 0 and task["changed"] is False


def test_mode_change_alone_is_a_change(api, tmp_path):
    dest = tmp_path / "org-ca.pem"
    assert install(dest, api)[0] == 0
    rc, task = install(dest, api, mode="0640")
    assert rc == 0 and task["changed"] is True
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o640


def test_a_new_ca_replaces_the_old_one_with_a_backup(tmp_path):
    dest = tmp_path / "org-ca.pem"
    assert install(dest, content=EXPIRED.pem.decode())[0] != 0  # refused: expired, nothing written
    assert not dest.exists()
    dest.write_bytes(b"old content\n")
    rc, task = install(dest, content=ORG_CA.pem.decode(), backup=True)
    assert rc == 0 and task["changed"] is True and task["source"] == "content"
    assert open(task["backup_file"], "rb").read() == b"old content\n"
    assert x509.load_certificates(dest.read_bytes())[0].subject == ORG_CA.cert.subject


@pytest.mark.parametrize("form", ["der", "pem"])
def test_src_file_in_either_encoding(tmp_path, form):
    src = tmp_path / ("org-ca." + form)
    src.write_bytes(ORG_CA.der if form == "der" else ORG_CA.pem)
    rc, task = install(tmp_path / "org-ca.pem", src=str(src))
    assert rc == 0 and task["source"] == "src" and task["authority"] is None and task["api"] is None
    assert task["sha256"] == x509.sha256_hex(ORG_CA.der)


# ------------------------------------------------------------------ retries


def test_rate_limits_and_server_errors_are_retried(api, tmp_path):
    api.fail_next(CA_PATH, 429, times=2, retry_after="30")
    api.fail_next(CA_PATH, 503)
    rc, task = install(tmp_path / "org-ca.pem", api, retries=3)
    assert rc == 0, task.get("msg")
    assert [r["status"] for r in task["api"]["retries"]] == [429, 429, 503]
    assert all(r["delay"] == 0 for r in task["api"]["retries"])  # retry_max_delay 0 in the test playbook
    assert task["api"]["requests"] == 1 + 3 + 2  # token, three refused, two pages


def test_retries_run_out(api, tmp_path):
    api.fail_next(CA_PATH, 503, times=5)
    rc, task = install(tmp_path / "org-ca.pem", api, retries=2)
    assert rc != 0 and "server error 503 after 3 attempts" in task["msg"]
    assert len(api.requests_to(CA_PATH)) == 3


# ------------------------------------------------------------------ errors


def _case(name, words, standin=None, **options):
    return pytest.param(standin or {}, options, words, id=name)


@pytest.mark.parametrize("standin, options, words", [
    _case("bad-secret", "the OAuth client was refused (401 invalid_client", creds="wrong"),
    _case("no-credentials", "client_id and client_secret: not set", creds="none"),
    _case("403", "the OAuth client lacks permission (403 missing.any.permissions", {"permissions": ()}),
    _case("404", "not found (404 not.found", api_base_url="/nope"),
    _case("empty-list", "the organisation has no certificate authorities", {"authorities": []}),
    _case("no-managed-sip", "none of the organisation's certificate authorities is a MANAGED, SIP, active",
          {"authorities": [authority(PHONE_CA, type="REMOTE")]}),
    _case("malformed", "is not a readable X.509 certificate",
          {"authorities": [authority(None, name="Broken", certificate="-----BEGIN CERTIFICATE-----\nAAAA\n")]}),
    _case("not-a-ca", "is not a CA certificate", {"authorities": [authority(LEAF)]}),
    _case("expired", "expired on", {"authorities": [authority(EXPIRED)]}),
    _case("untrusted-api-cert", "no answer", ca_path="unrelated"),
    _case("unknown-name", "check authority_name", authority_name="Nobody"),
])
def test_errors_name_the_object_defect_and_fix_and_write_nothing(tmp_path, standin, options, words):
    settings = dict({"authorities": organisation()}, **standin)
    with GenesysStandIn(tmp_path / "standin", settings.pop("authorities"), **settings) as api:
        dest = tmp_path / "etc" / "org-ca.pem"
        if options.get("api_base_url", "").startswith("/"):
            options["api_base_url"] = api.base_url + options["api_base_url"]
        if options.get("ca_path") == "unrelated":  # trust some other CA than the stand-in's
            options["ca_path"] = pki.make_root("unrelated CA", fresh_key=True).write(tmp_path, "unrelated")["cert"]
        rc, task = install(dest, api, **options)
    assert rc != 0 and task["failed"] is True
    assert words in task["msg"], task["msg"]
    assert task["error"]["object"] and task["error"]["defect"] and task["error"]["fix"]
    assert "Traceback" not in task["msg"]
    assert not dest.exists()
    assert_no_secrets(api, task)


def test_unreachable_host(tmp_path):
    port = closed_port()
    rc, task = install(tmp_path / "org-ca.pem", api_base_url="https://127.0.0.1:%d" % port,
                       login_base_url="https://127.0.0.1:%d" % port, client_id="id", client_secret="secret")
    assert rc != 0 and "no answer" in task["msg"] and "DNS" in task["error"]["fix"]


@pytest.mark.parametrize("options, words", [
    (dict(src="/nonexistent/org-ca.pem"), "cannot be read"),
    (dict(content="not a certificate"), "is not a readable X.509 certificate"),
    (dict(region="mars-1"), "is not a Genesys Cloud BYOC region"),
    (dict(api_base_url="http://127.0.0.1:9"), "is not an https:// URL"),
], ids=["src-missing", "content-garbage", "unknown-region", "plain-http"])
def test_bad_inputs(tmp_path, options, words):
    rc, task = install(tmp_path / "org-ca.pem", **options)
    assert rc != 0 and words in task["msg"], task.get("msg")
    assert not (tmp_path / "org-ca.pem").exists()


def test_region_falls_back_to_the_genesys_environment_variable(tmp_path):
    rc, task = install(tmp_path / "org-ca.pem", creds="none", env={"GENESYSCLOUD_REGION": "mars-1"})
    assert rc != 0 and "region 'mars-1': is not a Genesys Cloud BYOC region" in task["msg"]


# ------------------------------------------------------------------ ansible-runner artifacts


def test_secrets_stay_out_of_ansible_runner_artifacts(api, tmp_path, monkeypatch):
    """ansible-runner writes envvars and extravars to env/ and the whole process environment to
    artifacts/<id>/command, so credentials must reach the task another way: here a lookup of a
    0600 file on the controller, templated inside the task (docs/premises.md says so)."""
    runner = pytest.importorskip("ansible_runner")
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    secret_file = tmp_path / "genesys-client-secret"
    secret_file.write_text(api.client_secret)
    secret_file.chmod(0o600)
    settings = {k: v for k, v in ansible_env().items() if k.startswith("ANSIBLE_") or k == "PATH"}
    (tmp_path / "runner").mkdir()
    result = runner.run(
        private_data_dir=str(tmp_path / "runner"),
        playbook=os.path.join(ROOT, "tests", "integration", "playbooks", "org_ca.yml"),
        inventory="localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3",
        extravars={"org_ca_dest": str(tmp_path / "org-ca.pem"), "org_ca_api_base_url": api.base_url,
                   "org_ca_login_base_url": api.base_url, "org_ca_ca_path": api.ca_file,
                   "org_ca_client_id": api.client_id,
                   "org_ca_client_secret": "{{ lookup('ansible.builtin.file', '%s') }}" % secret_file},
        envvars=settings, quiet=True)
    assert result.rc == 0 and (tmp_path / "org-ca.pem").exists()
    assert api.issued_tokens  # the API path really ran
    checked = 0
    for folder, _unused, files in os.walk(tmp_path / "runner"):
        for name in files:
            text = open(os.path.join(folder, name), "rb").read().decode("utf-8", "replace")
            assert api.client_secret not in text, name
            assert not any(token in text for token in api.issued_tokens), name
            checked += 1
    assert checked > 3  # events, stdout, command, status, rc ... were looked at


def test_dest_that_is_a_directory(tmp_path):
    rc, task = install(tmp_path, content=ORG_CA.pem.decode())
    assert rc != 0 and "is a directory" in task["msg"] and str(tmp_path / "org-ca.pem") in task["msg"]


# ------------------------------------------------------------------ issue 11: secrets, TLS, files


def test_the_secret_from_a_file_is_used_and_hidden(api, tmp_path):
    rc, task = install(tmp_path / "org-ca.pem", api, creds="file")
    assert rc == 0 and task["source"] == "api", task.get("msg")
    assert api.issued_tokens
    assert_no_secrets(api, task)


def test_an_unreadable_secret_file_is_refused_with_the_fix(api, tmp_path):
    rc, task = install(tmp_path / "org-ca.pem", api, creds="none", client_id=api.client_id,
                       client_secret_file=str(tmp_path / "missing"))
    assert rc != 0 and "client_secret_file %s: cannot be read" % (tmp_path / "missing") in task["msg"]
    assert not api.issued_tokens


def _verbose_run(api, dest, extra):
    """ansible-playbook -vvv with the default callback: the text an operator would paste in a ticket."""
    extra = dict(extra, org_ca_dest=str(dest), org_ca_api_base_url=api.base_url,
                 org_ca_login_base_url=api.base_url, org_ca_ca_path=api.ca_file, org_ca_client_id=api.client_id)
    cmd = ["ansible-playbook", "-vvv", "-i", "localhost,", "-c", "local", "-e",
           "ansible_python_interpreter=/usr/bin/python3", os.path.join(ROOT, "tests", "integration", "playbooks",
                                                                       "org_ca.yml"), "-e", json.dumps(extra)]
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET"):
        env.pop(name, None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("how", ["option", "file", "task_environment"])
def test_verbose_output_never_shows_the_secret(api, tmp_path, how):
    """-vvv prints the command line that starts the module. Options and files keep the secret off it;
    the task's environment: keyword puts it there, which is why the docs never use it (the control)."""
    secret_file = tmp_path / "secret"
    secret_file.write_text(api.client_secret)
    secret_file.chmod(0o600)
    extra = {"option": {"org_ca_client_secret": api.client_secret},
             "file": {"org_ca_client_secret_file": str(secret_file)},
             "task_environment": {"org_ca_task_environment": {
                 "GENESYSCLOUD_OAUTHCLIENT_SECRET": api.client_secret}}}[how]
    rc, output = _verbose_run(api, tmp_path / "org-ca.pem", extra)
    assert rc == 0 and "EXEC /bin/sh -c" in output, output[-2000:]
    assert api.issued_tokens and not any(token in output for token in api.issued_tokens)
    if how == "task_environment":
        assert "GENESYSCLOUD_OAUTHCLIENT_SECRET=%s" % api.client_secret in output
    else:
        assert api.client_secret not in output


def test_the_docs_never_pass_the_secret_through_environment():
    """EXAMPLES, docs and examples never show the secret under a task's environment: keyword."""
    offenders = []
    for folder in ("docs", "examples", "roles", "playbooks", os.path.join("plugins", "modules")):
        for base, _unused, files in os.walk(os.path.join(ROOT, folder)):
            for name in files:
                if not name.endswith((".md", ".yml", ".yaml", ".py")):
                    continue
                text = open(os.path.join(base, name), encoding="utf-8").read()
                for match in re.finditer(r"environment:\s*\n(\s+[A-Z_]+:.*\n)+", text):
                    if "GENESYSCLOUD_OAUTHCLIENT_SECRET" in match.group(0):
                        offenders.append(os.path.join(base, name))
    assert offenders == []


def test_validate_certs_false_warns_loudly(api, tmp_path):
    rc, task = install(tmp_path / "org-ca.pem", api, validate_certs=False)
    assert rc == 0, task.get("msg")
    (warning,) = [w for w in task.get("warnings", []) if "validate_certs is false" in w]
    assert "WITHOUT checking who answers" in warning and api.base_url in warning


def test_dest_that_is_a_symlink_is_not_read_through(api, tmp_path):
    private = tmp_path / "private.txt"
    private.write_text("TOP SECRET, not a certificate\n")
    dest = tmp_path / "org-ca.pem"
    dest.symlink_to(private)
    rc, task = install(dest, content=ORG_CA.pem.decode(), diff=True)
    assert rc == 0 and task["changed"] is True, task.get("msg")
    assert "TOP SECRET" not in json.dumps(task)
    assert task["diff"]["before"] == "" and "a symlink to %s, not followed" % private in task["diff"]["before_header"]
    assert not dest.is_symlink() and private.read_text() == "TOP SECRET, not a certificate\n"
