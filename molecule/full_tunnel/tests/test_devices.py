# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Devices the collection does not manage: the profiles playbooks/clients.yml wrote, loaded with plain wg-quick.

ft-phone (key_mode controller, full profile) and ft-tablet (key_mode device, split profile) run
nothing of the collection: each test copies the profile in and runs `wg-quick up`. The tests run
in file order: enrolment and traffic first, then rekey, revocation and expiry (each restores the
device afterwards, so the scenario's other tests see the converged fleet).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time

import pytest
import yaml

from lab_node import ping_gaps

VPS = 'ft-vps'
PHONE, TABLET = 'ft-phone', 'ft-tablet'
ADDRESS = {PHONE: '10.0.0.10', TABLET: '10.0.0.11'}
# lab-only key pair of the tablet (key_mode device): its public key is in molecule.yml
TABLET_PRIVATE_KEY = 'iGVQXv2eGvklLSQEVoFGTAtrX21jWLPAoD/jk9wyWk0='
VPS_TUNNEL = '10.0.0.1'
VPS_UPSTREAM = '10.89.132.10'
INTERNET = '10.89.132.30'
LAN_HOST = '10.89.133.30'
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
PRIVATE_LINE = re.compile(r'^PrivateKey = (\S+)$', re.M)


def profile_dir():
    return os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'clients')


def profile(name):
    with open(os.path.join(profile_dir(), name + '.conf'), encoding='utf-8') as handle:
        return handle.read()


