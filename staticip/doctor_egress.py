"""`staticip doctor` checks for egress: the function's state and VPC config, and either its
Hyperplane ENIs and their EIPs (eni-eip) or its NAT Gateways and routes (nat-gateway)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from staticip import aws
from staticip.config import EnvironmentConfig
from staticip.eips import AllowListedEip, environment_tag_filters
from staticip.enis import IN_USE, find_lambda_enis
from staticip.findings import ERROR, INFO, OK, WARNING, Finding
from staticip.functions import list_functions
from staticip.names import (
    PUBLIC_TIER,
    TIER_TAG,
    alarm_name,
    errors_alarm_name,
    function_security_group_name,
    guard_function_name,
    silence_alarm_name,
)

FUNCTION = "function"
VPC_CONFIG = "vpc-config"
FUNCTIONS_IN_VPC = "functions"
ENI = "eni"
EIP = "eip"
NAT = "nat"
ROUTE = "route"
GUARD = "eni-guard"
GUARD_CONCURRENCY = "eni-guard-concurrency"
TRAIL = "cloudtrail"
#: Lambda keeps this much of an account's concurrency unreserved (Lambda developer guide,
#: "Configuring reserved concurrency"): a reservation that would leave less is refused.
MIN_UNRESERVED_CONCURRENCY = 100
DEFAULT_ROUTE = "0.0.0.0/0"
_ROUTE_TARGETS = (
    "GatewayId",
    "TransitGatewayId",
    "NetworkInterfaceId",
    "InstanceId",
    "VpcPeeringConnectionId",
    "LocalGatewayId",
    "CarrierGatewayId",
)


@dataclass
class FunctionFacts:
    """The parts of GetFunctionConfiguration the other checks need."""

    name: str
    state: str | None = None
    subnet_ids: list[str] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.state is not None


def shared_facts(functions: Sequence[FunctionFacts]) -> FunctionFacts:
    """The egress functions as one for the ENI checks: they share the ENIs of one subnet +
    security-group set, so the first function found that is not Inactive stands for all (the
    probe, unless it idled), in the state that says most: Active when any is (Lambda keeps the
    shared ENIs), else Pending when any is, else its own."""
    found = [fn for fn in functions if fn.found]
    if not found:
        return functions[0] if functions else FunctionFacts("")
    chosen = next((fn for fn in found if fn.state != "Inactive"), found[0])
    states = {fn.state for fn in found}
    state = next((s for s in ("Active", "Pending") if s in states), chosen.state)
    return FunctionFacts(chosen.name, state, chosen.subnet_ids, chosen.security_group_ids)


def check_functions_in_vpc(
    ec2: BaseClient, lambda_client: BaseClient, project: str, env: EnvironmentConfig
) -> list[Finding]:
    """`staticip functions`: every function in the VPC egresses from the allow-listed IPs."""
    report = list_functions(ec2, lambda_client, project, env)
    if report.vpc_id is None:
        return [Finding(ERROR, FUNCTIONS_IN_VPC, env.name, report.problems[0], deploy_fix(env))]
    findings = [
        Finding(
            OK,
            FUNCTIONS_IN_VPC,
            f.name,
            f"egresses from {', '.join(f.egress_ips)}" + ("" if f.declared else " (not declared)"),
        )
        if f.allow_listed
        else Finding(ERROR, FUNCTIONS_IN_VPC, f.name, "not behind the allow-listed IPs", f.why)
        for f in report.functions
    ]
    return findings


def deploy_fix(env: EnvironmentConfig, why: str = "") -> str:
    """The usual fix: let Terraform put things back as the stack says."""
    return f"run `cdktf deploy {env.name}`{why}"


# --- the function -------------------------------------------------------------------------------


def check_function(
    lambda_client: BaseClient, env: EnvironmentConfig, name: str
) -> tuple[list[Finding], FunctionFacts]:
    """State and last update of the function; its VPC config for the later checks."""
    facts = FunctionFacts(name)
    try:
        cfg = lambda_client.get_function_configuration(FunctionName=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        region = lambda_client.meta.region_name
        return [
            Finding(
                ERROR,
                FUNCTION,
                name,
                f"function not found in {region}",
                deploy_fix(env) + ", or check --region/--profile",
            )
        ], facts
    vpc = cfg.get("VpcConfig") or {}
    facts.state = cfg.get("State") or "Active"
    facts.subnet_ids = list(dict.fromkeys(vpc.get("SubnetIds") or []))
    facts.security_group_ids = sorted(set(vpc.get("SecurityGroupIds") or []))
    findings = [_state_finding(env, name, cfg)]
    update = cfg.get("LastUpdateStatus")
    if update == "Failed":
        findings.append(
            Finding(
                ERROR,
                FUNCTION,
                name,
                f"last update failed: {cfg.get('LastUpdateStatusReasonCode', '')} "
                f"{cfg.get('LastUpdateStatusReason', '')}".strip(),
                deploy_fix(env, " after fixing the cause named"),
            )
        )
    elif update == "InProgress":
        findings.append(
            Finding(WARNING, FUNCTION, name, "an update is in progress", "run doctor again soon")
        )
    return findings, facts


def _state_finding(env: EnvironmentConfig, name: str, cfg: Mapping[str, Any]) -> Finding:
    state = cfg.get("State") or "Active"
    reason = " ".join(str(cfg.get(k, "")) for k in ("StateReasonCode", "StateReason")).strip()
    suffix = f" ({reason})" if reason else ""
    eni_eip = env.egress == "eni-eip"
    if state == "Active":
        return Finding(OK, FUNCTION, name, "Active")
    if state == "Pending":
        return Finding(
            WARNING,
            FUNCTION,
            name,
            f"Pending: Lambda is creating the function's ENIs{suffix}",
            "wait a minute and run doctor again"
            + (
                f"; then `cdktf deploy {env.name}` if an EIP is left unassociated"
                if eni_eip
                else ""
            ),
        )
    if state == "Inactive":
        if eni_eip:
            return Finding(
                ERROR,
                FUNCTION,
                name,
                "Inactive: idle for 14 days, Lambda reclaimed its ENIs and the EIPs came off "
                f"them{suffix}",
                f"invoke it (`staticip verify {env.name}`; the first call fails and wakes it), "
                f"wait until Active, then run `cdktf deploy {env.name}` to put the EIPs on the "
                "new ENIs",
            )
        return Finding(
            WARNING,
            FUNCTION,
            name,
            f"Inactive: the next invocation fails while Lambda recreates its ENIs{suffix}",
            f"invoke it once to wake it (`staticip verify {env.name}`)",
        )
    return Finding(
        ERROR, FUNCTION, name, f"{state}{suffix}", deploy_fix(env, " after fixing the cause named")
    )


# --- VPC config drift ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StackNetwork:
    """What the stack made for its functions, found by tags: read once, however many
    functions the environment has."""

    tier: str
    subnet_az: dict[str, str]
    """Every subnet of the environment -> its AZ."""
    function_subnets: frozenset[str]
    group_name: str
    function_groups: frozenset[str]


def read_stack_network(ec2: BaseClient, project: str, env: EnvironmentConfig) -> StackNetwork:
    mode = env.egress_mode
    tier = mode.subnet_tier if mode else PUBLIC_TIER
    subnets = aws.paginate(
        ec2, "describe_subnets", "Subnets", Filters=environment_tag_filters(project, env.name)
    )
    group_name = function_security_group_name(project, env.name)
    groups = aws.paginate(
        ec2,
        "describe_security_groups",
        "SecurityGroups",
        Filters=[
            *environment_tag_filters(project, env.name),
            {"Name": "group-name", "Values": [group_name]},
        ],
    )
    return StackNetwork(
        tier=tier,
        subnet_az={s["SubnetId"]: s.get("AvailabilityZone", "") for s in subnets},
        function_subnets=frozenset(
            s["SubnetId"] for s in subnets if aws.tags(s).get(TIER_TAG) == tier
        ),
        group_name=group_name,
        function_groups=frozenset(g["GroupId"] for g in groups),
    )


def check_vpc_config(
    network: StackNetwork, project: str, env: EnvironmentConfig, fn: FunctionFacts
) -> list[Finding]:
    """Compare the function's subnets and security groups with the ones the stack made for it."""
    tier, subnet_az = network.tier, network.subnet_az
    if not fn.subnet_ids:
        return [
            Finding(
                ERROR,
                VPC_CONFIG,
                fn.name,
                f"not attached to a VPC, but the stack puts it in the {tier} subnets",
                deploy_fix(env),
            )
        ]
    findings = []
    actual = set(fn.subnet_ids)
    expected = network.function_subnets
    for subnet in sorted(actual - expected):
        findings.append(
            Finding(
                ERROR,
                VPC_CONFIG,
                subnet,
                f"the function is in a subnet that is not one of {env.name}'s {tier} subnets "
                f"(tags environment={env.name}, project={project}, tier={tier}): drifted",
                deploy_fix(env, " to put the stack's VPC config back"),
            )
        )
    for subnet in sorted(expected - actual):
        findings.append(
            Finding(
                ERROR,
                VPC_CONFIG,
                subnet,
                f"the function is not in {tier} subnet {subnet} ({subnet_az.get(subnet)}), "
                "so it gets no static IP there: drifted",
                deploy_fix(env, " to put the stack's VPC config back"),
            )
        )
    if set(fn.security_group_ids) != network.function_groups:
        findings.append(
            Finding(
                ERROR,
                VPC_CONFIG,
                fn.name,
                f"security groups {', '.join(fn.security_group_ids) or 'none'} differ from the "
                f"stack's {network.group_name} "
                f"({', '.join(sorted(network.function_groups)) or 'not found'}): "
                "drifted, and Lambda ENIs are per subnet + security-group set",
                deploy_fix(env, " to put the stack's VPC config back"),
            )
        )
    if not findings:
        azs = ", ".join(sorted({subnet_az.get(s, "?") for s in fn.subnet_ids}))
        findings.append(
            Finding(
                OK, VPC_CONFIG, fn.name, f"in {env.name}'s {len(actual)} {tier} subnets ({azs})"
            )
        )
    return findings


