"""`staticip ga-cleanup <environment>`: remove what Global Accelerator left in the VPC, so that
`cdktf destroy` can delete it.

With client IP preservation, Global Accelerator creates, outside Terraform, one ENI in each
subnet that holds an endpoint (the ALB) and one security group per VPC named `GlobalAccelerator`
that all its ENIs in the VPC share (GA developer guide, "Best practices for ENIs and security
groups with client IP address preservation"). Terraform knows neither, so `cdktf destroy ingress`
ends with `DependencyViolation` on the VPC while they exist (terraform-provider-aws PR #11476).
Global Accelerator removes its ENIs itself some time after the endpoint group is gone, and cannot
be relied on to remove the group. This module waits for the ENIs to go, then deletes the group,
in the environment's VPC only.

How Global Accelerator's ENIs are recognised, by DescribeNetworkInterfaces fields:
- `InterfaceType` is `global_accelerator_managed`, a documented value of the `interface-type`
  filter (EC2 API reference, DescribeNetworkInterfaces), and `RequesterManaged` is true: the
  service, not the account, created and owns it (it cannot be detached or deleted while in use);
- or it carries the VPC's `GlobalAccelerator` group: whoever made it, the group cannot be
  deleted before it goes.
The description Global Accelerator writes is not documented, so nothing here depends on it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError, ProfileNotFound

from staticip import aws
from staticip.config import ConfigError, load_config
from staticip.eips import environment_tag_filters
from staticip.names import environment_tags
from staticip.result import EXIT_OK, EXIT_PROBLEM, CommandResult, usage_error

GA_SECURITY_GROUP_NAME = "GlobalAccelerator"
GA_INTERFACE_TYPE = "global_accelerator_managed"
GA_INGRESS = "global-accelerator"

#: Lambda's Hyperplane ENIs take 20-45 minutes to go (docs/destroying.md); how long Global
#: Accelerator takes is not documented and not measured here, so the default waits as long as
#: the slowest ENI this project knows, and the command can simply be run again.
DEFAULT_TIMEOUT_SECONDS = 2700.0
FIRST_POLL_SECONDS = 5.0
MAX_POLL_SECONDS = 60.0

#: DeleteSecurityGroup's answer while an ENI or another group's rule still uses the group.
_IN_USE = "DependencyViolation"
_GONE = frozenset({"InvalidGroup.NotFound", "InvalidGroupId.NotFound"})


class CleanupError(Exception):
    """Something is still there when the time ran out; ``str(exc)`` is one line naming it."""


@dataclass
class CleanupReport:
    """What one VPC held and what became of it."""

    vpc_id: str
    enis_waited_for: list[str] = field(default_factory=list)
    security_groups_deleted: list[str] = field(default_factory=list)
    seconds: float = 0.0


def find_vpcs(ec2: BaseClient, project: str, environment: str) -> list[str]:
    """The IDs of the VPCs tagged `environment` and `project` (the stack's default tags)."""
    vpcs = aws.paginate(
        ec2, "describe_vpcs", "Vpcs", Filters=environment_tag_filters(project, environment)
    )
    # The filters narrow the listing; the tags decide, so a VPC of another environment is never
    # touched even if a filter were ignored.
    wanted = environment_tags(project, environment).items()
    return sorted(vpc["VpcId"] for vpc in vpcs if wanted <= aws.tags(vpc).items())


def ga_security_groups(ec2: BaseClient, vpc_id: str) -> list[dict[str, Any]]:
    """The security groups named `GlobalAccelerator` in this VPC, and in no other."""
    groups = aws.paginate(
        ec2,
        "describe_security_groups",
        "SecurityGroups",
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": [GA_SECURITY_GROUP_NAME]},
        ],
    )
    return [
        g
        for g in groups
        if g.get("VpcId") == vpc_id and g.get("GroupName") == GA_SECURITY_GROUP_NAME
    ]


