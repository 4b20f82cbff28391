"""`egress = "nat-instance"`: the function in private subnets behind a NAT instance per AZ
(`nat = "per-az"`, default) or one for all AZs (`nat = "single"`).

Each NAT AZ has a static ENI in its public subnet that holds the AZ's allow-listed EIP (an
`aws_eip_association` Terraform owns) and is the private route tables' 0.0.0.0/0 target, and
an Auto Scaling group of exactly one instance whose boot script (stacks/nat_instance_boot.sh)
attaches that ENI and masquerades the VPC's traffic out of it. A replaced instance attaches the
same ENI, so egress resumes from the same address with no Terraform run; what the replacement
costs is one instance boot (fck-nat users report 3-5 minutes, fck-nat issue #80), and
connections in flight are dropped.

Here: the declarations (`PerAzNatInstance`, `SingleNatInstance`), the config keys, the price
rule, what `staticip doctor` checks and the `staticip review` rule. No CDKTF import at module
level (`build` imports the construct), and not the `staticip.modes` registry, which imports this
module on first use.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient

from staticip import aws
from staticip.config import EnvironmentConfig, TableReader
from staticip.doctor_egress import (
    ROUTE,
    _eips_not_on,
    default_routes,
    deploy_fix,
    route_target,
)
from staticip.eips import AllowListedEip, environment_tag_filters
from staticip.findings import ERROR, OK, WARNING, Finding
from staticip.modes.base import DoctorCheck, DoctorContext, EgressMode, Option
from staticip.names import NAT_INSTANCE_TAG, nat_instance_group_name
from staticip.review.model import BLOCKER as REVIEW_BLOCKER
from staticip.review.model import DELETE, NOTE, REPLACE, UPDATE
from staticip.review.model import WARNING as REVIEW_WARNING
from staticip.review.model import Finding as ReviewFinding
from staticip.review.plans import PlanView
from staticip.review.rules import ip_of_allocation, replace_why
from staticip.stackfile import blocks

if TYPE_CHECKING:
    from stacks.mode_context import EgressContext
    from staticip.cost import LineItem
    from staticip.prices import Prices

# --- config -------------------------------------------------------------------------------------

INSTANCE_TYPE_KEY = "nat_instance_type"
SSM_KEY = "nat_instance_ssm"
DEFAULT_INSTANCE_TYPE = "t4g.nano"
"""fck-nat's default: the cheapest instance (~$3/month), 32 Mbps sustained, bursts to 5 Gbps."""

ARM64, X86_64 = "arm64", "x86_64"
#: The instance families a NAT instance may use -> the CPU architecture of their Amazon Linux
#: 2023 AMI: current-generation families with ENA networking, burstable or network-heavy.
FAMILIES: Mapping[str, str] = {
    **dict.fromkeys(
        ("t4g", "c6g", "c6gn", "c7g", "c7gn", "c8g", "m6g", "m7g", "m8g", "r6g", "r7g"), ARM64
    ),
    **dict.fromkeys(
        ("t3", "t3a", "c5", "c5n", "c6i", "c6in", "c7i", "m5", "m5n", "m6i", "m7i", "r6in"),
        X86_64,
    ),
}
_SIZE = re.compile(r"(nano|micro|small|medium|large|xlarge|[1-9][0-9]?xlarge|metal)")
#: The public SSM parameter EC2 resolves to the newest AL2023 AMI at every launch.
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
#: The root volume `cost` assumes for a launch template that states no size (the AL2023 AMI's).
ROOT_VOLUME_GIB = 8

_REGIONAL_REASON = (
    "is a NAT Gateway layout, not a NAT instance one; use 'per-az' (default) or 'single', or "
    "egress = 'nat-gateway' for a regional NAT Gateway"
)


def instance_type(env: EnvironmentConfig) -> str:
    return str(env.mode_options.get(INSTANCE_TYPE_KEY, DEFAULT_INSTANCE_TYPE))


def ssm_enabled(env: EnvironmentConfig) -> bool:
    return bool(env.mode_options.get(SSM_KEY, False))


