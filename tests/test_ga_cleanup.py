"""`staticip ga-cleanup ENV` against moto: the leftovers are made the way Global Accelerator makes
them, and Global Accelerator's part (removing its ENIs after the endpoint group went) is played
between polls through FakeClock.on_sleep.

moto 5.2.5 deletes a security group that an ENI still uses; AWS refuses with DependencyViolation.
`refuse_deleting_groups_in_use` restores AWS's answer, so a cleanup that deletes too early fails
here as it would there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from eni_fixtures import (
    REGION,
    FakeClock,
    create_instance_eni,
    create_lambda_eni,
    drop_filter,
    make_network,
    moto_eni,
    record_calls,
    use_fake_aws,
)
from moto import mock_aws

from staticip import cli, ga_cleanup

PROJECT = "staticip"
CONFIG = f"""
project = "{PROJECT}"
[environments.ingress]
ingress = "global-accelerator"
region = "{REGION}"
vpc_cidr = "10.30.0.0/16"
[environments.dev]
egress = "eni-eip"
region = "{REGION}"
vpc_cidr = "10.10.0.0/16"
"""


@pytest.fixture
def ec2(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    use_fake_aws(monkeypatch)
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "staticip.toml"
    path.write_text(CONFIG)
    return path


@dataclass(frozen=True)
class Leftovers:
    vpc_id: str
    group_id: str
    eni_ids: tuple[str, ...]


def tagged_vpc(ec2: Any, environment: str) -> Any:
    """A VPC with two subnets, tagged as the stack's default tags tag it."""
    network = make_network(ec2, subnets=2, security_groups=1)
    ec2.create_tags(
        Resources=[network.vpc_id],
        Tags=[{"Key": "environment", "Value": environment}, {"Key": "project", "Value": PROJECT}],
    )
    return network


def create_ga_leftovers(ec2: Any, network: Any) -> Leftovers:
    """What Global Accelerator creates for an ALB endpoint with client IP preservation.

    Real AWS: one security group per VPC named `GlobalAccelerator`, shared by all its ENIs there,
    and one ENI per subnet that holds the ALB, with that group. DescribeNetworkInterfaces shows
    them with InterfaceType `global_accelerator_managed`, RequesterManaged true and Status
    `in-use`. moto ignores InterfaceType on create, so those fields are set on moto's model, as
    `create_lambda_eni` does for Lambda. The description text is not documented (the cleanup
    does not read it); the one below only makes the ENI recognisable in a listing.
    """
    group_id = ec2.create_security_group(
        GroupName=ga_cleanup.GA_SECURITY_GROUP_NAME,
        Description="GlobalAccelerator",
        VpcId=network.vpc_id,
    )["GroupId"]
    eni_ids = []
    for subnet_id in network.subnet_ids:
        eni_id = ec2.create_network_interface(
            SubnetId=subnet_id,
            Groups=[group_id],
            Description=f"GlobalAccelerator {uuid.uuid4()}",
        )["NetworkInterface"]["NetworkInterfaceId"]
        model = moto_eni(eni_id)
        model.interface_type = ga_cleanup.GA_INTERFACE_TYPE
        model.requester_managed = True
        model.status = "in-use"
        eni_ids.append(eni_id)
    return Leftovers(network.vpc_id, group_id, tuple(eni_ids))


def refuse_deleting_groups_in_use(ec2: Any) -> list[str]:
    """Make DeleteSecurityGroup answer as AWS does while an ENI holds the group; return the
    group IDs whose deletion was attempted, in order."""
    attempted: list[str] = []

    def check(params: dict[str, Any], **_: Any) -> None:
        group_id = params["GroupId"]
        attempted.append(group_id)
        holders = _enis_holding(group_id)
        if holders:
            raise ClientError(
                {
                    "Error": {
                        "Code": "DependencyViolation",
                        "Message": f"resource {group_id} has a dependent object",
                    }
                },
                "DeleteSecurityGroup",
            )

    ec2.meta.events.register("provide-client-params.ec2.DeleteSecurityGroup", check)
    return attempted


