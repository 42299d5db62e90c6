"""``python -m localskills_pulumi.emulator``: see :mod:`localskills_pulumi.emulator.command`."""

import sys

from .command import main

if __name__ == "__main__":
    sys.exit(main())
