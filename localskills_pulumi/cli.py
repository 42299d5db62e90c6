"""The ``localskills-pulumi`` command line (also ``python -m localskills_pulumi``); see docs/cli.md.

The API token comes from the environment, never from the command line, and is never printed.
A user error ends with one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import IO

from ._cli import EXIT_USAGE, OneLineParser, print_error
from ._version import __version__
from .errors import ImportFileError, InputError, LocalskillsError, TokenNotFoundError
from .identifiers import days_problem
from .lookup import ScimTokenInfo, fetch_scim_tokens
from .settings import ENV_API_TOKEN, ENV_BASE_URL, base_url_problem, resolve_settings

__all__ = ["build_parser", "main"]

PROG = "localskills-pulumi"
EXPIRING_DAYS = 30
"""``tokens list`` calls a token *expiring* when it expires within this many days."""
EXIT_ERROR = 1
"""The API or the credentials failed (EXIT_USAGE, 2: the command line is wrong)."""

_CREDENTIALS = (
    f"The API token is read from the {ENV_API_TOKEN} environment variable (an lsk_... token "
    f"of a member of the tenant); the API's base URL from --base-url, else {ENV_BASE_URL}, "
    "else https://localskills.sh."
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``localskills-pulumi``."""
    parser = OneLineParser(
        prog=PROG,
        description="Tools for localskills.sh SCIM tokens managed with Pulumi.",
        epilog=_CREDENTIALS,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=OneLineParser
    )
    api = OneLineParser(add_help=False)
    api.add_argument("--base-url", type=_base_url, metavar="URL", help="the API's base URL")

    tokens = commands.add_parser("tokens", help="the SCIM tokens of a tenant")
    token_commands = tokens.add_subparsers(
        dest="tokens_command", metavar="COMMAND", required=True, parser_class=OneLineParser
    )
    listing = token_commands.add_parser(
        "list",
        parents=[api],
        epilog=_CREDENTIALS,
        help="list a tenant's SCIM tokens with their expiry state and last use",
        description="A tenant's SCIM tokens; the state is expired, expiring (within "
        "--expiring-days) or ok. Token values are never shown: the API returns them only once.",
    )
    listing.add_argument("--tenant", required=True, help="the tenant (team) ID")
    listing.add_argument("--json", action="store_true", help="print JSON records, not a table")
    listing.add_argument(
        "--expiring-days",
        type=_days(0),
        default=EXPIRING_DAYS,
        metavar="DAYS",
        help=f"the threshold of 'expiring' (default {EXPIRING_DAYS})",
    )

    import_file = commands.add_parser(
        "import-file",
        parents=[api],
        epilog=_CREDENTIALS,
        help="print a `pulumi import --file` file for existing tokens",
        description="Print the import file on stdout, and on stderr the ScimToken declarations "
        "the program needs and the `pulumi import` command to run. No new token is issued; the "
        "tokens' values cannot be recovered (token_value stays unset).",
    )
    import_file.add_argument(
        "ids", nargs="+", metavar="TENANT/TOKEN_ID", help="e.g. engineering/3f2a9c..."
    )
    import_file.add_argument(
        "--resource-name", help="with one ID: the Pulumi resource name (default: the token's name)"
    )
    import_file.add_argument(
        "--rotate-before-days",
        type=_days(1),
        metavar="DAYS",
        help="declare rotate_before_days=DAYS (below each lifetime)",
    )

    commands.add_parser("emulator", add_help=False, help="run the local API emulator")
    return parser


