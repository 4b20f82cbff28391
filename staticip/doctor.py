"""`staticip doctor <environment>`: explain the deployed state of an environment and name the
fix for each problem. Resources are found by the tags every stack puts on them, so no
Terraform state is needed.

The checks live in `doctor_egress` (function, VPC config, ENIs + EIPs, NAT Gateways + routes)
and `doctor_ingress` (Global Accelerator, ALB, targets); each mode's `checks` module
(`staticip/modes/<mode>/checks.py`) says which of them it runs, under the mode's label. This
module runs the shared egress checks and the modes', turns an AWS failure inside one check
into a finding so the others still run, and renders the result.
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

from staticip import aws, modes
from staticip.config import ConfigError, EnvironmentConfig, load_config
from staticip.doctor_canary import CANARY, check_canary
from staticip.doctor_context import DoctorContext, ModeChecks
from staticip.doctor_egress import (
    EIP,
    FUNCTION,
    FUNCTIONS_IN_VPC,
    VPC_CONFIG,
    FunctionFacts,
    check_eip_count,
    check_function,
    check_functions_in_vpc,
    check_vpc_config,
    read_stack_network,
    shared_facts,
)
from staticip.doctor_ipam import IPAM_POOL, check_ipam_pool
from staticip.eips import find_allow_listed_eips
from staticip.findings import ERROR, Finding
from staticip.modes import Mode
from staticip.modes.eni_eip.checks import CHECKS as ENI_EIP
from staticip.modes.global_accelerator.checks import CHECKS as GLOBAL_ACCELERATOR
from staticip.modes.nat_gateway.checks import CHECKS as NAT_GATEWAY
from staticip.modes.nat_instance.checks import CHECKS as NAT_INSTANCE
from staticip.modes.nlb_eip.checks import CHECKS as NLB_EIP
from staticip.result import EXIT_OK, EXIT_PROBLEM, CommandResult, usage_error
from staticip.table import render_table

T = TypeVar("T")

#: Each mode's checks by label; a mode missing here is an error (`modes.lookup`).
MODE_CHECKS: dict[str, ModeChecks] = {
    **NAT_GATEWAY,
    **NAT_INSTANCE,
    **ENI_EIP,
    **GLOBAL_ACCELERATOR,
    **NLB_EIP,
}


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
    autoscaling: BaseClient | None = None

    @classmethod
    def create(cls, region: str, profile: str | None, env: EnvironmentConfig) -> DoctorClients:
        """Clients through `aws.client`: `ec2` and `lambda`, and those the environment's modes
        ask for (`Mode.services`)."""
        role = env.assume_role_arn
        wanted = {service for mode in env.selected_modes for service in mode.services(env)}
        if env.canary is not None:
            wanted.add("cloudwatch")

        def client(service: str) -> BaseClient | None:
            if service not in wanted:
                return None
            where = aws.GLOBAL_ACCELERATOR_REGION if service == "globalaccelerator" else region
            return aws.client(service, where, profile, role)

        return cls(
            ec2=aws.client("ec2", region, profile, role),
            lambda_=aws.client("lambda", region, profile, role),
            elbv2=client("elbv2"),
            cloudwatch=client("cloudwatch"),
            cloudtrail=client("cloudtrail"),
            globalaccelerator=client("globalaccelerator"),
            autoscaling=client("autoscaling"),
        )

    def all(self) -> list[BaseClient]:
        clients = (
            self.ec2,
            self.lambda_,
            self.elbv2,
            self.globalaccelerator,
            self.cloudwatch,
            self.cloudtrail,
            self.autoscaling,
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
    """Every finding for the environment, in check order: the checks every egress mode
    shares (EIPs, each function, its VPC config, every function in the VPC), then each mode's
    own (`MODE_CHECKS`), and the egress canary's last result per AZ."""
    c = _Collector(env)
    ctx = DoctorContext(project, env, aws.by_service(clients.all()))
    egress = env.egress_mode
    if egress is not None:
        ec2 = clients.ec2
        eips = c.run(
            EIP,
            lambda: find_allow_listed_eips(ec2, project, env.name, env.reuse_eip_allocation_ids),
            None,
        )
        if eips is not None:
            c.findings += check_eip_count(env, eips)
        facts = []
        for name in env.egress_function_names:
            found, fn = c.run(
                FUNCTION,
                lambda name=name: check_function(clients.lambda_, env, name),
                ([], FunctionFacts(name)),
            )
            c.findings += found
            facts.append(fn)
        network = None
        if any(fn.found for fn in facts):
            network = c.run(VPC_CONFIG, lambda: read_stack_network(ec2, project, env), None)
        if network is not None:
            for fn in facts:
                if fn.found:
                    c.findings += check_vpc_config(network, project, env, fn)
        subnet_az = network.subnet_az if network else {}
        c.findings += c.run(
            FUNCTIONS_IN_VPC, lambda: check_functions_in_vpc(ec2, clients.lambda_, project, env), []
        )
        ctx.facts.update(
            eips=eips or [], function=shared_facts(facts), functions=facts, subnet_az=subnet_az
        )
        _run_mode_checks(c, ctx, egress)
        if env.canary is not None and clients.cloudwatch is not None:
            cloudwatch = clients.cloudwatch
            c.findings += c.run(CANARY, lambda: check_canary(cloudwatch, project, env), [])

    ingress = env.ingress_mode
    if ingress is not None:
        # Without egress the functions are the webhook or the routes' targets: check them.
        names = [] if egress is not None else list(env.deployed_function_names(project))
        for name in names:
            found, _ = c.run(
                FUNCTION,
                lambda name=name: check_function(clients.lambda_, env, name),
                ([], FunctionFacts(name)),
            )
            c.findings += found
        _run_mode_checks(c, ctx, ingress)
    if env.ipam_pool_id:
        # After both directions: one pool read covers the EIPs of both.
        egress_eips = ctx.facts.get("eips") if egress is not None else None
        c.findings += c.run(
            IPAM_POOL,
            lambda: check_ipam_pool(clients.ec2, project, env, egress_eips),
            [],
        )
    return c.findings


def _run_mode_checks(c: _Collector, ctx: DoctorContext, mode: Mode) -> None:
    for check in modes.lookup(MODE_CHECKS, mode, "doctor checks")(ctx.env):
        # `clients` given by the caller may leave a service out: its checks do not run.
        if not set(check.needs) <= set(ctx.clients):
            continue
        c.findings += c.run(check.name, lambda check=check: check.run(ctx), [])


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
    selected = ", ".join(
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
    return f"doctor {env.name} ({selected}) in {region}:\n{table}\n\n{env.name}: {verdict}"
