"""A local emulator of the localskills.sh SCIM token API, with a SCIM 2.0 endpoint.

A leaf package: of ``localskills_pulumi`` it imports only :mod:`localskills_pulumi.identifiers`
(the one definition of IDs and API tokens, which imports nothing). Run it with
``python -m localskills_pulumi.emulator`` or call :func:`main`; see docs/emulator.md.
"""

from .command import main

__all__ = ["main"]
