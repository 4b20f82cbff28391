"""What `staticip doctor` checks for `ingress = "nlb-eip"`: the NLB, the allow-listed ingress
EIP it answers on in each AZ, its listeners and `alb` target groups, and the internal ALB
behind them with its Lambda target (`staticip.doctor_ingress`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.client import BaseClient

from staticip import aws
from staticip.config import EnvironmentConfig
from staticip.doctor_context import DoctorCheck, DoctorContext, ModeChecks
from staticip.doctor_egress import deploy_fix
from staticip.doctor_ingress import (
    LISTENER,
    check_alb,
    lb_state_finding,
    short_arn,
    target_finding,
)
from staticip.eips import INGRESS, AllowListedEip, environment_tags, find_allow_listed_eips
from staticip.findings import ERROR, OK, WARNING, Finding
from staticip.modes.nlb_eip import NlbEip, ingress_azs, reused

#: Check names (doctor's CHECK column). The ALB and its Lambda target keep the Global
#: Accelerator mode's names (`alb`, `target`), and the NLB's listeners `listener`: an
#: environment has one ingress mode, so they cannot be confused.
NLB = "nlb"
INGRESS_EIP = "ingress-eip"
NLB_TARGET = "nlb-target"

HTTP_PORT = 80
HTTPS_PORT = 443
#: DescribeTags takes at most 20 resource ARNs a call.
_DESCRIBE_TAGS_MAX = 20
_NLB_TARGET_FIX = (
    "the NLB health-checks the ALB through the ALB's listener on that port, which answers "
    "with the webhook function: see the alb and target findings (an unhealthy Lambda target "
    "makes the ALB unhealthy to the NLB too)"
)
#: AWS cannot move an NLB's EIPs, so putting the allow-listed one back means a new NLB.
_REPLACE_NLB_FIX = (
    " to replace the NLB with one that holds the allow-listed EIP (AWS cannot change an NLB's "
    "Elastic IPs in place; webhooks fail until the new NLB is active)"
)


def check_nlb_ingress(
    elbv2: BaseClient, ec2: BaseClient, project: str, env: EnvironmentConfig
) -> list[Finding]:
    """NLB (state, scheme) -> its address in each AZ (an allow-listed ingress EIP) ->
    listeners -> `alb` target groups and their health -> the ALB (state, internal) -> its
    Lambda target's health.

    8 AWS calls on a healthy environment without a certificate, 9 with one: DescribeLoadBalancers
    (one page; it also describes the ALB, which saves check_alb that call), DescribeTags,
    DescribeAddresses, DescribeListeners, DescribeTargetGroups and one DescribeTargetHealth per
    listener's target group for the NLB, DescribeTargetGroups and DescribeTargetHealth for the
    ALB. Raises botocore errors; the caller turns them into a finding.
    """
    balancers = aws.paginate(elbv2, "describe_load_balancers", "LoadBalancers")
    listed = {lb["LoadBalancerArn"]: lb for lb in balancers}
    nlbs = _tagged(
        elbv2, [lb for lb in balancers if lb.get("Type") == "network"], project, env.name
    )
    if not nlbs:
        return [
            Finding(
                ERROR,
                NLB,
                env.name,
                f"no network load balancer tagged environment={env.name}, project={project} "
                f"in {env.region}",
                deploy_fix(env) + ", or check --region/--profile",
            )
        ]
    # Reused ingress EIPs are looked up by allocation ID too: they count before the stack's
    # tags reach them.
    eips = find_allow_listed_eips(ec2, project, env.name, reused(env), direction=INGRESS)
    ours = {eip.allocation_id for eip in eips}
    # The NLB holding the most allow-listed EIPs is the stack's; another one tagged for the
    # environment is a leftover (an EIP sits on one load balancer at a time).
    nlb, *others = sorted(nlbs, key=lambda lb: (-len(_allocations(lb) & ours), _created(lb)))
    name = _name(nlb)
    findings = [
        Finding(
            WARNING,
            NLB,
            _name(other),
            f"a second network load balancer tagged for {env.name}; {name} is the one checked",
            "delete it if nothing uses it: the stack makes one NLB",
        )
        for other in others
    ]
    findings += _nlb_findings(env, nlb)
    findings += _address_findings(env, nlb, eips)
    listeners = aws.paginate(
        elbv2, "describe_listeners", "Listeners", LoadBalancerArn=nlb["LoadBalancerArn"]
    )
    findings += _listener_findings(env, name, listeners)
    groups = aws.paginate(
        elbv2, "describe_target_groups", "TargetGroups", LoadBalancerArn=nlb["LoadBalancerArn"]
    )
    group_findings, alb_arns = _target_group_findings(elbv2, env, name, groups)
    findings += group_findings
    for arn in alb_arns:
        findings += check_alb(
            elbv2,
            env,
            arn,
            referrer="the NLB's target",
            internal=True,
            described=listed.get(arn),
        )
    return findings


def _tagged(
    elbv2: BaseClient, lbs: Sequence[Mapping[str, Any]], project: str, environment: str
) -> list[Mapping[str, Any]]:
    """The load balancers carrying the environment's default tags (DescribeLoadBalancers
    returns no tags)."""
    wanted = environment_tags(project, environment)
    tagged: set[str] = set()
    arns = [lb["LoadBalancerArn"] for lb in lbs]
    for start in range(0, len(arns), _DESCRIBE_TAGS_MAX):
        response = elbv2.describe_tags(ResourceArns=arns[start : start + _DESCRIBE_TAGS_MAX])
        for description in response.get("TagDescriptions", []):
            if all(aws.tags(description).get(k) == v for k, v in wanted.items()):
                tagged.add(description["ResourceArn"])
    return [lb for lb in lbs if lb["LoadBalancerArn"] in tagged]


def _allocations(lb: Mapping[str, Any]) -> set[str]:
    return {
        address["AllocationId"]
        for zone in lb.get("AvailabilityZones") or []
        for address in zone.get("LoadBalancerAddresses") or []
        if address.get("AllocationId")
    }


def _created(lb: Mapping[str, Any]) -> str:
    return str(lb.get("CreatedTime", ""))


def _nlb_findings(env: EnvironmentConfig, nlb: Mapping[str, Any]) -> list[Finding]:
    """State and scheme."""
    scheme = nlb.get("Scheme", "?")
    findings = [lb_state_finding(env, NLB, nlb, f", {scheme}, {nlb.get('DNSName', 'no DNS name')}")]
    if scheme != "internet-facing":
        findings.append(
            Finding(
                ERROR,
                NLB,
                _name(nlb),
                f"{scheme}: vendors cannot reach it, and an internal NLB holds no Elastic IPs",
                # The scheme is fixed when a load balancer is created.
                deploy_fix(env, " (it replaces the NLB with an internet-facing one)"),
            )
        )
    return findings


def _address_findings(
    env: EnvironmentConfig, nlb: Mapping[str, Any], eips: Sequence[AllowListedEip]
) -> list[Finding]:
    """In each of the environment's AZs the NLB must answer on that AZ's allow-listed ingress
    EIP: the vendors' allow-lists name those addresses, not the NLB's DNS name."""
    ours = {eip.allocation_id: eip for eip in eips}
    by_az: dict[str, AllowListedEip] = {}
    for eip in eips:
        if eip.az:
            by_az.setdefault(eip.az, eip)
    zones = {zone.get("ZoneName", "?"): zone for zone in nlb.get("AvailabilityZones") or []}
    findings = []
    for az in ingress_azs(env):
        wanted = by_az.get(az)
        listed = (
            f"the vendors' allow-list has {wanted.public_ip} ({wanted.allocation_id})"
            + (f", now on {wanted.network_interface_id}" if wanted.network_interface_id else "")
            if wanted
            else f"no allow-listed ingress EIP is tagged staticip:az={az}"
        )
        zone = zones.get(az)
        if zone is None:
            findings.append(
                Finding(
                    ERROR,
                    INGRESS_EIP,
                    az,
                    f"the NLB is not in {az}: {listed}, and it reaches nothing",
                    deploy_fix(env, " to add the AZ to the NLB (done in place)"),
                )
            )
            continue
        addresses = zone.get("LoadBalancerAddresses") or []
        held = next((a for a in addresses if a.get("AllocationId") in ours), None)
        if held is not None:
            eip = ours[held["AllocationId"]]
            findings.append(
                Finding(
                    OK, INGRESS_EIP, az, f"{eip.public_ip} ({eip.allocation_id}) on {_name(nlb)}"
                )
            )
            continue
        address = addresses[0] if addresses else {}
        ip, allocation = address.get("IpAddress", "no public address"), address.get("AllocationId")
        source = (
            f"{allocation}, not one of {env.name}'s allow-listed ingress EIPs"
            if allocation
            else "an address AWS assigned, not an allow-listed EIP"
        )
        findings.append(
            Finding(
                ERROR,
                INGRESS_EIP,
                az,
                f"the NLB answers on {ip} in {az} ({source}); {listed}",
                deploy_fix(env, _REPLACE_NLB_FIX)
                if wanted
                else deploy_fix(env, " to allocate it (a new address: give it to the vendors)"),
            )
        )
    for az in sorted(set(zones) - set(env.azs)):
        ips = ", ".join(
            a.get("IpAddress", "?") for a in zones[az].get("LoadBalancerAddresses") or []
        )
        findings.append(
            Finding(
                WARNING,
                INGRESS_EIP,
                az,
                f"the NLB is also in {az} ({ips or 'no public address'}), which is not one of "
                f"{env.name}'s AZs: its DNS name resolves there too",
                deploy_fix(
                    env,
                    " to put the NLB back in the environment's AZs (it replaces the NLB: an AZ"
                    " cannot be removed from one in place)",
                ),
            )
        )
    return findings


def _listener_findings(
    env: EnvironmentConfig, name: str, listeners: Sequence[Mapping[str, Any]]
) -> list[Finding]:
    """One listener per webhook port: 80, and 443 when the environment has a certificate."""
    by_port = {listener.get("Port"): listener for listener in listeners}
    wanted = [HTTP_PORT] + ([HTTPS_PORT] if env.certificate_arn else [])
    findings = []
    for port in wanted:
        if port not in by_port:
            findings.append(
                Finding(
                    ERROR,
                    LISTENER,
                    name,
                    f"no listener on {port}: connections to the EIPs on {port} are refused",
                    deploy_fix(env),
                )
            )
    for port, listener in sorted(by_port.items(), key=lambda item: item[0] or 0):
        groups = _forwards_to(listener)
        subject = short_arn(listener["ListenerArn"])
        if not groups:
            findings.append(
                Finding(
                    ERROR,
                    LISTENER,
                    subject,
                    f"{listener.get('Protocol')} {port} forwards to no target group",
                    deploy_fix(env),
                )
            )
        else:
            targets = ", ".join(short_arn(g) for g in groups)
            findings.append(
                Finding(OK, LISTENER, subject, f"{listener.get('Protocol')} {port} -> {targets}")
            )
    return findings


def _forwards_to(listener: Mapping[str, Any]) -> list[str]:
    """The target group ARNs of a listener's forward actions (either form)."""
    arns: list[str] = []
    for action in listener.get("DefaultActions") or []:
        if action.get("Type") != "forward":
            continue
        found = [action.get("TargetGroupArn")] + [
            group.get("TargetGroupArn")
            for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        ]
        arns += [arn for arn in found if arn and arn not in arns]
    return arns


