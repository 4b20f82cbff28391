"""ENI guard: keep the environment's allow-listed Elastic IPs on the egress function's ENIs.

Lambda owns the Hyperplane ENIs the dev environment hangs its EIPs on. A VPC-config change,
Lambda's own ENI recycling or reactivation after 14 idle days brings new ENIs without an EIP, and
egress stops until someone runs ``cdktf deploy``. This function, deployed OUTSIDE the VPC so it
always reaches the EC2 API, is triggered by EventBridge (CloudTrail ``CreateNetworkInterface`` and
a schedule) and puts each AZ's EIP back on the ENI that should hold it.

It finds and ranks ENIs with :mod:`staticip.enis` (``find_lambda_enis`` + ``choose_eni``), the
same code Terraform's ``external`` data source runs, so the guard and ``aws_eip_association``
(``allow_reassociation = true``) always pick the same ENI and converge instead of flapping.

Deployment package: this file as ``handler.py`` next to
``staticip/{__init__,aws,eips,enis,guard}.py``.
AWS calls, and nothing else (the IAM policy allows only these):
``lambda:GetFunctionConfiguration``, ``ec2:DescribeNetworkInterfaces``,
``ec2:DescribeAddresses``, ``ec2:AssociateAddress``, ``cloudwatch:PutMetricData``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from staticip import aws
from staticip.eips import AZ_TAG, AllowListedEip, find_allow_listed_eips
from staticip.enis import IN_USE, EniInputError, HyperplaneEni, choose_eni, find_lambda_enis
from staticip.guard import METRIC_DIMENSION, METRIC_NAME

ENV_VARIABLES = ("ENVIRONMENT", "PROJECT", "FUNCTION_NAME", "METRIC_NAMESPACE")
# A CloudTrail CreateNetworkInterface event arrives while the function is still updating, when
# nothing may move yet. Rather than leave egress down until the next scheduled run, the guard
# looks again every RECHECK_SECONDS while the invocation has time to spare.
RECHECK_SECONDS = 15.0
TIME_RESERVE_SECONDS = 20.0

logger = logging.getLogger("eni_guard")
# The Lambda runtime's root logger defaults to WARNING; the action lines are the audit trail.
logger.setLevel(logging.INFO)


class GuardConfigError(ValueError):
    """A required environment variable is missing or empty."""


class AssociationFailedError(RuntimeError):
    """At least one AssociateAddress call failed; raised after the metric went out."""


@dataclass(frozen=True)
class Settings:
    """What the guard works on, from the function's environment variables."""

    environment: str
    project: str
    function_name: str
    metric_namespace: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read ``ENVIRONMENT``, ``PROJECT``, ``FUNCTION_NAME``, ``METRIC_NAMESPACE``."""
        values = {name: (environ.get(name) or "").strip() for name in ENV_VARIABLES}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise GuardConfigError(f"environment variable(s) not set: {', '.join(missing)}")
        return cls(
            environment=values["ENVIRONMENT"],
            project=values["PROJECT"],
            function_name=values["FUNCTION_NAME"],
            metric_namespace=values["METRIC_NAMESPACE"],
        )


@dataclass(frozen=True)
class FunctionNetwork:
    """The egress function's VPC placement and lifecycle state."""

    name: str
    state: str
    last_update_status: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]

    @property
    def waiting(self) -> bool:
        """True while Lambda creates ENIs that do not carry invocations yet.

        During a create or VPC-config update, invocations stay on the OLD ENI until the update
        completes; moving the EIP to the new ENI earlier would cut egress for that time.
        """
        return self.state == "Pending" or self.last_update_status == "InProgress"

    @property
    def inactive(self) -> bool:
        """True after 14 idle days: Lambda reclaimed the ENIs, there is nothing to attach to."""
        return self.state == "Inactive"


@dataclass(frozen=True)
class Association:
    """An EIP on (or to be put on) the chosen ENI of one subnet."""

    allocation_id: str
    public_ip: str
    az: str
    subnet_id: str
    eni_id: str
    previous_eni_id: str | None = None


@dataclass(frozen=True)
class EniWithoutEip:
    """An in-use ENI that is left without an allow-listed EIP, and why."""

    eni_id: str
    subnet_id: str
    az: str
    reason: str


@dataclass
class Plan:
    """What one run should change, computed from a snapshot of ENIs and EIPs (no AWS calls)."""

    moves: list[Association] = field(default_factory=list)
    unchanged: list[Association] = field(default_factory=list)
    enis_without_eip: list[EniWithoutEip] = field(default_factory=list)
    subnets_without_eni: list[str] = field(default_factory=list)
    unused_eips: list[AllowListedEip] = field(default_factory=list)


