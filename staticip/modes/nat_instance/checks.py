"""What `staticip doctor` checks for `egress = "nat-instance"`: each NAT AZ's Auto Scaling
group and its instance, the static ENI holding the allow-listed EIP, and each function
subnet's route to that ENI."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from botocore.client import BaseClient

from staticip import aws
from staticip.config import EnvironmentConfig
from staticip.doctor_context import DoctorCheck, DoctorContext, ModeChecks
from staticip.doctor_egress import (
    ROUTE,
    _eips_not_on,
    default_routes,
    deploy_fix,
    route_target,
)
from staticip.eips import AllowListedEip, environment_tag_filters
from staticip.findings import ERROR, OK, WARNING, Finding
from staticip.modes.nat_instance import PerAzNatInstance, SingleNatInstance
from staticip.names import NAT_INSTANCE_TAG, nat_instance_group_name

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


def doctor_checks(env: EnvironmentConfig) -> Sequence[DoctorCheck]:
    return (
        DoctorCheck(NAT_INSTANCE, _instances, needs=("autoscaling", "ec2")),
        DoctorCheck(NAT_ENI, _enis),
        DoctorCheck(ROUTE, _routes),
    )


CHECKS: Mapping[str, ModeChecks] = {
    PerAzNatInstance().label: doctor_checks,
    SingleNatInstance().label: doctor_checks,
}
