"""Property: over random ENI/EIP layouts, the ENI guard and Terraform's resolver pick the same ENI
in every subnet (issue 14, point 5).

Both rank with :func:`staticip.enis.choose_eni` and the same inputs: the ENIs of the function's
subnet + security-group set and the allocation IDs of the stack's EIP associations (the
resolver's ``allocation_ids`` query key, the guard's ``ALLOCATION_IDS``). Before, the guard ranked
only with the EIPs it could place (those tagged ``staticip:az``), so an ENI holding a stack EIP
without that tag was the resolver's pick and not the guard's, and the two moved the address back
and forth.

AWS is a small in-memory fake here, not moto: hypothesis runs hundreds of layouts, and the
point is which ENI each side picks from the same DescribeNetworkInterfaces/DescribeAddresses
answers, not how AWS produces them.
"""

from __future__ import annotations

import datetime
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_eni_guard import load_guard

from staticip import enis

ENVIRONMENT, PROJECT, FUNCTION = "dev", "staticip", "staticip-dev-egress"
GROUPS = ("sg-0aaa", "sg-0bbb")
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def guard() -> types.ModuleType:
    return load_guard()


@dataclass
class Layout:
    subnets: list[str]
    azs: dict[str, str]
    interfaces: list[dict[str, Any]]
    addresses: list[dict[str, Any]]
    stack_ids: list[str]


@dataclass
class FakeEc2:
    """DescribeNetworkInterfaces (paginated, one page) and DescribeAddresses answered from the
    layout; AssociateAddress recorded, state left as it was (one run is observed)."""

    layout: Layout
    associated: list[tuple[str, str]] = field(default_factory=list)

    def get_paginator(self, name: str) -> Any:
        assert name == "describe_network_interfaces"
        interfaces = self.layout.interfaces
        return types.SimpleNamespace(
            paginate=lambda **_: iter([{"NetworkInterfaces": list(interfaces)}])
        )

    def describe_network_interfaces(self, Filters: Sequence[dict[str, Any]]) -> dict[str, Any]:
        wanted = {f["Name"]: set(f["Values"]) for f in Filters}
        ids = wanted.get("network-interface-id")
        return {
            "NetworkInterfaces": [
                raw
                for raw in self.layout.interfaces
                if ids is None or raw["NetworkInterfaceId"] in ids
            ]
        }

    def describe_addresses(self, Filters: Sequence[dict[str, Any]]) -> dict[str, Any]:
        wanted = {f["Name"]: set(f["Values"]) for f in Filters}
        ids = wanted.get("allocation-id")
        return {
            "Addresses": [
                raw for raw in self.layout.addresses if ids is None or raw["AllocationId"] in ids
            ]
        }

    def associate_address(self, AllocationId: str, NetworkInterfaceId: str, **_: Any) -> None:
        self.associated.append((AllocationId, NetworkInterfaceId))


class FakeLambda:
    def __init__(self, subnets: Sequence[str]) -> None:
        self.subnets = list(subnets)

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        return {
            "FunctionName": FunctionName,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "VpcConfig": {"SubnetIds": self.subnets, "SecurityGroupIds": list(GROUPS)},
        }


