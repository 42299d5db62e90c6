"""The ``localskills-pulumi`` command line (also ``python -m localskills_pulumi``).

``tokens list`` shows a tenant's SCIM tokens, ``import-snippet`` prints the Python that adopts
an existing token, ``import-file`` prints a ``pulumi import --file`` file for existing tokens,
``emulator`` runs the local API emulator. The API token comes from the
environment (``LOCALSKILLS_API_TOKEN``), never from the command line, and is never printed.
User errors end with one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import IO

from ._cli import EXIT_USAGE, OneLineParser, print_error
from ._version import __version__
from .errors import ImportIdError, InputError, LocalskillsError, TokenNotFoundError
from .lookup import ScimTokenInfo, ScimTokenListing, fetch_scim_tokens
from .model import ScimTokenInputs
from .settings import ENV_API_TOKEN, ENV_BASE_URL, Settings, base_url_problem, resolve_settings

__all__ = ["build_parser", "import_snippet", "main", "resource_name_for", "token_state"]

PROG = "localskills-pulumi"
EXPIRING_DAYS = 30
"""``tokens list`` calls a token *expiring* when it expires within this many days."""

EXIT_OK = 0
EXIT_ERROR = 1
"""The API or the credentials failed: unknown tenant, refused token, no token configured."""
# EXIT_USAGE (2, from ._cli): the command line is wrong: an unknown option, a malformed ID.

_CREDENTIALS_HELP = (
    f"The API token is read from the {ENV_API_TOKEN} environment variable (an lsk_... token "
    f"of a member of the tenant); the API's base URL from --base-url, else {ENV_BASE_URL}, "
    "else https://localskills.sh."
)


class UsageError(InputError):
    """A command line that cannot be run as given."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``localskills-pulumi``."""
    parser = OneLineParser(
        prog=PROG,
        description="Tools for localskills.sh SCIM tokens managed with Pulumi.",
        epilog=_CREDENTIALS_HELP,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    commands.required = True

    api = OneLineParser(add_help=False)
    api.add_argument(
        "--base-url",
        metavar="URL",
        help=f"the API's base URL (default: ${ENV_BASE_URL}, else https://localskills.sh)",
    )

    tokens = commands.add_parser(
        "tokens",
        help="the SCIM tokens of a tenant",
        description="The SCIM tokens of a tenant.",
    )
    token_commands = tokens.add_subparsers(
        dest="tokens_command", metavar="COMMAND", parser_class=OneLineParser
    )
    token_commands.required = True
    listing = token_commands.add_parser(
        "list",
        parents=[api],
        help="list a tenant's SCIM tokens with their expiry state and last use",
        description=(
            "List a tenant's SCIM tokens: ID, name, creation, expiry, state (expired; "
            f"expiring, within {EXPIRING_DAYS} days or --expiring-days; ok) and last use. "
            "Token values are never shown: the API returns them only once, at creation."
        ),
        epilog=_CREDENTIALS_HELP,
    )
    listing.add_argument("--tenant", required=True, metavar="TENANT", help="the tenant (team) ID")
    listing.add_argument(
        "--json", action="store_true", help="print a JSON array of records instead of a table"
    )
    listing.add_argument(
        "--expiring-days",
        type=_days,
        default=EXPIRING_DAYS,
        metavar="DAYS",
        help=f"call a token expiring when it expires within DAYS days (default {EXPIRING_DAYS})",
    )

    snippet = commands.add_parser(
        "import-snippet",
        parents=[api],
        help="print the Python that brings an existing token under management",
        description=(
            "Look a SCIM token up and print the ScimToken declaration that adopts it: paste it "
            "into your Pulumi program and run `pulumi up`. No new token is issued; the "
            "token's value cannot be recovered (token_value stays unset)."
        ),
        epilog=_CREDENTIALS_HELP,
    )
    snippet.add_argument(
        "id", metavar="TENANT/TOKEN_ID", help="the token's composite ID, e.g. engineering/3f2a9c..."
    )
    snippet.add_argument(
        "--resource-name",
        metavar="NAME",
        help="the Pulumi resource name (default: derived from the token's name)",
    )

    import_file = commands.add_parser(
        "import-file",
        parents=[api],
        help="print a `pulumi import --file` file for existing tokens",
        description=(
            "Look SCIM tokens up and print, on stdout, an import file for `pulumi import "
            "--file FILE --generate-code=false` (Pulumi CLI 3.254.0 or later), and on stderr "
            "the ScimToken declarations the program needs and the command to run. No new "
            "token is issued; the tokens' values cannot be recovered (token_value stays unset)."
        ),
        epilog=_CREDENTIALS_HELP,
    )
    import_file.add_argument(
        "ids",
        nargs="+",
        metavar="TENANT/TOKEN_ID",
        help="a token's composite ID, e.g. engineering/3f2a9c...",
    )
    import_file.add_argument(
        "--resource-name",
        metavar="RESOURCE_NAME",
        help="the Pulumi resource name, with one ID only (default: derived from the token's name)",
    )
    import_file.add_argument(
        "--rotate-before-days",
        type=_days,
        metavar="DAYS",
        help="declare the tokens with rotate_before_days=DAYS (below each token's lifetime)",
    )

    commands.add_parser(
        "emulator",
        add_help=False,
        help="run the local API emulator (the options of python -m localskills_pulumi.emulator)",
    )
    return parser


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "emulator":
        # Handed over whole, so that `emulator --help` is the emulator's own.
        from .emulator.command import main as emulator_main

        return emulator_main(args_list[1:], prog=f"{PROG} emulator")

    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        if args.command == "tokens":
            return _tokens_list(args, sys.stdout)
        if args.command == "import-file":
            return _import_file(args, sys.stdout, sys.stderr)
        return _import_snippet(args, sys.stdout)
    except (UsageError, ImportIdError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except LocalskillsError as exc:
        return _fail(str(exc), EXIT_ERROR)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): no traceback, and none at exit either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR


def _fail(message: str, status: int) -> int:
    print_error(PROG, message)
    return status


# -- tokens list -----------------------------------------------------------------------------


def token_state(
    token: ScimTokenInfo, expiring_days: float = EXPIRING_DAYS, now: datetime | None = None
) -> str:
    """``expired``, ``expiring`` (within ``expiring_days`` of ``now``) or ``ok``."""
    if token.expired:
        return "expired"
    if token.expires_within(expiring_days, now):
        return "expiring"
    return "ok"


def _settings(args: argparse.Namespace) -> Settings:
    """The command line's settings: ``--base-url``, then the environment."""
    if args.base_url is not None:
        problem = base_url_problem(args.base_url)
        if problem:
            raise UsageError(
                f"--base-url: the base URL {problem}: it must look like 'https://host' or "
                f"'http://127.0.0.1:8080', got {args.base_url!r}"
            )
    return resolve_settings(base_url=args.base_url, context="cli")


def _listing(args: argparse.Namespace, tenant_id: str) -> ScimTokenListing:
    settings = _settings(args)
    try:
        return fetch_scim_tokens(tenant_id, settings)
    except InputError as exc:  # the tenant given on the command line
        raise UsageError(str(exc)) from None


def _tokens_list(args: argparse.Namespace, out: IO[str]) -> int:
    tokens, now = _listing(args, args.tenant)
    if args.json:
        records = [
            {**dataclasses.asdict(t), "state": token_state(t, args.expiring_days, now)}
            for t in tokens
        ]
        json.dump(records, out, indent=2)
        out.write("\n")
        return EXIT_OK
    if not tokens:
        out.write(f"Tenant {args.tenant!r} has no SCIM tokens.\n")
        return EXIT_OK
    header = ("ID", "NAME", "CREATED", "EXPIRES", "STATE", "LAST USED")
    rows = [
        (
            t.id,
            _printable(t.name),
            t.created_at,
            t.expires_at or "never",
            token_state(t, args.expiring_days, now),
            t.last_used_at or "never",
        )
        for t in tokens
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(line.rstrip() + "\n")
    return EXIT_OK


def _printable(text: str) -> str:
    """A name on one table line: control characters shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# -- import-snippet --------------------------------------------------------------------------


def _import_snippet(args: argparse.Namespace, out: IO[str]) -> int:
    from .model import parse_composite_id

    tenant_id, token_id = parse_composite_id(args.id, "TENANT/TOKEN_ID")
    if args.resource_name is not None and not args.resource_name.strip():
        raise UsageError("--resource-name must not be blank")

    tokens, _ = _listing(args, tenant_id)
    token = next((t for t in tokens if t.id == token_id), None)
    if token is None:
        raise TokenNotFoundError(
            f"look up SCIM token {token_id!r} of tenant {tenant_id!r}",
            404,
            f"tenant {tenant_id!r} has no SCIM token {token_id!r}",
            f"List its tokens with `{PROG} tokens list --tenant {tenant_id}`.",
        )
    if token.expired:
        raise LocalskillsError(
            f"SCIM token {token_id!r} of tenant {tenant_id!r} expired at {token.expires_at} "
            "(by the server's clock): an expired token cannot be imported (it would be "
            "replaced at once); declare a ScimToken without import_ to issue a new one"
        )
    out.write(
        import_snippet(
            tenant_id,
            token,
            expires_in_days=token.lifetime_days,
            resource_name=args.resource_name or resource_name_for(token.name),
        )
    )
    return EXIT_OK


def resource_name_for(token_name: str) -> str:
    """A Pulumi resource name from a token's name: ``Okta SCIM`` -> ``okta-scim``."""
    slug = re.sub(r"[^a-z0-9]+", "-", token_name.lower()).strip("-")
    return slug or "scim-token"


def import_snippet(
    tenant_id: str, token: ScimTokenInfo, *, expires_in_days: int | None, resource_name: str
) -> str:
    """The Python that adopts ``token``: a ``ScimToken`` with ``import_`` and the live inputs."""
    inputs = ScimTokenInputs(
        tenant_id, token.name, expires_in_days, import_id=f"{tenant_id}/{token.id}"
    )
    lines = [
        "import pulumi",
        "",
        "from localskills_pulumi import ScimToken",
        "",
        "# Adopts an existing SCIM token: `pulumi up` issues no new token, and token_value",
        "# stays unset (the API shows a token's value only once, when it is created). Every",
        "# input matches the live token; before changing one (that replaces the token),",
        "# remove import_.",
        *inputs.declaration(resource_name),
        "",
    ]
    return "\n".join(lines)


# -- import-file -----------------------------------------------------------------------------


def _import_file(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    # The model, the provider (for __provider) and Pulumi are loaded only for this command.
    from .errors import ImportIdError
    from .importfile import ImportedToken, import_file, instructions
    from .model import parse_composite_id

    ids: list[tuple[str, str]] = []
    for value in args.ids:
        try:
            parsed = parse_composite_id(value, "TENANT/TOKEN_ID")
        except ImportIdError as exc:
            raise UsageError(str(exc)) from None
        if parsed in ids:
            raise UsageError(f"{value} is given twice")
        ids.append(parsed)
    if args.resource_name is not None:
        if len(ids) > 1:
            raise UsageError("--resource-name names one resource: give one TENANT/TOKEN_ID with it")
        if not args.resource_name.strip():
            raise UsageError("--resource-name must not be blank")
    if args.rotate_before_days == 0:
        raise UsageError("--rotate-before-days must be at least 1")

    listings: dict[str, ScimTokenListing] = {}
    tokens: list[ImportedToken] = []
    taken: set[str] = set()
    for tenant_id, token_id in ids:
        if tenant_id not in listings:
            listings[tenant_id] = _listing(args, tenant_id)
        info = next((t for t in listings[tenant_id].tokens if t.id == token_id), None)
        if info is None:
            raise TokenNotFoundError(
                f"look up SCIM token {token_id!r} of tenant {tenant_id!r}",
                404,
                f"tenant {tenant_id!r} has no SCIM token {token_id!r}",
                f"List its tokens with `{PROG} tokens list --tenant {tenant_id}`.",
            )
        name = args.resource_name or _unique(resource_name_for(info.name), taken)
        taken.add(name)
        tokens.append(
            ImportedToken(
                tenant_id,
                info,
                name,
                args.rotate_before_days,
                now=listings[tenant_id].server_now,
            )
        )

    document = import_file(tokens)  # raises before anything is printed
    json.dump(document, out, indent=2)
    out.write("\n")
    err.write(instructions(tokens))
    return EXIT_OK


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    return candidate