def _target_group_findings(
    elbv2: BaseClient, env: EnvironmentConfig, name: str, groups: Sequence[Mapping[str, Any]]
) -> tuple[list[Finding], list[str]]:
    """Each of the NLB's target groups must be of type `alb` with the ALB registered and
    healthy. Returns the findings and the ALB ARNs found, in order."""
    if not groups:
        return [
            Finding(
                ERROR,
                NLB_TARGET,
                name,
                "the NLB has no target group: its listeners forward nowhere",
                deploy_fix(env),
            )
        ], []
    findings: list[Finding] = []
    albs: list[str] = []
    for group in groups:
        group_name = group.get("TargetGroupName", short_arn(group["TargetGroupArn"]))
        if group.get("TargetType") != "alb":
            findings.append(
                Finding(
                    ERROR,
                    NLB_TARGET,
                    group_name,
                    f"target type {group.get('TargetType')}, but the stack registers the ALB "
                    "(target type alb)",
                    deploy_fix(env),
                )
            )
        health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
        descriptions = health.get("TargetHealthDescriptions", [])
        if not descriptions:
            findings.append(
                Finding(
                    ERROR,
                    NLB_TARGET,
                    group_name,
                    f"no ALB registered: the NLB's port {group.get('Port')} forwards nowhere",
                    deploy_fix(env, " to register the ALB"),
                )
            )
        for description in descriptions:
            target = description.get("Target") or {}
            arn = target.get("Id", "?")
            findings.append(
                target_finding(
                    env,
                    description,
                    check=NLB_TARGET,
                    fix=_NLB_TARGET_FIX,
                    subject=f"{short_arn(arn)}:{target.get('Port', group.get('Port'))}",
                )
            )
            if ":loadbalancer/app/" in arn and arn not in albs:
                albs.append(arn)
    return findings, albs


def _name(lb: Mapping[str, Any]) -> str:
    return lb.get("LoadBalancerName") or short_arn(lb.get("LoadBalancerArn", "?"))


def _nlb(ctx: DoctorContext) -> list[Finding]:
    return check_nlb_ingress(ctx.clients["elbv2"], ctx.clients["ec2"], ctx.project, ctx.env)


def doctor_checks(env: EnvironmentConfig) -> Sequence[DoctorCheck]:
    return (DoctorCheck(NLB, _nlb, needs=("elbv2", "ec2")),)


CHECKS: Mapping[str, ModeChecks] = {NlbEip().label: doctor_checks}
