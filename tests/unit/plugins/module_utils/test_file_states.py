"""The one read of managed files (files.file_state) and what a run would write (expected_state,
the file_state filter) agree exactly when the live file is what the run writes: any change of
content, mode, owner or group, or a missing file, makes them differ, so the task runs again."""

import grp
import os
import pwd

import pytest

from ansible_collections.byoc.secure_trunk.plugins.filter.file_state import FilterModule
from ansible_collections.byoc.secure_trunk.plugins.filter.file_state import file_state as filter_state
from ansible_collections.byoc.secure_trunk.plugins.module_utils.files import (
    ABSENT,
    expected_state,
    file_state,
    file_states,
)

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
CONTENT = "tls_method = TLSv1.2\ncipher_list = ECDHE-RSA-AES256-GCM-SHA384\n"


@pytest.fixture()
def live(tmp_path):
    path = tmp_path / "tls.cfg"
    path.write_text(CONTENT)
    os.chmod(path, 0o640)
    return str(path)


def test_a_file_that_holds_what_the_run_writes_reads_as_expected(live):
    assert file_state(live) == expected_state(CONTENT, "0640", OWNER, GROUP)
    assert file_state(live).endswith(" 0640:%s:%s" % (OWNER, GROUP))


@pytest.mark.parametrize("mode", ["0640", "640", 0o640])
def test_modes_are_compared_as_numbers(live, mode):
    assert file_state(live) == filter_state(CONTENT, mode, OWNER, GROUP)


def test_one_byte_of_content_makes_them_differ(live):
    assert file_state(live) != expected_state(CONTENT.replace("1.2", "1.3"), "0640", OWNER, GROUP)
    with open(live, "a") as handle:
        handle.write(" ")
    assert file_state(live) != expected_state(CONTENT, "0640", OWNER, GROUP)


def test_a_mode_change_makes_them_differ(live):
    os.chmod(live, 0o644)
    assert file_state(live) != expected_state(CONTENT, "0640", OWNER, GROUP)


def test_another_owner_or_group_makes_them_differ(live):
    assert file_state(live) != expected_state(CONTENT, "0640", OWNER, "kamailio-other")
    assert file_state(live) != expected_state(CONTENT, "0640", "someone-else", GROUP)


@pytest.mark.skipif(os.getuid() != 0, reason="changing a file's group needs root (CI runs as root)")
def test_a_group_change_on_disk_makes_them_differ(live):
    other = next(g for g in grp.getgrall() if g.gr_gid != os.getgid())
    os.chown(live, -1, other.gr_gid)
    assert file_state(live) != expected_state(CONTENT, "0640", OWNER, GROUP)
    assert file_state(live) == expected_state(CONTENT, "0640", OWNER, other.gr_name)


def test_a_missing_file_never_reads_as_expected(tmp_path):
    missing = str(tmp_path / "nothing")
    assert file_state(missing) == ABSENT
    assert ABSENT not in (expected_state("", "0644", OWNER, GROUP), expected_state(None, "0755", OWNER, GROUP))


def test_a_directory_reads_as_a_directory_with_its_attributes(tmp_path):
    directory = tmp_path / "byoc"
    directory.mkdir()
    os.chmod(directory, 0o750)
    assert file_state(str(directory)) == filter_state(None, "0750", OWNER, GROUP)
    # a file with any content is not the directory, and the directory is not an empty file
    assert file_state(str(directory)) != expected_state("", "0750", OWNER, GROUP)


def test_a_file_where_a_directory_belongs_differs(tmp_path):
    path = tmp_path / "crl"
    path.write_text("")
    os.chmod(path, 0o750)
    assert file_state(str(path)) != expected_state(None, "0750", OWNER, GROUP)


def test_bytes_and_text_of_the_same_content_agree(live):
    assert expected_state(CONTENT.encode(), "0640", OWNER, GROUP) == file_state(live)


def test_many_paths_are_read_in_one_call(live, tmp_path):
    states = file_states([live, str(tmp_path), str(tmp_path / "gone")])
    assert states[live] == file_state(live)
    assert states[str(tmp_path)].startswith("directory ")
    assert states[str(tmp_path / "gone")] == ABSENT


def test_the_filter_is_registered_under_its_name():
    assert set(FilterModule().filters()) == {"file_state"}
