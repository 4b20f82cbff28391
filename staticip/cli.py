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

from staticip import aws, cost, doctor, enis, functions, ga_cleanup, ips, verify, wake
from staticip.config import DEFAULT_CONFIG_FILE, ConfigError, load_config
from staticip.result import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, CommandResult
from staticip.review import command as review
from staticip.table import render_table, to_json

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


def _add_aws_options(parser: argparse.ArgumentParser, per_environment: bool = True) -> None:
    if per_environment:
        parser.add_argument("--region", help="AWS region (default: the environment's)")
        parser.add_argument(
            "--profile",
            help="AWS profile (default: the environment's `profile`, else AWS_PROFILE); the "
            "environment's assume_role_arn is assumed with it",
        )
        return
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's)")
    parser.add_argument("--profile", help="AWS profile (default: AWS_PROFILE)")


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default=DEFAULT_CONFIG_FILE,
        help=f"environments file (default: {DEFAULT_CONFIG_FILE})",
    )


def _add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def _emit(command: str, result: CommandResult, as_json: bool) -> int:
    """Print a CommandResult: errors as one stderr line, else the report or its JSON."""
    if "error" in result.data:
        _error(command, result.text)
    else:
        print(to_json(result.data) if as_json else result.text)
    return result.exit_code


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
            "groups, their public IPs and which functions share them: an environment's "
            "(ENV: its egress functions share one set), or any function's (--function). Exits "
            "1 when a subnet has no ENI or an ENI has no public IP."
        ),
    )
    parser.add_argument(
        "environment", nargs="?", metavar="ENV", help="environment whose functions to show"
    )
    parser.add_argument(
        "--function",
        metavar="NAME",
        help="function name or ARN, or with ENV a key of its [functions] (default: the first "
        "of the environment's egress functions)",
    )
    _add_aws_options(parser, per_environment=False)
    _add_config_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=_cmd_enis)


def _enis_target(args: argparse.Namespace) -> tuple[str, str | None, str | None]:
    """(function name, region, profile) from `ENV [--function KEY]` or `--function NAME`."""
    if args.environment is None:
        if not args.function:
            raise ConfigError("give an environment (ENV) or --function NAME")
        return args.function, args.region, args.profile
    env = load_config(args.config).environment(args.environment)
    names = env.egress_function_names
    if not names:
        raise ConfigError(f"environment '{env.name}' has no egress functions, so no ENIs")
    name = names[0]
    if args.function:
        keys = {fn.key: fn.name for fn in env.functions}
        name = keys.get(args.function, args.function)
        if name not in names:
            raise ConfigError(
                f"'{args.function}' is not one of environment '{env.name}''s egress functions "
                f"({', '.join(names)}) nor a key of its [functions]"
            )
    return name, args.region or env.region, args.profile or env.profile


def _cmd_enis(args: argparse.Namespace) -> int:
    try:
        name, region, profile = _enis_target(args)
    except ConfigError as exc:
        _error("enis", str(exc))
        return EXIT_USAGE
    try:
        lambda_client = aws.client("lambda", region, profile)
        ec2 = aws.client("ec2", region, profile)
        rows = enis.describe_function_enis(lambda_client, ec2, name)
    except enis.EniInputError as exc:
        _error("enis", str(exc))
        return EXIT_USAGE
    except (ClientError, BotoCoreError, aws.AwsError) as exc:
        return _aws_failure_exit("enis", exc)

    problems = enis.eni_problems(rows)
    if args.json:
        print(to_json({"function": name, "enis": rows, "problems": problems}))
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


# --- cost, verify, doctor -------------------------------------------------------------------------


def _add_cost(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "cost",
        help="monthly cost of each synthesized environment, and of the alternatives",
        description="Price the synthesized stacks (no AWS access): fixed monthly cost and the "
        "cost at a given traffic, next to the egress alternatives and where they cross over.",
    )
    parser.add_argument(
        "environments", nargs="*", metavar="ENV", help="environments to price (default: all)"
    )
    parser.add_argument(
        "--gb-per-month",
        type=float,
        metavar="N",
        help="traffic through the static IPs per month, in GB",
    )
    parser.add_argument("--prices", metavar="FILE", help="TOML file overriding prices")
    parser.add_argument(
        "--chart",
        metavar="FILE.svg",
        help="also draw cost against GB/month for every egress option as SVG (matplotlib)",
    )
    parser.add_argument("--outdir", default="cdktf.out", help="synthesized stacks (cdktf.out)")
    _add_config_option(parser)
    _add_json_option(parser)
    parser.set_defaults(
        run=lambda a: _emit(
            "cost",
            cost.run_cost(a.config, a.outdir, a.environments, a.gb_per_month, a.prices, a.chart),
            a.json,
        )
    )