def _enis_holding(group_id: str) -> list[str]:
    from moto.ec2.models import ec2_backends

    return [
        eni.id
        for account in list(ec2_backends.keys())
        for eni in ec2_backends[account][REGION].enis.values()
        if any(g.id == group_id for g in eni.group_set)
    ]


def group_exists(ec2: Any, group_id: str) -> bool:
    try:
        ec2.describe_security_groups(GroupIds=[group_id])
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "InvalidGroup.NotFound"
        return False
    return True


def ga_removes_its_enis(ec2: Any, leftovers: Leftovers, after_sleeps: int) -> Any:
    """Global Accelerator's part: its ENIs go once the endpoint group is gone."""

    def on_sleep(sleeps: int) -> None:
        if sleeps == after_sleeps:
            for eni_id in leftovers.eni_ids:
                ec2.delete_network_interface(NetworkInterfaceId=eni_id)

    return on_sleep


# --- waiting and deleting --------------------------------------------------------------------


def test_waits_for_the_enis_to_go_then_deletes_the_group(ec2) -> None:
    leftovers = create_ga_leftovers(ec2, tagged_vpc(ec2, "ingress"))
    attempted = refuse_deleting_groups_in_use(ec2)
    clock = FakeClock(on_sleep=ga_removes_its_enis(ec2, leftovers, after_sleeps=3))
    said: list[str] = []

    report = ga_cleanup.clean_vpc(
        ec2, leftovers.vpc_id, sleep=clock.sleep, clock=clock.clock, progress=said.append
    )

    assert not group_exists(ec2, leftovers.group_id)
    assert attempted == [leftovers.group_id], "deleted once, after the ENIs had gone"
    assert report.security_groups_deleted == [leftovers.group_id]
    assert sorted(report.enis_waited_for) == sorted(leftovers.eni_ids)
    assert clock.sleeps == [5.0, 10.0, 20.0], "polls back off"
    assert len(said) == 3
    assert all(eni_id in said[0] for eni_id in leftovers.eni_ids), said[0]


def test_progress_goes_to_stderr_by_default(ec2, capsys) -> None:
    leftovers = create_ga_leftovers(ec2, tagged_vpc(ec2, "ingress"))
    clock = FakeClock(on_sleep=ga_removes_its_enis(ec2, leftovers, after_sleeps=1))
    ga_cleanup.clean_vpc(ec2, leftovers.vpc_id, sleep=clock.sleep, clock=clock.clock)
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("staticip ga-cleanup: ") and leftovers.eni_ids[0] in line


def test_backoff_stops_growing_at_a_minute(ec2) -> None:
    leftovers = create_ga_leftovers(ec2, tagged_vpc(ec2, "ingress"))
    clock = FakeClock(on_sleep=ga_removes_its_enis(ec2, leftovers, after_sleeps=7))
    ga_cleanup.clean_vpc(
        ec2, leftovers.vpc_id, sleep=clock.sleep, clock=clock.clock, progress=lambda _: None
    )
    assert clock.sleeps == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0]


def test_times_out_with_one_line_naming_the_enis(ec2) -> None:
    leftovers = create_ga_leftovers(ec2, tagged_vpc(ec2, "ingress"))
    attempted = refuse_deleting_groups_in_use(ec2)
    clock = FakeClock()

    with pytest.raises(ga_cleanup.CleanupError) as raised:
        ga_cleanup.clean_vpc(
            ec2,
            leftovers.vpc_id,
            timeout_seconds=100,
            sleep=clock.sleep,
            clock=clock.clock,
            progress=lambda _: None,
        )

    message = str(raised.value)
    assert "\n" not in message
    assert leftovers.vpc_id in message and "after 100 s" in message
    assert all(eni_id in message for eni_id in leftovers.eni_ids), message
    assert "endpoint group" in message, "the message names what to check"
    assert sum(clock.sleeps) == 100, "the last wait is cut to the deadline"
    assert attempted == [] and group_exists(ec2, leftovers.group_id)


