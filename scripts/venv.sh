#!/usr/bin/env bash
# Makes sure a virtualenv has what a script needs: `bash scripts/venv.sh REQUIREMENTS_FILE`, or
# sourced by the other scripts (`. scripts/venv.sh; ensure_venv requirements.txt`), which can
# then `compile_project` too.
#
# The virtualenv is $VENV (default .venv). It is created when missing. The requirement file is
# installed (after an upgrade of pip) unless the virtualenv holds a stamp for its current
# content (and that of the files it includes with -r); this package is installed (editable,
# --no-deps) unless it holds a stamp for the current pyproject.toml and this checkout's path.
# Stamps are written only after a successful install, for the file and what it includes.
# So `scripts/demo.sh` (requirements.txt) and `scripts/test.sh` (requirements-dev.txt) share
# one virtualenv in any order, and a changed file is installed again. Stamps live in
# $VENV/.localskills-pulumi/.

ensure_venv() {
    local requirements=$1
    local venv=${VENV:-.venv}
    if [ ! -x "$venv/bin/python" ]; then
        echo "==> creating $venv" >&2
        python3 -m venv "$venv"
    fi
    local stamps="$venv/.localskills-pulumi"
    # "<stamp> <digest>" lines: the file, each file it includes, then the package.
    local digests
    digests=$("$venv/bin/python" - "$requirements" "$PWD" <<'PY'
import hashlib
import sys
from pathlib import Path

requirements, checkout = Path(sys.argv[1]), sys.argv[2]


def included(path):
    """The file and, depth first, the files it includes with -r / --requirement."""
    yield path
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) == 2 and words[0] in ("-r", "--requirement"):
            yield from included(path.parent / words[1])


def digest(*parts):
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(hashlib.sha256(part).digest())
    return hashed.hexdigest()


# The package's install depends on pyproject.toml and on where this checkout is.
package = (Path("pyproject.toml").read_bytes(), checkout.encode())
for path in included(requirements):
    # Named by the file's path: policy/requirements.txt is not requirements.txt.
    stamp = str(path).replace("/", "__")
    print(f"{stamp}.sha256", digest(*(p.read_bytes() for p in included(path))))
print("package.sha256", digest(*package))
PY
    )
    # Install what is not stamped: the requirement file (whose stamp comes first), the package.
    # (No arrays: macOS still ships bash 3.2.)
    local first package install_requirements="" install_package="" what
    first=$(head -n 1 <<<"$digests")
    package=$(tail -n 1 <<<"$digests")
    [ "$(cat "$stamps/${first%% *}" 2>/dev/null)" = "${first#* }" ] || install_requirements=1
    [ "$(cat "$stamps/${package%% *}" 2>/dev/null)" = "${package#* }" ] || install_package=1
    if [ -n "$install_requirements" ] && [ -n "$install_package" ]; then
        what="$requirements and localskills-pulumi"
    elif [ -n "$install_requirements" ]; then
        what=$requirements
    elif [ -n "$install_package" ]; then
        what=localskills-pulumi
    else
        return 0
    fi
    echo "==> installing $what into $venv" >&2
    if [ -n "$install_requirements" ]; then
        # A current pip: older ones (the one a new virtualenv of Python 3.11 gets) show no
        # License-Expression in `pip show`.
        "$venv/bin/python" -m pip install -q --upgrade pip
        "$venv/bin/python" -m pip install -q -r "$requirements"
    fi
    if [ -n "$install_package" ]; then
        "$venv/bin/python" -m pip install -q --no-deps -e .
    fi
    mkdir -p "$stamps"
    # What a file includes was installed with it: stamp those too.
    local stamp digest
    while read -r stamp digest; do
        echo "$digest" >"$stamps/$stamp"
    done <<<"$digests"
}

# Compiles the project's Python once, into its __pycache__ directories. Where
# PYTHONDONTWRITEBYTECODE is set, each process a test run starts (some 400 provider hosts,
# emulators, CLI runs) would otherwise compile the package from source again. Whatever does not
# compile, pytest reports.
compile_project() {
    "${VENV:-.venv}/bin/python" -m compileall -q -j 0 localskills_pulumi tests benchmarks examples \
        scripts >/dev/null || true
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    [ $# -eq 1 ] || { echo "usage: bash scripts/venv.sh REQUIREMENTS_FILE" >&2; exit 2; }
    cd "$(dirname "$0")/.."
    ensure_venv "$1"
fi
