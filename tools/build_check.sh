#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Build the collection tarball the way a release would (from the files git tracks or would track,
# minus galaxy.yml build_ignore), check it carries no secrets and nothing but what a user needs,
# install it offline into an empty collections path and check that what a user gets works:
#   - the tarball holds only the user-facing top level (README.md, LICENSE, meta/, plugins/, roles/,
#     playbooks/, docs/, changelogs/, inventories/) and, under inventories/, only the worked examples;
#     a development file (molecule/, tests/, tools/, Makefile, requirements*, ansible.cfg), a dotfile,
#     a key registry or any other inventory fails the check. Untracked user inventories
#     (inventories/mine/hosts.yml and names close to the examples') are planted in the temp copy
#     first, so the check proves that galaxy.yml build_ignore keeps them out of a build made in a clone;
#   - the installed files match the tarball's manifest (ansible-galaxy collection verify --offline);
#   - ansible-doc renders every plugin of every type found under plugins/ and every role;
#   - every role has meta/argument_specs.yml (ansible-doc -t role lists it);
#   - every playbook under playbooks/ passes --syntax-check when called by its FQCN;
#   - the execution-environment metadata ships (meta/execution-environment.yml, meta/ee-requirements.txt,
#     meta/ee-bindep.txt, the example docs/execution-environment.yml) and `ansible-builder introspect`
#     on the installed collection lists every requirement of those files.
# Nothing is hard-coded: namespace/name come from galaxy.yml, plugins and roles are discovered.
#
# Usage: tools/build_check.sh      Environment: VENV (default <repo>/.venv), KEEP_BUILD=1 keeps the temp dir
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PY=$VENV/bin/python
[ -x "$VENV/bin/ansible-galaxy" ] || { echo "build_check: $VENV/bin/ansible-galaxy not found: run 'make venv' first" >&2; exit 2; }
export PATH="$VENV/bin:$PATH"
start=$(date +%s)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/build_check.XXXXXX")
if [ "${KEEP_BUILD:-0}" = 1 ]; then
    trap 'echo "build_check: kept $WORK"' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi

