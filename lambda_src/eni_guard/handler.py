"""ENI guard: keep the environment's allow-listed Elastic IPs on the egress function's ENIs.

Lambda owns the Hyperplane ENIs the dev environment hangs its EIPs on, one per subnet shared by
every function of the environment (they all have its one security group). A VPC-config change,
Lambda's own ENI recycling or reactivation after 14 idle days brings new ENIs without an EIP, and
egress stops until someone runs ``cdktf deploy``. This function, deployed OUTSIDE the VPC so it
always reaches the EC2 API, is triggered by EventBridge (CloudTrail ``CreateNetworkInterface`` and
a schedule) and puts each AZ's EIP back on the ENI that should hold it.

It finds and ranks ENIs with :mod:`staticip.enis` (``find_lambda_enis`` + ``choose_eni``), the
same code Terraform's ``external`` data source runs, with the same inputs: the allocation IDs of
the stack's ``aws_eip_association``s (``ALLOCATION_IDS``, which the resolver is given too). So the
guard and ``aws_eip_association`` (``allow_reassociation = true``) always pick the same ENI and
converge instead of flapping.

What it never does:

- move an EIP the stack no longer associates (``ALLOCATION_IDS``; IAM allows each EIP only
  while its AZ's association exists, see ``stacks/eni_guard.py``), so it never fights a destroy;
- take an allow-listed EIP from anything but one of the function's Lambda ENIs (an EC2
  instance, a NAT Gateway, another interface type or subnet): it reports it and leaves it;
- act on a stale snapshot: the stack gives it a reserved concurrency of 1 (one run at a time),
  and right before each ``AssociateAddress`` it reads the subnet's ENIs and the address again
  and skips the move if the ENI is gone, detached or no longer the pick, or the address moved;
- move anything while one of the environment's functions is ``Pending``, its update is
  ``InProgress``, or its last update ``Failed`` (invocations may still run on the old ENIs);
- give up on ENIs that an ``Active`` function still uses because another one sharing them went
  ``Inactive`` (Lambda keeps a shared ENI while any function on it is active).

Deployment package: this file as ``handler.py`` next to
``staticip/{__init__,aws,eips,enis,guard,names}.py`` (``stacks/function.py``,
``PACKAGED_MODULES``).
AWS calls, and nothing else (the IAM policy allows only these):
``lambda:GetFunctionConfiguration``, ``ec2:DescribeNetworkInterfaces``,
``ec2:DescribeAddresses``, ``ec2:AssociateAddress``, ``cloudwatch:PutMetricData``.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from staticip import aws
from staticip.eips import AllowListedEip, find_allow_listed_eips
from staticip.enis import (
    IN_USE,
    LAMBDA_INTERFACE_TYPE,
    EniInputError,
    HyperplaneEni,
    choose_eni,
    find_lambda_enis,
)
from staticip.guard import (
    ALLOCATION_IDS_VARIABLE,
    ENVIRONMENT_VARIABLE,
    FUNCTION_NAMES_VARIABLE,
    HELD_ELSEWHERE_METRIC,
    LOCK_TABLE_VARIABLE,
    METRIC_DIMENSION,
    METRIC_NAME,
    METRIC_NAMESPACE_VARIABLE,
    PROJECT_VARIABLE,
    UPDATE_FAILED_METRIC,
)
from staticip.guard_lock import RunLock, wait_for_lock
from staticip.names import AZ_TAG

ENV_VARIABLES = (
    ENVIRONMENT_VARIABLE,
    PROJECT_VARIABLE,
    FUNCTION_NAMES_VARIABLE,
    METRIC_NAMESPACE_VARIABLE,
    ALLOCATION_IDS_VARIABLE,
    LOCK_TABLE_VARIABLE,
)
# AssociateAddress error codes that mean "the ENI went away since the re-read": Lambda deleted
# it (recycling). Not a failure: the next run sees the replacement.
_GONE_CODES = frozenset(
    {"InvalidNetworkInterfaceID.NotFound", "InvalidNetworkInterfaceId.NotFound"}
)
# A CloudTrail CreateNetworkInterface event arrives while the function is still updating, when
# nothing may move yet. Rather than leave egress down until the next scheduled run, the guard
# looks again every RECHECK_SECONDS while the invocation has time to spare.
RECHECK_SECONDS = 15.0
TIME_RESERVE_SECONDS = 20.0
#: While another run holds the lock: how often to try again, and the time to keep for this
#: run's own work (so a run that waited still finishes within its invocation).
LOCK_POLL_SECONDS = 2.0
LOCK_KEEP_SECONDS = 60.0
#: Added to a lease beyond the invocation's end, for clock skew between Lambda hosts.
LOCK_LEASE_MARGIN_SECONDS = 10.0

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
    function_names: tuple[str, ...]
    """The environment's egress functions, the anchor (the probe, by default) first."""
    metric_namespace: str
    allocation_ids: tuple[str, ...]
    """The EIPs whose ``aws_eip_association`` exists in the stack: the only ones the guard may
    move, and the ranking input it shares with the resolver."""
    lock_table: str = ""
    """The DynamoDB table of the run lock; only :func:`handler` takes the lock."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read ``ENVIRONMENT``, ``PROJECT``, ``FUNCTION_NAMES`` (comma-separated),
        ``METRIC_NAMESPACE``, ``ALLOCATION_IDS`` (comma-separated ``eipalloc-`` IDs) and
        ``LOCK_TABLE``."""
        values = {name: (environ.get(name) or "").strip() for name in ENV_VARIABLES}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise GuardConfigError(f"environment variable(s) not set: {', '.join(missing)}")
        allocation_ids = tuple(
            dict.fromkeys(
                a.strip() for a in values[ALLOCATION_IDS_VARIABLE].split(",") if a.strip()
            )
        )
        bad = [a for a in allocation_ids if not a.startswith("eipalloc-")]
        if bad:
            raise GuardConfigError(
                f"{ALLOCATION_IDS_VARIABLE} must list eipalloc- IDs, got {', '.join(bad)}"
            )
        return cls(
            environment=values[ENVIRONMENT_VARIABLE],
            project=values[PROJECT_VARIABLE],
            function_names=tuple(
                dict.fromkeys(
                    n.strip() for n in values[FUNCTION_NAMES_VARIABLE].split(",") if n.strip()
                )
            ),
            metric_namespace=values[METRIC_NAMESPACE_VARIABLE],
            allocation_ids=allocation_ids,
            lock_table=values[LOCK_TABLE_VARIABLE],
        )