# --- eni-eip ------------------------------------------------------------------------------------


def check_enis(
    ec2: BaseClient,
    env: EnvironmentConfig,
    fn: FunctionFacts,
    eips: Sequence[AllowListedEip],
) -> list[Finding]:
    """Each Hyperplane ENI of the function's subnet + SG set, and whether it holds an EIP."""
    if not fn.subnet_ids or not fn.security_group_ids:
        return []
    found = find_lambda_enis(ec2, fn.subnet_ids, fn.security_group_ids)
    ours = {eip.allocation_id: eip for eip in eips}
    sleeping = fn.state in ("Inactive", "Pending")
    findings = []
    for subnet in fn.subnet_ids:
        enis = found.get(subnet, [])
        if not enis:
            findings.append(
                Finding(
                    WARNING if sleeping else ERROR,
                    ENI,
                    subnet,
                    "no Hyperplane ENI for the function's security groups"
                    + (f" (the function is {fn.state})" if sleeping else ""),
                    "invoke the function so Lambda creates one, then run "
                    f"`cdktf deploy {env.name}`",
                )
            )
        in_use = [eni for eni in enis if eni.status == IN_USE]
        for eni in enis:
            where = f"{eni.availability_zone or subnet}"
            eip = ours.get(eni.allocation_id or "")
            if eni.status != IN_USE:
                if eip:
                    findings.append(
                        Finding(
                            ERROR,
                            ENI,
                            eni.eni_id,
                            f"detached ({eni.status}, Lambda is deleting it) but holds EIP "
                            f"{eip.public_ip}",
                            deploy_fix(env, " to move the EIP to the ENI in use"),
                        )
                    )
                else:
                    findings.append(
                        Finding(
                            INFO,
                            ENI,
                            eni.eni_id,
                            f"{where}: detached ({eni.status}); Lambda deletes it within about "
                            "20 minutes, it carries no traffic",
                        )
                    )
            elif eip:
                findings.append(Finding(OK, ENI, eni.eni_id, f"{where}: holds EIP {eip.public_ip}"))
            elif eni.public_ip:
                findings.append(
                    Finding(
                        ERROR,
                        ENI,
                        eni.eni_id,
                        f"{where}: its public IP {eni.public_ip} is not one of {env.name}'s "
                        "allow-listed EIPs",
                        deploy_fix(env, " to put the environment's EIP on it"),
                    )
                )
            elif len(in_use) > 1:
                findings.append(
                    Finding(
                        ERROR,
                        ENI,
                        eni.eni_id,
                        f"{where}: no EIP, so traffic through it has no internet access; the "
                        f"subnet has {len(in_use)} ENIs in use: Lambda spilled past 65,000 "
                        "connections or is replacing an ENI",
                        f"if it is a replacement, run `cdktf deploy {env.name}` once the old ENI "
                        "is gone; if it stays (spill-over), eni-eip cannot cover it: use egress = "
                        "'nat-gateway'",
                    )
                )
            else:
                findings.append(
                    Finding(
                        ERROR,
                        ENI,
                        eni.eni_id,
                        f"{where}: no EIP, so traffic through it has no internet access "
                        "(Lambda replaced the ENI that held it)",
                        deploy_fix(env, " to re-associate"),
                    )
                )
    eni_ids = {eni.eni_id for enis in found.values() for eni in enis}
    for eip in eips:
        label = f"{eip.public_ip} ({eip.az or 'AZ unknown'})"
        if not eip.association_id:
            findings.append(
                Finding(
                    ERROR,
                    EIP,
                    eip.allocation_id,
                    f"{label} is not associated: Lambda recycled the ENI that held it",
                    deploy_fix(env, " to re-associate"),
                )
            )
        elif eip.network_interface_id not in eni_ids:
            findings.append(
                Finding(
                    ERROR,
                    EIP,
                    eip.allocation_id,
                    f"{label} is on {eip.network_interface_id or 'something'}, not on a "
                    "Hyperplane ENI of the function",
                    deploy_fix(env, " to re-associate"),
                )
            )
    return findings