def clients_playbook(*args):
    """playbooks/clients.yml against the scenario; the finished process (output kept for leak checks)."""
    inventory = os.environ.get('MOLECULE_INVENTORY_FILE')
    assert inventory, 'run through molecule verify (MOLECULE_INVENTORY_FILE is not set)'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.cache', 'collections'),
               ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    proc = subprocess.run([playbook, '-i', inventory, os.path.join(REPO, 'playbooks', 'clients.yml'), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


def load(name, text):
    """What a user does on the device: put the profile in place and `wg-quick up` it."""
    subprocess.run(['podman', 'exec', '-i', name, 'sh', '-c',
                    'umask 077; cat > /etc/wireguard/wg0.conf; wg-quick down wg0 >/dev/null 2>&1; wg-quick up wg0'],
                   input=text, text=True, capture_output=True, check=True, timeout=60)


def tablet_profile():
    """The tablet's profile with its own private key written where the profile marks it."""
    text = profile(TABLET)
    assert not PRIVATE_LINE.search(text)
    return re.sub(r'^# PrivateKey = <.*>$', 'PrivateKey = ' + TABLET_PRIVATE_KEY, text, count=1, flags=re.M)


@pytest.fixture(scope='module')
def devices_up():
    load(PHONE, profile(PHONE))
    load(TABLET, tablet_profile())


def vps_peers(node):
    return node(VPS).wg('allowed-ips')


def key_of(private_key):
    return subprocess.run(['wg', 'pubkey'], input=private_key + '\n', text=True, capture_output=True,
                          check=True).stdout.strip()


class Pinger:
    """A continuous ping (10 per second) on ft-client1's tunnel while something else happens."""

    def __init__(self, node):
        self.client = node('ft-client1')

    def __enter__(self):
        self.client.run('rm -f /tmp/live-ping.log')
        self.client.run("sh -c 'ping -n -O -i 0.1 -w 600 %s > /tmp/live-ping.log 2>&1 &'", VPS_TUNNEL)
        time.sleep(1)
        return self

    def __exit__(self, *exc):
        self.client.run('pkill -INT -x ping')
        time.sleep(1)
        self.log = self.client.out('cat /tmp/live-ping.log')

    def lost(self, what):
        """Pings never answered (a late answer on a loaded machine is not a loss); the figures also go
        to .cache/logs/ for the record."""
        sent, lost = ping_gaps(self.log, 50)
        with open(os.path.join(REPO, '.cache', 'logs', 'full_tunnel-live-pings.txt'), 'a', encoding='utf-8') as out:
            out.write('%s: %d pings at 10/s on ft-client1 -> VPS, %d lost, %d answered late\n'
                      % (what, sent, lost, self.log.count('no answer yet')))
        return lost


# ------------------------------------------------------------------ the profiles on the controller

def test_profile_folder_and_files_are_private():
    folder = profile_dir()
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    names = sorted(os.listdir(folder))
    for device in (PHONE, TABLET):
        for suffix in ('.conf', '.png', '.svg', '.qr.txt'):
            assert device + suffix in names
    for name in names:
        assert stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) == 0o600, name


@pytest.mark.parametrize('device', [PHONE, TABLET])
def test_qr_code_decodes_to_exactly_the_profile(device):
    png = os.path.join(profile_dir(), device + '.png')
    decoded = subprocess.run(['zbarimg', '--raw', '--quiet', '--nodbus', png], capture_output=True, text=True,
                             check=True).stdout
    assert decoded == profile(device) + '\n'      # zbarimg ends each symbol with a newline
    terminal = open(os.path.join(profile_dir(), device + '.qr.txt'), encoding='utf-8').read()
    assert set(terminal) <= set('█▀▄ \n') and '▀' in terminal


def test_phone_profile_holds_its_own_key_and_the_full_tunnel(node):
    text = profile(PHONE)
    private = PRIVATE_LINE.findall(text)
    assert len(private) == 1
    assert vps_peers(node)[key_of(private[0])] == [ADDRESS[PHONE] + '/32']
    assert 'AllowedIPs = 0.0.0.0/0, ::/0' in text
    assert 'Endpoint = 10.89.131.10:51820' in text and 'PersistentKeepalive = 25' in text
    assert 'PublicKey = %s' % node(VPS).public_key() in text


def test_phone_and_hub_share_the_preshared_key_of_the_profile(node):
    text = profile(PHONE)
    preshared = re.findall(r'^PresharedKey = (\S+)$', text, re.M)
    assert len(preshared) == 1
    phone_key = key_of(PRIVATE_LINE.findall(text)[0])
    assert node(VPS).wg('preshared-keys')[phone_key] == preshared
    assert node(VPS).out('stat -c %%a /etc/wireguard/wg0.psk.d/%s.psk', PHONE).strip() == '600'


def test_tablet_profile_is_split_and_marks_where_its_key_goes(node):
    text = profile(TABLET)
    assert not PRIVATE_LINE.search(text) and '# PrivateKey = <' in text
    # the tunnel is dual-stack: its IPv6 network is in the split profile too
    assert 'AllowedIPs = 10.0.0.0/24, 10.89.133.0/24, fd00:0:0:1::/64' in text
    assert vps_peers(node)[key_of(TABLET_PRIVATE_KEY)] == [ADDRESS[TABLET] + '/32']


def test_no_device_private_key_on_the_hub(node):
    for private in PRIVATE_LINE.findall(profile(PHONE)) + [TABLET_PRIVATE_KEY]:   # (the PSK is on the hub: shared)
        res = node(VPS).run('grep -rlF -- %s /etc /root /run /tmp /var/log /var/lib', private)
        assert res.stdout.strip() == '', 'a device private key is on the hub: %s' % res.stdout


# ------------------------------------------------------------------ traffic

def test_full_profile_device_reaches_the_internet_as_the_vps(node, devices_up):
    phone = node(PHONE)
    assert phone.route_dev(INTERNET) == 'wg0'
    assert phone.whoami(INTERNET) == VPS_UPSTREAM


def test_split_profile_device_reaches_the_tunnel_and_the_lan_but_not_the_internet_through_it(node, devices_up):
    tablet = node(TABLET)
    assert tablet.ping(VPS_TUNNEL)
    assert tablet.route_dev(LAN_HOST) == 'wg0'
    assert tablet.whoami(LAN_HOST) == ADDRESS[TABLET]     # routed to the LAN, not NATed
    assert tablet.route_dev(INTERNET) not in ('wg0', '')   # its own default route, outside the tunnel


def test_the_listing_shows_each_device_with_its_handshake_and_transfer(node, devices_up):
    assert node(PHONE).ping(VPS_TUNNEL) and node(TABLET).ping(VPS_TUNNEL)
    output = clients_playbook().stdout
    for device, profile_kind in ((PHONE, 'full'), (TABLET, 'split')):
        row = re.search(r'^\s*- %s\s+active\s+%s\s+%s/32\s+-\s+(.*)$' % (device, profile_kind, ADDRESS[device]),
                        output, re.M)
        assert row, output[-3000:]
        # (the last column may wrap in Ansible's output)
        assert re.match(r'\d+ (s|min) ago\s+[\d.]+ (B|KiB|MiB)\s+[\d.]+', row.group(1)), row.group(0)


# ------------------------------------------------------------------ rekey, revoke, expire

def test_rekey_leaks_no_key_and_the_new_profile_works(node, devices_up):
    old = PRIVATE_LINE.findall(profile(PHONE))[0]
    proc = clients_playbook('-vvv', '-e', 'client=%s' % PHONE, '-e', 'rekey=true')
    new = PRIVATE_LINE.findall(profile(PHONE))[0]
    assert new != old
    output = proc.stdout + proc.stderr
    assert new not in output and old not in output
    preshared = re.findall(r'^PresharedKey = (\S+)$', profile(PHONE), re.M)[0]
    assert preshared not in output and node(VPS).wg('preshared-keys')[key_of(new)] == [preshared]
    assert key_of(old) not in vps_peers(node) and key_of(new) in vps_peers(node)
    load(PHONE, profile(PHONE))
    assert node(PHONE).whoami(INTERNET) == VPS_UPSTREAM


def test_revoking_a_device_is_live_and_ends_its_traffic(node, devices_up):
    vps = node(VPS)
    index = vps.out('cat /sys/class/net/wg0/ifindex')
    assert node(TABLET).ping(VPS_TUNNEL)
    with Pinger(node) as pinger:
        proc = clients_playbook('-e', 'client=%s' % TABLET, '-e', 'state=absent')
    assert pinger.lost('revoke ft-tablet') == 0, pinger.log[-800:]
    assert vps.out('cat /sys/class/net/wg0/ifindex') == index
    assert key_of(TABLET_PRIVATE_KEY) not in vps_peers(node)
    assert re.search(r'%s\s+revoked' % TABLET, proc.stdout)
    assert node(TABLET).run('ping -n -c 3 -W 1 %s', VPS_TUNNEL).rc != 0
    assert not os.path.exists(os.path.join(profile_dir(), TABLET + '.conf'))
    # enrolled again, live too: back on the hub, same key (key_mode device), a new profile
    with Pinger(node) as pinger:
        clients_playbook('-e', 'client=%s' % TABLET)
    assert pinger.lost('enrol ft-tablet again') == 0, pinger.log[-800:]
    assert vps.out('cat /sys/class/net/wg0/ifindex') == index
    load(TABLET, tablet_profile())
    assert node(TABLET).ping(VPS_TUNNEL)


def test_an_expired_device_leaves_the_hub_live(node, devices_up, tmp_path):
    vps = node(VPS)
    index = vps.out('cat /sys/class/net/wg0/ifindex')
    with open(os.path.join(REPO, 'molecule', 'full_tunnel', 'molecule.yml'), encoding='utf-8') as handle:
        scenario = yaml.safe_load(handle)
    peers = scenario['provisioner']['inventory']['group_vars']['wireguard']['wireguard_external_peers']
    expired = [dict(p, expires='2020-01-01') if p['name'] == TABLET else p for p in peers]
    extra = tmp_path / 'expired.yml'
    extra.write_text(yaml.safe_dump({'wireguard_external_peers': expired}))
    with Pinger(node) as pinger:
        proc = clients_playbook('-e', '@%s' % extra)
    assert pinger.lost('expire ft-tablet') == 0, pinger.log[-800:]
    assert 'expired on 2020-01-01' in proc.stdout + proc.stderr
    assert re.search(r'%s\s+expired' % TABLET, proc.stdout)
    assert key_of(TABLET_PRIVATE_KEY) not in vps_peers(node)
    assert vps.out('cat /sys/class/net/wg0/ifindex') == index
    # back to the inventory as it is: the tablet returns
    clients_playbook('-e', 'client=%s' % TABLET)
    assert key_of(TABLET_PRIVATE_KEY) in vps_peers(node)
