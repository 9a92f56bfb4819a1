"""org_ca through ansible-playbook (system Python, cryptography 38) against the Genesys Cloud API stand-in."""

import datetime
import json
import os
import stat

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
    """Run the playbook once; credentials go through the environment (the documented way) or options.

    ``creds``: "env", "options", "wrong" (a wrong secret in the environment) or "none".
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
    for folder, _, files in os.walk(tmp_path / "runner"):
        for name in files:
            text = open(os.path.join(folder, name), "rb").read().decode("utf-8", "replace")
            assert api.client_secret not in text, name
            assert not any(token in text for token in api.issued_tokens), name
            checked += 1
    assert checked > 3  # events, stdout, command, status, rc ... were looked at


def test_dest_that_is_a_directory(tmp_path):
    rc, task = install(tmp_path, content=ORG_CA.pem.decode())
    assert rc != 0 and "is a directory" in task["msg"] and str(tmp_path / "org-ca.pem") in task["msg"]