def check_eip_count(env: EnvironmentConfig, eips: Sequence[AllowListedEip]) -> list[Finding]:
    """One allow-listed EIP per static-IP AZ."""
    have = {eip.az for eip in eips}
    return [
        Finding(
            ERROR,
            EIP,
            az,
            f"no allow-listed EIP for {az} (tags environment={env.name}, "
            "staticip:allow-listed=true)",
            deploy_fix(env) + ", or check --region/--profile",
        )
        for az in env.static_ip_azs
        if az not in have
    ]


# --- nat-gateway --------------------------------------------------------------------------------


def check_nat_gateways(
    ec2: BaseClient,
    project: str,
    env: EnvironmentConfig,
    eips: Sequence[AllowListedEip],
    subnet_az: Mapping[str, str],
) -> tuple[list[Finding], dict[str, str]]:
    """Each NAT Gateway of the environment and its EIP; return `{nat_id: public_ip}` of the
    available ones that hold an allow-listed EIP."""
    ours = {eip.allocation_id: eip for eip in eips}
    nats = aws.paginate(
        ec2,
        "describe_nat_gateways",
        "NatGateways",
        Filter=environment_tag_filters(project, env.name),
    )
    findings, good = [], {}
    for nat in sorted(nats, key=lambda n: n["NatGatewayId"]):
        nat_id, state = nat["NatGatewayId"], nat.get("State", "")
        where = subnet_az.get(nat.get("SubnetId", ""), nat.get("SubnetId", "?"))
        if state == "deleted":
            continue
        if state != "available":
            failure = " ".join(str(nat.get(k, "")) for k in ("FailureCode", "FailureMessage"))
            findings.append(
                Finding(
                    WARNING if state == "pending" else ERROR,
                    NAT,
                    nat_id,
                    f"{where}: {state}{(': ' + failure.strip()) if failure.strip() else ''}",
                    "wait a minute and run doctor again"
                    if state == "pending"
                    else deploy_fix(env, " to recreate it"),
                )
            )
            continue
        addresses = nat.get("NatGatewayAddresses") or []
        mine = [a for a in addresses if a.get("AllocationId") in ours]
        if mine:
            good[nat_id] = mine[0].get("PublicIp", "")
            findings.append(Finding(OK, NAT, nat_id, f"{where}: available with EIP {good[nat_id]}"))
        else:
            ips = ", ".join(a.get("PublicIp", "?") for a in addresses) or "no IP"
            findings.append(
                Finding(
                    ERROR,
                    NAT,
                    nat_id,
                    f"{where}: available, but its IP ({ips}) is not one of {env.name}'s "
                    "allow-listed EIPs",
                    deploy_fix(env),
                )
            )
    on_nat = {
        a.get("AllocationId")
        for n in nats
        if n.get("State") == "available"
        for a in n.get("NatGatewayAddresses") or []
    }
    findings += _eips_not_on(eips, on_nat, "on an available NAT Gateway", env)
    return findings, good


