#!/usr/bin/env bash
# Runs the whole test suite. Builds .venv from the project's requirement files when absent;
# VENV=path uses another virtualenv. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q -r requirements-dev.txt
    "$venv/bin/python" -m pip install -q --no-deps -e .
fi
exec "$venv/bin/python" -m pytest -q "$@"
