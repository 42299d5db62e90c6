"""The package's licence and project URL, as installed in this test run's virtualenv (by
scripts/venv.sh, like a user's)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = "localskills-pulumi"


def installed() -> importlib.metadata.Distribution:
    """The distribution installed in the virtualenv (not the build's egg-info in the checkout,
    which the checkout on ``sys.path`` would find first)."""
    site = sysconfig.get_paths()["purelib"]
    [dist] = importlib.metadata.distributions(name=DIST, path=[site])
    return dist


def test_the_licence_is_apache_2_and_ships_with_the_package() -> None:
    metadata = installed().metadata
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    shipped = installed().read_text("licenses/LICENSE")
    assert shipped == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in shipped


def test_the_authors_are_declared() -> None:
    assert installed().metadata["Author"] == "The localskills-pulumi developers"


def test_the_homepage_is_declared() -> None:
    urls = installed().metadata.get_all("Project-URL")
    assert urls == ["Homepage, https://localskills.sh"]


def test_pip_show_prints_the_licence_and_the_homepage() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "show", DIST],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "License-Expression: Apache-2.0" in done.stdout.splitlines()
    assert "Home-page: https://localskills.sh" in done.stdout.splitlines()