def check_regional_nat_gateway(
    ec2: BaseClient,
    project: str,
    env: EnvironmentConfig,
    eips: Sequence[AllowListedEip],
    subnet_az: Mapping[str, str],
) -> tuple[list[Finding], dict[str, str]]:
    """`nat = "regional"`: the one regional NAT Gateway, its state, and an allow-listed
    address in the AZ of each function subnet (`subnet_az`; the environment's AZs when the
    function's subnets are unknown). Returns `{nat_id: public_ips}` like `check_nat_gateways`.

    Reads `AvailabilityMode`, `AutoScalingIps`, `AutoProvisionZones` and each address's
    `AvailabilityZone` and `Status`, fields of the DescribeNatGateways model in botocore 1.44.8."""
    ours = {eip.allocation_id: eip for eip in eips}
    nats = [
        nat
        for nat in aws.paginate(
            ec2,
            "describe_nat_gateways",
            "NatGateways",
            Filter=environment_tag_filters(project, env.name),
        )
        if nat.get("State") != "deleted"
    ]
    findings: list[Finding] = []
    for nat in nats:
        if nat.get("AvailabilityMode") != "regional":
            findings.append(
                Finding(
                    WARNING,
                    NAT,
                    nat["NatGatewayId"],
                    f"zonal NAT Gateway in {env.name}, whose stack has one regional gateway"
                    " (left over from another layout?)",
                    deploy_fix(env, " to remove it"),
                )
            )
    regional = sorted(
        (n for n in nats if n.get("AvailabilityMode") == "regional"),
        key=lambda n: n["NatGatewayId"],
    )
    if not regional:
        findings.append(
            Finding(ERROR, NAT, env.name, "no regional NAT Gateway found", deploy_fix(env))
        )
        return findings, {}
    nat = regional[0]
    nat_id, state = nat["NatGatewayId"], nat.get("State", "")
    for extra in regional[1:]:
        findings.append(
            Finding(
                WARNING,
                NAT,
                extra["NatGatewayId"],
                f"a second regional NAT Gateway in {env.name}; routes use {nat_id}",
                deploy_fix(env),
            )
        )
    if state != "available":
        failure = " ".join(str(nat.get(k, "")) for k in ("FailureCode", "FailureMessage")).strip()
        findings.append(
            Finding(
                WARNING if state == "pending" else ERROR,
                NAT,
                nat_id,
                f"regional: {state}{(': ' + failure) if failure else ''}",
                "wait a few minutes and run doctor again"
                if state == "pending"
                else deploy_fix(env, " to recreate it"),
            )
        )
        return findings, {}
    for key in ("AutoScalingIps", "AutoProvisionZones"):
        if nat.get(key) == "enabled":
            findings.append(
                Finding(
                    ERROR,
                    NAT,
                    nat_id,
                    f"regional: {key} is enabled (auto mode): AWS may add addresses that are"
                    " not allow-listed",
                    deploy_fix(env, " to put it back in manual mode"),
                )
            )
    by_az: dict[str, list[str]] = {}
    for address in nat.get("NatGatewayAddresses") or []:
        az, ip = address.get("AvailabilityZone", "AZ unknown"), address.get("PublicIp", "?")
        if address.get("AllocationId") not in ours:
            findings.append(
                Finding(
                    ERROR,
                    NAT,
                    nat_id,
                    f"regional: {az} uses {ip}, which is not one of {env.name}'s allow-listed EIPs",
                    deploy_fix(env),
                )
            )
        elif address.get("Status", "succeeded") != "succeeded":
            findings.append(
                Finding(
                    WARNING,
                    NAT,
                    nat_id,
                    f"regional: {ip} in {az} is {address.get('Status')}",
                    "wait a minute and run doctor again",
                )
            )
        else:
            by_az.setdefault(az, []).append(ip)
    needed = sorted(set(subnet_az.values()) or set(env.azs))
    for az in needed:
        if az not in by_az:
            subnets = sorted(s for s, a in subnet_az.items() if a == az)
            what = f"function subnet {', '.join(subnets)} in {az}" if subnets else az
            findings.append(
                Finding(
                    ERROR,
                    NAT,
                    nat_id,
                    f"regional: {what} has no allow-listed address on the gateway; a manual-mode"
                    " gateway does not serve that AZ",
                    deploy_fix(env),
                )
            )
    served = ", ".join(f"{az} {' '.join(ips)}" for az, ips in sorted(by_az.items()))
    findings.append(Finding(OK, NAT, nat_id, f"regional: available; {served or 'no addresses'}"))
    on_nat = {
        a.get("AllocationId")
        for a in nat.get("NatGatewayAddresses") or []
        if a.get("Status", "succeeded") == "succeeded"
    }
    findings += _eips_not_on(eips, on_nat, "an address of the regional NAT Gateway", env)
    ips = [ip for az in sorted(by_az) for ip in by_az[az]]
    return findings, ({nat_id: ", ".join(ips)} if by_az else {})