@dataclass(frozen=True)
class FunctionNetwork:
    """The egress function's VPC placement and lifecycle state."""

    name: str
    state: str
    last_update_status: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    last_update_reason: str = ""

    @property
    def waiting(self) -> bool:
        """True while Lambda creates ENIs that do not carry invocations yet.

        During a create or VPC-config update, invocations stay on the OLD ENI until the update
        completes; moving the EIP to the new ENI earlier would cut egress for that time.
        """
        return self.state == "Pending" or self.last_update_status == "InProgress"

    @property
    def update_failed(self) -> bool:
        """True after a failed update: invocations may still run on the old ENIs while the new
        ones are half-built, so nothing moves (as while waiting) and the alarm is raised."""
        return self.last_update_status == "Failed"

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
class HeldElsewhere:
    """An allow-listed EIP on something that is not one of the function's Lambda ENIs."""

    allocation_id: str
    public_ip: str
    az: str | None
    network_interface_id: str
    holder: str
    """What holds it, e.g. ``nat_gateway ENI eni-... in subnet-...``."""


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

    chosen: dict[str, str] = field(default_factory=dict)
    """Subnet -> the ENI :func:`choose_eni` picks there (the one Terraform resolves too)."""
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
            f"Hyperplane ENIs to guard: check {FUNCTION_NAMES_VARIABLE}"
        )
    reason = " ".join(
        str(config.get(key) or "")
        for key in ("LastUpdateStatusReasonCode", "LastUpdateStatusReason")
    ).strip()
    return FunctionNetwork(
        name=config.get("FunctionName", function_name),
        state=config.get("State") or "",
        last_update_status=config.get("LastUpdateStatus") or "",
        subnet_ids=subnets,
        security_group_ids=groups,
        last_update_reason=reason,
    )


