"""The ENI guard Lambda (lambda_src/eni_guard/handler.py) against moto's EC2, Lambda, CloudWatch.

moto 5.2.5 makes no Hyperplane ENIs, so the tests create them with ``create_lambda_eni`` where
Lambda would (real AWS: Lambda creates, detaches and deletes them itself, on its own schedule).
moto also reports every function as ``Active`` with ``LastUpdateStatus``
``Successful``: the Pending case sets the ``state`` attribute of moto's function model, and the
update-in-progress case wraps that model's ``get_configuration`` (see
:func:`update_in_progress`), so the guard still reads the state through the real Lambda API.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import logging
import sys
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_fixtures import moto_function
from botocore.exceptions import ClientError
from eni_fixtures import (
    REGION,
    FakeClock,
    Network,
    create_function,
    create_instance_eni,
    create_lambda_eni,
    create_lock_table,
    create_role,
    drop_filter,
    make_network,
    moto_eni,
    record_calls,
    use_fake_aws,
)
from moto import mock_aws

from staticip import enis

REPO_ROOT = Path(__file__).resolve().parent.parent
HANDLER = REPO_ROOT / "lambda_src" / "eni_guard" / "handler.py"
ENVIRONMENT = "dev"
PROJECT = "staticip"
FUNCTION = "staticip-dev-egress"
NAMESPACE = "staticip/eni-guard"
LOCK_TABLE = "staticip-dev-eni-guard-lock"
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
SCHEDULE_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "region": REGION,
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/staticip-dev-eni-guard"],
    "detail": {},
}


def load_guard() -> types.ModuleType:
    """Import the handler the way the Lambda package lays it out: staticip/ importable beside it."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    spec = importlib.util.spec_from_file_location("eni_guard_handler", HANDLER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve string annotations through sys.modules, so register before running.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def guard() -> types.ModuleType:
    return load_guard()


@dataclass
class World:
    """moto clients, the VPC and the egress function, as the dev stack leaves them."""

    guard: types.ModuleType
    ec2: Any
    lambda_client: Any
    cloudwatch: Any
    net: Network
    groups: tuple[str, ...]
    stack_eips: list[str] = field(default_factory=list)
    """Allocation IDs the stack associates, in creation order: the guard's ALLOCATION_IDS."""
    function_names: tuple[str, ...] = (FUNCTION,)
    """The guard's FUNCTION_NAMES."""

    @property
    def dynamodb(self) -> Any:
        return boto3.client("dynamodb", region_name=REGION)

    @property
    def settings(self) -> Any:
        return self.guard.Settings(
            ENVIRONMENT, PROJECT, self.function_names, NAMESPACE, tuple(self.stack_eips)
        )

    def guard_role(self) -> str:
        return boto3.client("iam", region_name=REGION).get_role(RoleName="staticip-test")["Role"][
            "Arn"
        ]

    def run(self) -> dict[str, Any]:
        return self.guard.reconcile(
            self.settings,
            lambda_client=self.lambda_client,
            ec2=self.ec2,
            cloudwatch=self.cloudwatch,
        )

    def eni(self, subnet: str, groups: tuple[str, ...] | None = None, **kwargs: Any) -> str:
        return create_lambda_eni(self.ec2, subnet, groups or self.groups, FUNCTION, **kwargs)

    def eip(self, az: str | None, in_stack: bool = True, **tags: str | None) -> str:
        """Allocate an EIP tagged like the stack tags ``az``'s; ``tags`` add or change tags, and a
        None value drops one. ``az=None`` leaves out ``staticip:az``. ``in_stack`` lists it in
        the guard's ALLOCATION_IDS, as the stack does for every EIP it associates."""
        base: dict[str, str | None] = {
            "environment": ENVIRONMENT,
            "project": PROJECT,
            "staticip:allow-listed": "true",
        }
        if az is not None:
            base["staticip:az"] = az
        base.update(tags)
        allocation = allocate(self.ec2, {k: v for k, v in base.items() if v is not None})
        if in_stack:
            self.stack_eips.append(allocation)
        return allocation

    def where(self) -> dict[str, str | None]:
        """Allocation id -> ENI it is on now, from DescribeAddresses (the authoritative side:
        moto does not clear the old ENI's Association when an EIP is re-associated)."""
        return {
            a["AllocationId"]: a.get("NetworkInterfaceId") or None
            for a in self.ec2.describe_addresses()["Addresses"]
        }


def allocate(ec2: Any, tags: dict[str, str]) -> str:
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    spec = [{"ResourceType": "elastic-ip", "Tags": tag_list}] if tag_list else []
    return ec2.allocate_address(Domain="vpc", TagSpecifications=spec)["AllocationId"]


def build_world(guard: types.ModuleType, *, subnets: int = 2) -> World:
    """A VPC with ``subnets`` public subnets and the egress function in all of them (inside an
    active moto mock). The function has TWO security groups: ENIs are matched on the whole set."""
    ec2 = boto3.client("ec2", region_name=REGION)
    lambda_client = boto3.client("lambda", region_name=REGION)
    net = make_network(ec2, subnets=subnets)
    groups = net.security_group_ids[:2]
    role = create_role(boto3.client("iam", region_name=REGION))
    create_function(lambda_client, role, FUNCTION, net.subnet_ids, groups)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    return World(guard, ec2, lambda_client, cloudwatch, net, groups)


@pytest.fixture
def world(guard: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    use_fake_aws(monkeypatch)
    with mock_aws():
        yield build_world(guard)


def function_model(name: str = FUNCTION) -> Any:
    """moto's in-memory model of the function, in whichever account moto filed it under."""
    return moto_function(name)


def update_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make GetFunctionConfiguration report ``LastUpdateStatus: InProgress``.

    moto hard-codes ``Successful`` in the model's ``get_configuration``, so that method is
    wrapped on this one function's model; the guard still reads it through the Lambda API.
    """
    model = function_model()
    original = model.get_configuration

    def in_progress(on_create: bool = False) -> dict[str, Any]:
        return original(on_create) | {"LastUpdateStatus": "InProgress"}

    monkeypatch.setattr(model, "get_configuration", in_progress)


def record_operations(client: Any) -> list[str]:
    """Names of every API call the client makes (one per page), via botocore's event hooks."""
    operations: list[str] = []

    def remember(model: Any, **_: Any) -> None:
        operations.append(model.name)

    client.meta.events.register(f"before-call.{client.meta.service_model.service_name}", remember)
    return operations


def published(calls: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, str], float]]:
    """(namespace, metric, dimensions, value) of each datum in recorded PutMetricData calls."""
    return [
        (
            call["Namespace"],
            datum["MetricName"],
            {d["Name"]: d["Value"] for d in datum["Dimensions"]},
            datum["Value"],
        )
        for call in calls
        for datum in call["MetricData"]
    ]