def check_routes(
    ec2: BaseClient, env: EnvironmentConfig, fn: FunctionFacts, nat_ips: Mapping[str, str]
) -> list[Finding]:
    """Each of the function's subnets must route 0.0.0.0/0 through an available NAT of the
    environment (`nat_ips`)."""
    return [
        _route_finding(env, subnet, rtb, route, nat_ips)
        for subnet, rtb, route in default_routes(ec2, fn.subnet_ids)
    ]


def default_routes(
    ec2: BaseClient, subnet_ids: Sequence[str]
) -> list[tuple[str, str, Mapping[str, Any] | None]]:
    """`(subnet, route table ID, its 0.0.0.0/0 route or None)` for each subnet, in order."""
    if not subnet_ids:
        return []
    tables = aws.paginate(
        ec2,
        "describe_route_tables",
        "RouteTables",
        Filters=[{"Name": "association.subnet-id", "Values": list(subnet_ids)}],
    )
    table_of = {
        assoc["SubnetId"]: table
        for table in tables
        for assoc in table.get("Associations") or []
        if assoc.get("SubnetId")
    }
    main = None
    unassociated = [subnet for subnet in subnet_ids if subnet not in table_of]
    if unassociated:
        # A subnet without its own association uses the VPC's main route table.
        vpc_id = _vpc_of(ec2, unassociated[0])
        mains = aws.paginate(
            ec2,
            "describe_route_tables",
            "RouteTables",
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id or "unknown"]},
                {"Name": "association.main", "Values": ["true"]},
            ],
        )
        main = mains[0] if mains else None
    found = []
    for subnet in subnet_ids:
        table = table_of.get(subnet, main)
        rtb = (table or {}).get("RouteTableId", "no route table")
        route = next(
            (
                r
                for r in (table or {}).get("Routes") or []
                if r.get("DestinationCidrBlock") == DEFAULT_ROUTE
            ),
            None,
        )
        found.append((subnet, rtb, route))
    return found