def architecture(type_name: str) -> str:
    """arm64 or x86_64, from the instance family (raises KeyError for an unknown one)."""
    return FAMILIES[type_name.split(".", 1)[0]]


def burstable(type_name: str) -> bool:
    return type_name.startswith("t")


def _instance_type_problem(value: str) -> str | None:
    family, dot, size = value.partition(".")
    if family not in FAMILIES:
        return (
            f"'{value}' is not an instance type of a known family; use one of "
            f"{', '.join(sorted(FAMILIES))}, e.g. '{DEFAULT_INSTANCE_TYPE}'"
        )
    if not dot or not _SIZE.fullmatch(size):
        return f"'{value}' has no instance size; write it like '{family}.medium'"
    return None


# --- cost ---------------------------------------------------------------------------------------


def _tagged(values: Mapping[str, Any]) -> bool:
    return NAT_INSTANCE_TAG in (values.get("tags") or {})


def price_nat_instances(resources: Mapping[str, Any], prices: Prices) -> list[LineItem]:
    """One instance per NAT launch template (its group holds exactly one): the instance by
    type, its root volume, and the public address its primary interface boots with. No per-GB
    fee: a NAT instance processes traffic for nothing but its hourly price."""
    from staticip.cost import LineItem

    templates = [t for t in resources.get("aws_launch_template", {}).values() if _tagged(t)]
    if not templates:
        return []
    items = []
    by_type: dict[str, int] = {}
    for template in templates:
        name = str(template.get("instance_type", "?"))
        by_type[name] = by_type.get(name, 0) + 1
    for name, count in sorted(by_type.items()):
        per_hour = prices.ec2_per_hour.get(name)
        if per_hour is None:
            items.append(
                LineItem(
                    f"EC2 instance {name}",
                    count,
                    0.0,
                    0.0,
                    f"NOT PRICED: no {name} in [ec2_per_hour]; add it with --prices",
                )
            )
            continue
        items.append(
            LineItem(
                f"EC2 instance {name}",
                count,
                count * prices.monthly(per_hour),
                0.0,
                "NAT instance, On-Demand; no per-GB processing fee",
            )
        )
    sizes = [_root_volume_gib(template) for template in templates]
    items.append(
        LineItem(
            "EBS gp3 root volume",
            len(sizes),
            sum(sizes) * prices.ebs_gp3_per_gb_month,
            0.0,
            f"{'/'.join(f'{size:g}' for size in sorted(set(sizes)))} GiB each",
        )
    )
    bootstrap = sum(
        1
        for template in templates
        for interface in blocks(template.get("network_interfaces"))
        if interface.get("associate_public_ip_address") in (True, "true")
    )
    if bootstrap:
        items.append(
            LineItem(
                "public IPv4: NAT instance",
                bootstrap,
                bootstrap * prices.monthly(prices.public_ipv4_per_hour),
                0.0,
                "the primary interface's own address (boot-time AWS calls, updates)",
            )
        )
    return items


def _root_volume_gib(template: Mapping[str, Any]) -> float:
    for mapping in blocks(template.get("block_device_mappings")):
        for ebs in blocks(mapping.get("ebs")):
            size = ebs.get("volume_size")
            if isinstance(size, int | float) and size > 0:
                return float(size)
    return float(ROOT_VOLUME_GIB)


def _unit_monthly(prices: Prices) -> float:
    """One NAT AZ with the default instance: instance, root volume, EIP, bootstrap address."""
    ipv4 = prices.monthly(prices.public_ipv4_per_hour)
    instance = prices.monthly(prices.ec2_per_hour.get(DEFAULT_INSTANCE_TYPE, 0.0))
    return instance + ROOT_VOLUME_GIB * prices.ebs_gp3_per_gb_month + 2 * ipv4


