#!/usr/bin/env bash
# Runs the whole test suite. Makes sure the virtualenv has the development requirements and
# this package first (see scripts/venv.sh; VENV=path picks another virtualenv), and a Pulumi
# CLI (scripts/pulumi-cli.sh). Extra arguments
# go to pytest. A run that collects no tests fails (exit status 1), with a line saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements-dev.txt
compile_project
# The real-engine tier (tests/engine/) runs the Pulumi CLI: built once from tools/pulumi/.
TEST_PULUMI_CLI=$(bash scripts/pulumi-cli.sh | tail -n 1)
export TEST_PULUMI_CLI
status=0
"${VENV:-.venv}/bin/python" -m pytest -q "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "scripts/test.sh: FAILED: pytest collected no tests (exit status 5)" >&2
    exit 1
fi
exit "$status"
