#!/usr/bin/env bash
# Runs a program of this repository without the Pulumi CLI, against the local emulator, and
# keeps its stack state in .demo/ (see scripts/offline.py):
#   bash scripts/offline.sh up examples/rotation tenantId=engineering
#   bash scripts/offline.sh output examples/rotation scim_token_id
# Uses the same virtualenv as scripts/test.sh (VENV=path picks another).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements-dev.txt
exec "${VENV:-.venv}/bin/python" scripts/offline.py "$@"