def ga_enis(ec2: BaseClient, vpc_id: str, ga_group_ids: set[str]) -> list[dict[str, Any]]:
    """The ENIs in this VPC that Global Accelerator made or that hold its group (module doc)."""
    enis = aws.paginate(
        ec2,
        "describe_network_interfaces",
        "NetworkInterfaces",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
    )
    return [eni for eni in enis if eni.get("VpcId") == vpc_id and _is_ga(eni, ga_group_ids)]


def _is_ga(eni: Mapping[str, Any], ga_group_ids: set[str]) -> bool:
    if eni.get("InterfaceType") == GA_INTERFACE_TYPE:
        return True
    return any(g.get("GroupId") in ga_group_ids for g in eni.get("Groups") or [])


def clean_vpc(
    ec2: BaseClient,
    vpc_id: str,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], object] | None = None,
) -> CleanupReport:
    """Wait until no Global Accelerator ENI is left in the VPC, then delete its
    `GlobalAccelerator` security groups.

    Polls every 5 s, doubling up to 60 s; `progress` (default: stderr) gets one line per wait.
    A group that AWS still calls in use (`DependencyViolation`) once the ENIs are gone is tried
    again at the next poll. Raises :class:`CleanupError` naming what is left when
    `timeout_seconds` run out, botocore errors when AWS fails.
    """
    say = progress if progress is not None else _to_stderr
    started = clock()
    report = CleanupReport(vpc_id)
    delay = FIRST_POLL_SECONDS
    while True:
        groups = ga_security_groups(ec2, vpc_id)
        enis = ga_enis(ec2, vpc_id, {g["GroupId"] for g in groups})
        for eni in enis:
            if eni["NetworkInterfaceId"] not in report.enis_waited_for:
                report.enis_waited_for.append(eni["NetworkInterfaceId"])
        in_use: list[str] = []
        if not enis:
            # Only now: AWS refuses to delete a group that an ENI still holds
            # (DependencyViolation), so an earlier attempt could only fail.
            for group in groups:
                if _delete_group(ec2, group["GroupId"]):
                    report.security_groups_deleted.append(group["GroupId"])
                else:
                    in_use.append(group["GroupId"])
            if not in_use:
                report.seconds = round(clock() - started, 1)
                return report
        elapsed = clock() - started
        waiting_for = (
            f"{_describe_enis(enis)} to go"
            if enis
            else f"security group {', '.join(in_use)} to be free (DependencyViolation)"
        )
        if elapsed >= timeout_seconds:
            raise CleanupError(_timeout_message(vpc_id, enis, in_use, elapsed))
        pause = min(delay, timeout_seconds - elapsed)
        say(
            f"{vpc_id}: waiting for {waiting_for} ({elapsed:.0f} s so far, "
            f"next check in {pause:.0f} s)"
        )
        sleep(pause)
        delay = min(delay * 2, MAX_POLL_SECONDS)


