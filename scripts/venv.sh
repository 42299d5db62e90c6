#!/usr/bin/env bash
# Makes sure a virtualenv has what a script needs: `bash scripts/venv.sh REQUIREMENTS_FILE`, or
# sourced by the other scripts (`. scripts/venv.sh; ensure_venv requirements.txt`).
#
# The virtualenv is $VENV (default .venv). It is created when missing. A requirement file is
# installed (after an upgrade of pip), followed by this package (editable, --no-deps), unless
# the virtualenv holds a stamp for that file's current content (and that of the files it
# includes with -r, and pyproject.toml, and this checkout's path); a stamp is written only
# after a successful install. So `scripts/demo.sh` (requirements.txt) and `scripts/test.sh`
# (requirements-dev.txt) share one virtualenv in any order, and a changed requirement file is
# installed again. Stamps live in $VENV/.localskills-pulumi/.

ensure_venv() {
    local requirements=$1
    local venv=${VENV:-.venv}
    if [ ! -x "$venv/bin/python" ]; then
        echo "==> creating $venv" >&2
        python3 -m venv "$venv"
    fi
    local stamps="$venv/.localskills-pulumi"
    # "<file> <digest>" for the file and each file it includes, the file first.
    local digests
    digests=$("$venv/bin/python" - "$requirements" "$PWD" <<'PY'
import hashlib
import sys
from pathlib import Path

requirements, checkout = Path(sys.argv[1]), sys.argv[2]
common = (Path("pyproject.toml").read_bytes(), checkout.encode())


def included(path):
    """The file and, depth first, the files it includes with -r / --requirement."""
    yield path
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) == 2 and words[0] in ("-r", "--requirement"):
            yield from included(path.parent / words[1])


def digest(path):
    hashed = hashlib.sha256()
    for part in (*(p.read_bytes() for p in included(path)), *common):
        hashed.update(hashlib.sha256(part).digest())
    return hashed.hexdigest()


for path in included(requirements):
    print(path.as_posix(), digest(path))
PY
    )
    local first want
    read -r first want <<<"$digests"
    if [ "$(cat "$stamps/$(basename "$first").sha256" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    echo "==> installing $requirements and localskills-pulumi into $venv" >&2
    # A current pip: older ones (the one a new virtualenv of Python 3.11 gets) show no
    # License-Expression in `pip show`.
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -r "$requirements"
    "$venv/bin/python" -m pip install -q --no-deps -e .
    mkdir -p "$stamps"
    # What a file includes was installed with it: stamp those too.
    local file digest
    while read -r file digest; do
        echo "$digest" >"$stamps/$(basename "$file").sha256"
    done <<<"$digests"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    [ $# -eq 1 ] || { echo "usage: bash scripts/venv.sh REQUIREMENTS_FILE" >&2; exit 2; }
    cd "$(dirname "$0")/.."
    ensure_venv "$1"
fi