@dataclass(frozen=True)
class EgressFunctions:
    """The environment's egress functions as one: they share the ENIs of one subnet +
    security-group set, so the guard acts on that set for all of them."""

    functions: tuple[FunctionNetwork, ...]
    """Those found, in ``FUNCTION_NAMES`` order."""
    missing: tuple[str, ...] = ()
    """Named but not found (being created, or deleted): passed over."""

    @property
    def network(self) -> FunctionNetwork:
        """Whose subnets and groups say which ENIs to guard: the first function that is not
        Inactive (the anchor, unless it idled), else the first."""
        return next((f for f in self.functions if not f.inactive), self.functions[0])

    @property
    def name(self) -> str:
        return ", ".join(f.name for f in self.functions)

    @property
    def subnet_ids(self) -> tuple[str, ...]:
        return self.network.subnet_ids

    @property
    def security_group_ids(self) -> tuple[str, ...]:
        return self.network.security_group_ids

    @property
    def state(self) -> str:
        """``Pending`` while any is, else ``Active`` while any is, else the first's."""
        states = [f.state for f in self.functions]
        for state in ("Pending", "Active"):
            if state in states:
                return state
        return states[0]

    @property
    def last_update_status(self) -> str:
        statuses = [f.last_update_status for f in self.functions]
        for status in ("Failed", "InProgress"):
            if status in statuses:
                return status
        return self.network.last_update_status

    @property
    def last_update_reason(self) -> str:
        return "; ".join(
            f"{f.name}: {f.last_update_reason or 'no reason given'}"
            for f in self.functions
            if f.update_failed
        )

    @property
    def waiting(self) -> bool:
        """Any function still being created or updated: invocations may stay on the old ENIs."""
        return any(f.waiting for f in self.functions)

    @property
    def update_failed(self) -> bool:
        return any(f.update_failed for f in self.functions)

    @property
    def inactive(self) -> bool:
        """All idle: Lambda reclaimed the shared ENIs only once no function on them was active."""
        return all(f.inactive for f in self.functions)

    @property
    def elsewhere(self) -> list[str]:
        """Functions whose subnets or groups differ from `network`'s: not on the guarded ENIs."""
        net = self.network
        return [
            f.name
            for f in self.functions
            if (f.subnet_ids, f.security_group_ids) != (net.subnet_ids, net.security_group_ids)
        ]