def versus_single_nat_gateway(fixed_monthly: float, prices: Prices) -> str:
    """Where a NAT instance line (`fixed_monthly`, no per-GB fee) stands against one NAT
    Gateway and its EIP: the comparison users make before they take on an instance."""
    gateway = prices.monthly(prices.nat_gateway_per_hour) + prices.monthly(
        prices.public_ipv4_per_hour
    )
    per_gb = prices.nat_gateway_per_gb
    head = f"vs a single NAT Gateway ({gateway:,.2f}/month + {per_gb:g}/GB): "
    if fixed_monthly <= gateway:
        return head + f"cheaper at any traffic, by {gateway - fixed_monthly:,.2f}/month at 0 GB"
    if not per_gb:
        return head + f"{fixed_monthly - gateway:,.2f}/month dearer at any traffic"
    return head + f"cheaper above {(fixed_monthly - gateway) / per_gb:,.0f} GB/month"


# --- doctor -------------------------------------------------------------------------------------

#: Check names (doctor's CHECK column); the routes keep the NAT Gateway's `route`.
NAT_INSTANCE = "nat-instance"
NAT_ENI = "nat-eni"

_HEALTHY_STATUS = "ok"


def _nat_azs(env: EnvironmentConfig) -> tuple[str, ...]:
    mode = env.egress_mode
    return mode.static_ip_azs(env) if mode else ()


def _activity_fix(group: str) -> str:
    return (
        f"see why: `aws autoscaling describe-scaling-activities --auto-scaling-group-name {group}`"
        " and the instance's console output (lines starting staticip-nat:)"
    )


def check_nat_instances(
    autoscaling: BaseClient, ec2: BaseClient, project: str, env: EnvironmentConfig
) -> tuple[list[Finding], dict[str, str]]:
    """Per NAT AZ: its Auto Scaling group has its one instance, InService and Healthy, running
    and passing both EC2 status checks, launched from the version the group launches now.
    Returns `{az: instance_id}` of the instances found running.

    2 AWS calls: DescribeAutoScalingGroups (every NAT group by name) and DescribeInstanceStatus
    (their instances). Raises botocore errors; the caller turns them into a finding."""
    names = {az: nat_instance_group_name(project, env.name, az) for az in _nat_azs(env)}
    groups = {
        g["AutoScalingGroupName"]: g
        for g in aws.paginate(
            autoscaling,
            "describe_auto_scaling_groups",
            "AutoScalingGroups",
            AutoScalingGroupNames=list(names.values()),
        )
    }
    members = {
        az: list(groups[name].get("Instances") or [])
        for az, name in names.items()
        if name in groups
    }
    ids = sorted(i["InstanceId"] for instances in members.values() for i in instances)
    statuses = {}
    if ids:
        response = ec2.describe_instance_status(InstanceIds=ids, IncludeAllInstances=True)
        statuses = {s["InstanceId"]: s for s in response.get("InstanceStatuses", [])}
    findings: list[Finding] = []
    running: dict[str, str] = {}
    for az, name in names.items():
        group = groups.get(name)
        if group is None:
            findings.append(
                Finding(ERROR, NAT_INSTANCE, name, f"{az}: no Auto Scaling group", deploy_fix(env))
            )
            continue
        instances = members[az]
        if not instances:
            findings.append(
                Finding(
                    ERROR,
                    NAT_INSTANCE,
                    name,
                    f"{az}: the group has no instance, so {az}'s private subnets have no egress",
                    _activity_fix(name),
                )
            )
            continue
        if len(instances) > 1:
            findings.append(
                Finding(
                    WARNING,
                    NAT_INSTANCE,
                    name,
                    f"{az}: {len(instances)} instances; only the one holding the static ENI "
                    "forwards traffic (a replacement under way?)",
                    "run doctor again in a few minutes",
                )
            )
        for member in instances:
            status = statuses.get(member["InstanceId"])
            findings += _instance_findings(env, az, group, member, status)
            if status and _state(status) == "running":
                running.setdefault(az, member["InstanceId"])
    return findings, running


def _state(status: Mapping[str, Any]) -> str:
    return str((status.get("InstanceState") or {}).get("Name", "unknown"))