def metric(
    value: float, name: str = "EnisWithoutElasticIp"
) -> tuple[str, str, dict[str, str], float]:
    return (NAMESPACE, name, {"Environment": ENVIRONMENT}, value)


def gaps(
    data: list[tuple[str, str, dict[str, str], float]],
) -> list[tuple[str, str, dict[str, str], float]]:
    """Only the ``EnisWithoutElasticIp`` data points (each run publishes three metrics)."""
    return [datum for datum in data if datum[1] == "EnisWithoutElasticIp"]


def deny_association(ec2: Any, allocation_id: str) -> None:
    """Make AssociateAddress fail for one EIP, as IAM does when its tag condition is not met."""

    def deny(params: dict[str, Any], **_: Any) -> None:
        if params.get("AllocationId") == allocation_id:
            raise ClientError(
                {"Error": {"Code": "UnauthorizedOperation", "Message": "not authorized"}},
                "AssociateAddress",
            )

    ec2.meta.events.register("provide-client-params.ec2.AssociateAddress", deny)


def terraform_choice(
    world: World,
    subnets: list[str] | tuple[str, ...],
    allocation_ids: list[str],
    groups: tuple[str, ...] | None = None,
) -> dict[str, str]:
    """What Terraform's external data source (staticip.enis) resolves right now."""
    clock = FakeClock()
    return enis.resolve_enis(
        world.ec2,
        subnets,
        groups or world.groups,
        allocation_ids=allocation_ids,
        sleep=clock.sleep,
        clock=clock.clock,
        warn=lambda _message: None,
    )


# --- ENIs without an EIP ---------------------------------------------------------------------


def test_an_eni_appearing_without_eip_gets_its_azs_eip(world: World) -> None:
    (subnet_a, subnet_b), (az_a, az_b) = world.net.subnet_ids, world.net.availability_zones
    held_eni = world.eni(subnet_a)
    eip_a = world.eip(az_a)
    world.ec2.associate_address(AllocationId=eip_a, NetworkInterfaceId=held_eni)
    eip_b = world.eip(az_b)
    new_eni = world.eni(subnet_b)
    associations = record_calls(world.ec2, "AssociateAddress")

    summary = world.run()

    # Only the new ENI is touched, and it gets the EIP of ITS AZ, not the other one.
    assert world.where() == {eip_a: held_eni, eip_b: new_eni}
    assert [(c["AllocationId"], c["NetworkInterfaceId"]) for c in associations] == [
        (eip_b, new_eni)
    ]
    assert associations[0]["AllowReassociation"] is True
    assert summary["status"] == "reconciled"
    assert [(a["eni_id"], a["previous_eni_id"]) for a in summary["associated"]] == [(new_eni, None)]
    assert [u["eni_id"] for u in summary["unchanged"]] == [held_eni]
    assert summary["enis_without_eip"] == []


def test_eips_are_found_by_the_environments_tags(world: World) -> None:
    world.eni(world.net.subnet_ids[0])
    calls = record_calls(world.ec2, "DescribeAddresses")

    world.run()

    assert len(calls) == 1
    filters = {f["Name"]: f["Values"] for f in calls[0]["Filters"]}
    assert filters == {
        "tag:environment": [ENVIRONMENT],
        "tag:project": [PROJECT],
        "tag:staticip:allow-listed": ["true"],
    }


# --- ENIs replaced ---------------------------------------------------------------------------


def test_after_an_sg_change_the_eip_moves_only_once_the_update_completed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    subnets, azs = world.net.subnet_ids, world.net.availability_zones
    old = {subnet: world.eni(subnet) for subnet in subnets}
    eips = {subnet: world.eip(az) for subnet, az in zip(subnets, azs, strict=True)}
    for subnet in subnets:
        world.ec2.associate_address(AllocationId=eips[subnet], NetworkInterfaceId=old[subnet])
    # The function gets a third security group: Lambda creates ENIs for the new set and keeps
    # invoking through the old ones until the update completes.
    new_groups = world.net.security_group_ids
    world.lambda_client.update_function_configuration(
        FunctionName=FUNCTION,
        VpcConfig={"SubnetIds": list(subnets), "SecurityGroupIds": list(new_groups)},
    )
    new = {subnet: world.eni(subnet, new_groups) for subnet in subnets}
    associations = record_calls(world.ec2, "AssociateAddress")
    metrics = record_calls(world.cloudwatch, "PutMetricData")

    with monkeypatch.context() as patch:
        update_in_progress(patch)
        waiting = world.run()

    assert waiting["status"] == "waiting"
    assert waiting["last_update_status"] == "InProgress"
    assert associations == []
    assert world.where() == {eips[s]: old[s] for s in subnets}
    assert sorted((w["eni_id"], w["previous_eni_id"]) for w in waiting["waiting"]) == sorted(
        (new[s], old[s]) for s in subnets
    )
    # The new ENIs are about to get the EIPs: not an alarm, and the metric still goes out.
    assert gaps(published(metrics)) == [metric(0)]

    done = world.run()

    assert done["status"] == "reconciled"
    assert world.where() == {eips[s]: new[s] for s in subnets}
    assert sorted((c["AllocationId"], c["NetworkInterfaceId"]) for c in associations) == sorted(
        (eips[s], new[s]) for s in subnets
    )
    assert sorted((a["eni_id"], a["previous_eni_id"]) for a in done["associated"]) == sorted(
        (new[s], old[s]) for s in subnets
    )
    assert gaps(published(metrics)) == [metric(0), metric(0)]
    assert terraform_choice(world, subnets, list(eips.values()), new_groups) == new


