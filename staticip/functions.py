"""`staticip functions <environment>`: who is behind the static IPs.

Lists every Lambda function attached to the environment's VPC, declared in staticip.toml or
deployed by another tool, and judges whether its egress leaves from the allow-listed IPs:

- in a subnet whose default route goes to the internet gateway (eni-eip), the function's
  traffic leaves through the Hyperplane ENI of its subnet + security-group set, so that ENI
  must hold the AZ's allow-listed EIP. A function with any other security-group set gets ENIs
  of its own, which have no EIP, so no internet at all;
- in a subnet whose default route goes to a NAT Gateway or a network interface (a NAT
  instance), that NAT must hold an allow-listed EIP.

AWS calls stay flat in the number of functions: one DescribeVpcs, paginated ListFunctions,
DescribeSubnets, DescribeRouteTables, DescribeNatGateways and DescribeNetworkInterfaces (Lambda
ENIs of the VPC), one or two DescribeAddresses. ListFunctions leaves out `State` (Lambda API
reference, ListFunctions), so the state column is read only with `with_state`, at one
GetFunctionConfiguration per function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError, ProfileNotFound

from staticip import aws
from staticip.config import ConfigError, EnvironmentConfig, load_config
from staticip.eips import AllowListedEip, environment_tag_filters, find_allow_listed_eips
from staticip.enis import IN_USE, LAMBDA_INTERFACE_TYPE, match_lambda_enis
from staticip.names import TIER_TAG, function_security_group_name
from staticip.result import EXIT_OK, EXIT_PROBLEM, CommandResult, usage_error
from staticip.table import render_table

DEFAULT_ROUTE = "0.0.0.0/0"


@dataclass(frozen=True)
class FunctionEgress:
    """One function in the VPC and whether its egress leaves from the allow-listed IPs."""

    name: str
    declared: bool
    """Deployed by this environment's stack (the probe or a `[functions]` entry)."""
    azs: list[str]
    subnet_ids: list[str]
    security_group_ids: list[str]
    allow_listed: bool
    why: str = ""
    """Why not, one line with the fix; empty when allow-listed."""
    egress_ips: list[str] = field(default_factory=list)
    """The allow-listed IPs it leaves from."""
    state: str | None = None
    """Read only on request (`with_state`); None otherwise."""


@dataclass(frozen=True)
class FunctionsReport:
    environment: str
    vpc_id: str | None
    security_group_id: str | None
    """The environment's function security group: the one a function may have."""
    function_subnet_ids: list[str]
    functions: list[FunctionEgress]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class VpcFacts:
    """What the judgement needs, read once for the whole VPC."""

    vpc_id: str
    subnet_az: Mapping[str, str]
    function_subnet_ids: Sequence[str]
    """The environment's function subnets (tier of its egress mode), sorted by AZ."""
    security_group_id: str | None
    default_route: Mapping[str, Mapping[str, Any]]
    """Subnet -> its route table's 0.0.0.0/0 route (the main table's when not associated)."""
    nat_allocations: Mapping[str, set[str]]
    """NAT Gateway ID -> allocation IDs of its addresses."""
    lambda_enis: Sequence[Mapping[str, Any]]
    eips: Sequence[AllowListedEip]