def _instance_findings(
    env: EnvironmentConfig,
    az: str,
    group: Mapping[str, Any],
    member: Mapping[str, Any],
    status: Mapping[str, Any] | None,
) -> list[Finding]:
    instance_id, name = member["InstanceId"], group["AutoScalingGroupName"]
    lifecycle, health = member.get("LifecycleState", "?"), member.get("HealthStatus", "?")
    if lifecycle != "InService" or health != "Healthy":
        booting = lifecycle.startswith("Pending") and health == "Healthy"
        return [
            Finding(
                WARNING if booting else ERROR,
                NAT_INSTANCE,
                instance_id,
                f"{az}: {lifecycle}, {health}"
                + (": booting, no egress until it has attached the ENI" if booting else ""),
                "run doctor again in a few minutes" if booting else _activity_fix(name),
            )
        ]
    if status is None or _state(status) != "running":
        state = _state(status) if status else "not found"
        return [Finding(ERROR, NAT_INSTANCE, instance_id, f"{az}: {state}", _activity_fix(name))]
    checks = {
        label: str((status.get(key) or {}).get("Status", "unknown"))
        for label, key in (("instance", "InstanceStatus"), ("system", "SystemStatus"))
    }
    failing = {label: value for label, value in checks.items() if value != _HEALTHY_STATUS}
    if failing:
        starting = set(failing.values()) <= {"initializing"}
        shown = ", ".join(f"{label} status {value}" for label, value in failing.items())
        return [
            Finding(
                WARNING if starting else ERROR,
                NAT_INSTANCE,
                instance_id,
                f"{az}: running, {shown}",
                "run doctor again in a few minutes"
                if starting
                else "the group's EC2 health check replaces an impaired instance; "
                + _activity_fix(name),
            )
        ]
    findings = []
    wanted = str((group.get("LaunchTemplate") or {}).get("Version", ""))
    launched = str((member.get("LaunchTemplate") or {}).get("Version", ""))
    if wanted and launched and wanted != launched:
        findings.append(
            Finding(
                WARNING,
                NAT_INSTANCE,
                instance_id,
                f"{az}: launched from launch template version {launched}; the group launches "
                f"version {wanted}, so the last deploy's instance changes apply at the next "
                "replacement",
                f"roll it now: `aws autoscaling start-instance-refresh --auto-scaling-group-name"
                f" {name}` (a gap of one instance boot in {az})",
            )
        )
    type_name = member.get("InstanceType", "?")
    findings.append(
        Finding(
            OK,
            NAT_INSTANCE,
            instance_id,
            f"{az}: {type_name} InService, running, status checks ok",
        )
    )
    return findings


def check_nat_enis(
    ec2: BaseClient,
    project: str,
    env: EnvironmentConfig,
    eips: Sequence[AllowListedEip],
    instances: Mapping[str, str],
) -> tuple[list[Finding], dict[str, str], set[str]]:
    """Per NAT AZ: its static ENI is attached to the group's instance (`instances`, by AZ),
    has source/destination check off and holds the AZ's allow-listed EIP. Returns `{az:
    eni_id}` of the static ENIs found, for the route check, and the IDs of those that pass.
    1 DescribeNetworkInterfaces."""
    enis = aws.paginate(
        ec2,
        "describe_network_interfaces",
        "NetworkInterfaces",
        Filters=[
            *environment_tag_filters(project, env.name),
            {"Name": "tag-key", "Values": [NAT_INSTANCE_TAG]},
        ],
    )
    by_az: dict[str, list[Mapping[str, Any]]] = {}
    for eni in enis:
        by_az.setdefault(aws.tags(eni).get(NAT_INSTANCE_TAG, "?"), []).append(eni)
    ours = {eip.allocation_id: eip for eip in eips}
    findings: list[Finding] = []
    found_by_az: dict[str, str] = {}
    good: set[str] = set()
    for az in _nat_azs(env):
        found = by_az.get(az, [])
        if not found:
            findings.append(
                Finding(
                    ERROR,
                    NAT_ENI,
                    az,
                    f"no static ENI tagged {NAT_INSTANCE_TAG}={az}: {az}'s route has no target",
                    deploy_fix(env),
                )
            )
            continue
        found_by_az[az] = found[0]["NetworkInterfaceId"]
        for eni in found:
            group = nat_instance_group_name(project, env.name, az)
            problems = _eni_problems(env, az, eni, ours, group, instances.get(az))
            findings += problems
            if not problems:
                ip = (eni.get("Association") or {}).get("PublicIp", "?")
                instance = (eni.get("Attachment") or {}).get("InstanceId")
                findings.append(
                    Finding(
                        OK,
                        NAT_ENI,
                        eni["NetworkInterfaceId"],
                        f"{az}: attached to {instance}, source/destination check off, holds "
                        f"EIP {ip}",
                    )
                )
                good.add(eni["NetworkInterfaceId"])
    held = {(eni.get("Association") or {}).get("AllocationId") for eni in enis}
    findings += _eips_not_on(eips, held, "on a NAT instance's static ENI", env)
    return findings, found_by_az, good