def _delete_group(ec2: BaseClient, group_id: str) -> bool:
    """Delete the group; False while AWS says something still uses it."""
    try:
        ec2.delete_security_group(GroupId=group_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == _IN_USE:
            return False
        if code not in _GONE:
            raise
        # Already gone (deleted by hand or by an earlier run): that is the goal.
    return True


def _describe_enis(enis: list[dict[str, Any]]) -> str:
    listed = ", ".join(f"{e['NetworkInterfaceId']} ({e.get('Status', '?')})" for e in enis)
    return f"{len(enis)} Global Accelerator ENI{'s' if len(enis) != 1 else ''}: {listed}"


def _timeout_message(
    vpc_id: str, enis: list[dict[str, Any]], in_use: list[str], elapsed: float
) -> str:
    if enis:
        return (
            f"{vpc_id} still has {_describe_enis(enis)} after {elapsed:.0f} s: check that no "
            "accelerator's endpoint group still points at a load balancer in this VPC "
            "(`cdktf destroy` removes ours), then run ga-cleanup again; an `available` ENI is "
            "detached and may be deleted with `aws ec2 delete-network-interface`"
        )
    return (
        f"security group {', '.join(in_use)} ({GA_SECURITY_GROUP_NAME}) in {vpc_id} is still "
        f"in use (DependencyViolation) after {elapsed:.0f} s: remove the rules of other security "
        "groups that reference it, then run ga-cleanup again"
    )


def run_ga_cleanup(
    config_path: str | Path,
    environment: str,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    region: str | None = None,
    profile: str | None = None,
    ec2: BaseClient | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], object] | None = None,
) -> CommandResult:
    """`staticip ga-cleanup ENV`: exit 0 when nothing Global Accelerator made is left in the
    environment's VPC (or there is no VPC), 1 when something could not be removed (named) or AWS
    failed, 2 for an unknown environment, one without Global Accelerator ingress, a bad
    `--timeout`, a missing region/profile or credentials of another account than `account_id`.
    `ec2` replaces the client built from region and profile (and skips the account check)."""
    if not timeout_seconds > 0:
        return usage_error(f"--timeout must be a number of seconds > 0, got {timeout_seconds}")
    try:
        config = load_config(config_path)
        env = config.environment(environment)
    except ConfigError as exc:
        return usage_error(str(exc))
    if env.ingress != GA_INGRESS:
        return usage_error(
            f"environment '{env.name}' has ingress '{env.ingress}': only a global-accelerator "
            "ingress leaves Global Accelerator ENIs and security groups behind"
        )
    region = region or env.region
    profile = profile or env.profile
    reports: list[CleanupReport] = []
    try:
        if ec2 is None:
            ec2 = aws.client("ec2", region, profile, env.assume_role_arn)
            if env.account_id:
                sts = aws.client("sts", region, profile, env.assume_role_arn)
                aws.check_account(sts, env.account_id, env.name)
        vpc_ids = find_vpcs(ec2, config.project, env.name)
        for vpc_id in vpc_ids:
            reports.append(
                clean_vpc(
                    ec2,
                    vpc_id,
                    timeout_seconds=timeout_seconds,
                    sleep=sleep,
                    clock=clock,
                    progress=progress,
                )
            )
    except (NoRegionError, ProfileNotFound, aws.WrongAccountError) as exc:
        return usage_error(aws.explain(exc))
    except (CleanupError, ClientError, BotoCoreError, aws.AwsError) as exc:
        detail = str(exc) if isinstance(exc, CleanupError) else aws.explain(exc)
        text = f"ga-cleanup {env.name}: {detail}"
        return CommandResult(EXIT_PROBLEM, text, {"error": text})
    data = {
        "environment": env.name,
        "region": region,
        "vpcs": [asdict(r) for r in reports],
    }
    return CommandResult(EXIT_OK, _render(env.name, config.project, region, reports), data)


def _render(environment: str, project: str, region: str, reports: list[CleanupReport]) -> str:
    if not reports:
        return (
            f"ga-cleanup {environment}: no VPC tagged environment={environment}, "
            f"project={project} in {region}: nothing left to clean up"
        )
    lines = []
    for r in reports:
        deleted = ", ".join(r.security_groups_deleted) or "none left"
        waited = (
            f"waited {r.seconds:g} s for {', '.join(r.enis_waited_for)}"
            if r.enis_waited_for
            else "no Global Accelerator ENI"
        )
        lines.append(f"{r.vpc_id}: {waited}; {GA_SECURITY_GROUP_NAME} group deleted: {deleted}")
    return (
        f"ga-cleanup {environment} in {region}:\n"
        + "\n".join(lines)
        + f"\nnothing of Global Accelerator is left: run `cdktf destroy {environment}` (again)"
    )


def _to_stderr(message: str) -> None:
    print(f"staticip ga-cleanup: {message}", file=sys.stderr, flush=True)
