# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files of a device profile on the controller: ``<name>.conf`` and its QR codes.

Controller only; stdlib + segno (QR codes); no ansible imports, ValueError for bad input.
The folder is 0700 and every file 0600 (a profile of a ``key_mode: controller`` device holds its
private key, and so do its QR codes); files are replaced atomically and never through a symlink,
and a file whose content is already right is not touched (a re-run changes nothing).
"""

from __future__ import annotations

import io
import os
import stat

from ._secretfile import refuse_symlink, write_file

# suffix -> what it is; the QR codes encode exactly the .conf text
SUFFIXES = ('.conf', '.png', '.svg', '.qr.txt')
GITIGNORE = '# device profiles hold private keys: never commit them\n*\n'


def _segno():
    try:
        import segno
    except ImportError:
        raise ValueError('QR codes of device profiles need the Python library segno on the controller '
                         '(pip install segno)') from None
    return segno


def qr_codes(text, svg=True):
    """``{suffix: content}``: PNG (bytes), SVG (bytes, optional) and terminal text (UTF-8 blocks)."""
    qr = _segno().make(text, error='m', micro=False)
    png = io.BytesIO()
    qr.save(png, kind='png', scale=6, border=4)
    terminal = io.StringIO()
    qr.terminal(out=terminal, compact=True, border=2)
    out = {'.png': png.getvalue(), '.qr.txt': terminal.getvalue()}
    if svg:
        image = io.BytesIO()
        qr.save(image, kind='svg', scale=6, border=4, xmldecl=False)
        out['.svg'] = image.getvalue()
    return out


def prepare_folder(folder):
    """Create ``folder`` (0700, and a .gitignore that ignores everything); refuse a symlink."""
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        os.makedirs(folder, mode=0o700)
        st = os.lstat(folder)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise ValueError('%s is not a directory (a symbolic link is refused): device profiles are secrets' % folder)
    if st.st_uid != os.getuid():
        raise ValueError('%s belongs to another user: device profiles are secrets' % folder)
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(folder, 0o700)
    ignore = os.path.join(folder, '.gitignore')
    if not os.path.exists(ignore):
        write_file(ignore, GITIGNORE, mode=0o600)


def _same(path, content):
    data = content.encode('utf-8') if isinstance(content, str) else content
    try:
        with open(path, 'rb') as handle:
            return handle.read() == data and stat.S_IMODE(os.fstat(handle.fileno()).st_mode) == 0o600
    except FileNotFoundError:
        return False


def write_profile(folder, name, text, svg=True, check=False):
    """Write ``<name>.conf`` and its QR codes into ``folder``; the names of the files that changed."""
    files = dict(qr_codes(text, svg), **{'.conf': text})
    changed = []
    for suffix in SUFFIXES:
        path = os.path.join(folder, name + suffix)
        if suffix not in files:
            continue
        refuse_symlink(path)
        if _same(path, files[suffix]):
            continue
        changed.append(name + suffix)
        if not check:
            write_file(path, files[suffix], mode=0o600)
    return changed


def read_profile(folder, name):
    """The text of ``<name>.conf``, or None when there is none."""
    path = os.path.join(folder, name + '.conf')
    refuse_symlink(path)
    try:
        with open(path, encoding='utf-8') as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def remove_profile(folder, name, check=False):
    """Delete every file of the device's profile; the names of the files removed."""
    removed = []
    for suffix in SUFFIXES:
        path = os.path.join(folder, name + suffix)
        if os.path.lexists(path):
            removed.append(name + suffix)
            if not check:
                os.unlink(path)
    return removed