def _eni_problems(
    env: EnvironmentConfig,
    az: str,
    eni: Mapping[str, Any],
    ours: Mapping[str, AllowListedEip],
    group: str,
    instance: str | None,
) -> list[Finding]:
    eni_id = eni["NetworkInterfaceId"]
    found = []
    if eni.get("SourceDestCheck", True):
        found.append(
            Finding(
                ERROR,
                NAT_ENI,
                eni_id,
                f"{az}: source/destination check is on, so EC2 drops the traffic the instance "
                "forwards",
                deploy_fix(env, " to turn it off again"),
            )
        )
    attachment = eni.get("Attachment") or {}
    attached_to = attachment.get("InstanceId") if attachment.get("Status") == "attached" else None
    if attached_to is None:
        found.append(
            Finding(
                ERROR,
                NAT_ENI,
                eni_id,
                f"{az}: not attached to an instance ({attachment.get('Status', 'detached')}), "
                f"so {az}'s private subnets have no egress",
                "the instance attaches it at boot: see its console output (lines starting "
                "staticip-nat:); terminate it and its group replaces it: `aws autoscaling "
                "terminate-instance-in-auto-scaling-group --no-should-decrement-desired-capacity"
                f" --instance-id <id>` ({group})",
            )
        )
    elif instance and attached_to != instance:
        found.append(
            Finding(
                ERROR,
                NAT_ENI,
                eni_id,
                f"{az}: attached to {attached_to}, not to {group}'s instance {instance}",
                f"detach it from {attached_to}; the group's instance attaches it when it is "
                "replaced",
            )
        )
    allocation = (eni.get("Association") or {}).get("AllocationId")
    eip = ours.get(allocation or "")
    if eip is None:
        ip = (eni.get("Association") or {}).get("PublicIp")
        found.append(
            Finding(
                ERROR,
                NAT_ENI,
                eni_id,
                f"{az}: "
                + (
                    f"holds {ip}, not one of {env.name}'s allow-listed EIPs"
                    if ip
                    else "holds no Elastic IP, so forwarded traffic has no internet access"
                ),
                deploy_fix(env, " to associate the allow-listed EIP"),
            )
        )
    elif eip.az and eip.az != az:
        found.append(
            Finding(
                WARNING,
                NAT_ENI,
                eni_id,
                f"{az}: holds {eip.public_ip}, the allow-listed EIP of {eip.az}",
                deploy_fix(env),
            )
        )
    return found


