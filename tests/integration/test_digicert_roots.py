"""digicert_roots through ansible-playbook, against a local HTTP mirror."""

import functools
import http.server
import os
import stat
import threading

import pytest

from ansible_collections.byoc.secure_trunk.plugins.module_utils import policy, roots, x509
from helpers import run_playbook, task_results

TASK = "Install the region's DigiCert roots"
G2, G3 = policy.ROOTS["g2"], policy.ROOTS["g3"]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A loopback HTTP server with a good, a wrong and a garbled copy of the roots."""
    top = tmp_path_factory.mktemp("mirror")
    layouts = {
        "good": {G2: roots.bundled(G2).der, G3: roots.bundled(G3).der},
        "wrong": {G2: roots.bundled(G3).der, G3: roots.bundled(G3).der},
        "garbled": {G2: b"\x30\x82garbage", G3: roots.bundled(G3).der},
    }
    for name, files in layouts.items():
        (top / name).mkdir()
        for root, body in files.items():
            (top / name / root.der_url_path).write_bytes(body)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(top))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def install(dest, **options):
    extra = {"roots_dest": str(dest), "roots_region": options.pop("region", "euc2")}
    check = options.pop("check", False)
    diff = options.pop("diff", False)
    extra.update({"roots_" + k: v for k, v in options.items()})
    rc, result = run_playbook("digicert_roots.yml", extra, check=check, diff=diff)
    (task,) = task_results(result, TASK)
    return rc, task


def test_download_installs_pinned_roots_then_changes_nothing(mirror, tmp_path):
    dest = tmp_path / "roots"
    rc, task = install(dest, base_url=mirror + "/good", formats=["pem", "der", "bundle", "hashed"])
    assert rc == 0 and task["changed"] is True, task
    assert [r["source"] for r in task["roots"]] == ["download", "download"]
    assert [r["sha256"] for r in task["roots"]] == [G2.sha256, G3.sha256]
    assert os.readlink(dest / "607986c7.0") == "DigiCert_Global_Root_G2.pem"
    der = (dest / "DigiCert_Global_Root_G3.der").read_bytes()
    assert x509.sha256_hex(der) == G3.sha256
    assert len(x509.load_certificates((dest / "byoc-digicert-roots.pem").read_bytes())) == 2
    rc, again = install(dest, base_url=mirror + "/good", formats=["pem", "der", "bundle", "hashed"])
    assert rc == 0 and again["changed"] is False


def test_check_mode_reports_a_change_with_a_diff_and_writes_nothing(mirror, tmp_path):
    dest = tmp_path / "roots"
    rc, task = install(dest, base_url=mirror + "/good", check=True, diff=True)
    assert rc == 0 and task["changed"] is True
    assert "BEGIN CERTIFICATE" in task["diff"][0]["after"]
    assert not dest.exists()


def test_mode_change_alone_is_a_change(mirror, tmp_path):
    dest = tmp_path / "roots"
    assert install(dest, source="bundled")[0] == 0
    rc, task = install(dest, source="bundled", mode="0640")
    assert rc == 0 and task["changed"] is True
    assert stat.S_IMODE(os.stat(dest / "DigiCert_Global_Root_G2.pem").st_mode) == 0o640


@pytest.mark.parametrize("options, words", [
    (dict(base_url="/wrong"), "is not the pinned DigiCert Global Root G2"),
    (dict(base_url="/garbled"), "is not a readable X.509 certificate"),
    (dict(base_url="http://127.0.0.1:9/none"), "download failed"),
    (dict(base_url="/good", region="eu-west-9"), "is not a Genesys Cloud BYOC region"),
    (dict(base_url="/good", formats=["hashed"]), "needs the PEM files"),
], ids=["pin-mismatch", "garbled", "unreachable", "unknown-region", "hashed-without-pem"])
def test_bad_input_fails_clearly_and_writes_nothing(mirror, tmp_path, options, words):
    dest = tmp_path / "roots"
    if options.get("base_url", "").startswith("/"):
        options["base_url"] = mirror + options["base_url"]
    rc, task = install(dest, **options)
    assert rc != 0 and task["failed"] is True
    assert words in task["msg"], task["msg"]
    assert "Traceback" not in task["msg"] and task["error"]["fix"]
    assert not dest.exists()


def test_unwritable_dest(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    rc, task = install(blocker / "roots", source="bundled")
    assert rc != 0 and "is not a directory" in task["msg"]
    assert blocker.read_text() == "in the way"


def test_auto_falls_back_to_bundled_with_a_warning(tmp_path):
    rc, task = install(tmp_path / "roots", source="auto", base_url="http://127.0.0.1:9", region="use1", strict=True)
    assert rc == 0
    assert [r["source"] for r in task["roots"]] == ["bundled"]
    assert any("using the bundled pinned copy of DigiCert High Assurance EV Root CA" in w for w in task["warnings"])


# ------------------------------------------------------------------ issue 11: bundle_name and leftovers


@pytest.mark.parametrize("name", ["../escaped.pem", "ABSOLUTE", "sub/dir.pem", "..", ""])
def test_bundle_name_must_be_a_plain_file_name(tmp_path, name):
    dest = tmp_path / "deep" / "roots"
    name = str(tmp_path / "absolute.pem") if name == "ABSOLUTE" else name  # inside tmp_path, whatever happens
    rc, task = install(dest, source="bundled", bundle_name=name)
    assert rc != 0 and "is not a plain file name" in task["msg"], task["msg"]
    assert "the bundle is always written inside dest" in task["msg"]
    assert not dest.exists() and not (tmp_path / "deep" / "escaped.pem").exists()
    assert not (tmp_path / "absolute.pem").exists()


def test_switching_region_or_strict_removes_only_what_the_module_wrote(tmp_path):
    dest = tmp_path / "roots"
    rc, task = install(dest, region="euc1", source="bundled")  # EV, G2, G3
    assert rc == 0 and task["removed"] == []
    ev_link = [r["paths"]["hashed"] for r in task["roots"] if r["key"] == "ev"][0]
    g3_link = [r["paths"]["hashed"] for r in task["roots"] if r["key"] == "g3"][0]
    (dest / "operator-notes.txt").write_text("not the module's\n")  # never touched
    (dest / "DigiCert_Global_Root_G3.pem").write_text("edited by hand\n")  # no longer what it wrote: kept

    rc, task = install(dest, region="euc2", source="bundled", strict=True, check=True, diff=True)  # G2 only
    assert rc == 0 and task["changed"] is True
    assert str(dest / "DigiCert_High_Assurance_EV_Root_CA.pem") in task["removed"]
    assert (dest / "DigiCert_High_Assurance_EV_Root_CA.pem").exists()  # check mode removes nothing

    rc, task = install(dest, region="euc2", source="bundled", strict=True)
    assert rc == 0 and task["changed"] is True
    assert sorted(task["removed"]) == sorted([str(dest / "DigiCert_High_Assurance_EV_Root_CA.pem"), ev_link, g3_link])
    left = sorted(p.name for p in dest.iterdir())
    assert left == sorted([".byoc-digicert-roots.json", "DigiCert_Global_Root_G2.pem", "DigiCert_Global_Root_G3.pem",
                           "607986c7.0", "byoc-digicert-roots.pem", "operator-notes.txt"]), left
    assert len(x509.load_certificates((dest / "byoc-digicert-roots.pem").read_bytes())) == 1

    rc, again = install(dest, region="euc2", source="bundled", strict=True)
    assert rc == 0 and again["changed"] is False and again["removed"] == []


def test_a_new_bundle_name_removes_the_old_bundle(tmp_path):
    dest = tmp_path / "roots"
    assert install(dest, source="bundled")[0] == 0
    rc, task = install(dest, source="bundled", bundle_name="kamailio-ca-list.pem")
    assert rc == 0 and task["removed"] == [str(dest / "byoc-digicert-roots.pem")]
    assert (dest / "kamailio-ca-list.pem").exists() and not (dest / "byoc-digicert-roots.pem").exists()