def _route_finding(
    env: EnvironmentConfig,
    subnet: str,
    rtb: str,
    route: Mapping[str, Any] | None,
    nat_ips: Mapping[str, str],
) -> Finding:
    fix = deploy_fix(env, " to restore the route")
    if route is None:
        return Finding(
            ERROR,
            ROUTE,
            subnet,
            f"{rtb}: no {DEFAULT_ROUTE} route, the function cannot reach the internet",
            fix,
        )
    nat_id = route.get("NatGatewayId")
    if nat_id:
        if nat_id in nat_ips and route.get("State", "active") == "active":
            return Finding(
                OK, ROUTE, subnet, f"{rtb} routes {DEFAULT_ROUTE} via {nat_id} ({nat_ips[nat_id]})"
            )
        return Finding(
            ERROR,
            ROUTE,
            subnet,
            f"{rtb} routes {DEFAULT_ROUTE} via {nat_id}, which is not an available NAT Gateway "
            f"of {env.name} with an allow-listed EIP (route state {route.get('State', '?')})",
            fix,
        )
    target = route_target(route)
    if target.startswith("igw-"):
        what = (
            f"{rtb} routes {DEFAULT_ROUTE} via internet gateway {target}: the function's ENIs "
            "have no public IP, so its traffic is dropped"
        )
    else:
        what = f"{rtb} routes {DEFAULT_ROUTE} via {target}, not through a NAT Gateway"
    return Finding(ERROR, ROUTE, subnet, what, fix)


# --- helpers ------------------------------------------------------------------------------------


def route_target(route: Mapping[str, Any]) -> str:
    """The ID a route sends its traffic to (a gateway, an ENI, ...), for a finding."""
    return next((str(route[k]) for k in _ROUTE_TARGETS if route.get(k)), "an unknown target")