failures=()
checks=0
fail() {  # message; paths inside the temp install are shown relative to the collection
    local msg="$*"
    msg=${msg//"$WORK/collections/ansible_collections/$NAMESPACE/$NAME/"/}
    failures+=("$msg")
    printf 'FAIL: %s\n' "$msg"
}
ok() { checks=$((checks + 1)); }

read -r NAMESPACE NAME VERSION < <("$PY" -c '
import sys, yaml
meta = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
print(meta["namespace"], meta["name"], meta["version"])' "$ROOT/galaxy.yml")
FQ=$NAMESPACE.$NAME

# --- build from a clean copy ----------------------------------------------------------------------
SRC=$WORK/src
mkdir -p "$SRC" "$WORK/dist" "$WORK/collections"
"$ROOT/tools/copy-shipped-files.sh" "$SRC"
# What a user may have in a clone, untracked, when they build (created in the temp copy only): their
# own inventory with its key registry, inventories whose names are close to an example's, a registry
# next to an example, a render folder. None of it may reach the tarball.
EXAMPLE_INVENTORIES=(bastion full_tunnel site_to_site)
planted=(
    inventories/mine/hosts.yml inventories/mine/.wireguard_public_keys.yml
    inventories/site/hosts.yml inventories/bastion_prod/hosts.yml inventories/full/hosts.yml
    inventories/site_to_site2/hosts.yml inventories/prod.yml
    inventories/bastion/.wireguard_public_keys.yml render/hq/wg0.conf
)
for f in "${planted[@]}"; do
    if [ -e "$SRC/$f" ]; then fail "planted user file $f already exists in the copy"; continue; fi
    mkdir -p "$SRC/$(dirname "$f")"
    printf '# untracked user file planted by tools/build_check.sh\nall: {}\n' > "$SRC/$f"
done
echo "planted in the build copy (must not ship): ${planted[*]}"
echo "==> ansible-galaxy collection build"
if ! ansible-galaxy collection build --output-path "$WORK/dist" "$SRC"; then
    fail "ansible-galaxy collection build"
    echo "RESULT: FAIL"
    exit 1
fi
TARBALL=$WORK/dist/$NAMESPACE-$NAME-$VERSION.tar.gz
echo "tarball: $(basename "$TARBALL"), $(du -k "$TARBALL" | cut -f1) KiB, $(tar -tzf "$TARBALL" | grep -cv '/$') files"

# --- content of the tarball -----------------------------------------------------------------------
echo "==> tarball content check"
tar -tzf "$TARBALL" > "$WORK/members.txt"
echo "top level: $(cut -d/ -f1 "$WORK/members.txt" | sort -u | paste -sd' ' -)"
junk_re='(^|/)(\.venv|\.cache|\.lab|\.git|\.ansible|\.pytest_cache|\.mypy_cache|\.tox|__pycache__|output)(/|$)|\.pyc$|\.tar\.gz$|(^|/)\.ci(/|$)|(^|/)ansible\.cfg$|(^|/)wireguard_public_keys\.yml$'
secret_name_re='\.(key|pem|psk|p12|pfx)$|(^|/)id_(rsa|ed25519|ecdsa)|(^|/)[^/]*private[^/]*$|(^|/)\.vault_pass'
if grep -E "$junk_re" "$WORK/members.txt" > "$WORK/junk.txt"; then
    while IFS= read -r m; do fail "development leftover in tarball: $m"; done < "$WORK/junk.txt"
else
    ok
fi
if grep -Ei "$secret_name_re" "$WORK/members.txt" > "$WORK/secret_names.txt"; then
    while IFS= read -r m; do fail "key-like file in tarball: $m"; done < "$WORK/secret_names.txt"
else
    ok
fi
# Only what a user needs: an allow-list of the top level, the worked examples under inventories/,
# no dotfile anywhere (key registries are dotfiles), and every expected part present.
user_top='MANIFEST.json FILES.json README.md LICENSE meta plugins roles playbooks docs changelogs inventories'
examples_re=$(IFS='|'; echo "${EXAMPLE_INVENTORIES[*]}")
: > "$WORK/not_user.txt"
while IFS= read -r m; do
    m=${m#./}; m=${m%/}
    [ -n "$m" ] || continue
    top=${m%%/*}
    if [[ " $user_top " != *" $top "* ]]; then
        echo "development or unknown file in tarball (not for users; galaxy.yml build_ignore): $top" >> "$WORK/not_user.txt"
    elif [[ $m =~ (^|/)\. ]]; then
        echo "dotfile in tarball (registry or development file; galaxy.yml build_ignore): $m" >> "$WORK/not_user.txt"
    elif [ "$top" = inventories ] && [ "$m" != inventories ] && ! [[ $m =~ ^inventories/($examples_re)(/|$) ]]; then
        m=${m#inventories/}
        echo "inventory other than the examples (${EXAMPLE_INVENTORIES[*]}) in tarball: inventories/${m%%/*}" >> "$WORK/not_user.txt"
    fi
done < "$WORK/members.txt"
if [ -s "$WORK/not_user.txt" ]; then
    while IFS= read -r m; do fail "$m"; done < <(sort -u "$WORK/not_user.txt")
else
    ok
fi
# meta/execution-environment.yml and the two files it names are what ansible-builder reads when it
# puts the collection into an execution environment; docs/execution-environment.yml is the example.
for part in README.md LICENSE meta/runtime.yml plugins roles playbooks docs changelogs/changelog.yaml \
    meta/execution-environment.yml meta/ee-requirements.txt meta/ee-bindep.txt docs/execution-environment.yml; do
    if grep -qxE "(\./)?$part/?" "$WORK/members.txt"; then ok; else fail "tarball lacks $part"; fi
done
for ex in "${EXAMPLE_INVENTORIES[@]}"; do
    if grep -qxE "(\./)?inventories/$ex/hosts\.yml" "$WORK/members.txt"; then ok; else fail "tarball lacks the example inventories/$ex/hosts.yml"; fi
done
mkdir -p "$WORK/unpacked"
tar -C "$WORK/unpacked" -xzf "$TARBALL"
# PEM private keys anywhere; WireGuard PrivateKey/PresharedKey values anywhere but unit-test fixtures.
if grep -rlE -- '-----BEGIN ([A-Z]+ )?PRIVATE KEY-----' "$WORK/unpacked" > "$WORK/pem.txt"; then
    while IFS= read -r m; do fail "PEM private key in ${m#"$WORK"/unpacked/}"; done < "$WORK/pem.txt"
else
    ok
fi
wgkey_re='(PrivateKey|PresharedKey)[[:space:]]*=[[:space:]]*[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]='
if grep -rnE "$wgkey_re" "$WORK/unpacked" --exclude-dir=unit > "$WORK/wgkeys.txt"; then
    while IFS= read -r m; do fail "WireGuard secret key value: ${m#"$WORK"/unpacked/}"; done < "$WORK/wgkeys.txt"
else
    ok
fi

# --- install offline ------------------------------------------------------------------------------
echo "==> ansible-galaxy collection install --offline"
# Run everything below from the temp dir with an empty config, so the repository's ansible.cfg
# (which points at the working tree) cannot leak in: only the installed tarball is used.
cd "$WORK" || exit 2
: > "$WORK/ansible.cfg"
export ANSIBLE_CONFIG=$WORK/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH=$WORK/collections
export ANSIBLE_ROLES_PATH=$WORK/no-roles
export ANSIBLE_NOCOLOR=1
if ansible-galaxy collection install --offline --no-deps -p "$WORK/collections" "$TARBALL"; then ok; else fail "install of the tarball"; fi
INSTALLED=$WORK/collections/ansible_collections/$NAMESPACE/$NAME
[ -d "$INSTALLED" ] || { fail "not installed at $INSTALLED"; echo "RESULT: FAIL"; exit 1; }
if ansible-galaxy collection verify --offline -p "$WORK/collections" "$FQ"; then ok; else fail "collection verify --offline"; fi

# Collections the content uses (FQCN task keywords in roles/playbooks) must be declared as
# dependencies in galaxy.yml, and every declared dependency must be installed here (through the
# `ansible` package or a collections path).
"$PY" - "$INSTALLED" "$FQ" > "$WORK/deps.txt" <<'PYEOF'
import json
import pathlib
import re
import sys

root, own = pathlib.Path(sys.argv[1]), sys.argv[2]
declared = set(json.loads((root / 'MANIFEST.json').read_text())['collection_info'].get('dependencies') or {})
used = {}
key = re.compile(r'^\s*(?:-\s+)?([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+:(\s|$)')
for sub in ('roles', 'playbooks'):
    for path in sorted((root / sub).rglob('*.y*ml')):
        if '/defaults/' in str(path) or '/vars/' in str(path) or '/meta/' in str(path):
            continue
        for line in path.read_text(encoding='utf-8').splitlines():
            m = key.match(line)
            if m and m.group(1) not in ('ansible.builtin', 'ansible.legacy', own):
                used.setdefault(m.group(1), str(path.relative_to(root)))
for coll in sorted(declared):
    print('declared', coll)
for coll, where in sorted(used.items()):
    if coll not in declared:
        print('undeclared', coll, where)
PYEOF
while read -r kind coll where; do
    case $kind in
        declared)
            if ansible-galaxy collection list "$coll" >/dev/null 2>&1; then ok; else fail "dependency $coll (galaxy.yml) is not installed"; fi ;;
        undeclared)
            fail "$where uses $coll but galaxy.yml does not list it under dependencies" ;;
    esac
done < "$WORK/deps.txt"

# --- execution environment metadata ---------------------------------------------------------------
# What ansible-builder would install with the collection: `ansible-builder introspect` on the
# collections path holding the installed tarball must list every requirement line of the files
# meta/execution-environment.yml names (and those files must be in the tarball).
echo "==> ansible-builder introspect (execution-environment metadata of the installed collection)"
if [ ! -x "$VENV/bin/ansible-builder" ]; then
    fail "ansible-builder is not installed in $VENV (requirements.txt pins it): run 'make venv'"
elif ! "$VENV/bin/ansible-builder" introspect "$WORK/collections" > "$WORK/introspect.txt" 2> "$WORK/introspect.err"; then
    fail "ansible-builder introspect $WORK/collections: $(tail -3 "$WORK/introspect.err" | tr '\n' ' ')"
else
    "$PY" - "$INSTALLED" "$FQ" "$WORK/introspect.txt" > "$WORK/ee.txt" <<'PYEOF'
import os
import re
import sys

import yaml

root, fq, introspected = sys.argv[1:]
meta_file = os.path.join(root, 'meta', 'execution-environment.yml')
if not os.path.isfile(meta_file):
    print('FAIL meta/execution-environment.yml is not in the tarball')
    sys.exit()
with open(meta_file, encoding='utf-8') as handle:
    deps = (yaml.safe_load(handle) or {}).get('dependencies') or {}
with open(introspected, encoding='utf-8') as handle:
    text = handle.read()
found = yaml.safe_load(text[text.index('---'):]) or {}
suffix = '  # from collection %s' % fq
for kind in ('python', 'system'):
    if not deps.get(kind):
        print('FAIL meta/execution-environment.yml names no %s requirements file' % kind)
        continue
    path = os.path.join(root, deps[kind])
    if not os.path.isfile(path):
        print('FAIL %s (named by meta/execution-environment.yml) is not in the tarball' % deps[kind])
        continue
    with open(path, encoding='utf-8') as handle:
        wanted = [re.sub(r'(^|\s+)#.*$', '', line).strip() for line in handle]
    wanted = [line for line in wanted if line]
    got = [line[:-len(suffix)] for line in found.get(kind) or [] if line.endswith(suffix)]
    if not wanted:
        print('FAIL %s lists nothing' % deps[kind])
    elif got != wanted:
        print('FAIL ansible-builder introspect lists %s %r, %s has %r' % (kind, got, deps[kind], wanted))
    else:
        print('OK %s: %s' % (kind, ', '.join(got)))
PYEOF
    while read -r status rest; do
        case $status in
            OK) ok; echo "ok: introspect $rest" ;;
            *) fail "execution environment: $rest" ;;
        esac
    done < "$WORK/ee.txt"
    [ -s "$WORK/ee.txt" ] || fail "execution environment: the introspect check printed nothing"
fi

# --- ansible-doc ----------------------------------------------------------------------------------
doc_render() {  # type name
    local out
    if ! out=$(ansible-doc -t "$1" "$2" 2>&1); then
        fail "ansible-doc -t $1 $2: $(printf '%s' "$out" | tail -3 | tr '\n' ' ')"
        return
    fi
    if printf '%s' "$out" | grep -qE '^\[(WARNING|ERROR|DEPRECATION WARNING)\]'; then
        fail "ansible-doc -t $1 $2 warns: $(printf '%s' "$out" | grep -E '^\[(WARNING|ERROR|DEPRECATION)' | head -2 | tr '\n' ' ')"
        return
    fi
    if ! printf '%s' "$out" | grep -qE 'EXAMPLES:|EXAMPLES$|ENTRY POINT'; then
        fail "ansible-doc -t $1 $2 has no EXAMPLES/entry point section"
        return
    fi
    ok
    echo "ok: ansible-doc -t $1 $2"
}

echo "==> ansible-doc: plugins"
declare -A dirtype=(
    [modules]=module [filter]=filter [test]=test [lookup]=lookup [inventory]=inventory
    [callback]=callback [connection]=connection [become]=become [cache]=cache [cliconf]=cliconf
    [httpapi]=httpapi [netconf]=netconf [shell]=shell [strategy]=strategy [vars]=vars
)
for dir in "$INSTALLED"/plugins/*/; do
    d=$(basename "$dir")
    case $d in module_utils|doc_fragments|action|plugin_utils|terminal) continue ;; esac
    t=${dirtype[$d]:-}
    [ -n "$t" ] || { fail "unknown plugin directory plugins/$d"; continue; }
    # What ansible-doc lists for this type...
    ansible-doc -t "$t" -l "$FQ" --json > "$WORK/list_$t.json" 2> "$WORK/list_$t.err" || fail "ansible-doc -t $t -l $FQ"
    mapfile -t listed < <("$PY" -c 'import json,sys; [print(k) for k in sorted(json.load(open(sys.argv[1])))]' "$WORK/list_$t.json")
    # ...must cover every plugin file (filters/tests: a file may hold several plugins).
    for f in "$dir"*.py "$dir"*.yml "$dir"*.yaml; do
        [ -e "$f" ] || continue
        base=$(basename "$f"); base=${base%.*}
        [ "$base" = __init__ ] && continue
        case $t in
            filter|test)
                case $f in *.py)
                    # documented names come from the sidecar/inline docs; the file name must be one of them
                    if ! printf '%s\n' "${listed[@]}" | grep -qx "$FQ.$base"; then
                        fail "plugins/$d/$(basename "$f"): $t '$FQ.$base' is not listed by ansible-doc -t $t -l (missing documentation?)"
                    fi ;;
                esac ;;
            *)
                case $f in *.py)
                    if ! printf '%s\n' "${listed[@]}" | grep -qx "$FQ.$base"; then
                        fail "plugins/$d/$(basename "$f"): $t '$FQ.$base' is not listed by ansible-doc -t $t -l"
                    fi ;;
                esac ;;
        esac
    done
    for name in "${listed[@]}"; do doc_render "$t" "$name"; done
    # Every listed plugin must have real documentation (not "UNDOCUMENTED").
    if grep -q 'UNDOCUMENTED' "$WORK/list_$t.json"; then fail "undocumented $t plugins: $(grep -o '"[^"]*": "UNDOCUMENTED"' "$WORK/list_$t.json" | paste -sd' ' -)"; fi
done
# Action plugins need a module of the same name carrying their documentation.
for f in "$INSTALLED"/plugins/action/*.py; do
    [ -e "$f" ] || continue
    base=$(basename "$f" .py)
    [ "$base" = __init__ ] && continue
    if [ -e "$INSTALLED/plugins/modules/$base.py" ]; then ok; else fail "action plugin $base has no documentation module plugins/modules/$base.py"; fi
done

echo "==> ansible-doc: roles"
ansible-doc -t role -l "$FQ" > "$WORK/roles.txt" 2> "$WORK/roles.err" || fail "ansible-doc -t role -l $FQ: $(tail -2 "$WORK/roles.err" | tr '\n' ' ')"
if grep -qE '^\[(WARNING|ERROR)\]' "$WORK/roles.err"; then
    fail "ansible-doc -t role -l $FQ warns: $(grep -E '^\[(WARNING|ERROR)\]' "$WORK/roles.err" | head -3 | tr '\n' ' ')"
fi
for dir in "$INSTALLED"/roles/*/; do
    [ -d "$dir" ] || continue
    role=$(basename "$dir")
    if [ ! -f "$dir/meta/argument_specs.yml" ] && [ ! -f "$dir/meta/argument_specs.yaml" ]; then
        fail "role $role has no meta/argument_specs.yml"
        continue
    fi
    if grep -qE "^${FQ//./\\.}\\.${role}:" "$WORK/roles.txt"; then ok; else fail "role $role not listed by ansible-doc -t role -l $FQ"; fi
    doc_render role "$FQ.$role"
done

echo "==> playbooks: syntax check by FQCN"
for pb in "$INSTALLED"/playbooks/*.yml "$INSTALLED"/playbooks/*.yaml; do
    [ -e "$pb" ] || continue
    name=$(basename "$pb"); name=${name%.*}
    if out=$(ansible-playbook --syntax-check -i localhost, "$FQ.$name" 2>&1); then
        ok; echo "ok: ansible-playbook --syntax-check $FQ.$name"
    else
        fail "ansible-playbook --syntax-check $FQ.$name: $(printf '%s' "$out" | grep -v '^$' | tail -3 | tr '\n' ' ')"
    fi
done

echo
echo "==================== build check summary ===================="
echo "tarball: $(basename "$TARBALL")  checks passed: $checks  failures: ${#failures[@]}  wall time: $(( $(date +%s) - start ))s"
if [ "${#failures[@]}" -eq 0 ]; then
    echo "RESULT: PASS"
    exit 0
fi
printf '  %s\n' "${failures[@]}"
echo "RESULT: FAIL"
exit 1
