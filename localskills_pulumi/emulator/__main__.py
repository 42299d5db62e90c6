"""``python -m localskills_pulumi.emulator``: see :mod:`localskills_pulumi.emulator.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