def test_a_pending_function_gets_no_eip_yet(world: World) -> None:
    # First deployment: Lambda has created the ENIs but the function is still Pending.
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    eni = world.eni(subnet)
    eip = world.eip(az)
    function_model().state = "Pending"
    metrics = record_calls(world.cloudwatch, "PutMetricData")

    summary = world.run()

    assert summary["status"] == "waiting"
    assert world.where() == {eip: None}
    assert [w["eni_id"] for w in summary["waiting"]] == [eni]
    assert gaps(published(metrics)) == [metric(0)]

    function_model().state = "Active"
    world.run()
    assert world.where() == {eip: eni}


def test_an_eni_lambda_recycled_hands_its_eip_to_the_new_one(world: World) -> None:
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    old = world.eni(subnet, attach_time=T0)
    eip = world.eip(az)
    world.ec2.associate_address(AllocationId=eip, NetworkInterfaceId=old)
    # Lambda detached the old ENI (it deletes it within ~20 minutes) and serves from a new one.
    moto_eni(old).status = "available"
    new = world.eni(subnet, attach_time=T0 + datetime.timedelta(days=3))

    summary = world.run()

    assert world.where() == {eip: new}
    assert [(a["eni_id"], a["previous_eni_id"]) for a in summary["associated"]] == [(new, old)]
    # The detached ENI is not reported as missing an EIP: it carries no traffic.
    assert summary["enis_without_eip"] == []
    # Terraform's lookup resolves the same ENI, so the next plan converges instead of flapping.
    assert terraform_choice(world, [subnet], [eip]) == {subnet: new}


# --- more ENIs than EIPs ---------------------------------------------------------------------


def test_a_spill_over_eni_is_counted_and_gets_no_eip(world: World) -> None:
    subnets, azs = world.net.subnet_ids, world.net.availability_zones
    first = {s: world.eni(s, attach_time=T0) for s in subnets}
    eips = {s: world.eip(az) for s, az in zip(subnets, azs, strict=True)}
    for s in subnets:
        world.ec2.associate_address(AllocationId=eips[s], NetworkInterfaceId=first[s])
    # Past 65,000 connections Lambda adds a second ENI in one subnet.
    extra = world.eni(subnets[0], attach_time=T0 + datetime.timedelta(hours=1))
    associations = record_calls(world.ec2, "AssociateAddress")
    metrics = record_calls(world.cloudwatch, "PutMetricData")

    summary = world.run()

    assert associations == []
    assert world.where() == {eips[s]: first[s] for s in subnets}
    assert [(g["eni_id"], g["subnet_id"]) for g in summary["enis_without_eip"]] == [
        (extra, subnets[0])
    ]
    assert gaps(published(metrics)) == [metric(1)]
    assert summary["metric"]["value"] == 1
    # The data point reached CloudWatch under the namespace and dimension the alarm watches.
    now = datetime.datetime.now(datetime.UTC)
    stats = world.cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="EnisWithoutElasticIp",
        Dimensions=[{"Name": "Environment", "Value": ENVIRONMENT}],
        StartTime=now - datetime.timedelta(hours=1),
        EndTime=now + datetime.timedelta(hours=1),
        Period=3600 * 2,
        Statistics=["Maximum", "SampleCount"],
    )["Datapoints"]
    assert [(p["Maximum"], p["SampleCount"]) for p in stats] == [(1.0, 1.0)]
    assert terraform_choice(world, subnets, list(eips.values())) == first


def test_a_subnet_without_an_eip_for_its_az_is_counted_not_guessed(world: World) -> None:
    (subnet_a, subnet_b), (az_a, _az_b) = world.net.subnet_ids, world.net.availability_zones
    eni_a, eni_b = world.eni(subnet_a), world.eni(subnet_b)
    eip_a = world.eip(az_a)
    associations = record_calls(world.ec2, "AssociateAddress")
    metrics = record_calls(world.cloudwatch, "PutMetricData")

    summary = world.run()

    # AZ a's EIP goes to subnet a only; subnet b's ENI is reported, never given a's EIP.
    assert [c["NetworkInterfaceId"] for c in associations] == [eni_a]
    assert world.where() == {eip_a: eni_a}
    assert [g["eni_id"] for g in summary["enis_without_eip"]] == [eni_b]
    assert gaps(published(metrics)) == [metric(1)]


def test_two_eips_tagged_for_one_az_are_not_guessed_between(world: World) -> None:
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    eni = world.eni(subnet)
    first, second = world.eip(az), world.eip(az)
    metrics = record_calls(world.cloudwatch, "PutMetricData")

    summary = world.run()

    assert world.where() == {first: None, second: None}
    assert [g["eni_id"] for g in summary["enis_without_eip"]] == [eni]
    assert gaps(published(metrics)) == [metric(1)]


# --- EIPs that are not the environment's -----------------------------------------------------


def test_eips_without_the_environments_tags_are_never_touched(world: World) -> None:
    (subnet_a, subnet_b), (az_a, az_b) = world.net.subnet_ids, world.net.availability_zones
    eni_a, eni_b = world.eni(subnet_a), world.eni(subnet_b)
    # Each of these lacks (or contradicts) one tag that makes an EIP this environment's; all
    # claim AZ a, whose subnet has an ENI and no EIP of its own.
    foreign = {
        "untagged": allocate(world.ec2, {}),
        "not allow-listed": world.eip(az_a, **{"staticip:allow-listed": None}),
        "allow-listed false": world.eip(az_a, **{"staticip:allow-listed": "false"}),
        "other environment": world.eip(az_a, environment="prod"),
        "other project": world.eip(az_a, project="other"),
    }
    no_az = world.eip(None)
    # A foreign EIP already on subnet b's ENI stays where it is, too.
    elsewhere = allocate(world.ec2, {"Name": "someone-else"})
    world.ec2.associate_address(AllocationId=elsewhere, NetworkInterfaceId=eni_b)
    eip_b = world.eip(az_b)
    associations = record_calls(world.ec2, "AssociateAddress")

    summary = world.run()

    assert [(c["AllocationId"], c["NetworkInterfaceId"]) for c in associations] == [(eip_b, eni_b)]
    where = world.where()
    assert {name: where[alloc] for name, alloc in foreign.items()} == dict.fromkeys(foreign)
    assert where[no_az] is None
    assert [e["allocation_id"] for e in summary["ignored_eips"]] == [no_az]
    assert [g["eni_id"] for g in summary["enis_without_eip"]] == [eni_a]