def check_nat_instance_routes(
    ec2: BaseClient,
    env: EnvironmentConfig,
    subnet_ids: Sequence[str],
    subnet_az: Mapping[str, str],
    enis: Mapping[str, str],
    serving: Collection[str] = (),
) -> list[Finding]:
    """Each function subnet routes 0.0.0.0/0 to the static ENI of its own AZ (`enis`, by AZ;
    with `nat = "single"`, the one AZ's), and that ENI is one of `serving` (attached, holding
    the EIP: what `check_nat_enis` confirmed)."""
    nat_azs = _nat_azs(env)
    findings = []
    for subnet, rtb, route in default_routes(ec2, subnet_ids):
        az = subnet_az.get(subnet, "?")
        nat_az = az if az in nat_azs else (nat_azs[0] if nat_azs else "?")
        wanted = enis.get(nat_az)
        fix = deploy_fix(env, " to restore the route")
        if route is None:
            findings.append(
                Finding(
                    ERROR,
                    ROUTE,
                    subnet,
                    f"{rtb}: no 0.0.0.0/0 route, the function cannot reach the internet",
                    fix,
                )
            )
            continue
        target = route_target(route)
        state = route.get("State", "active")
        if wanted and target == wanted and state == "active" and wanted not in serving:
            findings.append(
                Finding(
                    ERROR,
                    ROUTE,
                    subnet,
                    f"{rtb} routes 0.0.0.0/0 via {target}, {nat_az}'s static ENI, which forwards "
                    "nothing now",
                    "see the nat-eni and nat-instance findings",
                )
            )
        elif wanted and target == wanted and state == "active":
            findings.append(
                Finding(OK, ROUTE, subnet, f"{rtb} routes 0.0.0.0/0 via {target} ({nat_az})")
            )
        elif wanted and target == wanted:
            findings.append(
                Finding(
                    ERROR,
                    ROUTE,
                    subnet,
                    f"{rtb} routes 0.0.0.0/0 via {target}, which is {state}: the ENI is on no "
                    "running instance",
                    "see the nat-eni and nat-instance findings",
                )
            )
        else:
            expected = wanted or f"{nat_az}'s static ENI"
            findings.append(
                Finding(
                    ERROR,
                    ROUTE,
                    subnet,
                    f"{rtb} routes 0.0.0.0/0 via {target}, not via {expected}"
                    + (" (another AZ's NAT instance)" if target in enis.values() else ""),
                    fix,
                )
            )
    return findings


def _instances(ctx: DoctorContext) -> list[Finding]:
    found, ctx.facts["nat_instances"] = check_nat_instances(
        ctx.clients["autoscaling"], ctx.clients["ec2"], ctx.project, ctx.env
    )
    return found


def _enis(ctx: DoctorContext) -> list[Finding]:
    found, ctx.facts["nat_enis"], ctx.facts["nat_enis_serving"] = check_nat_enis(
        ctx.clients["ec2"],
        ctx.project,
        ctx.env,
        ctx.facts["eips"],
        ctx.facts.get("nat_instances", {}),
    )
    return found


def _routes(ctx: DoctorContext) -> list[Finding]:
    fn = ctx.facts["function"]
    if not fn.found:
        return []
    return check_nat_instance_routes(
        ctx.clients["ec2"],
        ctx.env,
        fn.subnet_ids,
        ctx.facts["subnet_az"],
        ctx.facts["nat_enis"],
        ctx.facts["nat_enis_serving"],
    )


# --- review -------------------------------------------------------------------------------------


def _nat_az(values: Mapping[str, Any]) -> str | None:
    """The AZ of a NAT instance resource: its tag (ENIs, launch templates) or its group's."""
    tags = values.get("tags") or {}
    if isinstance(tags, dict) and NAT_INSTANCE_TAG in tags:
        return str(tags[NAT_INSTANCE_TAG])
    for tag in values.get("tag") or []:
        if isinstance(tag, dict) and tag.get("key") == NAT_INSTANCE_TAG:
            return str(tag.get("value"))
    return None


def _eni_ip(plan: PlanView, eni_id: str | None) -> str | None:
    for rc in plan.of_type("aws_eip_association"):
        before = plan.before(rc)
        if eni_id and before.get("network_interface_id") == eni_id:
            return before.get("public_ip") or ip_of_allocation(plan, before.get("allocation_id"))
    return None


