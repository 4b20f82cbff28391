"""`staticip doctor <environment>`: explain the deployed state of an environment and name the
fix for each problem. Resources are found by the tags every stack puts on them, so no
Terraform state is needed.

The checks live in `doctor_egress` (function, VPC config, ENIs + EIPs, NAT Gateways + routes)
and `doctor_ingress` (Global Accelerator, ALB, targets); this module runs the ones the
environment's modes call for, turns an AWS failure inside one check into a finding so the
others still run, and renders the result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from botocore.client import BaseClient
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from staticip import aws
from staticip.config import ConfigError, EnvironmentConfig, load_config
from staticip.doctor_egress import (
    EIP,
    ENI,
    FUNCTION,
    GUARD,
    NAT,
    ROUTE,
    TRAIL,
    VPC_CONFIG,
    FunctionFacts,
    check_cloudtrail,
    check_eip_count,
    check_eni_guard,
    check_enis,
    check_function,
    check_nat_gateways,
    check_regional_nat_gateway,
    check_routes,
    check_vpc_config,
)
from staticip.doctor_ingress import ACCELERATOR, check_global_accelerator
from staticip.eips import find_allow_listed_eips
from staticip.findings import ERROR, Finding
from staticip.result import EXIT_OK, EXIT_PROBLEM, CommandResult, usage_error
from staticip.table import render_table

T = TypeVar("T")


# Failures that would make every check fail the same way: stop and report them once.
_FATAL = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    NoRegionError,
    ProfileNotFound,
    EndpointConnectionError,
)


@dataclass(frozen=True)
class DoctorClients:
    """The AWS clients doctor uses; `ec2`, `lambda_` and `elbv2` in the environment's region,
    `globalaccelerator` in us-west-2."""

    ec2: BaseClient
    lambda_: BaseClient
    elbv2: BaseClient | None = None
    globalaccelerator: BaseClient | None = None
    cloudwatch: BaseClient | None = None
    cloudtrail: BaseClient | None = None

    @classmethod
    def create(cls, region: str, profile: str | None, env: EnvironmentConfig) -> DoctorClients:
        """Clients through `aws.client`; the ingress ones only when the environment has ingress."""
        ingress = env.ingress == "global-accelerator"
        guarded = env.egress == "eni-eip" and env.eni_guard.enabled
        role = env.assume_role_arn
        return cls(
            ec2=aws.client("ec2", region, profile, role),
            lambda_=aws.client("lambda", region, profile, role),
            elbv2=aws.client("elbv2", region, profile, role) if ingress else None,
            cloudwatch=aws.client("cloudwatch", region, profile, role) if guarded else None,
            cloudtrail=aws.client("cloudtrail", region, profile, role) if guarded else None,
            globalaccelerator=aws.client(
                "globalaccelerator", aws.GLOBAL_ACCELERATOR_REGION, profile, role
            )
            if ingress
            else None,
        )

    def all(self) -> list[BaseClient]:
        clients = (
            self.ec2,
            self.lambda_,
            self.elbv2,
            self.globalaccelerator,
            self.cloudwatch,
            self.cloudtrail,
        )
        return [c for c in clients if c]


class _Collector:
    """Gathers findings; an AWS failure inside one check becomes an error finding and the
    check's `default` result, so the other checks still run."""

    def __init__(self, env: EnvironmentConfig) -> None:
        self.env = env
        self.findings: list[Finding] = []

    def run(self, check: str, step: Callable[[], T], default: T) -> T:
        try:
            return step()
        except _FATAL:
            raise
        except (ClientError, BotoCoreError, aws.AwsError) as exc:
            self.findings.append(
                Finding(ERROR, check, self.env.name, f"could not check: {aws.explain(exc)}")
            )
            return default


