"""The Python language host's part that `pulumi up` needs, for the tests: the SDK's own
language server (the one the Automation API's inline programs use) over the program in the
project folder the CLI names in each RunRequest.

Like every plugin it prints its port on stdout and serves until the CLI ends it. Its arguments
(the engine's address and the host's flags) are not needed: the RunRequest carries the engine's
address too.
"""

from __future__ import annotations

import os
import runpy
import sys
from concurrent import futures
from typing import Any

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import language_pb2_grpc


class ProjectLanguageServer(LanguageServer):
    """Runs `<pwd>/<program>/__main__.py` (or the file `program` names) for each RunRequest."""

    def __init__(self) -> None:
        super().__init__(lambda: None)

    def Run(self, request: Any, context: Any) -> Any:
        folder = os.path.join(request.pwd or os.getcwd(), request.program or ".")
        main = folder if folder.endswith(".py") else os.path.join(folder, "__main__.py")
        os.chdir(request.pwd or os.getcwd())
        sys.path.insert(0, os.path.dirname(os.path.abspath(main)))
        self.program = lambda: runpy.run_path(main, run_name="__main__")
        return super().Run(request, context)


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_GRPC_CHANNEL_OPTIONS)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(ProjectLanguageServer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:  # how the CLI ends its plugins
        server.stop(0)


if __name__ == "__main__":
    main()