def read_functions(lambda_client: BaseClient, function_names: Sequence[str]) -> EgressFunctions:
    """One GetFunctionConfiguration per function; a function that does not exist is passed
    over while another one does. Raises :class:`EniInputError` when none exists or one is not
    in a VPC."""
    found, missing = [], []
    for name in function_names:
        try:
            found.append(read_function(lambda_client, name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            missing.append(name)
    if not found:
        raise EniInputError(
            f"none of the functions {', '.join(function_names)} exists: check "
            f"{FUNCTION_NAMES_VARIABLE}"
        )
    return EgressFunctions(tuple(found), tuple(missing))


@dataclass(frozen=True)
class StackEips:
    """The environment's allow-listed EIPs, split by what the guard may do with them."""

    usable: list[AllowListedEip]
    """Tagged, with ``staticip:az``, and associated by the stack: the guard places these."""
    ignored: list[AllowListedEip]
    """Tagged but without ``staticip:az``: the guard cannot tell which subnet they serve."""
    not_in_stack: list[AllowListedEip]
    """Tagged but not in ``ALLOCATION_IDS``: their association left the stack (an AZ removed,
    or a destroy under way), so moving them would fight Terraform's teardown."""


def environment_eips(
    ec2: BaseClient, environment: str, project: str, allocation_ids: Sequence[str]
) -> StackEips:
    """The environment's allow-listed EIPs, one DescribeAddresses call.

    Usable EIPs carry ``environment``, ``project``, ``staticip:allow-listed=true`` AND
    ``staticip:az``, and are among ``allocation_ids``. The tags are checked again here, not only
    by the server-side filter, because associating someone else's address would move an IP that
    is not ours.
    """
    eips = find_allow_listed_eips(ec2, project, environment)
    listed = set(allocation_ids)
    return StackEips(
        usable=[eip for eip in eips if eip.az and eip.allocation_id in listed],
        ignored=[eip for eip in eips if not eip.az and eip.allocation_id in listed],
        not_in_stack=[eip for eip in eips if eip.allocation_id not in listed],
    )


def find_held_elsewhere(
    ec2: BaseClient,
    eips: Iterable[AllowListedEip],
    found: Mapping[str, Sequence[HyperplaneEni]],
    subnet_ids: Sequence[str],
) -> dict[str, HeldElsewhere]:
    """Allocation ID -> where it is, for each EIP on an interface the guard must not take it from.

    An EIP may move only when it is unassociated or sits on a ``lambda`` ENI in the function's
    subnets (the function's own ENIs, or the ones of its previous security-group set that a
    VPC update replaced). Anything else (an EC2 instance, a NAT Gateway, another interface type
    or subnet) is reported and left: taking it would break whatever uses it, and a NAT
    Gateway's address cannot be moved at all. One DescribeNetworkInterfaces call, only when an
    EIP sits on an interface that is not among ``found``.
    """
    known = {eni.eni_id for enis in found.values() for eni in enis}
    unknown = {
        eip.network_interface_id: eip
        for eip in eips
        if eip.network_interface_id and eip.network_interface_id not in known
    }
    if not unknown:
        return {}
    listing = ec2.describe_network_interfaces(
        Filters=[{"Name": "network-interface-id", "Values": sorted(unknown)}]
    ).get("NetworkInterfaces", [])
    seen = {raw["NetworkInterfaceId"]: raw for raw in listing}
    held: dict[str, HeldElsewhere] = {}
    for eni_id, eip in unknown.items():
        raw = seen.get(eni_id)
        if raw is None:
            holder = f"{eni_id}, which no longer exists (the next run sees the address free)"
        elif raw.get("InterfaceType") == LAMBDA_INTERFACE_TYPE and raw.get("SubnetId") in set(
            subnet_ids
        ):
            continue
        else:
            attachment = raw.get("Attachment") or {}
            owner = attachment.get("InstanceId") or raw.get("Description") or ""
            holder = (
                f"{raw.get('InterfaceType') or 'interface'} ENI {eni_id} in {raw.get('SubnetId')}"
                + (f" ({owner})" if owner else "")
            )
        held[eip.allocation_id] = HeldElsewhere(
            eip.allocation_id, eip.public_ip, eip.az, eni_id, holder
        )
    return held


def plan_associations(
    found: Mapping[str, Sequence[HyperplaneEni]],
    eips: Iterable[AllowListedEip],
    ranking_ids: Iterable[str],
    held_elsewhere: Mapping[str, HeldElsewhere] | None = None,
) -> Plan:
    """Decide, per subnet, whether its AZ's EIP has to move to the ENI :func:`choose_eni` picks.

    ``found`` is :func:`find_lambda_enis`' result in the function's subnet order; ``eips`` are the
    usable EIPs; ``ranking_ids`` the allocation IDs ENIs are ranked by, the stack's
    (``ALLOCATION_IDS``), exactly as the resolver is given them, so both pick the same ENI.
    EIPs in ``held_elsewhere`` are never moved; the ENI of their AZ is reported with the reason.
    A subnet's AZ is its ENIs' ``AvailabilityZone``, so no DescribeSubnets is needed (and a
    subnet without ENI needs no AZ: it has nothing to attach to). Where one AZ has several of
    the function's subnets or several EIPs, the guard keeps what is already attached and moves
    nothing: one EIP per AZ/subnet is the stack's invariant, and picking a winner could make the
    guard and Terraform move the address back and forth. In-use ENIs left without an EIP are
    listed (spill-over past 65,000 connections, no EIP for the AZ, ambiguous AZ); detached ENIs
    are not, as Lambda is deleting them and they carry no traffic.
    """
    held = dict(held_elsewhere or {})
    eips = list(eips)
    ranking = tuple(ranking_ids)
    by_az: dict[str, list[AllowListedEip]] = {}
    blocked_az: dict[str, HeldElsewhere] = {}
    for eip in eips:
        if eip.allocation_id in held:
            blocked_az[eip.az or ""] = held[eip.allocation_id]
            continue
        by_az.setdefault(eip.az or "", []).append(eip)

    plan = Plan()
    chosen_by_az: dict[str, list[tuple[str, HyperplaneEni]]] = {}
    for subnet, candidates in found.items():
        if not candidates:
            plan.subnets_without_eni.append(subnet)
            continue
        chosen, others = choose_eni(candidates, ranking)
        plan.chosen[subnet] = chosen.eni_id
        az = chosen.availability_zone
        chosen_by_az.setdefault(az, []).append((subnet, chosen))
        for other in others:
            if other.status == IN_USE:
                plan.enis_without_eip.append(
                    EniWithoutEip(
                        other.eni_id,
                        subnet,
                        az,
                        f"more ENIs than EIPs in the subnet: {chosen.eni_id} is the one that "
                        "gets its EIP",
                    )
                )

    for az, entries in chosen_by_az.items():
        az_eips = by_az.get(az, []) if az else []
        if len(entries) == 1 and len(az_eips) == 1:
            (subnet, eni), eip = entries[0], az_eips[0]
            target = plan.unchanged if eip.network_interface_id == eni.eni_id else plan.moves
            target.append(_association(eip, subnet, eni))
            continue
        if az in blocked_az and not az_eips:
            other = blocked_az[az]
            reason = (
                f"the AZ's EIP {other.allocation_id} ({other.public_ip}) is held by "
                f"{other.holder}: left there, not taken"
            )
        elif not az_eips:
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
    plan.unused_eips = [
        eip for eip in eips if eip.az not in served and eip.allocation_id not in held
    ]
    return plan


def recheck(
    ec2: BaseClient,
    move: Association,
    security_group_ids: Sequence[str],
    ranking_ids: Sequence[str],
) -> str | None:
    """Re-read the move's subnet and address right before AssociateAddress; return why the move
    is stale, or None to go ahead. Two calls: DescribeNetworkInterfaces (the subnet) and
    DescribeAddresses (the allocation).

    Between the snapshot and now, Lambda may have detached or deleted the chosen ENI and another
    actor (Terraform, a person) may have moved the address; associating anyway would put the
    EIP on a dead ENI or undo their move. A stale move is skipped, not failed: the next run
    plans from a fresh snapshot.

    This is also where the AZ pairing holds: IAM lets the guard put any of the environment's
    EIPs on any interface in the function subnets (AssociateAddress authorizes the address and
    the interface separately, and Allow statements pool), so nothing but this check stops AZ
    a's EIP landing on an AZ b interface. The interface's AZ, as EC2 reports it now, must be the
    move's, and so must the address's `staticip:az` tag.
    """
    fresh = find_lambda_enis(ec2, [move.subnet_id], security_group_ids)[move.subnet_id]
    eni = next((candidate for candidate in fresh if candidate.eni_id == move.eni_id), None)
    if eni is None:
        return f"{move.eni_id} no longer exists"
    if eni.availability_zone != move.az:
        return (
            f"{move.eni_id} is in {eni.availability_zone or 'an unknown AZ'}, not {move.az}: "
            f"an EIP stays in its own AZ"
        )
    if eni.status != IN_USE:
        return f"{move.eni_id} is {eni.status or 'not in use'} now"
    pick, _ = choose_eni(fresh, ranking_ids)
    if pick.eni_id != move.eni_id:
        return f"{pick.eni_id} is the subnet's pick now, not {move.eni_id}"
    addresses = ec2.describe_addresses(
        Filters=[{"Name": "allocation-id", "Values": [move.allocation_id]}]
    ).get("Addresses", [])
    if not addresses:
        return f"{move.allocation_id} no longer exists"
    tagged_az = aws.tags(addresses[0]).get(AZ_TAG)
    if tagged_az != move.az:
        return (
            f"{move.allocation_id} is tagged {AZ_TAG}={tagged_az or '(none)'} now, not "
            f"{move.az}: an EIP stays in its own AZ"
        )
    now_on = addresses[0].get("NetworkInterfaceId") or None
    if now_on != move.previous_eni_id:
        return (
            f"{move.allocation_id} is on {now_on or 'nothing'} now, not on "
            f"{move.previous_eni_id or 'nothing'} as the snapshot saw it"
        )
    return None


@dataclass
class MoveOutcome:
    associated: list[Association] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    """Moves not made because the snapshot was stale or the ENI went away; not failures."""


def apply_moves(
    ec2: BaseClient,
    moves: Sequence[Association],
    security_group_ids: Sequence[str],
    ranking_ids: Sequence[str],
) -> MoveOutcome:
    """:func:`recheck`, then AssociateAddress, for each move; one log line each.

    ``AllowReassociation`` takes the EIP off the ENI it is on now in the same call (the guard has
    no DisassociateAddress permission, and needs none). A failure does not stop the other AZs.
    """
    outcome = MoveOutcome()
    for move in moves:
        try:
            stale = recheck(ec2, move, security_group_ids, ranking_ids)
            if stale is None:
                ec2.associate_address(
                    AllocationId=move.allocation_id,
                    NetworkInterfaceId=move.eni_id,
                    AllowReassociation=True,
                )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _GONE_CODES:
                outcome.failed.append(_failed(move, exc))
                continue
            stale = f"{move.eni_id} no longer exists"
        except BotoCoreError as exc:
            outcome.failed.append(_failed(move, exc))
            continue
        if stale is not None:
            logger.info(
                "skipped %s (%s, %s) -> %s in %s: %s",
                move.allocation_id,
                move.public_ip,
                move.az,
                move.eni_id,
                move.subnet_id,
                stale,
            )
            outcome.skipped.append(asdict(move) | {"reason": stale})
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
        outcome.associated.append(move)
    return outcome


def _failed(move: Association, exc: Exception) -> dict[str, str]:
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
    return asdict(move) | {"error": error}


def publish_metrics(
    cloudwatch: BaseClient,
    namespace: str,
    environment: str,
    *,
    enis_without_eip: int,
    held_elsewhere: int,
    update_failed: bool,
) -> None:
    """One PutMetricData call with ``EnisWithoutElasticIp``, ``ElasticIpsHeldElsewhere`` and
    ``EgressFunctionUpdateFailed`` (dimension ``Environment``), zeros included.

    Published on every run, so the alarms see data points when all is well and the silence
    alarm (SampleCount) sees the guard running.
    """
    dimensions = [{"Name": METRIC_DIMENSION, "Value": environment}]
    values = {
        METRIC_NAME: enis_without_eip,
        HELD_ELSEWHERE_METRIC: held_elsewhere,
        UPDATE_FAILED_METRIC: int(update_failed),
    }
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": name, "Dimensions": dimensions, "Value": float(value), "Unit": "Count"}
            for name, value in values.items()
        ],
    )


