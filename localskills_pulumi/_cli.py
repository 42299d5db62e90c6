"""What the package's two command lines share: one line on stderr for every error.

``localskills-pulumi`` (:mod:`localskills_pulumi.cli`) and the emulator's
(:mod:`localskills_pulumi.emulator.command`) both use these, so a user error reads the same from
either: ``<program>: error: <what> ...``, never a usage block or a traceback. Imports nothing of
the package.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

__all__ = ["EXIT_USAGE", "OneLineParser", "error_line"]

EXIT_USAGE = 2
"""The exit status of a command line that cannot be run as given."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, with one line on stderr for a usage error instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def error_line(program: str, message: str) -> str:
    """``<program>: error: <message>``, on one line whatever the message holds."""
    return " ".join(f"{program}: error: {message}".split())


def print_error(program: str, message: str) -> None:
    """Write :func:`error_line` to stderr."""
    print(error_line(program, message), file=sys.stderr, flush=True)
