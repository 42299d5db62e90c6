#!/usr/bin/env bash
# Runs the whole test suite. Makes sure the virtualenv has the development requirements and
# this package first (see scripts/venv.sh; VENV=path picks another virtualenv). Extra arguments
# go to pytest. A run that collects no tests fails (exit status 1), with a line saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements-dev.txt
# Where PYTHONDONTWRITEBYTECODE is set, each process the suite starts (some 400 provider hosts,
# emulators, CLI runs) would compile the package from source again: compile it once, here.
"${VENV:-.venv}/bin/python" -m compileall -q -j 0 localskills_pulumi tests benchmarks examples scripts >/dev/null \
    || true # pytest reports whatever does not compile
status=0
"${VENV:-.venv}/bin/python" -m pytest -q "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "scripts/test.sh: FAILED: pytest collected no tests (exit status 5)" >&2
    exit 1
fi
exit "$status"