def _add_verify(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "verify",
        help="invoke the egress probe and check it leaves from the allow-listed IPs",
        description="Invoke the environment's egress probe concurrently and compare the public "
        "IPs it reports with the environment's Elastic IPs. Exits 1 on any IP not "
        "allow-listed, a probe error or a timeout.",
    )
    parser.add_argument("environment", metavar="ENV")
    parser.add_argument(
        "--count",
        type=int,
        default=verify.DEFAULT_INVOCATIONS,
        help=f"invocations (default {verify.DEFAULT_INVOCATIONS})",
    )
    parser.add_argument("--concurrency", type=int, help="parallel invocations (default: count)")
    _add_aws_options(parser)
    _add_config_option(parser)
    _add_json_option(parser)
    parser.set_defaults(
        run=lambda a: _emit(
            "verify",
            verify.run_verify(
                a.config,
                a.environment,
                count=a.count,
                concurrency=a.concurrency,
                region=a.region,
                profile=a.profile,
            ),
            a.json,
        )
    )


def _add_doctor(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "doctor",
        help="explain the state of a deployed environment and how to fix each problem",
        description="Check a deployed environment through the tags its resources carry (no "
        "Terraform state needed). Exits 1 when a warning or error was found.",
    )
    parser.add_argument("environment", metavar="ENV")
    _add_aws_options(parser)
    _add_config_option(parser)
    _add_json_option(parser)
    parser.set_defaults(
        run=lambda a: _emit(
            "doctor",
            doctor.run_doctor(a.config, a.environment, region=a.region, profile=a.profile),
            a.json,
        )
    )


def _add_functions(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "functions",
        help="every Lambda function in the environment's VPC, and whether it egresses from the "
        "allow-listed IPs",
        description="List every Lambda function attached to the environment's VPC, declared in "
        "staticip.toml or deployed by another tool: AZs, security groups, and whether its "
        "egress leaves from the allow-listed IPs (with why not and the fix). Exits 1 when one "
        "does not.",
    )
    parser.add_argument("environment", metavar="ENV")
    parser.add_argument(
        "--state",
        action="store_true",
        help="also read each function's state (one more AWS call per function: ListFunctions "
        "does not return it)",
    )
    _add_aws_options(parser)
    _add_config_option(parser)
    _add_json_option(parser)
    parser.set_defaults(
        run=lambda a: _emit(
            "functions",
            functions.run_functions(
                a.config, a.environment, with_state=a.state, region=a.region, profile=a.profile
            ),
            a.json,
        )
    )


def _add_timed_command(
    subcommands: argparse._SubParsersAction,
    name: str,
    run: Callable[..., CommandResult],
    default_timeout: float,
    waits_for: str,
    **texts: str,
) -> None:
    """An `ENV [--timeout SECONDS]` command that waits on AWS: `wake`, `ga-cleanup`."""
    parser = subcommands.add_parser(name, **texts)
    parser.add_argument("environment", metavar="ENV")
    parser.add_argument(
        "--timeout",
        type=float,
        default=default_timeout,
        metavar="SECONDS",
        help=f"how long to wait for {waits_for} (default {default_timeout:g})",
    )
    _add_aws_options(parser)
    _add_config_option(parser)
    _add_json_option(parser)
    parser.set_defaults(
        run=lambda a: _emit(
            name,
            run(
                a.config,
                a.environment,
                timeout_seconds=a.timeout,
                region=a.region,
                profile=a.profile,
            ),
            a.json,
        )
    )


def _add_wake(subcommands: argparse._SubParsersAction) -> None:
    _add_timed_command(
        subcommands,
        "wake",
        wake.run_wake,
        wake.DEFAULT_TIMEOUT_SECONDS,
        "Active",
        help="bring an idle eni-eip function back to Active (after 14 days without invocations)",
        description="Invoke an Inactive eni-eip function once so Lambda recreates its ENIs, and "
        "wait until it is Active. Exits 1 when it does not become Active in time.",
    )


