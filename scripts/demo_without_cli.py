"""The demo's fallback without the Pulumi CLI.

Runs the root program through Pulumi's dynamic-provider host with the package's engine stand-in,
prints the outputs to stderr with secrets masked, and writes the token (only) to stdout for the
SCIM call. Credentials come from the environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from localskills_pulumi.testing.engine import EngineMonitor, EngineState, NoMocks, run_program
from localskills_pulumi.testing.host import ProviderHost, is_secret, unwrap

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    with ProviderHost(cwd=ROOT) as host:
        monitor = EngineMonitor(NoMocks(), host, state=EngineState())
        result = run_program(
            ROOT / "__main__.py",
            monitor=monitor,
            project="localskills-scim",
            stack="demo",
            config={"tenantId": "engineering"},
        )
    print("    Outputs:", file=sys.stderr)
    for key, value in sorted(result.outputs.items()):
        shown = "[secret]" if is_secret(value) else json.dumps(value)
        print(f"        {key:<24} {shown}", file=sys.stderr)
    print(unwrap(result.outputs["scim_token"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