@pytest.mark.parametrize(
    ("tags", "dropped_filter"),
    [
        ({"environment": "prod"}, "tag:environment"),
        ({"project": "other"}, "tag:project"),
        ({"staticip:allow-listed": None}, "tag:staticip:allow-listed"),
    ],
)
def test_the_tags_are_checked_even_if_the_filter_let_an_eip_through(
    world: World, tags: dict[str, str | None], dropped_filter: str
) -> None:
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    world.eni(subnet)
    foreign = world.eip(az, **tags)
    drop_filter(world.ec2, "DescribeAddresses", dropped_filter)

    summary = world.run()

    assert world.where() == {foreign: None}
    assert summary["metric"]["value"] == 1


# --- idempotence, states, failures -----------------------------------------------------------


def test_a_second_run_changes_nothing(world: World) -> None:
    subnets, azs = world.net.subnet_ids, world.net.availability_zones
    placed = {world.eip(az): world.eni(s) for s, az in zip(subnets, azs, strict=True)}
    associations = record_calls(world.ec2, "AssociateAddress")
    metrics = record_calls(world.cloudwatch, "PutMetricData")

    first = world.run()
    assert len(associations) == len(subnets)
    assert world.where() == placed
    second = world.run()

    assert len(associations) == len(subnets)
    assert second["associated"] == []
    assert sorted(u["eni_id"] for u in second["unchanged"]) == sorted(placed.values())
    assert world.where() == placed
    assert len(first["associated"]) == len(subnets)
    assert gaps(published(metrics)) == [metric(0), metric(0)]


def test_an_inactive_function_needs_no_ec2_calls(world: World) -> None:
    eip = world.eip(world.net.availability_zones[0])
    function_model().state = "Inactive"
    ec2_operations = record_operations(world.ec2)
    metrics = record_calls(world.cloudwatch, "PutMetricData")

    summary = world.run()

    assert summary["status"] == "inactive"
    assert ec2_operations == []
    assert world.where() == {eip: None}
    assert gaps(published(metrics)) == [metric(0)]


def test_a_failed_association_is_counted_and_other_azs_still_get_theirs(world: World) -> None:
    (subnet_a, subnet_b), (az_a, az_b) = world.net.subnet_ids, world.net.availability_zones
    eni_a, eni_b = world.eni(subnet_a), world.eni(subnet_b)
    eip_a, eip_b = world.eip(az_a), world.eip(az_b)
    deny_association(world.ec2, eip_a)
    metrics = record_calls(world.cloudwatch, "PutMetricData")

    summary = world.run()

    assert world.where() == {eip_a: None, eip_b: eni_b}
    assert [(f["eni_id"], "access denied" in f["error"]) for f in summary["failed"]] == [
        (eni_a, True)
    ]
    assert [g["eni_id"] for g in summary["enis_without_eip"]] == [eni_a]
    assert gaps(published(metrics)) == [metric(1)]


def test_a_function_outside_a_vpc_is_an_error(guard: types.ModuleType, world: World) -> None:
    world.lambda_client.update_function_configuration(
        FunctionName=FUNCTION, VpcConfig={"SubnetIds": [], "SecurityGroupIds": []}
    )
    with pytest.raises(enis.EniInputError, match="not attached to a VPC"):
        world.run()


# --- the Lambda entry point ------------------------------------------------------------------


def _sg_change(world: World) -> tuple[dict[str, str], dict[str, str]]:
    """EIPs on the old ENIs, new ENIs for a new SG set: returns (eip -> old ENI, eip -> new)."""
    subnets, azs = world.net.subnet_ids, world.net.availability_zones
    old, new = {}, {}
    for subnet, az in zip(subnets, azs, strict=True):
        eip = world.eip(az)
        old[eip] = world.eni(subnet)
        world.ec2.associate_address(AllocationId=eip, NetworkInterfaceId=old[eip])
        new[eip] = world.eni(subnet, world.net.security_group_ids)
    world.lambda_client.update_function_configuration(
        FunctionName=FUNCTION,
        VpcConfig={
            "SubnetIds": list(subnets),
            "SecurityGroupIds": list(world.net.security_group_ids),
        },
    )
    return old, new


