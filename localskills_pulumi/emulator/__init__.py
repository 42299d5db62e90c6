"""A local emulator of the localskills.sh SCIM token API, with a SCIM 2.0 endpoint.

A leaf package: it imports nothing else from ``localskills_pulumi``. Run it with
``python -m localskills_pulumi.emulator`` or call :func:`main`; see docs/emulator.md.
"""

from .cli import main

__all__ = ["main"]
