# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""write_secret: 0600 from the first byte, parent 0700, atomic, no temporary file left behind."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import write_secret


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_0600_in_a_new_0700_directory(tmp_path):
    path = tmp_path / "new" / "wg0.key"
    seen = []
    write_secret(str(path), "secret\n", prefix=".wgkey-", prepare=lambda tmp: seen.append((tmp, mode(tmp))))
    assert path.read_text() == "secret\n" and mode(path) == 0o600
    assert mode(path.parent) == 0o700
    # prepare saw the complete 0600 temporary file next to the target, under the given prefix
    (tmp, tmp_mode), = seen
    assert os.path.dirname(tmp) == str(path.parent) and os.path.basename(tmp).startswith(".wgkey-")
    assert tmp_mode == 0o600
    assert os.listdir(path.parent) == ["wg0.key"]


def test_a_failure_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "wg0.conf"
    path.write_text("old\n")

    def refuse(tmp):
        raise OSError("chown refused")

    with pytest.raises(OSError, match="chown refused"):
        write_secret(str(path), "new\n", prepare=refuse)
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["wg0.conf"]
