"""Command line of the emulator: ``python -m localskills_pulumi.emulator``.

The first line on stdout is the base URL; nothing else is ever written to stdout. Logs go
to stderr. SIGINT and SIGTERM stop the server cleanly (exit status 0).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .._cli import EXIT_USAGE, OneLineParser, print_error
from .seed import SeedError, apply_seed, load_demo_seed, load_seed
from .server import make_server
from .store import Store, StoreError

log = logging.getLogger("localskills_pulumi.emulator")


def build_parser(prog: str = "python -m localskills_pulumi.emulator") -> argparse.ArgumentParser:
    """The argument parser (reusable by ``localskills-pulumi emulator``)."""
    parser = OneLineParser(
        prog=prog,
        description="Local emulator of the localskills.sh SCIM token API and a SCIM 2.0 endpoint.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to bind (default 8080; 0 picks a free port)"
    )
    parser.add_argument("--db", metavar="PATH", help="SQLite file (default: in memory)")
    parser.add_argument("--seed", metavar="FILE.yaml", help="seed file (default: the demo seed)")
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        metavar="N",
        help="milliseconds added to every /api/ and /scim/v2/ answer",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not log one line per request on stderr"
    )
    return parser


def _configure_logging() -> None:
    """Log to stderr through the emulator's own logger (the root logger is left alone)."""
    if not any(getattr(h, "_emulator_stderr", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handler._emulator_stderr = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _fail(program: str, message: str) -> int:
    print_error(program, message)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run the emulator until SIGINT/SIGTERM; returns the exit status."""
    parser = build_parser(prog) if prog else build_parser()
    # The program an error names: `localskills-pulumi`, or this module's own name.
    program = parser.prog.split(" ")[0] if prog else "localskills_pulumi.emulator"
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    if args.latency_ms < 0:
        parser.error("--latency-ms must be >= 0")
    _configure_logging()

    try:
        seed = load_seed(args.seed) if args.seed else load_demo_seed()
    except SeedError as exc:
        return _fail(program, str(exc))
    try:
        store = Store(args.db)
    except StoreError as exc:
        return _fail(program, f"database {args.db}: {exc}")
    try:
        apply_seed(store, seed)
    except Exception as exc:  # a database that is not ours, read-only, ...
        store.close()
        return _fail(program, f"database {args.db}: cannot load the seed ({exc})")
    try:
        server = make_server(
            store, args.host, args.port, latency_ms=args.latency_ms, log_requests=not args.quiet
        )
    except OSError as exc:
        store.close()
        return _fail(
            program, f"emulator: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
        )

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)

    serving = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="emulator-server",
        daemon=True,
    )
    serving.start()
    sys.stdout.write(server.base_url + "\n")
    sys.stdout.flush()
    if args.seed:
        log.info("loaded seed file %s", args.seed)
    else:
        log.info(
            "no --seed given: loaded the demo seed (tenant 'engineering' and the demo API "
            "token documented in docs/emulator.md)"
        )
    log.info(
        "listening on %s (database: %s, latency: %d ms)",
        server.base_url,
        args.db or "in memory",
        args.latency_ms,
    )
    try:
        while not stop.wait(0.5):
            if not serving.is_alive():
                break
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        store.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("stopped")
    return 0
