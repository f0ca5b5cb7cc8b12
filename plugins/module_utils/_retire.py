# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retired hosts (``wireguard_state: absent``): how the plan treats them (pure, no ansible import).

A retired host is not a member of the network any more: it is left out before the network is
validated, so no peer carries it (the interface role removes it from every peer live) and its
other variables are not checked. ``site.yml`` takes its interface, files and firewall objects away
and the key registry forgets it. The hub cannot be retired while other hosts still use it; every
host retired retires the whole network.
"""

from __future__ import annotations

from ._validate import PlanError, problem_line
from ._variables import one_of

STATE_VAR = "wireguard_state"
_STATE = one_of("present", "absent")


def split_retired(hostvars):
    """``(hostvars of the members, sorted names of the retired hosts)``.

    A state other than ``present``/``absent`` keeps the host a member: the variable table reports it
    with the host's other problems. Raises PlanError when the hub is retired while members remain.
    """
    members, retired = {}, []
    for host, values in hostvars.items():
        try:
            absent = _STATE(values.get(STATE_VAR, "present")) == "absent"
        except ValueError:
            absent = False
        if absent:
            retired.append(host)
        else:
            members[host] = values
    hubs = {str(values.get("wireguard_hub")) for values in hostvars.values() if values.get("wireguard_hub")}
    errors = [problem_line(hub, STATE_VAR, "absent: this host is wireguard_hub; point wireguard_hub at another "
                           "host (or retire every host) first") for hub in sorted(hubs & set(retired)) if members]
    if errors:
        raise PlanError(errors)
    return members, sorted(retired)
