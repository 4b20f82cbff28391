"""`staticip doctor` checks for ingress: the Global Accelerator (its status and two IPs,
listeners, endpoint groups and their health), the ALB behind it and the ALB's Lambda target.

The ALB part (`check_alb`, with `lb_state_finding` and `target_finding`) is shared with the
nlb-eip mode (staticip/modes/nlb_eip/checks.py), whose NLB forwards to the same kind of ALB.

The Global Accelerator API lives in us-west-2 whatever the region of the endpoints; the
accelerator carries the stack's default tags (environment, project), found through
ListTagsForResource because ListAccelerators returns no tags.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from staticip import aws
from staticip.config import EnvironmentConfig
from staticip.doctor_egress import deploy_fix
from staticip.findings import ERROR, OK, WARNING, Finding
from staticip.names import HEALTH_PATH, environment_tags

ACCELERATOR = "accelerator"
LISTENER = "listener"
ENDPOINT = "endpoint"
ALB = "alb"
TARGET = "target"

_TARGET_FIX = (
    "check the webhook function's logs (/aws/lambda/<function>) and that it answers the ALB's "
    f"health check on {HEALTH_PATH} with 200"
)


def check_global_accelerator(
    ga: BaseClient, elbv2: BaseClient, project: str, env: EnvironmentConfig
) -> list[Finding]:
    """Accelerator -> listeners -> endpoint groups -> ALB -> targets, each with its health."""
    accelerators = [
        acc
        for acc in aws.paginate(ga, "list_accelerators", "Accelerators")
        if _is_ours(ga, acc["AcceleratorArn"], project, env.name)
    ]
    if not accelerators:
        return [
            Finding(
                ERROR,
                ACCELERATOR,
                env.name,
                f"no accelerator tagged environment={env.name}, project={project}",
                deploy_fix(env) + ", or check --profile",
            )
        ]
    findings: list[Finding] = []
    alb_arns: list[str] = []
    for acc in accelerators:
        findings += _accelerator_findings(env, acc)
        arn = acc["AcceleratorArn"]
        listeners = aws.paginate(ga, "list_listeners", "Listeners", AcceleratorArn=arn)
        if not listeners:
            findings.append(
                Finding(
                    ERROR,
                    LISTENER,
                    acc.get("Name", arn),
                    "the accelerator has no listener: its IPs accept no connections",
                    deploy_fix(env),
                )
            )
        for listener in listeners:
            findings.append(_listener_finding(listener))
            groups = aws.paginate(
                ga, "list_endpoint_groups", "EndpointGroups", ListenerArn=listener["ListenerArn"]
            )
            if not groups:
                findings.append(
                    Finding(
                        ERROR,
                        ENDPOINT,
                        short_arn(listener["ListenerArn"]),
                        "the listener has no endpoint group: connections go nowhere",
                        deploy_fix(env),
                    )
                )
            for group in groups:
                group_findings, arns = _endpoint_group_findings(env, group)
                findings += group_findings
                alb_arns += [a for a in arns if a not in alb_arns]
    for arn in alb_arns:
        findings += check_alb(elbv2, env, arn)
    return findings


def check_alb(
    elbv2: BaseClient,
    env: EnvironmentConfig,
    alb_arn: str,
    *,
    referrer: str = "the accelerator's endpoint",
    internal: bool | None = None,
    described: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """The ALB's state and the health of every target of its target groups.

    `referrer` names what points at the ALB, for the finding when it is gone; `internal`, when
    given, is the scheme the stack gives it (checked); `described` is its DescribeLoadBalancers
    item when the caller already listed it, which saves that call.
    """
    lbs = [described] if described else _describe_load_balancer(elbv2, alb_arn)
    if not lbs:
        return [
            Finding(
                ERROR,
                ALB,
                short_arn(alb_arn),
                f"{referrer} is not a load balancer in {env.region}",
                deploy_fix(env),
            )
        ]
    lb = lbs[0]
    name = lb.get("LoadBalancerName", short_arn(alb_arn))
    findings = [lb_state_finding(env, ALB, lb)]
    scheme = lb.get("Scheme", "?")
    if internal is not None and (scheme == "internal") != internal:
        wanted = "internal" if internal else "internet-facing"
        why = (
            ": its own public addresses take webhooks around the allow-listed ones"
            if internal
            else ": nothing outside the VPC reaches it"
        )
        findings.append(
            Finding(
                ERROR,
                ALB,
                name,
                f"{scheme}, but the stack makes it {wanted}{why}",
                # The scheme is fixed when a load balancer is created.
                deploy_fix(env, " (it replaces the ALB: the scheme cannot change in place)"),
            )
        )
    groups = aws.paginate(elbv2, "describe_target_groups", "TargetGroups", LoadBalancerArn=alb_arn)
    if not groups:
        findings.append(
            Finding(ERROR, TARGET, name, "the ALB has no target group", deploy_fix(env))
        )
    for group in groups:
        health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
        descriptions = health.get("TargetHealthDescriptions", [])
        if not descriptions:
            findings.append(
                Finding(
                    ERROR,
                    TARGET,
                    group.get("TargetGroupName", short_arn(group["TargetGroupArn"])),
                    "no target registered: the ALB answers 503",
                    deploy_fix(env),
                )
            )
        findings += [target_finding(env, d) for d in descriptions]
    return findings


def _describe_load_balancer(elbv2: BaseClient, arn: str) -> list[dict[str, Any]]:
    try:
        return elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "LoadBalancerNotFound":
            raise
        return []


def lb_state_finding(
    env: EnvironmentConfig, check: str, lb: Mapping[str, Any], detail: str = ""
) -> Finding:
    """A load balancer's `State` as a finding under `check`; `detail` follows the state."""
    name = lb.get("LoadBalancerName") or short_arn(lb.get("LoadBalancerArn", "?"))
    state = lb.get("State") or {}
    code, reason = state.get("Code", "?"), state.get("Reason", "")
    what = f"{code}{': ' + reason if reason else ''}{detail}"
    if code == "active":
        return Finding(OK, check, name, what)
    if code == "provisioning":
        return Finding(WARNING, check, name, what, "wait and run doctor again")
    if code == "active_impaired":
        # Still routing traffic, but without the capacity to scale: AWS's to fix, not a deploy.
        return Finding(WARNING, check, name, what, "traffic still flows; run doctor again later")
    return Finding(ERROR, check, name, what, deploy_fix(env))