def read_function(lambda_client: BaseClient, function_name: str) -> FunctionNetwork:
    """One GetFunctionConfiguration call; raise :class:`EniInputError` if it is not in a VPC."""
    config = lambda_client.get_function_configuration(FunctionName=function_name)
    vpc = config.get("VpcConfig") or {}
    subnets = tuple(dict.fromkeys(vpc.get("SubnetIds") or []))
    groups = tuple(sorted(set(vpc.get("SecurityGroupIds") or [])))
    if not subnets or not groups:
        raise EniInputError(
            f"Lambda function {function_name!r} is not attached to a VPC, so it has no "
            "Hyperplane ENIs to guard: check FUNCTION_NAME"
        )
    return FunctionNetwork(
        name=config.get("FunctionName", function_name),
        state=config.get("State") or "",
        last_update_status=config.get("LastUpdateStatus") or "",
        subnet_ids=subnets,
        security_group_ids=groups,
    )


def environment_eips(
    ec2: BaseClient, environment: str, project: str
) -> tuple[list[AllowListedEip], list[AllowListedEip]]:
    """The environment's allow-listed EIPs: ``(usable, ignored)``, one DescribeAddresses call.

    Usable EIPs carry ``environment``, ``project``, ``staticip:allow-listed=true`` AND
    ``staticip:az``. The tags are checked again here, not only by the server-side filter, because
    associating someone else's address would move an IP that is not ours. An allow-listed EIP
    without ``staticip:az`` is returned as ignored: without its AZ the guard cannot tell which
    subnet it serves, and never guesses.
    """
    eips = find_allow_listed_eips(ec2, project, environment)
    usable = [eip for eip in eips if eip.az]
    ignored = [eip for eip in eips if not eip.az]
    return usable, ignored


def plan_associations(
    found: Mapping[str, Sequence[HyperplaneEni]], eips: Iterable[AllowListedEip]
) -> Plan:
    """Decide, per subnet, whether its AZ's EIP has to move to the ENI :func:`choose_eni` picks.

    ``found`` is :func:`find_lambda_enis`' result in the function's subnet order; ``eips`` are the
    usable EIPs. A subnet's AZ is its ENIs' ``AvailabilityZone``, so no DescribeSubnets is needed
    (and a subnet without ENI needs no AZ: it has nothing to attach to). Where one AZ has several
    of the function's subnets or several EIPs, the guard keeps what is already attached and moves
    nothing: one EIP per AZ/subnet is the stack's invariant, and picking a winner could make the
    guard and Terraform move the address back and forth. In-use ENIs left without an EIP are
    listed (spill-over past 65,000 connections, no EIP for the AZ, ambiguous AZ); detached ENIs
    are not, as Lambda is deleting them and they carry no traffic.
    """
    eips = list(eips)
    ours = [eip.allocation_id for eip in eips]
    by_az: dict[str, list[AllowListedEip]] = {}
    for eip in eips:
        by_az.setdefault(eip.az or "", []).append(eip)

    plan = Plan()
    chosen_by_az: dict[str, list[tuple[str, HyperplaneEni]]] = {}
    for subnet, candidates in found.items():
        if not candidates:
            plan.subnets_without_eni.append(subnet)
            continue
        chosen, others = choose_eni(candidates, ours)
        az = chosen.availability_zone
        chosen_by_az.setdefault(az, []).append((subnet, chosen))
        for other in others:
            if other.status == IN_USE:
                plan.enis_without_eip.append(
                    EniWithoutEip(
                        other.eni_id,
                        subnet,
                        az,
                        f"more ENIs than EIPs in the subnet: {chosen.eni_id} holds its EIP",
                    )
                )

    for az, entries in chosen_by_az.items():
        az_eips = by_az.get(az, []) if az else []
        if len(entries) == 1 and len(az_eips) == 1:
            (subnet, eni), eip = entries[0], az_eips[0]
            target = plan.unchanged if eip.network_interface_id == eni.eni_id else plan.moves
            target.append(_association(eip, subnet, eni))
            continue
        if not az_eips:
            reason = f"no allow-listed EIP tagged {AZ_TAG}={az or '?'}"
        else:
            reason = (
                f"AZ {az} has {len(entries)} subnet(s) with ENIs and {len(az_eips)} EIPs; "
                "expected one of each, not guessing"
            )
        for subnet, eni in entries:
            holding = [eip for eip in az_eips if eip.network_interface_id == eni.eni_id]
            if holding:
                plan.unchanged.append(_association(holding[0], subnet, eni))
            elif eni.status == IN_USE:
                plan.enis_without_eip.append(EniWithoutEip(eni.eni_id, subnet, az, reason))

    served = set(chosen_by_az)
    plan.unused_eips = [eip for eip in eips if eip.az not in served]
    return plan