def _vpc_of(ec2: BaseClient, subnet_id: str) -> str | None:
    # The subnet's own VPC by definition; only needed on this rare path, so asked for here.
    subnets = ec2.describe_subnets(SubnetIds=[subnet_id]).get("Subnets", [])
    return subnets[0].get("VpcId") if subnets else None


# --- the ENI guard ------------------------------------------------------------------------------


def check_eni_guard(cloudwatch: BaseClient, project: str, env: EnvironmentConfig) -> list[Finding]:
    """The guard's three alarms, read in one DescribeAlarms call: ENIs without an EIP (or a
    failed update of the function), a silent guard, and the guard's errors."""
    logs = f"/aws/lambda/{guard_function_name(project, env.name)}"
    # name -> (what ALARM means, the fix)
    meanings = {
        alarm_name(project, env.name): (
            "ENIs of the function stayed without an EIP for two guard periods (spill-over past "
            "65,000 connections, an EIP held by something else, no EIP for an AZ), or the "
            "function's last update failed",
            f"see the guard's logs ({logs}) and the ENI findings above; more ENIs than EIPs "
            "means connection spill-over: add capacity or move to nat-gateway",
        ),
        silence_alarm_name(project, env.name): (
            "the guard published nothing for two schedule periods: it is not running, so "
            "replaced ENIs stay without EIPs",
            f"check that its EventBridge rules are enabled and its function exists and is not "
            f"throttled; `cdktf deploy {env.name}` restores them",
        ),
        errors_alarm_name(project, env.name): (
            "guard invocations failed",
            f"see the guard's logs ({logs}): an AWS error, a refused association or a "
            "missing setting is named there",
        ),
    }
    response = cloudwatch.describe_alarms(AlarmNames=list(meanings))
    alarms = {a["AlarmName"]: a for a in response.get("MetricAlarms", [])}
    if not alarms:
        return [
            Finding(
                WARNING,
                GUARD,
                alarm_name(project, env.name),
                "the ENI guard's alarms do not exist: the guard "
                "is not deployed, so replaced ENIs stay without EIPs",
                deploy_fix(env, " (eni_guard.enabled is on in the config)"),
            )
        ]
    findings = []
    for name, (meaning, fix) in meanings.items():
        alarm = alarms.get(name)
        if alarm is None:
            findings.append(
                Finding(
                    WARNING,
                    GUARD,
                    name,
                    "this alarm of the ENI guard does not exist (deployed by an older version)",
                    deploy_fix(env),
                )
            )
            continue
        state = alarm.get("StateValue", "")
        if state == "ALARM":
            reason = alarm.get("StateReason", "")
            findings.append(Finding(ERROR, GUARD, name, f"in ALARM: {meaning} ({reason})", fix))
        elif state == "INSUFFICIENT_DATA":
            findings.append(
                Finding(
                    INFO,
                    GUARD,
                    name,
                    "no data yet: the guard has not run since it was deployed (it runs on its "
                    "schedule)",
                )
            )
        else:
            findings.append(Finding(OK, GUARD, name, "OK"))
    return findings


# --- CloudTrail, for the guard's event trigger --------------------------------------------------


def check_guard_concurrency(
    lambda_client: BaseClient, project: str, env: EnvironmentConfig
) -> list[Finding]:
    """With `eni_guard.reserved_concurrency`: whether the account has room for the guard's
    reservation of 1. Two calls: GetFunctionConcurrency and GetAccountSettings."""
    name = guard_function_name(project, env.name)
    try:
        reserved = lambda_client.get_function_concurrency(FunctionName=name).get(
            "ReservedConcurrentExecutions"
        )
    except ClientError as exc:
        # Not deployed yet: the reservation is still to be made.
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        reserved = None
    limits = lambda_client.get_account_settings().get("AccountLimit", {})
    limit = limits.get("ConcurrentExecutions")
    unreserved = limits.get("UnreservedConcurrentExecutions")
    if reserved == 1:
        return [Finding(OK, GUARD_CONCURRENCY, name, f"reserves 1 of the account's {limit}")]
    if unreserved is None or unreserved - 1 >= MIN_UNRESERVED_CONCURRENCY:
        return [
            Finding(
                OK,
                GUARD_CONCURRENCY,
                name,
                f"the account can reserve 1 for the guard ({unreserved} of {limit} unreserved)",
            )
        ]
    table = f"[environments.{env.name}.eni_guard]"
    # The limit at which the reservation leaves the minimum unreserved.
    needed = (limit or 0) - unreserved + MIN_UNRESERVED_CONCURRENCY + 1
    return [
        Finding(
            ERROR,
            GUARD_CONCURRENCY,
            name,
            f"the account's Lambda concurrency limit is {limit} ({unreserved} unreserved) and "
            f"Lambda keeps {MIN_UNRESERVED_CONCURRENCY} unreserved: reserving 1 for the guard "
            "fails the deploy",
            f"set reserved_concurrency = false under {table} (the lock table still keeps one "
            f"run at a time), or request a Lambda concurrent-executions quota of at least "
            f"{needed}",
        )
    ]


