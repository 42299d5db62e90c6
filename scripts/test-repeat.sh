#!/usr/bin/env bash
# Runs the test suite N times and reports each failure (test id, phase, first error line) and a
# summary: `bash scripts/test-repeat.sh N [pytest args]`. Exit status 0 only if every run
# passed. Same virtualenv as scripts/test.sh (VENV=path picks another).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements-dev.txt
compile_project
exec "${VENV:-.venv}/bin/python" scripts/test_repeat.py "$@"