def apply_moves(
    ec2: BaseClient, moves: Sequence[Association]
) -> tuple[list[Association], list[dict[str, str]]]:
    """AssociateAddress for each move; return ``(associated, failed)``, logging one line each.

    ``AllowReassociation`` takes the EIP off the ENI it is on now in the same call (the guard has
    no DisassociateAddress permission, and needs none). A failure does not stop the other AZs.
    """
    associated: list[Association] = []
    failed: list[dict[str, str]] = []
    for move in moves:
        try:
            ec2.associate_address(
                AllocationId=move.allocation_id,
                NetworkInterfaceId=move.eni_id,
                AllowReassociation=True,
            )
        except (ClientError, BotoCoreError) as exc:
            error = aws.explain(exc)
            logger.error(
                "associate FAILED %s (%s, %s) -> %s in %s: %s",
                move.allocation_id,
                move.public_ip,
                move.az,
                move.eni_id,
                move.subnet_id,
                error,
            )
            failed.append(asdict(move) | {"error": error})
            continue
        logger.info(
            "associated %s (%s, %s) -> %s in %s (was on %s)",
            move.allocation_id,
            move.public_ip,
            move.az,
            move.eni_id,
            move.subnet_id,
            move.previous_eni_id or "nothing",
        )
        associated.append(move)
    return associated, failed


def publish_metric(
    cloudwatch: BaseClient, namespace: str, environment: str, enis_without_eip: int
) -> None:
    """PutMetricData ``EnisWithoutElasticIp`` (dimension ``Environment``), 0 included.

    Published on every run so the alarm sees data points, not missing data, when all is well.
    """
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": METRIC_NAME,
                "Dimensions": [{"Name": METRIC_DIMENSION, "Value": environment}],
                "Value": float(enis_without_eip),
                "Unit": "Count",
            }
        ],
    )


def reconcile(
    settings: Settings,
    *,
    lambda_client: BaseClient,
    ec2: BaseClient,
    cloudwatch: BaseClient,
) -> dict[str, Any]:
    """One guard run: read the function, plan, associate (unless waiting), publish the metric.

    AWS calls: 1 GetFunctionConfiguration; unless the function is Inactive, 1 DescribeAddresses
    and 1 DescribeNetworkInterfaces per page (all subnets in one listing); 1 AssociateAddress
    per EIP that must move (none while waiting); 1 PutMetricData. Returns a JSON-able summary.
    Raises botocore errors and :class:`EniInputError` when the run cannot be done at all.
    """
    function = read_function(lambda_client, settings.function_name)
    summary: dict[str, Any] = {
        "environment": settings.environment,
        "function": function.name,
        "state": function.state,
        "last_update_status": function.last_update_status,
        "status": "reconciled",
        "associated": [],
        "unchanged": [],
        "waiting": [],
        "failed": [],
        "enis_without_eip": [],
        "subnets_without_eni": [],
        "unused_eips": [],
        "ignored_eips": [],
    }
    if function.inactive:
        # No ENIs exist; the first invocation makes the function Pending and Lambda creates new
        # ones, which a later run (CloudTrail event or schedule) picks up.
        summary["status"] = "inactive"
        logger.info("function %s is Inactive: no ENIs, nothing to do", function.name)
    else:
        eips, ignored = environment_eips(ec2, settings.environment, settings.project)
        found = find_lambda_enis(ec2, function.subnet_ids, function.security_group_ids)
        plan = plan_associations(found, eips)
        without = list(plan.enis_without_eip)
        if function.waiting:
            summary["status"] = "waiting"
            summary["waiting"] = [asdict(move) for move in plan.moves]
            for move in plan.moves:
                logger.info(
                    "waiting: %s (%s) stays off %s in %s until %s is no longer %s",
                    move.allocation_id,
                    move.public_ip,
                    move.eni_id,
                    move.subnet_id,
                    function.name,
                    "Pending" if function.state == "Pending" else "updating",
                )
        else:
            associated, failed = apply_moves(ec2, plan.moves)
            summary["associated"] = [asdict(move) for move in associated]
            summary["failed"] = failed
            # A failed move leaves its ENI without an EIP: count it, so the alarm sees it.
            without += [
                EniWithoutEip(f["eni_id"], f["subnet_id"], f["az"], "association failed")
                for f in failed
            ]
        for gap in without:
            logger.warning(
                "no EIP on %s in %s (%s): %s", gap.eni_id, gap.subnet_id, gap.az, gap.reason
            )
        for subnet in plan.subnets_without_eni:
            logger.info("no Lambda ENI in %s yet for %s", subnet, function.name)
        for eip in ignored:
            logger.warning("ignored %s (%s): no %s tag", eip.allocation_id, eip.public_ip, AZ_TAG)
        summary["unchanged"] = [asdict(held) for held in plan.unchanged]
        summary["enis_without_eip"] = [asdict(gap) for gap in without]
        summary["subnets_without_eni"] = list(plan.subnets_without_eni)
        summary["unused_eips"] = [asdict(eip) for eip in plan.unused_eips]
        summary["ignored_eips"] = [asdict(eip) for eip in ignored]

    count = len(summary["enis_without_eip"])
    publish_metric(cloudwatch, settings.metric_namespace, settings.environment, count)
    summary["metric"] = {
        "namespace": settings.metric_namespace,
        "name": METRIC_NAME,
        "dimensions": {METRIC_DIMENSION: settings.environment},
        "value": count,
    }
    logger.info(
        "run %s: %d associated, %d unchanged, %d waiting, %d failed, %d ENI(s) without EIP",
        summary["status"],
        len(summary["associated"]),
        len(summary["unchanged"]),
        len(summary["waiting"]),
        len(summary["failed"]),
        count,
    )
    return summary