def test_a_run_with_time_to_spare_waits_out_the_update(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, new = _sg_change(world)
    sleeps: list[float] = []
    with monkeypatch.context() as patch:
        update_in_progress(patch)

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            patch.undo()  # Lambda finishes the update while the guard waits.

        summary = world.guard.reconcile_until_settled(
            world.settings,
            lambda_client=world.lambda_client,
            ec2=world.ec2,
            cloudwatch=world.cloudwatch,
            remaining_seconds=lambda: 170.0,
            sleep=sleep,
        )

    assert summary["status"] == "reconciled"
    assert sleeps == [world.guard.RECHECK_SECONDS]
    assert world.where() == new


def test_a_run_short_of_time_leaves_the_wait_to_the_schedule(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, _ = _sg_change(world)
    sleeps: list[float] = []
    reserve = world.guard.RECHECK_SECONDS + world.guard.TIME_RESERVE_SECONDS
    with monkeypatch.context() as patch:
        update_in_progress(patch)
        summary = world.guard.reconcile_until_settled(
            world.settings,
            lambda_client=world.lambda_client,
            ec2=world.ec2,
            cloudwatch=world.cloudwatch,
            remaining_seconds=lambda: reserve,
            sleep=sleeps.append,
        )

    assert summary["status"] == "waiting"
    assert sleeps == []
    assert world.where() == old


@pytest.fixture
def lambda_env(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables the stack sets on the guard function, plus the runtime's AWS_REGION, and
    the lock table the stack creates."""
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("ENVIRONMENT", ENVIRONMENT)
    monkeypatch.setenv("PROJECT", PROJECT)
    monkeypatch.setenv("FUNCTION_NAMES", FUNCTION)
    monkeypatch.setenv("METRIC_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("LOCK_TABLE", create_lock_table(world.dynamodb, LOCK_TABLE))


def test_the_handler_reconciles_on_a_cloudtrail_event(
    guard: types.ModuleType,
    world: World,
    lambda_env: None,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subnets, azs = world.net.subnet_ids, world.net.availability_zones
    placed = {world.eip(az): world.eni(s) for s, az in zip(subnets, azs, strict=True)}
    new_eni = placed[next(iter(placed))]
    event = {
        "version": "0",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "region": REGION,
        "detail": {
            "eventSource": "ec2.amazonaws.com",
            "eventName": "CreateNetworkInterface",
            "responseElements": {
                "networkInterface": {"networkInterfaceId": new_eni, "subnetId": subnets[0]}
            },
        },
    }
    caplog.set_level(logging.INFO, logger="eni_guard")
    monkeypatch.setenv("ALLOCATION_IDS", ",".join(world.stack_eips))

    summary = guard.handler(event, None)

    assert world.where() == placed
    assert json.loads(json.dumps(summary)) == summary
    messages = [record.getMessage() for record in caplog.records]
    assert any("CreateNetworkInterface" in m and new_eni in m for m in messages)
    for allocation, eni in placed.items():
        lines = [m for m in messages if m.startswith("associated") and allocation in m]
        assert len(lines) == 1 and eni in lines[0]


def test_the_handler_raises_after_publishing_when_an_association_fails(
    guard: types.ModuleType,
    world: World,
    lambda_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    eni = world.eni(world.net.subnet_ids[0])
    eip = world.eip(world.net.availability_zones[0])
    recorded: list[list[dict[str, Any]]] = []
    real_client = guard.aws.client

    def client(service: str, region: str | None, profile: str | None = None) -> Any:
        # The handler builds its own clients; hook into them as they are made.
        made = real_client(service, region, profile)
        if service == "ec2":
            deny_association(made, eip)
        if service == "cloudwatch":
            recorded.append(record_calls(made, "PutMetricData"))
        return made

    monkeypatch.setattr(guard.aws, "client", client)
    monkeypatch.setenv("ALLOCATION_IDS", eip)

    with pytest.raises(guard.AssociationFailedError, match=eni):
        guard.handler(SCHEDULE_EVENT, None)

    assert [gaps(published(calls)) for calls in recorded] == [[metric(1)]]
    assert world.where() == {eip: None}


def test_missing_settings_are_named(guard: types.ModuleType, lambda_env: None, monkeypatch) -> None:
    monkeypatch.delenv("FUNCTION_NAMES")
    monkeypatch.setenv("METRIC_NAMESPACE", " ")
    with pytest.raises(
        guard.GuardConfigError, match="FUNCTION_NAMES, METRIC_NAMESPACE, ALLOCATION_IDS"
    ):
        guard.handler(SCHEDULE_EVENT, None)


def test_allocation_ids_must_be_allocation_ids(
    guard: types.ModuleType, lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLOCATION_IDS", "eipalloc-0a, 203.0.113.7")
    with pytest.raises(guard.GuardConfigError, match=r"eipalloc- IDs, got 203\.0\.113\.7"):
        guard.handler(SCHEDULE_EVENT, None)


# --- one run at a time: the lock ---------------------------------------------------------------


@dataclass
class FakeContext:
    """Lambda's context object: a request ID and a clock that sleeping advances."""

    remaining: float = 180.0
    aws_request_id: str = "run-2"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining * 1000)


def hold_lock(world: World, owner: str, expires_in: float) -> None:
    """Another run's lease, as its PutItem left it."""
    world.dynamodb.put_item(
        TableName=LOCK_TABLE,
        Item={
            "environment": {"S": ENVIRONMENT},
            "owner": {"S": owner},
            "expires_at": {"N": str(time.time() + expires_in)},
        },
    )


def lock_item(world: World) -> dict[str, Any] | None:
    return world.dynamodb.get_item(
        TableName=LOCK_TABLE, Key={"environment": {"S": ENVIRONMENT}}
    ).get("Item")


def one_guarded_az(world: World, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The first subnet's Lambda ENI and its AZ's EIP, listed in the guard's ALLOCATION_IDS."""
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    eni, eip = world.eni(subnet), world.eip(az)
    monkeypatch.setenv("ALLOCATION_IDS", eip)
    return eni, eip


def test_the_handler_holds_the_lock_while_it_works_and_gives_it_back(
    guard: types.ModuleType, world: World, lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    eni, eip = one_guarded_az(world, monkeypatch)
    seen: list[dict[str, Any] | None] = []
    world.ec2.meta.events.register(
        "before-call.ec2.AssociateAddress", lambda **_: seen.append(lock_item(world))
    )
    real_client = guard.aws.client
    monkeypatch.setattr(
        guard.aws,
        "client",
        lambda service, region, *rest: (
            world.ec2 if service == "ec2" else real_client(service, region, *rest)
        ),
    )

    summary = guard.handler(SCHEDULE_EVENT, FakeContext())

    assert summary["status"] == "reconciled" and world.where() == {eip: eni}
    (during,) = seen
    assert during is not None and during["owner"] == {"S": "run-2"}
    # The lease covers the invocation's remaining 180 s and a margin, no more.
    lease = float(during["expires_at"]["N"]) - time.time()
    assert 180 < lease <= 180 + guard.LOCK_LEASE_MARGIN_SECONDS
    assert lock_item(world) is None


def test_a_run_waits_for_the_lock_another_run_holds(
    guard: types.ModuleType, world: World, lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    eni, eip = one_guarded_az(world, monkeypatch)
    hold_lock(world, "run-1", expires_in=170)
    context = FakeContext()
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        context.remaining -= seconds
        if len(naps) == 3:  # run 1 finishes and gives the lock back
            world.dynamodb.delete_item(
                TableName=LOCK_TABLE, Key={"environment": {"S": ENVIRONMENT}}
            )

    monkeypatch.setattr(time, "sleep", sleep)

    summary = guard.handler(SCHEDULE_EVENT, context)

    assert naps == [guard.LOCK_POLL_SECONDS] * 3
    assert summary["status"] == "reconciled" and world.where() == {eip: eni}
    assert lock_item(world) is None


def test_a_run_that_never_gets_the_lock_changes_nothing(
    guard: types.ModuleType, world: World, lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, eip = one_guarded_az(world, monkeypatch)
    hold_lock(world, "run-1", expires_in=170)
    context = FakeContext()

    def sleep(seconds: float) -> None:
        context.remaining -= seconds

    monkeypatch.setattr(time, "sleep", sleep)
    associations = record_calls(world.ec2, "AssociateAddress")

    summary = guard.handler(SCHEDULE_EVENT, context)

    assert summary == {"environment": ENVIRONMENT, "status": "busy"}
    assert associations == [] and world.where() == {eip: None}
    # It waited until only the time a run needs was left, and left run 1's lease alone.
    assert (
        guard.LOCK_KEEP_SECONDS
        < context.remaining
        <= guard.LOCK_KEEP_SECONDS + 2 * guard.LOCK_POLL_SECONDS
    )
    assert lock_item(world)["owner"] == {"S": "run-1"}


def test_a_lease_that_outlived_its_run_is_taken_over(
    guard: types.ModuleType, world: World, lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run 1 timed out without giving the lock back: its lease ended with its invocation.
    eni, eip = one_guarded_az(world, monkeypatch)
    hold_lock(world, "run-1", expires_in=-1)
    monkeypatch.setattr(time, "sleep", lambda _: pytest.fail("an expired lease was waited for"))

    summary = guard.handler(SCHEDULE_EVENT, FakeContext())

    assert summary["status"] == "reconciled" and world.where() == {eip: eni}
    assert lock_item(world) is None


def test_a_failed_run_gives_the_lock_back(
    guard: types.ModuleType, world: World, lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_guarded_az(world, monkeypatch)
    real_client = guard.aws.client

    def client(service: str, region: str | None, *rest: Any) -> Any:
        made = real_client(service, region, *rest)
        if service == "ec2":
            made.meta.events.register(
                "before-call.ec2.DescribeAddresses",
                lambda **_: (_ for _ in ()).throw(
                    ClientError({"Error": {"Code": "RequestLimitExceeded"}}, "DescribeAddresses")
                ),
            )
        return made

    monkeypatch.setattr(guard.aws, "client", client)

    with pytest.raises(ClientError, match="RequestLimitExceeded"):
        guard.handler(SCHEDULE_EVENT, FakeContext())

    assert lock_item(world) is None


def test_a_missing_lock_table_is_an_error_not_a_run_without_the_lock(
    guard: types.ModuleType, world: World, lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, eip = one_guarded_az(world, monkeypatch)
    world.dynamodb.delete_table(TableName=LOCK_TABLE)

    with pytest.raises(ClientError, match="ResourceNotFound"):
        guard.handler(SCHEDULE_EVENT, FakeContext())

    assert world.where() == {eip: None}


# --- cost of one run -------------------------------------------------------------------------


def measure_ec2_calls(guard: types.ModuleType, subnets: int) -> tuple[list[str], list[str]]:
    """EC2 operations of a first run (every EIP to place) and a steady-state second run."""
    with mock_aws():
        world = build_world(guard, subnets=subnets)
        for subnet, az in zip(world.net.subnet_ids, world.net.availability_zones, strict=True):
            world.eni(subnet)
            world.eip(az)
        operations = record_operations(world.ec2)
        world.run()
        first = list(operations)
        operations.clear()
        world.run()
        return first, list(operations)


def test_ec2_calls_per_run_do_not_grow_with_the_subnet_count(
    guard: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_aws(monkeypatch)
    runs = {n: measure_ec2_calls(guard, n) for n in (2, 6)}

    snapshot = ["DescribeAddresses", "DescribeNetworkInterfaces"]
    # Steady state: one DescribeAddresses and one DescribeNetworkInterfaces listing for all
    # subnets, whatever their number.
    for _, steady in runs.values():
        assert sorted(steady) == snapshot
    # A first run adds, per EIP that has to move, the re-read of its subnet and address right
    # before the AssociateAddress.
    for n, (first, _) in runs.items():
        per_move = ["AssociateAddress", "DescribeAddresses", "DescribeNetworkInterfaces"]
        assert sorted(first) == sorted(snapshot + per_move * n)
    print(
        {
            n: {"first_run": len(first), "steady_run": len(steady)}
            for n, (first, steady) in runs.items()
        }
    )


# --- issue 14: races, teardown, foreign targets ------------------------------------------------


def after_snapshot(ec2: Any, change: Any) -> None:
    """Run ``change()`` once, right after the run's first DescribeNetworkInterfaces (its
    snapshot): what Lambda, Terraform or a concurrent run did while this run was planning."""
    done: list[bool] = []

    def hook(**_: Any) -> None:
        if not done:
            done.append(True)
            change()

    ec2.meta.events.register("after-call.ec2.DescribeNetworkInterfaces", hook)


def test_an_eip_whose_association_left_the_stack_is_never_associated(world: World) -> None:
    # AZ b was removed from the config: Terraform disassociated its EIP and is about to release
    # it, and the guard's ALLOCATION_IDS no longer lists it. Its tags still say allow-listed.
    (subnet_a, subnet_b), (az_a, az_b) = world.net.subnet_ids, world.net.availability_zones
    eni_a, eni_b = world.eni(subnet_a), world.eni(subnet_b)
    eip_a = world.eip(az_a)
    leaving = world.eip(az_b, in_stack=False)
    associations = record_calls(world.ec2, "AssociateAddress")

    summary = world.run()

    assert [(c["AllocationId"], c["NetworkInterfaceId"]) for c in associations] == [(eip_a, eni_a)]
    assert world.where() == {eip_a: eni_a, leaving: None}
    assert [e["allocation_id"] for e in summary["not_in_stack_eips"]] == [leaving]
    # Subnet b's ENI is honestly without an EIP until the function leaves that subnet.
    assert [g["eni_id"] for g in summary["enis_without_eip"]] == [eni_b]


def test_a_stale_snapshot_does_not_put_the_eip_on_an_eni_lambda_detached(world: World) -> None:
    # R1 (this run) plans EIP -> A. Before it associates, Lambda detaches A and serves from B,
    # and a concurrent run R2 puts the EIP on B. R1 must not move it back to the dead A.
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    eni_a = world.eni(subnet, attach_time=T0)
    eip = world.eip(az)
    replacement: list[str] = []

    def lambda_recycles_and_r2_runs() -> None:
        moto_eni(eni_a).status = "available"
        replacement.append(world.eni(subnet, attach_time=T0 + datetime.timedelta(hours=1)))
        world.ec2.associate_address(AllocationId=eip, NetworkInterfaceId=replacement[0])

    after_snapshot(world.ec2, lambda_recycles_and_r2_runs)
    associations = record_calls(world.ec2, "AssociateAddress")

    summary = world.run()

    assert world.where() == {eip: replacement[0]}
    assert [c["NetworkInterfaceId"] for c in associations] == [replacement[0]]  # R2's only
    (skipped,) = summary["skipped"]
    assert skipped["eni_id"] == eni_a and "available" in skipped["reason"]
    assert summary["failed"] == [] and summary["enis_without_eip"] == []


def test_an_address_taken_since_the_snapshot_is_not_taken_back(world: World) -> None:
    # Between snapshot and AssociateAddress someone put the EIP elsewhere (here an instance's
    # ENI). The re-read of the address sees it moved, so the run leaves it.
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    eni = world.eni(subnet)
    eip = world.eip(az)
    instance_eni = create_instance_eni(world.ec2, subnet, world.groups)
    after_snapshot(
        world.ec2,
        lambda: world.ec2.associate_address(AllocationId=eip, NetworkInterfaceId=instance_eni),
    )

    summary = world.run()

    assert world.where() == {eip: instance_eni}
    (skipped,) = summary["skipped"]
    assert (skipped["eni_id"], instance_eni in skipped["reason"]) == (eni, True)


def test_an_eni_deleted_between_snapshot_and_associate_is_not_a_failure(
    guard: types.ModuleType, world: World, lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lambda deletes the ENI the run chose (normal recycling): no error, nothing counted.
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    eni = world.eni(subnet)
    eip = world.eip(az)
    ec2 = world.ec2
    after_snapshot(ec2, lambda: ec2.delete_network_interface(NetworkInterfaceId=eni))
    metrics = record_calls(world.cloudwatch, "PutMetricData")

    summary = world.run()

    assert world.where() == {eip: None}
    assert summary["failed"] == []
    assert [(s["eni_id"], "no longer exists" in s["reason"]) for s in summary["skipped"]] == [
        (eni, True)
    ]
    assert gaps(published(metrics)) == [metric(0)]


def test_an_eni_gone_when_associate_address_runs_is_not_a_failure(world: World) -> None:
    # The narrowest window: the ENI passes the re-read and is deleted before AssociateAddress.
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    eni = world.eni(subnet)
    eip = world.eip(az)
    ec2 = world.ec2

    def delete_first(params: dict[str, Any], **_: Any) -> None:
        ec2.meta.events.unregister("provide-client-params.ec2.AssociateAddress", delete_first)
        ec2.delete_network_interface(NetworkInterfaceId=params["NetworkInterfaceId"])

    ec2.meta.events.register("provide-client-params.ec2.AssociateAddress", delete_first)

    summary = world.run()

    assert world.where() == {eip: None}
    assert summary["failed"] == [] and summary["enis_without_eip"] == []
    assert [s["eni_id"] for s in summary["skipped"]] == [eni]


def test_a_move_across_azs_is_refused_by_the_handler(world: World) -> None:
    # IAM cannot pair an EIP with its AZ's interfaces (AssociateAddress authorizes the address
    # and the interface separately, and Allow statements pool), so the handler is what keeps AZ
    # a's EIP off an AZ b interface. Handed such a move directly, it associates nothing.
    guard = world.guard
    (_, subnet_b), (az_a, az_b) = world.net.subnet_ids, world.net.availability_zones
    eni_b = world.eni(subnet_b)
    eip_a = world.eip(az_a)
    public_ip = world.ec2.describe_addresses(AllocationIds=[eip_a])["Addresses"][0]["PublicIp"]
    associations = record_calls(world.ec2, "AssociateAddress")
    for az in (az_a, az_b):  # the move's AZ says a (the EIP's) or b (the interface's)
        forged = guard.Association(eip_a, public_ip, az, subnet_b, eni_b)

        outcome = guard.apply_moves(world.ec2, [forged], world.groups, world.stack_eips)

        assert associations == [] and outcome.associated == [] and outcome.failed == []
        (skipped,) = outcome.skipped
        assert "its own AZ" in skipped["reason"]
    assert world.where() == {eip_a: None}


def test_an_eip_retagged_to_another_az_since_the_snapshot_is_not_moved(world: World) -> None:
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    other_az = world.net.availability_zones[1]
    world.eni(subnet)
    eip = world.eip(az)
    after_snapshot(
        world.ec2,
        lambda: world.ec2.create_tags(
            Resources=[eip], Tags=[{"Key": "staticip:az", "Value": other_az}]
        ),
    )

    summary = world.run()

    assert world.where() == {eip: None}
    (skipped,) = summary["skipped"]
    assert other_az in skipped["reason"] and summary["failed"] == []


def test_an_allow_listed_eip_on_an_instance_is_reported_and_left(world: World) -> None:
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    eni = world.eni(subnet)
    eip = world.eip(az)
    instance_eni = create_instance_eni(world.ec2, subnet, world.groups)
    world.ec2.associate_address(AllocationId=eip, NetworkInterfaceId=instance_eni)
    associations = record_calls(world.ec2, "AssociateAddress")
    metrics = record_calls(world.cloudwatch, "PutMetricData")

    summary = world.run()

    assert associations == []
    assert world.where() == {eip: instance_eni}
    (held,) = summary["held_elsewhere"]
    assert (held["allocation_id"], held["network_interface_id"]) == (eip, instance_eni)
    assert held["holder"].startswith(f"interface ENI {instance_eni} in {subnet}")
    (gap,) = summary["enis_without_eip"]
    assert gap["eni_id"] == eni and instance_eni in gap["reason"]
    assert published(metrics) == [
        metric(1),
        metric(1, "ElasticIpsHeldElsewhere"),
        metric(0, "EgressFunctionUpdateFailed"),
    ]


def test_an_allow_listed_eip_on_a_nat_gateway_is_left_without_failing(world: World) -> None:
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    world.eni(subnet)
    eip = world.eip(az)
    nat = world.ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]
    nat_eni = world.where()[eip]
    assert nat_eni is not None, nat
    moto_eni(nat_eni).interface_type = "nat_gateway"  # as AWS shows a NAT Gateway's ENI
    associations = record_calls(world.ec2, "AssociateAddress")

    summary = world.run()

    assert associations == []
    assert summary["failed"] == []
    assert [h["holder"].split(" ")[0] for h in summary["held_elsewhere"]] == ["nat_gateway"]
    assert world.where() == {eip: nat_eni}


def test_an_eip_on_the_previous_security_group_sets_eni_may_still_move(world: World) -> None:
    # The guard's "Lambda ENI in the function's subnets" rule must keep the normal VPC update
    # working: the old ENIs (old group set) are not among the function's ENIs any more.
    old, new = _sg_change(world)
    summary = world.run()
    assert world.where() == new
    assert summary["held_elsewhere"] == []
    assert sorted(a["previous_eni_id"] for a in summary["associated"]) == sorted(old.values())


def test_a_failed_update_moves_nothing_and_raises_the_alarm_with_its_reason(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    old, _ = _sg_change(world)
    model = function_model()
    original = model.get_configuration
    reason = {
        "LastUpdateStatus": "Failed",
        "LastUpdateStatusReasonCode": "SubnetOutOfIPAddresses",
        "LastUpdateStatusReason": "no free IP addresses in subnet",
    }
    monkeypatch.setattr(
        model, "get_configuration", lambda on_create=False: original(on_create) | reason
    )
    associations = record_calls(world.ec2, "AssociateAddress")
    metrics = record_calls(world.cloudwatch, "PutMetricData")
    caplog.set_level(logging.INFO, logger="eni_guard")

    summary = world.run()

    assert associations == []
    assert world.where() == old
    assert summary["status"] == "update-failed"
    assert "SubnetOutOfIPAddresses" in summary["update_failed_reason"]
    assert metric(1, "EgressFunctionUpdateFailed") in published(metrics)
    assert any(
        r.levelno == logging.ERROR and "no free IP addresses" in r.getMessage()
        for r in caplog.records
    )


def test_a_recycle_in_progress_is_counted_honestly_without_moving(world: World) -> None:
    # Lambda's new ENI is in use while the old one still holds the EIP: at this instant the new
    # one has no EIP (metric 1), and the guard keeps the EIP where it is. The alarm needs two
    # consecutive periods of this (tests/test_stacks_eni_guard.py), which a recycle does not last.
    subnet, az = world.net.subnet_ids[0], world.net.availability_zones[0]
    old = world.eni(subnet, attach_time=T0)
    eip = world.eip(az)
    world.ec2.associate_address(AllocationId=eip, NetworkInterfaceId=old)
    new = world.eni(subnet, attach_time=T0 + datetime.timedelta(hours=2))

    summary = world.run()

    assert world.where() == {eip: old}
    assert [g["eni_id"] for g in summary["enis_without_eip"]] == [new]
    assert f"{old} is the one that gets its EIP" in summary["enis_without_eip"][0]["reason"]


# --- several functions on the ENIs --------------------------------------------------------------

WORKER = "staticip-test-worker"


def with_worker(world: World) -> World:
    """A declared function beside the probe, with the same subnets and security groups: it
    shares the probe's ENIs. The guard is told both names, the probe first."""
    role = world.guard_role()
    create_function(world.lambda_client, role, WORKER, world.net.subnet_ids, world.groups)
    world.function_names = (FUNCTION, WORKER)
    return world


def test_an_idle_probe_does_not_stop_the_guard_while_a_function_uses_the_enis(
    world: World,
) -> None:
    with_worker(world)
    function_model().state = "Inactive"
    subnet_a, az_a = world.net.subnet_ids[0], world.net.availability_zones[0]
    eip = world.eip(az_a)
    eni = world.eni(subnet_a)

    summary = world.run()

    assert summary["status"] == "reconciled"
    assert summary["functions"] == {FUNCTION: "Inactive", WORKER: "Active"}
    assert world.where() == {eip: eni}


def test_an_update_of_any_function_holds_every_move(world: World, monkeypatch) -> None:
    with_worker(world)
    model = function_model(WORKER)
    original = model.get_configuration
    monkeypatch.setattr(
        model,
        "get_configuration",
        lambda on_create=False: original(on_create) | {"LastUpdateStatus": "InProgress"},
    )
    eip = world.eip(world.net.availability_zones[0])
    world.eni(world.net.subnet_ids[0])

    summary = world.run()

    assert summary["status"] == "waiting" and len(summary["waiting"]) == 1
    assert world.where() == {eip: None}


def test_all_functions_idle_is_inactive(world: World) -> None:
    with_worker(world)
    function_model().state = "Inactive"
    function_model(WORKER).state = "Inactive"
    assert world.run()["status"] == "inactive"


def test_a_function_that_does_not_exist_yet_is_passed_over(world: World) -> None:
    world.function_names = (FUNCTION, "staticip-test-being-created")
    eip = world.eip(world.net.availability_zones[0])
    eni = world.eni(world.net.subnet_ids[0])
    summary = world.run()
    assert summary["missing_functions"] == ["staticip-test-being-created"]
    assert world.where() == {eip: eni}
