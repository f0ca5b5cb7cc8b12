# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execution environments: what ansible-builder reads from the collection, and the example definition.

Offline, with the venv's ansible-builder (requirements.txt): ``ansible-builder introspect`` on a
collections path holding the checkout, and on one holding the installed tarball, lists the
collection's Python requirements and system packages (meta/execution-environment.yml ->
meta/ee-requirements.txt, meta/ee-bindep.txt); ``ansible-builder create`` turns the example
docs/execution-environment.yml, with the tarball next to it, into a build context. No image is built:
that needs the base image from its registry.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
BIN = os.path.dirname(sys.executable)
META = os.path.join(REPO, 'meta', 'execution-environment.yml')
EXAMPLE = os.path.join(REPO, 'docs', 'execution-environment.yml')
FQ = 'netfleet.wireguard'

# Imports the plugins may use without listing them: ansible-core brings them (and ansible-builder
# leaves PyYAML out of an EE's requirements for that reason).
PROVIDED_BY_ANSIBLE_CORE = {'ansible', 'ansible_collections', 'yaml', 'jinja2'}
# import name -> distribution name, where they differ
DISTRIBUTION = {'yaml': 'PyYAML'}


def _galaxy_meta():
    with open(os.path.join(REPO, 'galaxy.yml'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _requirement_lines(path):
    """The requirement lines of a pip or bindep file (comments and blank lines dropped)."""
    with open(path, encoding='utf-8') as handle:
        lines = [re.sub(r'(^|\s+)#.*$', '', line).strip() for line in handle]
    return [line for line in lines if line]


def _dependency_files():
    with open(META, encoding='utf-8') as handle:
        meta = yaml.safe_load(handle)
    deps = meta['dependencies']
    return os.path.join(REPO, deps['python']), os.path.join(REPO, deps['system'])


def _run(argv, cwd, timeout=300):
    # an empty ansible.cfg: the repository's points the collections path at the working tree
    cfg = os.path.join(cwd, 'ansible.cfg')
    if not os.path.exists(cfg):
        open(cfg, 'w', encoding='utf-8').close()
    env = dict(os.environ, ANSIBLE_CONFIG=cfg, ANSIBLE_NOCOLOR='1')
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, '%s failed (rc %s):\n%s\n%s' % (
        ' '.join(argv), result.returncode, result.stdout[-3000:], result.stderr[-3000:])
    return result


def _require_builder():
    """ansible-builder (and bindep, its dependency) must be in this venv: requirements.txt pins them."""
    try:
        import ansible_builder  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel
        import bindep  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel
    except ImportError:
        pytest.fail('ansible-builder is not installed in %s: run make venv (requirements.txt pins it)' % sys.prefix)


def _builder(*args, cwd):
    """``ansible-builder ARGS`` of this venv (python -m ansible_builder)."""
    _require_builder()
    return _run([sys.executable, '-m', 'ansible_builder'] + list(args), cwd=cwd)


def _introspect(collections_path, cwd):
    """``{'python': [...], 'system': [...]}`` of ``ansible-builder introspect``, this collection's lines only."""
    out = _builder('introspect', str(collections_path), cwd=cwd).stdout
    data = yaml.safe_load(out[out.index('---'):])
    suffix = '  # from collection %s' % FQ
    return {kind: [line[:-len(suffix)] for line in data.get(kind) or [] if line.endswith(suffix)]
            for kind in ('python', 'system')}


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    """The collection tarball, built from the checkout as a user builds it."""
    out = tmp_path_factory.mktemp('dist')
    _run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(out), REPO], cwd=str(out))
    meta = _galaxy_meta()
    path = out / ('%s-%s-%s.tar.gz' % (meta['namespace'], meta['name'], meta['version']))
    assert path.is_file()
    return path


def test_meta_names_the_two_files_in_the_builder_format():
    with open(META, encoding='utf-8') as handle:
        meta = yaml.safe_load(handle)
    assert meta == {'version': 1, 'dependencies': {'python': 'meta/ee-requirements.txt', 'system': 'meta/ee-bindep.txt'}}
    python, system = _dependency_files()
    assert _requirement_lines(python) and _requirement_lines(system)