def test_a_group_still_in_use_after_the_enis_went_is_named(ec2) -> None:
    network = tagged_vpc(ec2, "ingress")
    leftovers = create_ga_leftovers(ec2, network)
    for eni_id in leftovers.eni_ids:
        ec2.delete_network_interface(NetworkInterfaceId=eni_id)

    def always_in_use(params: dict[str, Any], **_: Any) -> None:
        # AWS's answer while another group's rule references the group.
        raise ClientError(
            {"Error": {"Code": "DependencyViolation", "Message": "has a dependent object"}},
            "DeleteSecurityGroup",
        )

    ec2.meta.events.register("provide-client-params.ec2.DeleteSecurityGroup", always_in_use)
    clock = FakeClock()
    with pytest.raises(ga_cleanup.CleanupError, match=leftovers.group_id) as raised:
        ga_cleanup.clean_vpc(
            ec2,
            leftovers.vpc_id,
            timeout_seconds=30,
            sleep=clock.sleep,
            clock=clock.clock,
            progress=lambda _: None,
        )
    assert "\n" not in str(raised.value) and "reference" in str(raised.value)
    assert len(clock.sleeps) > 1, "a group in use is tried again"


def test_only_global_accelerators_enis_are_waited_for(ec2) -> None:
    # The ALB's, an instance's and Lambda's ENIs in the same VPC are Terraform's to remove.
    network = tagged_vpc(ec2, "ingress")
    create_instance_eni(ec2, network.subnet_ids[0], network.security_group_ids)
    create_lambda_eni(ec2, network.subnet_ids[1], network.security_group_ids)
    leftovers = create_ga_leftovers(ec2, network)
    clock = FakeClock(on_sleep=ga_removes_its_enis(ec2, leftovers, after_sleeps=1))

    report = ga_cleanup.clean_vpc(
        ec2, network.vpc_id, sleep=clock.sleep, clock=clock.clock, progress=lambda _: None
    )

    assert sorted(report.enis_waited_for) == sorted(leftovers.eni_ids)
    assert len(clock.sleeps) == 1


def test_an_eni_is_recognised_by_its_interface_type_alone(ec2) -> None:
    network = tagged_vpc(ec2, "ingress")
    eni_id = create_instance_eni(ec2, network.subnet_ids[0], network.security_group_ids)
    moto_eni(eni_id).interface_type = ga_cleanup.GA_INTERFACE_TYPE
    clock = FakeClock()
    with pytest.raises(ga_cleanup.CleanupError, match=eni_id):
        ga_cleanup.clean_vpc(
            ec2,
            network.vpc_id,
            timeout_seconds=10,
            sleep=clock.sleep,
            clock=clock.clock,
            progress=lambda _: None,
        )


def test_a_clean_vpc_needs_no_wait_and_no_delete(ec2) -> None:
    network = tagged_vpc(ec2, "ingress")
    deletes = record_calls(ec2, "DeleteSecurityGroup")
    clock = FakeClock()
    report = ga_cleanup.clean_vpc(ec2, network.vpc_id, sleep=clock.sleep, clock=clock.clock)
    assert (report.enis_waited_for, report.security_groups_deleted) == ([], [])
    assert clock.sleeps == [] and deletes == []


# --- only this environment's VPC ----------------------------------------------------------------


@pytest.mark.parametrize("ignored_filter", [None, "vpc-id", "group-name", "tag:environment"])
def test_another_vpcs_global_accelerator_group_is_left_alone(ec2, config, ignored_filter) -> None:
    ours = create_ga_leftovers(ec2, tagged_vpc(ec2, "ingress"))
    for eni_id in ours.eni_ids:
        ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    # Another environment's VPC, with Global Accelerator's group and ENIs still in use.
    theirs = create_ga_leftovers(ec2, tagged_vpc(ec2, "other"))
    untagged = create_ga_leftovers(ec2, make_network(ec2, subnets=1, security_groups=0))
    if ignored_filter is not None:
        # Even if AWS ignored a filter, the tags and VpcId read back decide.
        for operation in ("DescribeVpcs", "DescribeSecurityGroups", "DescribeNetworkInterfaces"):
            drop_filter(ec2, operation, ignored_filter)
    clock = FakeClock()

    result = ga_cleanup.run_ga_cleanup(
        config, "ingress", ec2=ec2, sleep=clock.sleep, clock=clock.clock, progress=lambda _: None
    )

    assert result.exit_code == 0, result.text
    assert [v["vpc_id"] for v in result.data["vpcs"]] == [ours.vpc_id]
    assert not group_exists(ec2, ours.group_id)
    assert group_exists(ec2, theirs.group_id) and group_exists(ec2, untagged.group_id)
    assert clock.sleeps == [], "the other VPC's ENIs are not waited for"