def nat_instance_findings(plan: PlanView) -> list[ReviewFinding]:
    """The static ENI replaced or destroyed is a blocker: the running instance loses it and
    only a replacement instance attaches the new one. The Auto Scaling group replaced costs a
    gap of one instance boot; a launch template replaced or changed takes effect with the
    next instance."""
    findings = []
    for rc in plan.changes_of("aws_network_interface", REPLACE, DELETE):
        before = plan.before(rc)
        az = _nat_az(before)
        if az is None:
            continue
        eni_id = before.get("id")
        ip = _eni_ip(plan, eni_id)
        holds = f", which holds {ip}," if ip else ""
        if plan.action(rc) == REPLACE:
            findings.append(
                ReviewFinding(
                    REVIEW_BLOCKER,
                    "nat-eni-replaced",
                    rc["address"],
                    f"The static ENI of {az}'s NAT instance ({eni_id}{holds}) is replaced"
                    f"{replace_why(rc)}: Terraform detaches it from the running instance to "
                    "delete it, and only a new instance attaches the new one at boot, so "
                    f"{az}'s private subnets have no egress after this apply until the "
                    "instance is replaced (terminate it: its group launches one that attaches "
                    "the new ENI, a gap of one boot). The EIP association moves to the new ENI.",
                    (ip,) if ip else (),
                )
            )
        else:
            findings.append(
                ReviewFinding(
                    REVIEW_BLOCKER,
                    "nat-eni-destroyed",
                    rc["address"],
                    f"The static ENI of {az}'s NAT instance ({eni_id}{holds}) is destroyed: "
                    f"{az}'s private subnets lose the target of their default route, and their "
                    "egress, unless this plan routes them elsewhere.",
                    (ip,) if ip else (),
                )
            )
    for rc in plan.changes_of("aws_autoscaling_group", REPLACE, DELETE):
        before = plan.before(rc)
        az = _nat_az(before)
        if az is None:
            continue
        verb = "replaced" if plan.action(rc) == REPLACE else "destroyed"
        after = (
            "a new one boots and attaches the static ENI: no egress from "
            f"{az}'s private subnets for one instance boot (minutes)"
            if verb == "replaced"
            else f"nothing forwards {az}'s traffic any more unless this plan routes it elsewhere"
        )
        findings.append(
            ReviewFinding(
                REVIEW_WARNING,
                f"nat-instance-group-{verb}",
                rc["address"],
                f"The Auto Scaling group of {az}'s NAT instance ({before.get('name', '')}) is "
                f"{verb}{replace_why(rc)}: its instance is terminated with it and {after}; "
                "connections in flight are dropped. The allow-listed EIP stays on the ENI.",
            )
        )
    for rc in plan.changes_of("aws_launch_template", REPLACE, UPDATE):
        before = plan.before(rc)
        az = _nat_az(before)
        if az is None:
            continue
        if plan.action(rc) == REPLACE:
            findings.append(
                ReviewFinding(
                    REVIEW_WARNING,
                    "nat-launch-template-replaced",
                    rc["address"],
                    f"The launch template of {az}'s NAT instance ({before.get('name', '')}) is "
                    f"replaced{replace_why(rc)}: the running instance keeps forwarding, and the "
                    "group launches its next instance from the new template; that replacement "
                    f"is a gap of one instance boot in {az}.",
                )
            )
            continue
        changed = _changed_settings(before, plan.after(rc), plan.unknown(rc))
        findings.append(
            ReviewFinding(
                NOTE,
                "nat-launch-template-changed",
                rc["address"],
                f"The launch template of {az}'s NAT instance changes"
                + (f" ({', '.join(changed)})" if changed else "")
                + ": the running instance is unaffected; the change applies when the group "
                "next replaces it (a gap of one instance boot), or now with `aws autoscaling "
                "start-instance-refresh`.",
            )
        )
    return findings


#: Launch template arguments a review names when they change, with their label.
_TEMPLATE_SETTINGS = {
    "instance_type": "instance type",
    "user_data": "boot script",
    "image_id": "image",
    "iam_instance_profile": "instance profile",
    "network_interfaces": "network interface",
    "metadata_options": "metadata options",
}


def _changed_settings(
    before: Mapping[str, Any], after: Mapping[str, Any], unknown: Mapping[str, Any]
) -> list[str]:
    return [
        label
        for key, label in _TEMPLATE_SETTINGS.items()
        if unknown.get(key) or before.get(key) != after.get(key)
    ]


