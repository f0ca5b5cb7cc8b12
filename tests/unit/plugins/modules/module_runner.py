# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the module tests: run a module's main() with arguments, return its JSON result."""
from __future__ import annotations

import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes


def run_main(monkeypatch, capsys, main, args):
    """(result dict, raw stdout) of ``main()`` called with ``args`` as ANSIBLE_MODULE_ARGS."""
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        main()
    out = capsys.readouterr().out
    return json.loads(out), out
