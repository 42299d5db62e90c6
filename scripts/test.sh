#!/usr/bin/env bash
# Runs the whole test suite. Makes sure the virtualenv has the development requirements and
# this package first (see scripts/venv.sh; VENV=path picks another virtualenv). Extra arguments
# go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements-dev.txt
exec "${VENV:-.venv}/bin/python" -m pytest -q "$@"
