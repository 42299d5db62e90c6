#!/usr/bin/env bash
# The demo, on a fresh machine: a virtualenv, the package, the local emulator, `pulumi up` with a
# local file backend, the outputs (token masked), and a SCIM call with the issued token.
# Without the Pulumi CLI it says how to get it, then runs the same program through Pulumi's own
# dynamic-provider host with the engine stand-in (scripts/offline.py), its stack state kept in
# .demo/stacks/, so that a second run changes nothing, as a second `pulumi up` would.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv="${VENV:-.venv}"
demo="${DEMO_DIR:-.demo}"
export DEMO_DIR=$demo
demo_api_token="lsk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

. scripts/venv.sh
ensure_venv requirements.txt

mkdir -p -m 700 "$demo"
demo_path=$(cd "$demo" && pwd)
echo "==> starting the localskills emulator (demo seed: tenant 'engineering')"
# The last run's URL must go first: the wait below would read it before the new emulator's
# output truncates the file.
rm -f "$demo/emulator.url"
"$venv/bin/python" -m localskills_pulumi.emulator --port 0 --db "$demo/emulator.db" \
    >"$demo/emulator.url" 2>"$demo/emulator.log" &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true' EXIT
# Its URL is its first line; it exits at once (the reason in its log) if it cannot start.
for _ in $(seq 600); do
    { [ -s "$demo/emulator.url" ] || ! kill -0 "$emulator_pid" 2>/dev/null; } && break
    sleep 0.1
done
base_url=$(head -n 1 "$demo/emulator.url")
[ -n "$base_url" ] || { echo "the emulator did not start:"; cat "$demo/emulator.log"; exit 1; }
echo "    $base_url"
export LOCALSKILLS_API_TOKEN=$demo_api_token LOCALSKILLS_BASE_URL=$base_url

if command -v pulumi >/dev/null 2>&1; then
    export PULUMI_BACKEND_URL="file://$demo_path/state" PULUMI_CONFIG_PASSPHRASE=demo
    mkdir -p "$demo_path/state" "$demo_path/project"
    # The stack's config file (Pulumi.demo.yaml) is written beside Pulumi.yaml: so that the
    # checkout stays clean, the program runs from a copy in $demo/project, with this
    # virtualenv.
    case $venv in /*) venv_path=$venv ;; *) venv_path=$root/$venv ;; esac
    sed "s|virtualenv: .venv|virtualenv: $venv_path|" Pulumi.yaml >"$demo_path/project/Pulumi.yaml"
    cp __main__.py "$demo_path/project/"
    cd "$demo_path/project"
    pulumi stack select --create demo >/dev/null
    pulumi config set tenantId engineering
    echo "==> pulumi up"
    pulumi up --yes --skip-preview
    echo "==> pulumi stack output (the token stays masked)"
    pulumi stack output
    token=$(pulumi stack output scim_token --show-secrets)
    cd "$root"
else
    cat <<'MSG'
==> The Pulumi CLI is not installed. Get it with the installer from
    https://www.pulumi.com/docs/install/ (for example `curl -fsSL https://get.pulumi.com | sh`),
    then run this script again for a real `pulumi up`.
==> Meanwhile: the same program, run through Pulumi's own dynamic-provider host
    (python -m pulumi.dynamic) with this package's engine stand-in; its stack state is kept
    in .demo/stacks/ (unencrypted, like a local state file: it holds the token).
MSG
    "$venv/bin/python" scripts/offline.py up . --stack demo --base-url "$base_url" \
        tenantId=engineering
    token=$("$venv/bin/python" scripts/offline.py output . scim_token --stack demo --show-secrets)
fi

echo "==> an identity provider's first call: GET $base_url/scim/v2/Users with the issued token"
SCIM_TOKEN=$token "$venv/bin/python" - "$base_url" <<'PY'
import os
import sys

import requests

response = requests.get(
    f"{sys.argv[1]}/scim/v2/Users",
    headers={"Authorization": f"Bearer {os.environ['SCIM_TOKEN']}"},
    timeout=10,
)
print(f"    HTTP {response.status_code}: {response.json().get('totalResults')} users provisioned so far")
PY
echo "==> done; the emulator's state and the stack's are in $demo/ (delete it to start over)"