# --- the command ---------------------------------------------------------------------------------


def test_run_reports_what_it_removed(ec2, config) -> None:
    leftovers = create_ga_leftovers(ec2, tagged_vpc(ec2, "ingress"))
    clock = FakeClock(on_sleep=ga_removes_its_enis(ec2, leftovers, after_sleeps=2))
    said: list[str] = []

    result = ga_cleanup.run_ga_cleanup(
        config, "ingress", ec2=ec2, sleep=clock.sleep, clock=clock.clock, progress=said.append
    )

    assert result.exit_code == 0
    assert leftovers.group_id in result.text and "cdktf destroy ingress" in result.text
    (vpc,) = result.data["vpcs"]
    assert vpc["security_groups_deleted"] == [leftovers.group_id]
    assert vpc["seconds"] == 15.0
    assert len(said) == 2


def test_run_exits_1_with_one_line_when_enis_stay(ec2, config) -> None:
    leftovers = create_ga_leftovers(ec2, tagged_vpc(ec2, "ingress"))
    clock = FakeClock()
    result = ga_cleanup.run_ga_cleanup(
        config,
        "ingress",
        timeout_seconds=60,
        ec2=ec2,
        sleep=clock.sleep,
        clock=clock.clock,
        progress=lambda _: None,
    )
    assert result.exit_code == 1
    assert "\n" not in result.text and result.text.startswith("ga-cleanup ingress: ")
    assert leftovers.eni_ids[0] in result.text
    assert group_exists(ec2, leftovers.group_id)


def test_cli_without_a_vpc_has_nothing_to_do(ec2, config, capsys) -> None:
    assert cli.main(["ga-cleanup", "ingress", "--config", str(config), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"environment": "ingress", "region": REGION, "vpcs": []}


def test_cli_deletes_the_group_when_the_enis_are_gone(ec2, config, capsys) -> None:
    leftovers = create_ga_leftovers(ec2, tagged_vpc(ec2, "ingress"))
    for eni_id in leftovers.eni_ids:
        ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    assert cli.main(["ga-cleanup", "ingress", "--config", str(config)]) == 0
    assert leftovers.group_id in capsys.readouterr().out
    assert not group_exists(ec2, leftovers.group_id)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ga-cleanup", "dev"], "has ingress 'none'"),
        (["ga-cleanup", "staging"], "staging"),
        (["ga-cleanup", "ingress", "--timeout", "0"], "--timeout"),
    ],
)
def test_cli_usage_errors_exit_2_with_one_line(config, capsys, argv, expected) -> None:
    assert cli.main([*argv, "--config", str(config)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("staticip ga-cleanup: ") and expected in line


def test_cli_refuses_another_account_before_deleting(ec2, tmp_path, capsys) -> None:
    leftovers = create_ga_leftovers(ec2, tagged_vpc(ec2, "ingress"))
    for eni_id in leftovers.eni_ids:
        ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    path = tmp_path / "staticip.toml"
    # moto's credentials are for account 123456789012.
    path.write_text(
        f'project = "{PROJECT}"\n[environments.ingress]\ningress = "global-accelerator"\n'
        f'region = "{REGION}"\nvpc_cidr = "10.30.0.0/16"\naccount_id = "111111111111"\n'
    )
    assert cli.main(["ga-cleanup", "ingress", "--config", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "111111111111" in line
    assert group_exists(ec2, leftovers.group_id)