def _add_ga_cleanup(subcommands: argparse._SubParsersAction) -> None:
    _add_timed_command(
        subcommands,
        "ga-cleanup",
        ga_cleanup.run_ga_cleanup,
        ga_cleanup.DEFAULT_TIMEOUT_SECONDS,
        "the ENIs",
        help="wait for Global Accelerator's ENIs to leave the VPC, then delete its security group",
        description="For `cdktf destroy` of a global-accelerator environment: wait, printing "
        "progress, until the ENIs Global Accelerator created in the environment's VPC are gone, "
        "then delete the security group it named `GlobalAccelerator` there (in no other VPC). "
        "Exits 0 when nothing of it is left, 1 when something could not be removed in time.",
    )


# --- ips ---------------------------------------------------------------------------------------


def _add_ips(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "ips",
        help="the environment's allow-listed IPs (egress and ingress), to hand to a vendor",
        description="Print the environment's static IPs: egress EIPs and ingress accelerator "
        "addresses found in AWS by their tags, or read from Terraform outputs. Exits 1 when an "
        "expected IP is missing, not associated or its accelerator disabled.",
    )
    parser.add_argument("environment", metavar="ENV")
    parser.add_argument(
        "--format",
        choices=ips.FORMATS,
        default="text",
        help="text (table), json, csv, or cidr (one /32 per line)",
    )
    parser.add_argument("--json", action="store_true", help="the same as --format json")
    parser.add_argument(
        "--from-outputs",
        nargs="?",
        const=ips.FROM_STATE,
        metavar="SOURCE",
        help="read Terraform outputs instead of AWS: `-` for `terraform output -json` on "
        "stdin, a file, or nothing for the local state file terraform.<ENV>.tfstate",
    )
    _add_aws_options(parser)
    _add_config_option(parser)
    parser.set_defaults(run=_cmd_ips)


def _cmd_ips(args: argparse.Namespace) -> int:
    fmt = "json" if args.json else args.format
    result, report = ips.run_ips(
        args.config,
        args.environment,
        fmt,
        from_outputs_source=args.from_outputs,
        region=args.region,
        profile=args.profile,
    )
    if report is None:
        _error("ips", result.text)
        return result.exit_code
    if result.text:
        print(result.text)
    # csv and cidr are pasted into forms as they are: problems go to stderr, not among the IPs.
    if fmt in ("csv", "cidr"):
        for problem in report.problems:
            _error("ips", f"problem: {problem}")
        for warning in report.warnings:
            _error("ips", f"warning: {warning}")
    return result.exit_code


# --- review --------------------------------------------------------------------------------------


def _add_review(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "review",
        help="what Terraform plans do to the allow-listed IPs (for pull requests)",
        description="Review `terraform show -json` plans, one per environment (the name comes "
        "from the file name, <env>.json or <env>.plan.json, or from ENV=PATH): counts, "
        "resources, static-IP blockers and warnings, monthly cost before and after. Exits 1 "
        "on a blocker (an IP released or replaced, a failed plan), 2 on unusable input.",
    )
    parser.add_argument("plans", nargs="+", metavar="PLAN_JSON", help="PATH or ENV=PATH")
    parser.add_argument(
        "--format", choices=review.FORMATS, default="markdown", help="output (default markdown)"
    )
    parser.add_argument(
        "--allow-ip-change",
        action="store_true",
        help="acknowledge IP blockers (deliberate change): report them, exit 0",
    )
    parser.add_argument("--prices", metavar="FILE", help="TOML file overriding prices")
    parser.set_defaults(run=_cmd_review)


def _cmd_review(args: argparse.Namespace) -> int:
    result = review.run_review(
        args.plans, args.format, allow_ip_change=args.allow_ip_change, prices_path=args.prices
    )
    return _emit("review", result, args.format == "json")


_SUBCOMMANDS: Sequence[Callable[[argparse._SubParsersAction], None]] = (
    _add_enis,
    _add_cost,
    _add_verify,
    _add_doctor,
    _add_functions,
    _add_wake,
    _add_ga_cleanup,
    _add_ips,
    _add_review,
)