def check_cloudtrail(cloudtrail: BaseClient, env: EnvironmentConfig, region: str) -> list[Finding]:
    """Is there a trail that logs write management events in ``region``?

    EventBridge only receives "AWS API Call via CloudTrail" events where a trail with logging
    enabled records them (EventBridge user guide, events from AWS services via CloudTrail).
    Without one, the guard's CreateNetworkInterface rule never fires and only its schedule
    re-attaches EIPs. Calls: 1 DescribeTrails, then per trail covering the region 1
    GetTrailStatus and, if it logs, 1 GetEventSelectors, until one qualifies.
    """
    trails = cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", [])
    covering = [t for t in trails if t.get("IsMultiRegionTrail") or t.get("HomeRegion") == region]
    notes = []
    for trail in sorted(covering, key=lambda t: t.get("Name", "")):
        arn = trail.get("TrailARN") or trail.get("Name", "")
        try:
            if not cloudtrail.get_trail_status(Name=arn).get("IsLogging"):
                notes.append(f"{trail.get('Name')} is not logging")
                continue
            selectors = cloudtrail.get_event_selectors(TrailName=arn)
        except ClientError as exc:
            # An organization trail's shadow copy may not be readable from a member account.
            notes.append(f"{trail.get('Name')}: could not read it ({aws.explain(exc)})")
            continue
        if not _logs_write_management_events(selectors):
            notes.append(f"{trail.get('Name')} does not log write management events")
            continue
        return [
            Finding(
                OK,
                TRAIL,
                trail.get("Name", arn),
                f"logs write management events in {region}: the guard hears Lambda's "
                "CreateNetworkInterface",
            )
        ]
    seen = f" ({'; '.join(notes)})" if notes else ""
    return [
        Finding(
            WARNING,
            TRAIL,
            region,
            f"no CloudTrail trail logs write management events in {region}{seen}: EventBridge "
            "gets no CreateNetworkInterface events, so replaced ENIs wait for the guard's "
            f"schedule ({env.eni_guard.schedule}) instead of being fixed within seconds",
            "create a trail that logs management events and start it: `aws cloudtrail "
            "create-trail --name management-events --s3-bucket-name <bucket> "
            "--is-multi-region-trail` then `aws cloudtrail start-logging --name "
            "management-events`",
        )
    ]


def _logs_write_management_events(selectors: Mapping[str, Any]) -> bool:
    advanced = selectors.get("AdvancedEventSelectors") or []
    if advanced:
        for selector in advanced:
            fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or []}
            category = fields.get("eventCategory", {})
            read_only = fields.get("readOnly", {})
            if "Management" in (category.get("Equals") or []) and (
                read_only.get("Equals") or []
            ) != ["true"]:
                return True
        return False
    basic = selectors.get("EventSelectors") or []
    if not basic:
        return True  # a trail without selectors logs all management events
    return any(
        s.get("IncludeManagementEvents", True) and s.get("ReadWriteType", "All") != "ReadOnly"
        for s in basic
    )


def _eips_not_on(
    eips: Iterable[AllowListedEip], held: set[str | None], where: str, env: EnvironmentConfig
) -> list[Finding]:
    """An error for each allow-listed EIP that no gateway holds: nothing leaves from it."""
    return [
        Finding(
            ERROR,
            EIP,
            eip.allocation_id,
            f"{eip.public_ip} ({eip.az or 'AZ unknown'}) is not {where}, so no traffic leaves "
            "from it",
            deploy_fix(env),
        )
        for eip in eips
        if eip.allocation_id not in held
    ]
