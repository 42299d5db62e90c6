"""docs/testing.md: the stack and the test file it shows, run as a user would run them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from localskills_pulumi.testing.emulator import subprocess_environment

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
FILE_BLOCK = re.compile(r"<!-- file: (?P<name>[\w.]+) -->\s*```\w*\n(?P<body>.*?)```", re.DOTALL)


def doc_files() -> dict[str, str]:
    """The files the doc shows, by name (each code block after a ``<!-- file: NAME -->``)."""
    return {m["name"]: m["body"] for m in FILE_BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


def test_the_doc_shows_a_stack_and_its_test_file() -> None:
    assert set(doc_files()) == {"Pulumi.yaml", "__main__.py", "test_stack.py"}


def test_the_docs_test_file_passes_against_the_docs_stack(tmp_path: Path) -> None:
    for name, body in doc_files().items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_stack.py"],
        cwd=tmp_path,
        env=subprocess_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert re.search(r"\b6 passed\b", done.stdout), done.stdout[-2000:]
