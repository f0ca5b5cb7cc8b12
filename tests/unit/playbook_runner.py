# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the venv's ansible-playbook from the repository (its ansible.cfg), for the unit tests that drive
the collection's playbooks and action plugins end to end. tests/unit is on sys.path (conftest.py)."""
from __future__ import annotations

import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
RENDER = os.path.join(REPO, 'playbooks', 'render.yml')


def ansible_playbook(inventory, playbook, *extra):
    """CompletedProcess of ``ansible-playbook -i inventory playbook extra...`` (text output, no check)."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(inventory),
                           str(playbook)] + list(extra), cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def render(inventory, out, *extra):
    """playbooks/render.yml into ``out``."""
    return ansible_playbook(inventory, RENDER, '-e', 'wireguard_render_dir=%s' % out, *extra)
