"""A local wheelhouse that stands for the packages installed in this test run's virtualenv.

For each installed distribution, a small wheel of the same name, version and metadata (so pip
resolves the same dependencies) whose only code is a ``.pth`` file: it puts a directory on
``sys.path`` that holds symbolic links to that distribution's top-level modules here. A
virtualenv that installs such a wheel can import the distribution; one that does not, cannot.
So ``pip install --no-index --find-links <wheelhouse> -r requirements-dev.txt`` is a real pip
run (resolution, install, console scripts, an isolated build of the package) that needs no
package index and copies no package.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import re
import zipfile
from pathlib import Path

SKIPPED = {"pip", "localskills-pulumi"}
"""Not stood for: the virtualenv brings its own pip, and the package is built from the copy."""


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _top_levels(dist: importlib.metadata.Distribution) -> set[str]:
    tops: set[str] = set()
    for file in dist.files or []:
        top = file.parts[0]
        if top in ("..", "__pycache__") or top.endswith((".dist-info", ".egg-info", ".pth")):
            continue
        tops.add(top)
    return tops


def build(wheelhouse: Path, links: Path) -> list[str]:
    """Write a stand-in wheel for every distribution of this interpreter into ``wheelhouse``,
    with its links under ``links``. Returns the distribution names."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    seen: set[str] = set()
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        key = _normalize(name)
        if key in seen or name.lower() in SKIPPED or dist.files is None:
            continue
        seen.add(key)
        site = Path(str(dist.locate_file("")))
        link_dir = links / key
        link_dir.mkdir(parents=True)
        for top in _top_levels(dist):
            if (site / top).exists():
                (link_dir / top).symlink_to(site / top)
        info = f"{key}-{dist.version}.dist-info"
        files: dict[str, bytes] = {
            f"{key}_stand_in.pth": f"{link_dir}\n".encode(),
            f"{info}/METADATA": (dist.read_text("METADATA") or "").encode(),
            f"{info}/WHEEL": (
                b"Wheel-Version: 1.0\nGenerator: tests/scripts/wheelhouse.py\n"
                b"Root-Is-Purelib: true\nTag: py3-none-any\n"
            ),
        }
        entry_points = dist.read_text("entry_points.txt")
        if entry_points:
            files[f"{info}/entry_points.txt"] = entry_points.encode()
        record = [_record_line(path, data) for path, data in files.items()]
        files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
        with zipfile.ZipFile(wheelhouse / f"{key}-{dist.version}-py3-none-any.whl", "w") as whl:
            for path, data in files.items():
                whl.writestr(path, data)
        names.append(name)
    return names