def diagnose(clients: DoctorClients, project: str, env: EnvironmentConfig) -> list[Finding]:
    """Every finding for the environment, in check order."""
    c = _Collector(env)
    if env.egress != "none":
        ec2 = clients.ec2
        eips = c.run(
            EIP,
            lambda: find_allow_listed_eips(ec2, project, env.name, env.reuse_eip_allocation_ids),
            None,
        )
        if eips is not None:
            c.findings += check_eip_count(env, eips)
        eips = eips or []
        found, fn = c.run(
            FUNCTION,
            lambda: check_function(clients.lambda_, env, env.function.name),
            ([], FunctionFacts(env.function.name)),
        )
        c.findings += found
        subnet_az: dict[str, str] = {}
        if fn.found:
            found, subnet_az = c.run(
                VPC_CONFIG, lambda: check_vpc_config(ec2, project, env, fn), ([], {})
            )
            c.findings += found
        if env.egress == "eni-eip":
            if fn.found:
                c.findings += c.run(ENI, lambda: check_enis(ec2, env, fn, eips), [])
            if env.eni_guard.enabled and clients.cloudwatch is not None:
                cloudwatch = clients.cloudwatch
                c.findings += c.run(GUARD, lambda: check_eni_guard(cloudwatch, project, env), [])
            if env.eni_guard.enabled and clients.cloudtrail is not None:
                cloudtrail = clients.cloudtrail
                region = cloudtrail.meta.region_name or env.region
                c.findings += c.run(TRAIL, lambda: check_cloudtrail(cloudtrail, env, region), [])
        else:
            check_nat = check_regional_nat_gateway if env.nat == "regional" else check_nat_gateways
            found, nat_ips = c.run(
                NAT, lambda: check_nat(ec2, project, env, eips, subnet_az), ([], {})
            )
            c.findings += found
            if fn.found:
                c.findings += c.run(ROUTE, lambda: check_routes(ec2, env, fn, nat_ips), [])

    if env.ingress == "global-accelerator":
        if env.egress == "none":
            # The environment's function is the webhook itself: the ALB's only target.
            found, _ = c.run(
                FUNCTION,
                lambda: check_function(clients.lambda_, env, env.function.name),
                ([], FunctionFacts(env.function.name)),
            )
            c.findings += found
        ga, elbv2 = clients.globalaccelerator, clients.elbv2
        if ga is None or elbv2 is None:
            raise ValueError("an ingress environment needs the elbv2 and globalaccelerator clients")
        c.findings += c.run(
            ACCELERATOR, lambda: check_global_accelerator(ga, elbv2, project, env), []
        )
    return c.findings


def run_doctor(
    config_path: str | Path,
    environment: str,
    *,
    region: str | None = None,
    profile: str | None = None,
    clients: DoctorClients | None = None,
) -> CommandResult:
    """`staticip doctor <environment> [--region R] [--profile P]`.

    Region and profile default to the environment's, and its `assume_role_arn` is assumed.
    Exit 0 when healthy, 1 when any finding is a warning or an error (or AWS failed), 2 for an
    unknown environment, a bad config file, a missing region/profile or credentials of another
    account than `account_id`. `clients` replaces the ones built from region and profile.
    """
    try:
        config = load_config(config_path)
        env = config.environment(environment)
    except ConfigError as exc:
        return usage_error(str(exc))
    region = region or env.region
    profile = profile or env.profile
    try:
        if clients is None:
            clients = DoctorClients.create(region, profile, env)
            if env.account_id:
                sts = aws.client("sts", region, profile, env.assume_role_arn)
                aws.check_account(sts, env.account_id, env.name)
        findings = diagnose(clients, config.project, env)
    except (NoRegionError, ProfileNotFound, aws.WrongAccountError) as exc:
        return usage_error(aws.explain(exc))
    except _FATAL as exc:
        message = f"doctor {env.name}: {aws.explain(exc)}"
        return CommandResult(EXIT_PROBLEM, message, {"error": message})
    problems = [f for f in findings if f.is_problem]
    data = {
        "environment": env.name,
        "region": region,
        "egress": env.egress,
        "ingress": env.ingress,
        "healthy": not problems,
        "findings": [asdict(f) for f in findings],
    }
    return CommandResult(
        EXIT_PROBLEM if problems else EXIT_OK, render_doctor(env, region, findings), data
    )


def render_doctor(env: EnvironmentConfig, region: str, findings: list[Finding]) -> str:
    """The findings as a table, then a one-line verdict."""
    modes = ", ".join(
        m for m in (f"egress {env.egress}", f"ingress {env.ingress}") if not m.endswith(" none")
    )
    table = render_table(
        ["SEVERITY", "CHECK", "SUBJECT", "WHAT", "FIX"],
        [(f.severity, f.check, f.subject, f.what, f.fix) for f in findings],
    )
    counts = Counter(f.severity for f in findings if f.is_problem)
    verdict = (
        "healthy"
        if not counts
        else ", ".join(f"{n} {severity}(s)" for severity, n in sorted(counts.items()))
    )
    return f"doctor {env.name} ({modes}) in {region}:\n{table}\n\n{env.name}: {verdict}"