# --- one resource each --------------------------------------------------------------------------


def _accelerator_findings(env: EnvironmentConfig, acc: Mapping[str, Any]) -> list[Finding]:
    name = acc.get("Name") or short_arn(acc["AcceleratorArn"])
    ips = [
        ip
        for ip_set in acc.get("IpSets") or []
        if (ip_set.get("IpAddressFamily") or ip_set.get("IpFamily")) in ("IPv4", None)
        for ip in ip_set.get("IpAddresses") or []
    ]
    status = acc.get("Status", "?")
    what = f"{status}, IPs {', '.join(ips) or 'none'} ({acc.get('DnsName', 'no DNS name')})"
    findings = []
    if status == "DEPLOYED":
        findings.append(Finding(OK, ACCELERATOR, name, what))
    else:
        findings.append(
            Finding(WARNING, ACCELERATOR, name, what, "a change is rolling out; run doctor again")
        )
    if acc.get("Enabled") is False:
        findings.append(
            Finding(
                ERROR,
                ACCELERATOR,
                name,
                "disabled: its IPs accept no traffic",
                deploy_fix(env, " to enable it"),
            )
        )
    if len(ips) != 2:
        findings.append(
            Finding(
                ERROR,
                ACCELERATOR,
                name,
                f"has {len(ips)} IPv4 addresses instead of 2",
                "check the accelerator in the console (IP address type IPV4)",
            )
        )
    return findings