def test_python_requirements_cover_every_third_party_import_of_the_plugins():
    """A plugin importing a library the EE would not have fails here, not in a user's AWX job."""
    imported = {}
    for folder, _dirs, files in os.walk(os.path.join(REPO, 'plugins')):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding='utf-8') as handle:
                tree = ast.parse(handle.read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    tops = [alias.name.split('.')[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    tops = [node.module.split('.')[0]]
                else:
                    continue
                for top in tops:
                    if top not in sys.stdlib_module_names and top != '__future__':
                        imported.setdefault(top, os.path.relpath(path, REPO))
    python, _system = _dependency_files()
    listed = {re.split(r'[\s<>=!~;\[]', line, maxsplit=1)[0].lower() for line in _requirement_lines(python)}
    missing = {top: where for top, where in imported.items()
               if top not in PROVIDED_BY_ANSIBLE_CORE and DISTRIBUTION.get(top, top).lower() not in listed}
    assert not missing, 'imported by the plugins but not in meta/ee-requirements.txt: %s' % missing
    # and nothing listed that no plugin imports
    assert listed == {DISTRIBUTION.get(top, top).lower() for top in imported if top not in PROVIDED_BY_ANSIBLE_CORE}
    assert listed == {'netaddr', 'cryptography', 'segno', 'graphviz'}


def test_python_requirements_are_not_pinned():
    """Other collections share the EE: no == pins and no upper bounds (ansible-builder merges the files)."""
    python, _system = _dependency_files()
    for line in _requirement_lines(python):
        assert not re.search(r'==|<|~=', line), line


def test_system_packages_per_platform_with_bindep_markers():
    """bindep reads the file; an RPM-based EE gets the OpenSSH client, and nothing of the managed hosts."""
    _require_builder()
    from bindep.depends import Depends  # pylint: disable=import-outside-toplevel

    _python, system = _dependency_files()
    with open(system, encoding='utf-8') as handle:
        depends = Depends(handle.read())

    def packages(*profiles):
        return sorted(rule[0] for rule in depends.active_rules(list(profiles)))

    assert packages('platform:rpm', 'platform:redhat', 'platform:centos') == ['graphviz', 'openssh-clients']
    assert packages('platform:dpkg', 'platform:debian', 'platform:ubuntu') == ['graphviz', 'openssh-client']
    # wg/wg-quick, wireguard-go and the firewall tools run on the managed hosts (wireguard_install role)
    everything = [rule[0] for rule in depends.active_rules(['platform:rpm'])] + \
        [rule[0] for rule in depends.active_rules(['platform:dpkg'])]
    for host_only in ('wireguard-tools', 'wireguard-go', 'nftables', 'iptables', 'iproute2', 'iproute'):
        assert host_only not in everything


def test_introspect_lists_the_requirements_of_the_checkout(tmp_path):
    """ansible-builder introspect on a collections path holding the checkout (as ansible.cfg sees it)."""
    link = tmp_path / 'collections' / 'ansible_collections' / 'netfleet' / 'wireguard'
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO, target_is_directory=True)
    python, system = _dependency_files()
    assert _introspect(tmp_path / 'collections', cwd=str(tmp_path)) == {
        'python': _requirement_lines(python), 'system': _requirement_lines(system)}


def test_introspect_lists_the_requirements_of_the_installed_tarball(tmp_path, tarball):
    """The files ship: the tarball installed offline carries what ansible-builder reads."""
    collections = tmp_path / 'collections'
    _run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '--no-deps',
          '-p', str(collections), str(tarball)], cwd=str(tmp_path))
    installed = collections / 'ansible_collections' / 'netfleet' / 'wireguard'
    assert not installed.is_symlink() and (installed / 'MANIFEST.json').is_file()
    for name in ('meta/execution-environment.yml', 'meta/ee-requirements.txt', 'meta/ee-bindep.txt',
                 'docs/execution-environment.yml'):
        assert (installed / name).is_file(), '%s is not in the tarball (galaxy.yml build_ignore?)' % name
    python, system = _dependency_files()
    found = _introspect(collections, cwd=str(tmp_path))
    assert found == {'python': _requirement_lines(python), 'system': _requirement_lines(system)}
    assert found['python'] == ['netaddr', 'cryptography', 'segno', 'graphviz']
    assert found['system'] == ['openssh-clients [platform:rpm]', 'openssh-client [platform:dpkg]', 'graphviz']


def test_example_definition_creates_a_build_context(tmp_path, tarball):
    """docs/execution-environment.yml + the tarball next to it -> context/ with a Containerfile."""
    with open(EXAMPLE, encoding='utf-8') as handle:
        example = yaml.safe_load(handle)
    assert example['version'] == 3
    # the example names the tarball of this version and the ansible-core the tests run with
    assert [entry['src'] for entry in example['additional_build_files']] == [tarball.name], \
        'docs/execution-environment.yml names another tarball than %s: update it with galaxy.yml version' % tarball.name
    with open(os.path.join(REPO, 'requirements.txt'), encoding='utf-8') as handle:
        core_pin = next(line.strip() for line in handle if line.startswith('ansible-core=='))
    assert example['dependencies']['ansible_core']['package_pip'] == core_pin
    assert example['dependencies']['galaxy']['collections'] == [
        {'name': '/build/collections/%s' % tarball.name, 'type': 'file'}]

    shutil.copy(EXAMPLE, tmp_path / 'execution-environment.yml')
    shutil.copy(tarball, tmp_path / tarball.name)
    _builder('create', '--file', 'execution-environment.yml', '--context', 'context', '--output-filename', 'Containerfile',
             cwd=str(tmp_path))

    context = tmp_path / 'context'
    containerfile = (context / 'Containerfile').read_text(encoding='utf-8')
    assert 'ARG EE_BASE_IMAGE="%s"' % example['images']['base_image']['name'] in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert re.search(r'^ARG ANSIBLE_INSTALL_REFS="%s ansible-runner"$' % re.escape(core_pin), containerfile, re.M)
    # the galaxy stage installs the tarball from _build (copied to /build), then the builder stage
    # introspects the installed collections: that is where meta/execution-environment.yml is read
    assert 'COPY _build /build' in containerfile
    assert re.search(r'ansible-galaxy collection install .*-r requirements\.yml', containerfile)
    assert 'introspect.py introspect' in containerfile
    copied = context / '_build' / 'collections' / tarball.name
    assert copied.read_bytes() == tarball.read_bytes()
    with open(context / '_build' / 'requirements.yml', encoding='utf-8') as handle:
        assert yaml.safe_load(handle) == example['dependencies']['galaxy']