def describe_trigger(event: object) -> str:
    """One line naming what invoked the guard; the event is informational only."""
    if not isinstance(event, Mapping):
        return f"trigger: {type(event).__name__}"
    parts = [str(event.get("source", "?")), str(event.get("detail-type", "?"))]
    detail = event.get("detail")
    if isinstance(detail, Mapping):
        if detail.get("eventName"):
            parts.append(str(detail["eventName"]))
        response = detail.get("responseElements")
        interface = response.get("networkInterface") if isinstance(response, Mapping) else None
        if isinstance(interface, Mapping):
            parts += [
                str(interface[k]) for k in ("networkInterfaceId", "subnetId") if k in interface
            ]
        if detail.get("errorCode"):
            parts.append(f"error={detail['errorCode']}")
    return "trigger: " + " ".join(parts)


def reconcile_until_settled(
    settings: Settings,
    *,
    lambda_client: BaseClient,
    ec2: BaseClient,
    cloudwatch: BaseClient,
    remaining_seconds: Callable[[], float],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """:func:`reconcile`, repeated every RECHECK_SECONDS while the function is still updating
    and the invocation has more than RECHECK_SECONDS + TIME_RESERVE_SECONDS left."""
    while True:
        summary = reconcile(settings, lambda_client=lambda_client, ec2=ec2, cloudwatch=cloudwatch)
        if summary["status"] != "waiting":
            return summary
        if remaining_seconds() <= RECHECK_SECONDS + TIME_RESERVE_SECONDS:
            logger.info("still waiting; the next run (schedule) will look again")
            return summary
        sleep(RECHECK_SECONDS)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: reconcile now, whatever the trigger; return the run summary.

    Raises (so Lambda's Errors metric shows it) when settings are missing, an AWS read fails or
    an association failed; in the last case the metric has been published first.
    """
    settings = Settings.from_environ(os.environ)
    logger.info(describe_trigger(event))
    try:
        # Region from AWS_REGION, set by the Lambda runtime.
        summary = reconcile_until_settled(
            settings,
            lambda_client=aws.client("lambda", None),
            ec2=aws.client("ec2", None),
            cloudwatch=aws.client("cloudwatch", None),
            remaining_seconds=lambda: (
                context.get_remaining_time_in_millis() / 1000 if context is not None else 0.0
            ),
        )
    except (ClientError, BotoCoreError, aws.AwsError, EniInputError) as exc:
        logger.error("run failed: %s", aws.explain(exc))
        raise
    if summary["failed"]:
        raise AssociationFailedError(
            f"{len(summary['failed'])} association(s) failed: "
            + json.dumps(summary["failed"], sort_keys=True)
        )
    return summary


def _association(eip: AllowListedEip, subnet: str, eni: HyperplaneEni) -> Association:
    return Association(
        allocation_id=eip.allocation_id,
        public_ip=eip.public_ip,
        az=eni.availability_zone,
        subnet_id=subnet,
        eni_id=eni.eni_id,
        previous_eni_id=None
        if eip.network_interface_id == eni.eni_id
        else eip.network_interface_id,
    )