def _listener_finding(listener: Mapping[str, Any]) -> Finding:
    ports = ", ".join(
        str(r["FromPort"]) if r["FromPort"] == r["ToPort"] else f"{r['FromPort']}-{r['ToPort']}"
        for r in listener.get("PortRanges") or []
    )
    return Finding(
        OK, LISTENER, short_arn(listener["ListenerArn"]), f"{listener.get('Protocol')} {ports}"
    )


def _endpoint_group_findings(
    env: EnvironmentConfig, group: Mapping[str, Any]
) -> tuple[list[Finding], list[str]]:
    subject = short_arn(group["EndpointGroupArn"])
    findings = []
    if group.get("EndpointGroupRegion") != env.region:
        findings.append(
            Finding(
                ERROR,
                ENDPOINT,
                subject,
                f"endpoint group in {group.get('EndpointGroupRegion')}, but {env.name} is in "
                f"{env.region}: drifted",
                deploy_fix(env),
            )
        )
    endpoints = group.get("EndpointDescriptions") or []
    if not endpoints:
        findings.append(
            Finding(
                ERROR, ENDPOINT, subject, "no endpoint: connections go nowhere", deploy_fix(env)
            )
        )
    for endpoint in endpoints:
        state, reason = endpoint.get("HealthState", "?"), endpoint.get("HealthReason", "")
        what = (
            f"{short_arn(endpoint['EndpointId'])}: {state}{' (' + reason + ')' if reason else ''}"
        )
        if state == "HEALTHY":
            findings.append(Finding(OK, ENDPOINT, subject, what))
        elif state == "INITIAL":
            findings.append(
                Finding(WARNING, ENDPOINT, subject, what, "health checks are starting; wait")
            )
        else:
            findings.append(
                Finding(ERROR, ENDPOINT, subject, what, "see the alb and target findings")
            )
    return findings, [e["EndpointId"] for e in endpoints if ":loadbalancer/" in e["EndpointId"]]


def target_finding(
    env: EnvironmentConfig,
    description: Mapping[str, Any],
    check: str = TARGET,
    fix: str = _TARGET_FIX,
    subject: str | None = None,
) -> Finding:
    """One DescribeTargetHealth description; `fix` is for an unhealthy target."""
    target = subject or short_arn((description.get("Target") or {}).get("Id", "?"))
    health = description.get("TargetHealth") or {}
    state = health.get("State", "?")
    detail = ": ".join(str(health[k]) for k in ("Reason", "Description") if health.get(k))
    what = f"{state}{' (' + detail + ')' if detail else ''}"
    if state == "healthy":
        return Finding(OK, check, target, what)
    if state in ("initial", "draining"):
        return Finding(WARNING, check, target, what, "wait and run doctor again")
    if state == "unavailable":
        return Finding(
            WARNING, check, target, what, deploy_fix(env, " to turn the health check back on")
        )
    if state == "unused":
        return Finding(ERROR, check, target, what, deploy_fix(env, " to register the target"))
    return Finding(ERROR, check, target, what, fix)


# --- helpers ------------------------------------------------------------------------------------


def _is_ours(ga: BaseClient, arn: str, project: str, environment: str) -> bool:
    tags = aws.tags(ga.list_tags_for_resource(ResourceArn=arn))
    return all(tags.get(k) == v for k, v in environment_tags(project, environment).items())


def short_arn(arn: str) -> str:
    """The readable tail of an ARN: `function:name`, `app/name/id`, `listener/id`."""
    if not arn.startswith("arn:"):
        return arn
    resource = arn.split(":", 5)[-1]
    for prefix in ("loadbalancer/", "targetgroup/"):
        if resource.startswith(prefix):
            return resource[len(prefix) :]
    if resource.startswith("accelerator/") and resource.count("/") > 2:
        # accelerator/<id>/listener/<id>[/endpoint-group/<id>]: the last pair names it.
        return "/".join(resource.split("/")[-2:])
    return resource