def reconcile(
    settings: Settings,
    *,
    lambda_client: BaseClient,
    ec2: BaseClient,
    cloudwatch: BaseClient,
) -> dict[str, Any]:
    """One guard run: read the function, plan, associate (unless on hold), publish the metrics.

    AWS calls: 1 GetFunctionConfiguration per function; unless all are Inactive, 1
    DescribeAddresses
    and 1 DescribeNetworkInterfaces per page (all subnets in one listing), plus 1
    DescribeNetworkInterfaces when an EIP sits on an interface that is not the function's; per
    EIP that must move (none while on hold) 1 DescribeNetworkInterfaces + 1 DescribeAddresses
    (the re-read) and 1 AssociateAddress; 1 PutMetricData. Returns a JSON-able summary.
    Raises botocore errors and :class:`EniInputError` when the run cannot be done at all.
    """
    function = read_functions(lambda_client, settings.function_names)
    summary: dict[str, Any] = {
        "environment": settings.environment,
        "function": function.name,
        "functions": {f.name: f.state for f in function.functions},
        "missing_functions": list(function.missing),
        "state": function.state,
        "last_update_status": function.last_update_status,
        "status": "reconciled",
        "associated": [],
        "unchanged": [],
        "waiting": [],
        "skipped": [],
        "failed": [],
        "enis_without_eip": [],
        "subnets_without_eni": [],
        "unused_eips": [],
        "ignored_eips": [],
        "not_in_stack_eips": [],
        "held_elsewhere": [],
    }
    if function.update_failed:
        summary["update_failed_reason"] = function.last_update_reason
    if function.inactive:
        # No ENIs exist; the first invocation makes the function Pending and Lambda creates new
        # ones, which a later run (CloudTrail event or schedule) picks up.
        summary["status"] = "inactive"
        logger.info("functions %s are all Inactive: no ENIs, nothing to do", function.name)
    else:
        for name in function.elsewhere:
            logger.warning(
                "%s has other subnets or security groups than %s: its ENIs are not guarded",
                name,
                function.network.name,
            )
        eips = environment_eips(
            ec2, settings.environment, settings.project, settings.allocation_ids
        )
        found = find_lambda_enis(ec2, function.subnet_ids, function.security_group_ids)
        held = find_held_elsewhere(ec2, eips.usable, found, function.subnet_ids)
        plan = plan_associations(found, eips.usable, settings.allocation_ids, held)
        without = list(plan.enis_without_eip)
        if function.waiting or function.update_failed:
            summary["status"] = "update-failed" if function.update_failed else "waiting"
            summary["waiting"] = [asdict(move) for move in plan.moves]
            if function.update_failed:
                logger.error(
                    "last update of %s FAILED (%s): moving nothing, invocations may still run "
                    "on the old ENIs",
                    function.name,
                    function.last_update_reason or "no reason given",
                )
            for move in plan.moves:
                logger.info(
                    "on hold: %s (%s) stays off %s in %s while %s is %s",
                    move.allocation_id,
                    move.public_ip,
                    move.eni_id,
                    move.subnet_id,
                    function.name,
                    "Pending"
                    if function.state == "Pending"
                    else "failed to update"
                    if function.update_failed
                    else "updating",
                )
        else:
            outcome = apply_moves(
                ec2, plan.moves, function.security_group_ids, settings.allocation_ids
            )
            summary["associated"] = [asdict(move) for move in outcome.associated]
            summary["failed"] = outcome.failed
            summary["skipped"] = outcome.skipped
            # A failed move leaves its ENI without an EIP: count it, so the alarm sees it. A
            # skipped one is not counted: the world changed under this run, the next one
            # plans again from what is there then.
            without += [
                EniWithoutEip(f["eni_id"], f["subnet_id"], f["az"], "association failed")
                for f in outcome.failed
            ]
        for gap in without:
            logger.warning(
                "no EIP on %s in %s (%s): %s", gap.eni_id, gap.subnet_id, gap.az, gap.reason
            )
        for subnet in plan.subnets_without_eni:
            logger.info("no Lambda ENI in %s yet for %s", subnet, function.name)
        for eip in eips.ignored:
            logger.warning("ignored %s (%s): no %s tag", eip.allocation_id, eip.public_ip, AZ_TAG)
        for eip in eips.not_in_stack:
            logger.info(
                "left %s (%s) alone: the stack has no association for it (not in %s)",
                eip.allocation_id,
                eip.public_ip,
                ALLOCATION_IDS_VARIABLE,
            )
        for other in held.values():
            logger.warning(
                "left %s (%s) on %s: not one of %s's Lambda ENIs, not taking it",
                other.allocation_id,
                other.public_ip,
                other.holder,
                function.name,
            )
        summary["chosen"] = dict(plan.chosen)
        summary["unchanged"] = [asdict(kept) for kept in plan.unchanged]
        summary["enis_without_eip"] = [asdict(gap) for gap in without]
        summary["subnets_without_eni"] = list(plan.subnets_without_eni)
        summary["unused_eips"] = [asdict(eip) for eip in plan.unused_eips]
        summary["ignored_eips"] = [asdict(eip) for eip in eips.ignored]
        summary["not_in_stack_eips"] = [asdict(eip) for eip in eips.not_in_stack]
        summary["held_elsewhere"] = [asdict(other) for other in held.values()]

    count = len(summary["enis_without_eip"])
    publish_metrics(
        cloudwatch,
        settings.metric_namespace,
        settings.environment,
        enis_without_eip=count,
        held_elsewhere=len(summary["held_elsewhere"]),
        update_failed=function.update_failed,
    )
    summary["metric"] = {
        "namespace": settings.metric_namespace,
        "name": METRIC_NAME,
        "dimensions": {METRIC_DIMENSION: settings.environment},
        "value": count,
    }
    summary["metrics"] = {
        METRIC_NAME: count,
        HELD_ELSEWHERE_METRIC: len(summary["held_elsewhere"]),
        UPDATE_FAILED_METRIC: int(function.update_failed),
    }
    logger.info(
        "run %s: %d associated, %d unchanged, %d on hold, %d skipped, %d failed, "
        "%d ENI(s) without EIP, %d EIP(s) held elsewhere",
        summary["status"],
        len(summary["associated"]),
        len(summary["unchanged"]),
        len(summary["waiting"]),
        len(summary["skipped"]),
        len(summary["failed"]),
        count,
        len(summary["held_elsewhere"]),
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
    """Lambda entry point: take the run lock, reconcile, give the lock back; return the run
    summary.

    Runs never overlap: a run that finds the lock taken waits for it (see
    :func:`staticip.guard_lock.wait_for_lock`) and, if the other run keeps it until this one
    has only LOCK_KEEP_SECONDS left, returns ``status: busy`` having changed nothing; the
    holder and the next scheduled run plan from their own snapshots. Raises (so Lambda's
    Errors metric shows it) when settings are missing, an AWS read fails or an association
    failed; in the last case the metric has been published first.
    """
    settings = Settings.from_environ(os.environ)
    logger.info(describe_trigger(event))

    def remaining_seconds() -> float:
        return context.get_remaining_time_in_millis() / 1000 if context is not None else 0.0

    # Region from AWS_REGION, set by the Lambda runtime.
    lock = RunLock(
        aws.client("dynamodb", None),
        settings.lock_table,
        settings.environment,
        owner=getattr(context, "aws_request_id", None) or uuid.uuid4().hex,
    )
    try:
        if not wait_for_lock(
            lock,
            remaining_seconds=remaining_seconds,
            keep_seconds=LOCK_KEEP_SECONDS,
            poll_seconds=LOCK_POLL_SECONDS,
            lease_margin_seconds=LOCK_LEASE_MARGIN_SECONDS,
            sleep=time.sleep,
        ):
            logger.warning(
                "another guard run held the lock (%s) throughout: this run changed nothing; "
                "the next run plans from a fresh snapshot",
                settings.lock_table,
            )
            return {"environment": settings.environment, "status": "busy"}
        try:
            summary = reconcile_until_settled(
                settings,
                lambda_client=aws.client("lambda", None),
                ec2=aws.client("ec2", None),
                cloudwatch=aws.client("cloudwatch", None),
                remaining_seconds=remaining_seconds,
            )
        finally:
            lock.release()
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
