# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one interface-name rule (_paths) that the plan, the hooks, the registry and every module use."""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _paths
from ansible_collections.netfleet.wireguard.plugins.module_utils._addr import validate_interface_name
from ansible_collections.netfleet.wireguard.plugins.module_utils._hooks import check_ifname


@pytest.mark.parametrize('name,valid', [
    ('wg0', True), ('wg-office.1', True), ('a' * 15, True), ('x=y+z_', True),
    ('a' * 16, False), ('', False), ('.', False), ('..', False), ('wg0\n', False), ('wg 0', False),
    ('wg0/../x', False), ('wg\u202e0', False), (None, False), (0, False),
])
def test_interface_names(name, valid):
    assert _paths.valid_interface(name) is valid
    for check in (validate_interface_name, lambda n: check_ifname(n, 'interface'), _paths.conf):
        if valid:
            check(name)
        else:
            with pytest.raises(ValueError):
                check(name)
