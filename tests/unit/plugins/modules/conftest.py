# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the module tests."""
from __future__ import annotations

import pytest

from ansible.module_utils import basic


@pytest.fixture
def calls(monkeypatch):
    """Every command the module runs: (argv, stdin data)."""
    seen = []
    real = basic.AnsibleModule.run_command

    def spy(self, args, *a, **kw):
        seen.append((list(args), kw.get("data")))
        return real(self, args, *a, **kw)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", spy)
    return seen