def read_vpc_facts(ec2: BaseClient, project: str, env: EnvironmentConfig) -> VpcFacts | None:
    """The facts of the environment's VPC, found by its tags; None when it is not deployed."""
    tag_filters = environment_tag_filters(project, env.name)
    vpcs = ec2.describe_vpcs(Filters=tag_filters).get("Vpcs", [])
    if not vpcs:
        return None
    vpc_id = vpcs[0]["VpcId"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    subnets = aws.paginate(ec2, "describe_subnets", "Subnets", Filters=in_vpc)
    subnet_az = {s["SubnetId"]: s.get("AvailabilityZone", "") for s in subnets}
    mode = env.egress_mode
    tier = mode.subnet_tier if mode else None
    function_subnets = sorted(
        (s for s in subnets if tier and aws.tags(s).get(TIER_TAG) == tier),
        key=lambda s: s.get("AvailabilityZone", ""),
    )
    groups = aws.paginate(
        ec2,
        "describe_security_groups",
        "SecurityGroups",
        Filters=[
            *in_vpc,
            {"Name": "group-name", "Values": [function_security_group_name(project, env.name)]},
        ],
    )
    tables = aws.paginate(ec2, "describe_route_tables", "RouteTables", Filters=in_vpc)
    main = next(
        (t for t in tables if any(a.get("Main") for a in t.get("Associations") or [])), None
    )
    table_of = {
        a["SubnetId"]: t for t in tables for a in t.get("Associations") or [] if a.get("SubnetId")
    }
    default_route = {}
    for subnet in subnet_az:
        table = table_of.get(subnet, main) or {}
        route = next(
            (
                r
                for r in table.get("Routes") or []
                if r.get("DestinationCidrBlock") == DEFAULT_ROUTE
            ),
            None,
        )
        if route is not None:
            default_route[subnet] = route
    nats = aws.paginate(ec2, "describe_nat_gateways", "NatGateways", Filter=in_vpc)
    nat_allocations = {
        n["NatGatewayId"]: {a.get("AllocationId") for a in n.get("NatGatewayAddresses") or []}
        for n in nats
        if n.get("State") == "available"
    }
    lambda_enis = aws.paginate(
        ec2,
        "describe_network_interfaces",
        "NetworkInterfaces",
        Filters=[*in_vpc, {"Name": "interface-type", "Values": [LAMBDA_INTERFACE_TYPE]}],
    )
    eips = find_allow_listed_eips(ec2, project, env.name, env.reuse_eip_allocation_ids)
    return VpcFacts(
        vpc_id=vpc_id,
        subnet_az=subnet_az,
        function_subnet_ids=[s["SubnetId"] for s in function_subnets],
        security_group_id=groups[0]["GroupId"] if groups else None,
        default_route=default_route,
        nat_allocations=nat_allocations,
        lambda_enis=lambda_enis,
        eips=eips,
    )


def judge(
    facts: VpcFacts, name: str, subnet_ids: Sequence[str], security_group_ids: Sequence[str]
) -> tuple[list[str], str]:
    """(allow-listed IPs it leaves from, why not with the fix or ""), for one function."""
    ours = {eip.allocation_id: eip for eip in facts.eips}
    by_eni = {eip.network_interface_id: eip for eip in facts.eips if eip.network_interface_id}
    use_sg = facts.security_group_id or "the environment's function security group"
    use_subnets = ", ".join(facts.function_subnet_ids) or "the environment's function subnets"
    groups = sorted(security_group_ids)
    enis = match_lambda_enis(facts.lambda_enis, subnet_ids, groups)
    ips, problems = [], []
    for subnet in subnet_ids:
        az = facts.subnet_az.get(subnet, "?")
        route = facts.default_route.get(subnet)
        if subnet not in facts.subnet_az:
            problems.append(f"{subnet} is not in the environment's VPC: use {use_subnets}")
            continue
        if route is None:
            problems.append(f"{subnet} ({az}) has no route to the internet: use {use_subnets}")
            continue
        target = route.get("GatewayId") or ""
        if target.startswith("igw-"):
            # Leaves through its Hyperplane ENI's public IP: the ENI of this exact set.
            if facts.security_group_id and groups != [facts.security_group_id]:
                problems.append(
                    f"uses {','.join(groups) or 'no security group'}: Lambda gives it its own "
                    f"ENI, which has no EIP: use only {use_sg}"
                )
                break
            in_use = [eni for eni in enis.get(subnet, []) if eni.status == IN_USE]
            held = [ours[e.allocation_id] for e in in_use if e.allocation_id in ours]
            if held:
                ips += [eip.public_ip for eip in held]
            elif in_use:
                problems.append(
                    f"its ENI {in_use[0].eni_id} in {az} has no allow-listed EIP, so no "
                    "internet: run `cdktf deploy` (or let the ENI guard) put the AZ's EIP on it"
                )
            else:
                problems.append(
                    f"no Hyperplane ENI in {subnet} ({az}) yet (Pending, or Inactive after 14 "
                    "idle days): invoke it, then run `staticip doctor`"
                )
            continue
        nat = route.get("NatGatewayId")
        if nat:
            allocations = facts.nat_allocations.get(nat, set())
            allowed = [ours[a] for a in sorted(allocations) if a in ours]
            if allowed:
                ips += [eip.public_ip for eip in allowed]
            else:
                problems.append(
                    f"{subnet} ({az}) routes via {nat}, which holds no allow-listed EIP: use "
                    f"{use_subnets}"
                )
            continue
        eni = route.get("NetworkInterfaceId")
        if eni and eni in by_eni:
            ips.append(by_eni[eni].public_ip)
            continue
        via = eni or target or "an unknown target"
        problems.append(
            f"{subnet} ({az}) routes via {via}, which holds no allow-listed EIP: use {use_subnets}"
        )
    return sorted(set(ips)), "; ".join(dict.fromkeys(problems))


def list_functions(
    ec2: BaseClient,
    lambda_client: BaseClient,
    project: str,
    env: EnvironmentConfig,
    *,
    with_state: bool = False,
) -> FunctionsReport:
    """Every function in the environment's VPC with its egress judged (see the module doc)."""
    facts = read_vpc_facts(ec2, project, env)
    if facts is None:
        return FunctionsReport(
            env.name,
            None,
            None,
            [],
            [],
            [
                f"no VPC tagged environment={env.name}, project={project} in "
                f"{ec2.meta.region_name}: deploy it (`cdktf deploy {env.name}`) or check "
                "--region/--profile"
            ],
        )
    declared = set(env.deployed_function_names(project))
    found = []
    for raw in aws.paginate(lambda_client, "list_functions", "Functions"):
        vpc = raw.get("VpcConfig") or {}
        subnets = list(dict.fromkeys(vpc.get("SubnetIds") or []))
        # By its subnets, which belong to exactly one VPC: the same answer as `VpcId`, and
        # moto reports a fixed placeholder there.
        if not set(subnets) & set(facts.subnet_az):
            continue
        groups = sorted(set(vpc.get("SecurityGroupIds") or []))
        ips, why = judge(facts, raw["FunctionName"], subnets, groups)
        state = None
        if with_state:
            config = lambda_client.get_function_configuration(FunctionName=raw["FunctionName"])
            state = config.get("State") or "Active"
        found.append(
            FunctionEgress(
                name=raw["FunctionName"],
                declared=raw["FunctionName"] in declared,
                azs=sorted({facts.subnet_az.get(s, "?") for s in subnets}),
                subnet_ids=subnets,
                security_group_ids=groups,
                allow_listed=not why,
                why=why,
                egress_ips=ips,
                state=state,
            )
        )
    found.sort(key=lambda f: (not f.declared, f.name))
    problems = [f"{f.name}: {f.why}" for f in found if f.why]
    listed = {f.name for f in found}
    problems += [
        f"{name}: declared, but not in the VPC: run `cdktf deploy {env.name}`"
        for name in env.egress_function_names
        if name not in listed
    ]
    return FunctionsReport(
        env.name,
        facts.vpc_id,
        facts.security_group_id,
        list(facts.function_subnet_ids),
        found,
        problems,
    )


def run_functions(
    config_path: str | Path,
    environment: str,
    *,
    with_state: bool = False,
    region: str | None = None,
    profile: str | None = None,
) -> CommandResult:
    """`staticip functions ENV [--state]`: exit 0 when every function in the VPC egresses from
    the allow-listed IPs, 1 when one does not (or AWS failed), 2 for an unknown environment, one
    without egress, or a missing region/profile."""
    try:
        config = load_config(config_path)
        env = config.environment(environment)
    except ConfigError as exc:
        return usage_error(str(exc))
    if env.egress_mode is None:
        return usage_error(
            f"environment '{env.name}' has no egress (egress = 'none'): no function sits behind "
            "egress IPs there"
        )
    region, profile, role = region or env.region, profile or env.profile, env.assume_role_arn
    try:
        if env.account_id:
            aws.check_account(aws.client("sts", region, profile, role), env.account_id, env.name)
        report = list_functions(
            aws.client("ec2", region, profile, role),
            aws.client("lambda", region, profile, role),
            config.project,
            env,
            with_state=with_state,
        )
    except (NoRegionError, ProfileNotFound, aws.WrongAccountError) as exc:
        return usage_error(aws.explain(exc))
    except (ClientError, BotoCoreError, aws.AwsError) as exc:
        message = f"functions {env.name}: {aws.explain(exc)}"
        return CommandResult(EXIT_PROBLEM, message, {"error": message})
    data = asdict(report) | {"ok": report.ok}
    return CommandResult(EXIT_OK if report.ok else EXIT_PROBLEM, render_functions(report), data)


def render_functions(report: FunctionsReport) -> str:
    table = render_table(
        ["FUNCTION", "DECLARED", "AZS", "SECURITY GROUPS", "STATE", "ALLOW-LISTED", "EGRESS IPS"],
        [
            (
                f.name,
                "yes" if f.declared else "no",
                f.azs,
                f.security_group_ids,
                f.state,
                "yes" if f.allow_listed else "NO",
                f.egress_ips,
            )
            for f in report.functions
        ],
    )
    head = (
        f"functions in {report.environment}'s VPC {report.vpc_id or '(not found)'}; attach "
        f"yours with security group {report.security_group_id or '-'} only, in subnets "
        f"{', '.join(report.function_subnet_ids) or '-'}"
    )
    verdict = [f"problem: {p}" for p in report.problems] or [
        "OK: every function leaves from an allow-listed IP"
    ]
    return "\n\n".join([head, table, "\n".join(verdict)])