# --- the declarations ---------------------------------------------------------------------------


class _NatInstance(EgressMode):
    name = "nat-instance"
    variant_key = "nat"
    keys = {
        "nat": "the NAT layout: per-az (default) or single",
        INSTANCE_TYPE_KEY: f"the NAT instance type (default {DEFAULT_INSTANCE_TYPE})",
        SSM_KEY: "SSM Session Manager access to the NAT instances (default off)",
    }
    rejected_variants: Mapping[str, str] = {"regional": _REGIONAL_REASON}

    def options(self, r: TableReader, azs: tuple[str, ...]) -> dict[str, Any]:
        type_name = r.get(INSTANCE_TYPE_KEY, str, DEFAULT_INSTANCE_TYPE)
        problem = _instance_type_problem(type_name)
        if problem:
            raise r.fail(INSTANCE_TYPE_KEY, problem)
        return {INSTANCE_TYPE_KEY: type_name, SSM_KEY: r.get(SSM_KEY, bool, False)}

    def services(self, env: EnvironmentConfig) -> Sequence[str]:
        return ("autoscaling",)

    def doctor_checks(self, env: EnvironmentConfig) -> Sequence[DoctorCheck]:
        return (
            DoctorCheck(NAT_INSTANCE, _instances, needs=("autoscaling", "ec2")),
            DoctorCheck(NAT_ENI, _enis),
            DoctorCheck(ROUTE, _routes),
        )

    price_rules = (price_nat_instances,)
    review_rules = (nat_instance_findings,)

    def cost_option_name(self, env: EnvironmentConfig) -> str:
        # In one AZ both layouts are one instance and one EIP: that block lists only single.
        return self.label if len(env.azs) > 1 else SingleNatInstance().label

    def _option(self, nat_azs: int, prices: Prices, what: str) -> Option:
        fixed = nat_azs * _unit_monthly(prices)
        return Option(
            self.label,
            fixed,
            0.0,
            f"{nat_azs} {DEFAULT_INSTANCE_TYPE} NAT instance(s) + {nat_azs} EIP(s), no per-GB "
            f"fee; {what}; {versus_single_nat_gateway(fixed, prices)}",
        )

    def build(self, ctx: EgressContext) -> None:
        from stacks.nat_instance import NatInstanceEgress, NatInstanceProps

        env, network = ctx.env, ctx.network
        type_name = instance_type(env)
        NatInstanceEgress(
            ctx.stack,
            "nat-instance",
            NatInstanceProps(
                name=ctx.name,
                group_names={
                    az: nat_instance_group_name(ctx.project, env.name, az)
                    for az in ctx.allocation_ids
                },
                region=env.region,
                vpc_id=network.vpc.id,
                vpc_cidr=env.vpc_cidr,
                public_subnets=network.public_subnets,
                private_route_tables=network.private_route_tables,
                allocation_ids=ctx.allocation_ids,
                internet_gateway=network.igw,
                instance_type=type_name,
                image_id="resolve:ssm:" + AMI_PARAMETER.format(arch=architecture(type_name)),
                standard_cpu_credits=burstable(type_name),
                ssm=ssm_enabled(env),
                tags=ctx.default_tags,
            ),
        )


class PerAzNatInstance(_NatInstance):
    variant = "per-az"
    summary = "one NAT instance + EIP per AZ; a failed instance is replaced in minutes"

    def cost_option(self, az_count: int, prices: Prices) -> Option | None:
        if az_count < 2:
            return None  # in one AZ it is the single NAT instance
        return self._option(az_count, prices, "each AZ keeps egress if another fails")


class SingleNatInstance(_NatInstance):
    variant = "single"
    summary = "one NAT instance + EIP for all AZs; egress stops if it or its AZ fails"

    def static_ip_azs(self, env: EnvironmentConfig) -> tuple[str, ...]:
        # The alphabetically first AZ, so reordering `azs` never moves it.
        return (env.single_nat_az,)

    def cost_option(self, az_count: int, prices: Prices) -> Option:
        return self._option(1, prices, "egress stops while it is replaced or if its AZ fails")