def _days(low: int) -> Callable[[str], int]:
    def days(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
        problem = days_problem(value, low=low)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    return days


def _base_url(text: str) -> str:
    problem = base_url_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(
            f"the base URL {problem}: it must look like 'https://host', got {text!r}"
        )
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["emulator"]:
        # Handed over whole, so that `emulator --help` is the emulator's own.
        from .emulator.command import main as emulator_main

        return emulator_main(args_list[1:], prog=f"{PROG} emulator")

    args = build_parser().parse_args(args_list)
    try:
        if args.command == "tokens":
            return _tokens_list(args, sys.stdout)
        return _import_file(args, sys.stdout, sys.stderr)
    except LocalskillsError as exc:
        print_error(PROG, str(exc))
        # A malformed tenant, ID or option is a usage error; a token import-file refuses is not.
        usage = isinstance(exc, InputError) and not isinstance(exc, ImportFileError)
        return EXIT_USAGE if usage else EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): no traceback, and none at exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR


def _tokens_list(args: argparse.Namespace, out: IO[str]) -> int:
    settings = resolve_settings(base_url=args.base_url, context="cli")
    tokens, now = fetch_scim_tokens(args.tenant, settings)

    def state(token: ScimTokenInfo) -> str:
        if token.expired:
            return "expired"
        return "expiring" if token.expires_within(args.expiring_days, now) else "ok"

    if args.json:
        json.dump([{**dataclasses.asdict(t), "state": state(t)} for t in tokens], out, indent=2)
        out.write("\n")
        return 0
    if not tokens:
        out.write(f"Tenant {args.tenant!r} has no SCIM tokens.\n")
        return 0
    header = ("ID", "NAME", "CREATED", "EXPIRES", "STATE", "LAST USED")
    rows = [
        (
            t.id,
            "".join(c if c.isprintable() else repr(c)[1:-1] for c in t.name),  # escaped: one line
            t.created_at,
            t.expires_at or "never",
            state(t),
            t.last_used_at or "never",
        )
        for t in tokens
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(line.rstrip() + "\n")
    return 0


def _import_file(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    # The model, the provider (for __provider) and Pulumi are loaded only for this command.
    from .importfile import ImportedToken, import_file, instructions
    from .model import parse_composite_id

    ids: list[tuple[str, str]] = []
    for value in args.ids:
        parsed = parse_composite_id(value, "TENANT/TOKEN_ID")
        if parsed in ids:
            raise InputError(f"{value} is given twice: give each TENANT/TOKEN_ID once")
        ids.append(parsed)
    if args.resource_name is not None and (len(ids) > 1 or not args.resource_name.strip()):
        raise InputError("--resource-name takes one non-blank name, with one TENANT/TOKEN_ID")

    settings = resolve_settings(base_url=args.base_url, context="cli")
    tenants = dict.fromkeys(tenant_id for tenant_id, _ in ids)  # in order, each once
    listings = {tenant_id: fetch_scim_tokens(tenant_id, settings) for tenant_id in tenants}
    tokens: list[ImportedToken] = []
    taken: set[str] = set()
    for tenant_id, token_id in ids:
        listing = listings[tenant_id]
        info = next((t for t in listing.tokens if t.id == token_id), None)
        if info is None:
            raise TokenNotFoundError(
                f"look up SCIM token {token_id!r} of tenant {tenant_id!r}",
                404,
                f"tenant {tenant_id!r} has no SCIM token {token_id!r}",
                f"List its tokens with `{PROG} tokens list --tenant {tenant_id}`.",
            )
        name = args.resource_name or _resource_name(info.name, taken)
        tokens.append(
            ImportedToken(tenant_id, info, name, args.rotate_before_days, listing.server_now)
        )

    document = import_file(tokens)  # raises before anything is printed
    json.dump(document, out, indent=2)
    out.write("\n")
    err.write(instructions(tokens))
    return 0


def _resource_name(token_name: str, taken: set[str]) -> str:
    """A new Pulumi resource name from a token's name: ``Okta SCIM`` -> ``okta-scim`` (-2...)."""
    slug = re.sub(r"[^a-z0-9]+", "-", token_name.lower()).strip("-") or "scim-token"
    name, n = slug, 2
    while name in taken:
        name, n = f"{slug}-{n}", n + 1
    taken.add(name)
    return name
