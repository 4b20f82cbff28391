"""The Hyperplane ENI resolver (staticip.enis) against moto's EC2."""

from __future__ import annotations

import datetime
from typing import Any

import boto3
import pytest
from eni_fixtures import (
    REGION,
    FakeClock,
    Network,
    attach_eip,
    create_instance_eni,
    create_lambda_eni,
    drop_filter,
    make_network,
    moto_eni,
    record_calls,
    use_fake_aws,
)
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from staticip import enis
from staticip.enis import HyperplaneEni

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture
def ec2(monkeypatch: pytest.MonkeyPatch) -> Any:
    use_fake_aws(monkeypatch)
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


@pytest.fixture
def net(ec2: Any) -> Network:
    return make_network(ec2)


def polls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The DescribeNetworkInterfaces calls made by find_lambda_enis (not diagnostics)."""
    return [
        call
        for call in calls
        if any(f["Name"] == "interface-type" for f in call.get("Filters", []))
    ]


def resolve(ec2: Any, net: Network, groups: tuple[str, ...], **kwargs: Any) -> dict[str, str]:
    clock = kwargs.pop("fake_clock", FakeClock())
    return enis.resolve_enis(
        ec2,
        net.subnet_ids,
        groups,
        sleep=clock.sleep,
        clock=clock.clock,
        **kwargs,
    )


# --- 1. the plain case -----------------------------------------------------------------------


def test_two_subnets_resolve_to_their_enis_in_one_call(ec2: Any, net: Network) -> None:
    groups = net.security_group_ids[:2]
    expected = {subnet: create_lambda_eni(ec2, subnet, groups) for subnet in net.subnet_ids}
    calls = record_calls(ec2, "DescribeNetworkInterfaces")
    clock = FakeClock()

    assert resolve(ec2, net, groups, fake_clock=clock) == expected
    assert clock.sleeps == []
    # One listing for all subnets, not one per subnet.
    assert len(calls) == 1
    filters = {f["Name"]: f["Values"] for f in calls[0]["Filters"]}
    assert sorted(filters["subnet-id"]) == sorted(net.subnet_ids)
    assert sorted(filters["group-id"]) == sorted(groups)
    assert filters["interface-type"] == ["lambda"]


def test_find_lambda_enis_reports_the_eni_facts(ec2: Any, net: Network) -> None:
    subnet, empty_subnet = net.subnet_ids
    groups = net.security_group_ids[:1]
    eni_id = create_lambda_eni(ec2, subnet, groups, "billing", attach_time=T0)
    allocation_id, public_ip = attach_eip(ec2, eni_id)

    found = enis.find_lambda_enis(ec2, net.subnet_ids, groups)

    assert found[empty_subnet] == []
    [eni] = found[subnet]
    assert eni.eni_id == eni_id
    assert eni.subnet_id == subnet
    assert eni.availability_zone == net.az_of(subnet)
    assert eni.status == "in-use"
    assert eni.security_group_ids == frozenset(groups)
    assert (eni.allocation_id, eni.public_ip) == (allocation_id, public_ip)
    assert eni.attach_time is not None and eni.attach_time.timestamp() == T0.timestamp()
    assert eni.description.startswith("AWS Lambda VPC ENI-billing-")


def test_duplicate_subnets_and_group_order_do_not_matter(ec2: Any, net: Network) -> None:
    groups = net.security_group_ids[:2]
    expected = {subnet: create_lambda_eni(ec2, subnet, groups) for subnet in net.subnet_ids}
    subnets = [*net.subnet_ids, net.subnet_ids[0]]

    result = enis.resolve_enis(ec2, subnets, list(reversed(groups)), sleep=FakeClock().sleep)

    assert result == expected


# --- 2. waiting for Lambda -----------------------------------------------------------------------


def test_enis_that_appear_later_are_waited_for_with_backoff(ec2: Any, net: Network) -> None:
    groups = net.security_group_ids[:1]
    first, second = net.subnet_ids
    created: dict[str, str] = {}

    def lambda_creates_enis(sleeps_so_far: int) -> None:
        # The first subnet's ENI is ready after one wait, the second's after three.
        if sleeps_so_far == 1:
            created[first] = create_lambda_eni(ec2, first, groups)
        if sleeps_so_far == 3:
            created[second] = create_lambda_eni(ec2, second, groups)

    clock = FakeClock(on_sleep=lambda_creates_enis)
    calls = record_calls(ec2, "DescribeNetworkInterfaces")

    result = resolve(ec2, net, groups, fake_clock=clock, timeout_seconds=300)

    assert result == created
    assert clock.sleeps == [2.0, 4.0, 8.0]
    assert len(polls(calls)) == len(clock.sleeps) + 1


def test_backoff_is_capped_and_the_last_wait_ends_at_the_deadline(ec2: Any, net: Network) -> None:
    groups = net.security_group_ids[:1]
    clock = FakeClock()
    calls = record_calls(ec2, "DescribeNetworkInterfaces")

    with pytest.raises(enis.EniTimeoutError):
        resolve(ec2, net, groups, fake_clock=clock, timeout_seconds=60)

    assert clock.sleeps == [2.0, 4.0, 8.0, 16.0, 20.0, 10.0]
    assert sum(clock.sleeps) == 60
    # A final look after the last wait, before giving up.
    assert len(polls(calls)) == len(clock.sleeps) + 1


def test_an_eni_ready_just_before_the_deadline_is_found(ec2: Any, net: Network) -> None:
    groups = net.security_group_ids[:1]
    created: dict[str, str] = {}
    timeout = 31.0
    schedule = [2.0, 4.0, 8.0, 16.0]
    last_wait = timeout - sum(schedule)

    def lambda_creates_enis(sleeps_so_far: int) -> None:
        if sleeps_so_far == len(schedule) + 1:
            created.update({s: create_lambda_eni(ec2, s, groups) for s in net.subnet_ids})

    clock = FakeClock(on_sleep=lambda_creates_enis)

    assert resolve(ec2, net, groups, fake_clock=clock, timeout_seconds=timeout) == created
    assert clock.sleeps == [*schedule, last_wait]


# --- 3. timing out -------------------------------------------------------------------------------


def test_timeout_names_each_missing_subnet_and_what_is_there(ec2: Any) -> None:
    net = make_network(ec2, subnets=3)
    ok, crowded, empty = net.subnet_ids
    ours, other = net.security_group_ids[:2]
    ok_eni = create_lambda_eni(ec2, ok, [ours])
    other_lambda = create_lambda_eni(ec2, crowded, [other], "someone-else")
    instance_eni = create_instance_eni(ec2, crowded, (ours,))

    with pytest.raises(enis.EniTimeoutError) as caught:
        resolve(ec2, net, (ours,), function_names=["billing"], timeout_seconds=10)

    message = str(caught.value)
    assert "\n" not in message
    assert "billing" in message
    assert crowded in message and empty in message
    assert ok not in message and ok_eni not in message
    # What the crowded subnet holds instead, with each ENI's type and groups.
    crowded_part = message[message.index(crowded) : message.index(empty)]
    assert f"{other_lambda} (lambda, groups [{other}])" in crowded_part
    assert f"{instance_eni} (interface, groups [{ours}])" in crowded_part
    empty_part = message[message.index(empty) :]
    assert "eni-" not in empty_part


def test_a_bad_timeout_or_bad_ids_fail_before_any_call(ec2: Any, net: Network) -> None:
    calls = record_calls(ec2, "DescribeNetworkInterfaces")
    groups = net.security_group_ids[:1]
    with pytest.raises(enis.EniInputError, match="timeout"):
        resolve(ec2, net, groups, timeout_seconds=0)
    with pytest.raises(enis.EniInputError, match="subnet"):
        enis.resolve_enis(ec2, [], groups)
    with pytest.raises(enis.EniInputError, match="my-security-group"):
        enis.resolve_enis(ec2, net.subnet_ids, ["my-security-group"])
    assert calls == []


# --- 4. and 5. what is not ours ------------------------------------------------------------------


def test_an_eni_with_a_different_group_set_is_ignored(ec2: Any, net: Network) -> None:
    subnet = net.subnet_ids[0]
    a, b, c = net.security_group_ids
    # Another function's ENIs in the same subnet: a superset, and a set that overlaps ours.
    superset = create_lambda_eni(ec2, subnet, [a, b, c], "superset-fn")
    overlap = create_lambda_eni(ec2, subnet, [b, c], "overlap-fn")
    ours = create_lambda_eni(ec2, subnet, [a, b], "our-fn")

    assert [eni.eni_id for eni in enis.find_lambda_enis(ec2, [subnet], [a, b])[subnet]] == [ours]
    assert [e.eni_id for e in enis.find_lambda_enis(ec2, [subnet], [a, b, c])[subnet]] == [superset]
    assert [eni.eni_id for eni in enis.find_lambda_enis(ec2, [subnet], [c, b])[subnet]] == [overlap]
    assert enis.find_lambda_enis(ec2, [subnet], [a])[subnet] == []


def test_an_instance_eni_with_the_same_groups_is_ignored(ec2: Any, net: Network) -> None:
    subnet = net.subnet_ids[0]
    groups = net.security_group_ids[:1]
    instance_eni = create_instance_eni(ec2, subnet, groups)
    ours = create_lambda_eni(ec2, subnet, groups)

    result = enis.resolve_enis(ec2, [subnet], groups, sleep=FakeClock().sleep)

    assert result == {subnet: ours}
    assert instance_eni != ours


def test_the_lambda_type_is_checked_even_if_aws_ignored_the_filter(ec2: Any, net: Network) -> None:
    subnet = net.subnet_ids[0]
    groups = net.security_group_ids[:1]
    instance_eni = create_instance_eni(ec2, subnet, groups)
    drop_filter(ec2, "DescribeNetworkInterfaces", "interface-type")
    listed = ec2.describe_network_interfaces(
        Filters=[{"Name": "subnet-id", "Values": [subnet]}, {"Name": "group-id", "Values": groups}]
    )["NetworkInterfaces"]
    # moto evaluates the interface-type filter, so drop it to let the instance ENI reach Python.
    assert [raw["NetworkInterfaceId"] for raw in listed] == [instance_eni]

    assert enis.find_lambda_enis(ec2, [subnet], groups) == {subnet: []}

    as_lambda = {**listed[0], "InterfaceType": "lambda"}
    assert [e.eni_id for e in enis.match_lambda_enis([as_lambda], [subnet], groups)[subnet]] == [
        instance_eni
    ]


# --- 6. several ENIs in one subnet ---------------------------------------------------------------


def two_enis(ec2: Any, net: Network, groups: tuple[str, ...]) -> tuple[str, str, str]:
    subnet = net.subnet_ids[0]
    low, high = sorted(create_lambda_eni(ec2, subnet, groups, attach_time=T0) for _ in range(2))
    return subnet, low, high


def set_attach_time(eni_id: str, when: datetime.datetime) -> None:
    moto_eni(eni_id).attach_time = when


def test_the_eni_holding_the_elastic_ip_is_picked(ec2: Any, net: Network) -> None:
    groups = net.security_group_ids[:1]
    subnet, low, high = two_enis(ec2, net, groups)
    # The higher id is newer and holds the EIP: the EIP wins over age and id.
    set_attach_time(high, T0 + datetime.timedelta(hours=1))
    attach_eip(ec2, high)
    warnings: list[str] = []

    result = enis.resolve_enis(
        ec2,
        [subnet],
        groups,
        function_names=["billing"],
        sleep=FakeClock().sleep,
        warn=warnings.append,
    )

    assert result == {subnet: high}
    assert len(warnings) == 1
    assert low in warnings[0] and subnet in warnings[0] and "no static IP" in warnings[0]
    assert high in warnings[0]


def test_only_our_allocation_ids_count_as_holding_the_static_ip(ec2: Any, net: Network) -> None:
    groups = net.security_group_ids[:1]
    subnet, low, high = two_enis(ec2, net, groups)
    foreign_allocation, _ = attach_eip(ec2, low)
    ours, _ = attach_eip(ec2, high)
    sleep = FakeClock().sleep

    def pick(allocation_ids: list[str] | None) -> str:
        result = enis.resolve_enis(
            ec2, [subnet], groups, allocation_ids=allocation_ids, sleep=sleep, warn=lambda _: None
        )
        return result[subnet]

    assert pick([ours]) == high
    assert pick([foreign_allocation]) == low
    # Without a list any EIP counts; both hold one, so the tie goes to the lowest id.
    assert pick(None) == low


def test_without_an_elastic_ip_the_oldest_eni_is_picked(ec2: Any, net: Network) -> None:
    groups = net.security_group_ids[:1]
    subnet, low, high = two_enis(ec2, net, groups)
    set_attach_time(high, T0 - datetime.timedelta(minutes=5))
    warnings: list[str] = []

    result = enis.resolve_enis(ec2, [subnet], groups, sleep=FakeClock().sleep, warn=warnings.append)

    assert result == {subnet: high}
    assert len(warnings) == 1 and low in warnings[0]


def test_equal_attach_times_fall_back_to_the_lowest_id(ec2: Any, net: Network) -> None:
    groups = net.security_group_ids[:1]
    subnet, low, high = two_enis(ec2, net, groups)
    warnings: list[str] = []

    result = enis.resolve_enis(ec2, [subnet], groups, sleep=FakeClock().sleep, warn=warnings.append)

    assert result == {subnet: low}
    assert len(warnings) == 1 and high in warnings[0]


def test_an_attached_eni_beats_a_detached_one_holding_the_eip(ec2: Any, net: Network) -> None:
    groups = net.security_group_ids[:1]
    subnet = net.subnet_ids[0]
    # Lambda replaced the ENI: the old one is detached and about to be deleted.
    old = create_lambda_eni(ec2, subnet, groups, status="available")
    attach_eip(ec2, old)
    new = create_lambda_eni(ec2, subnet, groups, attach_time=T0)

    warnings: list[str] = []

    result = enis.resolve_enis(ec2, [subnet], groups, sleep=FakeClock().sleep, warn=warnings.append)

    assert result == {subnet: new}
    assert len(warnings) == 1 and old in warnings[0]


def test_the_default_warning_goes_to_stderr(
    ec2: Any, net: Network, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = net.security_group_ids[:1]
    subnet, low, high = two_enis(ec2, net, groups)

    enis.resolve_enis(ec2, [subnet], groups, sleep=FakeClock().sleep)

    captured = capsys.readouterr()
    assert captured.out == ""
    assert high in captured.err and low in captured.err
    assert len(captured.err.splitlines()) == 1


def hyperplane(
    eni_id: str, status: str, allocation: str | None, minute: int | None
) -> HyperplaneEni:
    return HyperplaneEni(
        eni_id=eni_id,
        subnet_id="subnet-1",
        availability_zone="us-east-1a",
        status=status,
        security_group_ids=frozenset({"sg-1"}),
        public_ip="203.0.113.1" if allocation else None,
        allocation_id=allocation,
        attach_time=None if minute is None else T0 + datetime.timedelta(minutes=minute),
        description="",
    )


candidate_lists = st.lists(
    st.builds(
        hyperplane,
        eni_id=st.from_regex(r"eni-[0-9a-f]{4}", fullmatch=True),
        status=st.sampled_from(["in-use", "available"]),
        allocation=st.sampled_from([None, "eipalloc-1", "eipalloc-2"]),
        minute=st.one_of(st.none(), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda eni: eni.eni_id,
)


@given(candidates=candidate_lists, data=st.data())
def test_choice_does_not_depend_on_listing_order(
    candidates: list[HyperplaneEni], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(candidates))
    chosen, others = enis.choose_eni(candidates, ["eipalloc-1"])

    assert enis.choose_eni(shuffled, ["eipalloc-1"])[0] == chosen
    assert sorted([chosen, *others], key=lambda e: e.eni_id) == sorted(
        candidates, key=lambda e: e.eni_id
    )
    # Nothing attached and holding our EIP is passed over for something that is not.
    if chosen.status != "in-use":
        assert all(eni.status != "in-use" for eni in candidates)
    if chosen.allocation_id != "eipalloc-1":
        assert not any(
            eni.allocation_id == "eipalloc-1" and eni.status == chosen.status for eni in candidates
        )
