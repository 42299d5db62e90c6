"""What ``localskills-pulumi`` and the emulator's command share: a user error is one line on
stderr, ``<program>: error: <what> ...``, never a usage block or a traceback."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

__all__ = ["EXIT_USAGE", "OneLineParser", "print_error"]

EXIT_USAGE = 2
"""The exit status of a command line that cannot be run as given."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, with one line on stderr for a usage error instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def print_error(program: str, message: str) -> None:
    """Write ``<program>: error: <message>`` to stderr, on one line whatever the message holds."""
    print(" ".join(f"{program}: error: {message}".split()), file=sys.stderr, flush=True)
