# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep a review folder equal to a set of rendered files (controller side of render.yml).

Files are written atomically through a temp file created with O_EXCL in the target folder (a
symlink planted at a predictable name is never followed), every target must stay inside the
folder, and a manifest (``.netfleet-render``) lists what the last run wrote, so files of hosts
that left the inventory are removed while files the user put there are left alone.
"""

from __future__ import annotations

import os
import re
import stat

from ._secretfile import write_file

MANIFEST = ".netfleet-render"
_PART_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+=-]{0,199}")


def _target(directory, relpath):
    """Absolute path of ``relpath`` (``<host>/<file>``, or ``<file>`` for the network picture) inside
    ``directory``; ValueError otherwise."""
    parts = relpath.split("/")
    if not _valid(parts):
        raise ValueError("render: refusing the path %r (only <host>/<file> names of safe characters)" % relpath)
    path = os.path.join(directory, *parts)
    sub = os.path.join(directory, parts[0])
    if len(parts) == 2 and (os.path.islink(sub) or (os.path.lexists(sub) and not os.path.isdir(sub))):
        raise ValueError("render: %s is not a plain folder (a symlink?); refusing to write through it" % sub)
    if os.path.islink(path):
        raise ValueError("render: %s is a symlink; refusing to write through it" % path)
    return path


def _valid(parts):
    return len(parts) in (1, 2) and all(_PART_RE.fullmatch(p) for p in parts)


def _manifest(directory):
    try:
        with open(os.path.join(directory, MANIFEST), encoding="utf-8") as handle:
            lines = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    except OSError:
        return []
    return [line for line in lines if _valid(line.split("/"))]


def _same(path, text):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read() == text
    except (OSError, UnicodeDecodeError):
        return False


def sync(directory, files, check_mode=False):
    """Make ``directory`` hold exactly ``files`` ({"<host>/<name>": text}) among what it rendered before."""
    if os.path.islink(directory):
        raise ValueError("render: %s is a symlink; give the real folder" % directory)
    targets = {rel: _target(directory, rel) for rel in sorted(files)}
    changed = [rel for rel in targets if not _same(targets[rel], files[rel])]
    stale = [rel for rel in _manifest(directory) if rel not in files and os.path.lexists(os.path.join(directory, rel))]
    if not check_mode:
        os.makedirs(directory, mode=0o755, exist_ok=True)
        for rel in changed:
            os.makedirs(os.path.dirname(targets[rel]), mode=0o755, exist_ok=True)
            write_file(targets[rel], files[rel], mode=0o644)
        for rel in stale:
            path = _target(directory, rel)
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.unlink(path)
            try:
                os.rmdir(os.path.dirname(path))
            except OSError:
                pass  # the folder still holds other files
        manifest = ("# files written by netfleet.wireguard render.yml (removed when no longer rendered)\n"
                    + "".join(rel + "\n" for rel in sorted(files)))
        if not _same(os.path.join(directory, MANIFEST), manifest):
            write_file(os.path.join(directory, MANIFEST), manifest, mode=0o644)
    return {"dir": directory, "files": len(files), "changed": [targets[rel] for rel in changed][:50],
            "changed_count": len(changed), "removed": [os.path.join(directory, rel) for rel in stale][:50],
            "removed_count": len(stale)}
