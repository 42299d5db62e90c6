"""Fixtures of the real-engine tier: a project folder per test, on the worker's emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from localskills_pulumi.testing.emulator import Emulator
from tests.engine.cli import Project

MakeProject = Callable[..., Project]


@pytest.fixture
def make_project(tmp_path: Path, clean_emulator: Emulator) -> MakeProject:
    """``make_project(program, name=...)``: a project of its own folder under ``tmp_path``."""

    def make(
        program: str,
        *,
        name: str = "engine-test",
        folder: str = "project",
        emulator: Emulator | None = None,
    ) -> Project:
        return Project(tmp_path / folder, emulator or clean_emulator, program, name=name)

    return make
