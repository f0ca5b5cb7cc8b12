# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic file writes (stdlib only, no ansible imports).

The content only ever exists in a temporary file next to the target, created with
``mkstemp`` (``O_CREAT | O_EXCL`` under an unpredictable name, so a symlink planted at any
guessable name is never followed), given its final mode before the first byte is written,
fsynced and renamed into place once complete. A failure removes the temporary file.

``write_secret`` (0600, parent 0700) is used by the modules that write private keys, preshared
keys and wg-quick files; ``write_file`` by controller-side writers of review files and the
public-key registry; ``stage`` + ``install`` by ``wireguard_apply``, which must know the new
file can be written before it takes an interface down.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import time


def stage(path, text, mode=0o600, prefix=None, prepare=None):
    """Write ``text`` to a new temporary file next to ``path``; return the temporary file's path.

    ``text`` may be ``str`` (UTF-8) or ``bytes``. ``prepare(tmp_path)`` runs on the complete
    file (owner, group). The caller renames it with :func:`install` or removes it with
    :func:`discard`. On failure nothing is left behind and the exception propagates.
    """
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix or ".%s." % os.path.basename(path))
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        if prepare is not None:
            prepare(tmp)
    except BaseException:
        discard(tmp)
        raise
    return tmp


def install(tmp, path):
    """Rename a staged file onto ``path`` and make the rename durable (fsync of the directory)."""
    os.rename(tmp, path)
    _fsync_dir(os.path.dirname(path) or ".")


def discard(tmp):
    """Remove a staged file, if it is still there."""
    if tmp and os.path.lexists(tmp):
        os.unlink(tmp)


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory; the rename is still atomic
        pass
    finally:
        os.close(fd)


def refuse_symlink(path):
    """ValueError when ``path`` is a symbolic link (a writer must not replace where it points)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise ValueError("%s is a symbolic link; refusing to write through or over it" % path)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError("%s exists and is not a regular file" % path)


def lock_file(path, timeout, mode=0o600):
    """Open ``path`` (created when missing, never through a symlink) and take an exclusive flock.

    Waits up to ``timeout`` seconds; TimeoutError when another process still holds it. Returns
    the file descriptor: the lock lasts until it is closed (or the process exits).
    """
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, mode)
    deadline = time.monotonic() + max(timeout, 0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as exc:
            busy = exc.errno in (errno.EAGAIN, errno.EACCES)
            if busy and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            os.close(fd)
            if busy:
                raise TimeoutError("another run holds the lock %s (waited %s s)" % (path, timeout)) from None
            raise


def write_file(path, text, mode=0o644, prefix=None, prepare=None):
    """Write ``text`` to ``path`` atomically with ``mode``; refuse when ``path`` is a symlink.

    The parent directory must exist. ValueError for a symlink or non-regular target, OSError
    from the file system; in both cases the previous file is unchanged.
    """
    refuse_symlink(path)
    tmp = stage(path, text, mode=mode, prefix=prefix, prepare=prepare)
    try:
        install(tmp, path)
    except BaseException:
        discard(tmp)
        raise


def write_secret(path, text, prefix=None, prepare=None):
    """Write ``text`` to ``path`` with mode 0600, atomically (temp file, fsync, rename).

    The parent directory is created with mode 0700 when missing. ``prepare(tmp_path)`` runs on the
    complete temporary file before the rename (the modules set its owner and group there). A
    failure removes the temporary file and re-raises.
    """
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    tmp = stage(path, text, mode=0o600, prefix=prefix, prepare=prepare)
    try:
        install(tmp, path)
    except BaseException:
        discard(tmp)
        raise
