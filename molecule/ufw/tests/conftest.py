# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology scenarios share their container helpers: molecule/_shared/tests/lab_node.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / '_shared' / 'tests'))

# pylint: disable-next=wrong-import-position,unused-import
from lab_node import Node, node  # noqa: E402,F401
