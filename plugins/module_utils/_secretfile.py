# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic writes of files that hold secrets (stdlib only, no ansible imports).

Shared by the modules that write private keys, preshared keys and wg-quick files: the content
only ever exists in a 0600 temporary file next to the target, renamed into place once complete.
"""

from __future__ import annotations

import os
import tempfile


def write_secret(path, text, prefix=None, prepare=None):
    """Write ``text`` to ``path`` with mode 0600, atomically (temp file, fsync, rename).

    The parent directory is created with mode 0700 when missing. ``prepare(tmp_path)`` runs on the
    complete temporary file before the rename (the modules set its owner and group there). A
    failure removes the temporary file and re-raises.
    """
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix or ".%s." % os.path.basename(path))
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if prepare is not None:
            prepare(tmp)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