class FakeCloudWatch:
    def put_metric_data(self, **_: Any) -> None:
        return None


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    """1-3 subnets in distinct AZs, each with 1-3 of the function's ENIs (in use or detached,
    of various ages, some without an attach time), and per AZ 0-2 EIPs: in the stack or not,
    with or without the `staticip:az` tag, each on at most one ENI."""
    count = draw(st.integers(1, 3))
    subnets = [f"subnet-0{i}" for i in range(count)]
    azs = {subnet: f"us-east-1{'abc'[i]}" for i, subnet in enumerate(subnets)}
    interfaces: list[dict[str, Any]] = []
    for subnet in subnets:
        for _ in range(draw(st.integers(1, 3))):
            eni_id = f"eni-{len(interfaces):04d}"
            status = draw(st.sampled_from(["in-use", "in-use", "available"]))
            hours = draw(st.one_of(st.none(), st.integers(0, 4)))
            raw: dict[str, Any] = {
                "NetworkInterfaceId": eni_id,
                "SubnetId": subnet,
                "AvailabilityZone": azs[subnet],
                "InterfaceType": "lambda",
                "Status": status,
                "Groups": [{"GroupId": g} for g in GROUPS],
                "Description": f"AWS Lambda VPC ENI-{FUNCTION}-{eni_id}",
            }
            if hours is not None:
                raw["Attachment"] = {"AttachTime": T0 + datetime.timedelta(hours=hours)}
            interfaces.append(raw)
    addresses: list[dict[str, Any]] = []
    stack_ids: list[str] = []
    free = [raw["NetworkInterfaceId"] for raw in interfaces]
    for subnet in subnets:
        for _ in range(draw(st.integers(0, 2))):
            allocation = f"eipalloc-{len(addresses):04d}"
            in_stack = draw(st.booleans())
            tags = {"environment": ENVIRONMENT, "project": PROJECT, "staticip:allow-listed": "true"}
            if draw(st.booleans()):
                tags["staticip:az"] = azs[subnet]
            raw = {
                "AllocationId": allocation,
                "PublicIp": f"198.51.100.{len(addresses) + 1}",
                "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
            }
            holder = draw(st.one_of(st.none(), st.sampled_from(free))) if free else None
            if holder is not None:
                free.remove(holder)
                raw |= {"NetworkInterfaceId": holder, "AssociationId": f"eipassoc-{allocation}"}
                eni = next(i for i in interfaces if i["NetworkInterfaceId"] == holder)
                eni["Association"] = {"PublicIp": raw["PublicIp"], "AllocationId": allocation}
            addresses.append(raw)
            if in_stack:
                stack_ids.append(allocation)
    return Layout(subnets, azs, interfaces, addresses, stack_ids)


def resolver_pick(layout: Layout) -> dict[str, str]:
    """What `python -m staticip.enis` answers Terraform for this layout."""
    return enis.resolve_enis(
        FakeEc2(layout),
        layout.subnets,
        GROUPS,
        allocation_ids=layout.stack_ids,
        sleep=lambda _s: None,
        warn=lambda _m: None,
    )


def guard_run(guard: types.ModuleType, layout: Layout) -> tuple[dict[str, Any], FakeEc2]:
    ec2 = FakeEc2(layout)
    settings_ = guard.Settings(
        ENVIRONMENT, PROJECT, FUNCTION, f"{PROJECT}/eni-guard", tuple(layout.stack_ids)
    )
    summary = guard.reconcile(
        settings_, lambda_client=FakeLambda(layout.subnets), ec2=ec2, cloudwatch=FakeCloudWatch()
    )
    return summary, ec2


def placed(summary: dict[str, Any], ec2: FakeEc2) -> Iterator[tuple[str, str]]:
    """(subnet, ENI) for every ENI the guard put an EIP on or kept one on."""
    for kept in summary["unchanged"]:
        yield kept["subnet_id"], kept["eni_id"]
    for move in summary["associated"]:
        yield move["subnet_id"], move["eni_id"]
    assert len(ec2.associated) == len(summary["associated"])


@settings(max_examples=300, deadline=None)
@given(layout=layouts())
def test_the_guard_and_the_resolver_pick_the_same_eni(
    guard: types.ModuleType, layout: Layout
) -> None:
    terraform = resolver_pick(layout)
    summary, ec2 = guard_run(guard, layout)

    assert summary["chosen"] == terraform
    # And what the guard does follows that pick: it never gives or leaves an EIP on an ENI
    # Terraform's association would take it off again.
    for subnet, eni in placed(summary, ec2):
        assert terraform[subnet] == eni, (subnet, eni, terraform)
