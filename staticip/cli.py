"""The ``staticip`` command line: one small function per subcommand.

Each ``_cmd_*`` function gathers facts through plain functions of the other modules, prints them,
and returns the exit code: 0 all well, 1 a problem was found (or AWS failed), 2 a usage or input
error (argparse exits 2 by itself on bad arguments). To add a subcommand, write its
``_add_<name>`` parser function and ``_cmd_<name>`` and list the former in ``_SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from botocore.exceptions import BotoCoreError, ClientError, NoRegionError, ProfileNotFound

from staticip import aws, enis
from staticip.table import render_table, to_json

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2

_PROG = "staticip"


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return its exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG, description="Static egress and ingress IPs for AWS Lambda."
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(subcommands)
    return parser


def _add_aws_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's)")
    parser.add_argument("--profile", help="AWS profile (default: AWS_PROFILE)")


def _error(command: str, message: str) -> None:
    print(f"{_PROG} {command}: {message}", file=sys.stderr)


def _aws_failure_exit(command: str, exc: BaseException) -> int:
    """Report an AWS failure; a missing region or unknown profile is the caller's input error."""
    _error(command, aws.explain(exc))
    return EXIT_USAGE if isinstance(exc, NoRegionError | ProfileNotFound) else EXIT_PROBLEM


# --- enis ----------------------------------------------------------------------------------------

_ENI_HEADERS = ("SUBNET", "AZ", "ENI", "STATUS", "PUBLIC IP", "SHARED BY")


def _add_enis(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "enis",
        help="show the Hyperplane ENIs and public IPs behind a VPC Lambda function",
        description=(
            "Show the Hyperplane ENIs Lambda created for a function's subnets and security "
            "groups, their public IPs and which functions share them. Exits 1 when a subnet has "
            "no ENI or an ENI has no public IP."
        ),
    )
    parser.add_argument("--function", required=True, metavar="NAME", help="function name or ARN")
    _add_aws_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=_cmd_enis)


def _cmd_enis(args: argparse.Namespace) -> int:
    try:
        lambda_client = aws.client("lambda", args.region, args.profile)
        ec2 = aws.client("ec2", args.region, args.profile)
        rows = enis.describe_function_enis(lambda_client, ec2, args.function)
    except enis.EniInputError as exc:
        _error("enis", str(exc))
        return EXIT_USAGE
    except (ClientError, BotoCoreError, aws.AwsError) as exc:
        return _aws_failure_exit("enis", exc)

    problems = enis.eni_problems(rows)
    if args.json:
        print(to_json({"function": args.function, "enis": rows, "problems": problems}))
    else:
        print(
            render_table(
                _ENI_HEADERS,
                [
                    (
                        row["subnet_id"],
                        row["availability_zone"],
                        row["eni_id"] or "(none)",
                        row["status"],
                        row["public_ip"],
                        row["shared_by"],
                    )
                    for row in rows
                ],
            )
        )
    for problem in problems:
        _error("enis", problem)
    return EXIT_PROBLEM if problems else EXIT_OK


_SUBCOMMANDS: Sequence[Callable[[argparse._SubParsersAction], None]] = (_add_enis,)
