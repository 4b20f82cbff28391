"""`staticip doctor` on the shipped `budget` environment (`egress = "nat-instance"`) rebuilt in
moto as the stack and the boot script leave it: each NAT AZ's group has its instance, running
and passing status checks, with the static ENI attached, source/destination check off and the
allow-listed EIP on it; each private route points at its AZ's ENI. Then one fault at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_fixtures import (
    NAT_IMAGE,
    SHIPPED_CONFIG,
    Deployment,
    count_calls,
    deploy_nat_instance,
    shipped_config,
)
from eni_fixtures import REGION, use_fake_aws
from moto import mock_aws

from staticip import doctor
from staticip.doctor import DoctorClients, run_doctor
from staticip.modes.nat_instance.checks import NAT_ENI, NAT_INSTANCE
from staticip.names import nat_instance_group_name
from staticip.result import CommandResult

PROJECT = "staticip"
ENV = "budget"


@dataclass
class Aws:
    ec2: Any
    autoscaling: Any
    lambda_client: Any
    iam: Any


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    use_fake_aws(monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield Aws(
            boto3.client("ec2", region_name=REGION),
            boto3.client("autoscaling", region_name=REGION),
            boto3.client("lambda", region_name=REGION),
            boto3.client("iam", region_name=REGION),
        )


@pytest.fixture
def budget(aws: Aws) -> Deployment:
    return deploy_nat_instance(aws.ec2, aws.autoscaling, aws.lambda_client, aws.iam, PROJECT, ENV)


def about(result: CommandResult, subject: str, check: str | None = None) -> list[dict[str, Any]]:
    return [
        f
        for f in result.data["findings"]
        if f["subject"] == subject and (check is None or f["check"] == check)
    ]


def errors(result: CommandResult) -> list[dict[str, Any]]:
    return [f for f in result.data["findings"] if f["severity"] == "error"]


def group(az: str) -> str:
    return nat_instance_group_name(PROJECT, ENV, az)


def test_a_healthy_environment_exits_0_with_each_azs_instance_eni_and_route(
    budget: Deployment,
) -> None:
    result = run_doctor(SHIPPED_CONFIG, ENV)

    assert result.exit_code == 0, result.text
    for az, instance in budget.instances.items():
        (finding,) = about(result, instance, NAT_INSTANCE)
        assert finding["severity"] == "ok"
        assert "InService" in finding["what"] and "status checks ok" in finding["what"]
        (eni,) = about(result, budget.enis[az], NAT_ENI)
        assert eni["severity"] == "ok"
        assert instance in eni["what"] and budget.ip(az) in eni["what"]
        assert "source/destination check off" in eni["what"]
    for az, subnet in budget.private_subnets.items():
        (route,) = about(result, subnet, "route")
        assert route["severity"] == "ok"
        assert budget.enis[az] in route["what"] and budget.route_tables[az] in route["what"]


def test_a_group_without_its_instance_stops_that_azs_egress(aws: Aws, budget: Deployment) -> None:
    aws.autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=group("us-east-1a"), MinSize=0, DesiredCapacity=0
    )

    result = run_doctor(SHIPPED_CONFIG, ENV)

    assert result.exit_code == 1
    (finding,) = about(result, group("us-east-1a"), NAT_INSTANCE)
    assert finding["severity"] == "error" and "no instance" in finding["what"]
    assert "describe-scaling-activities" in finding["fix"]
    # The other AZ is unaffected.
    (other,) = about(result, budget.instances["us-east-1b"], NAT_INSTANCE)
    assert other["severity"] == "ok"


def test_a_missing_group_names_the_deploy(aws: Aws, budget: Deployment) -> None:
    aws.autoscaling.delete_auto_scaling_group(
        AutoScalingGroupName=group("us-east-1b"), ForceDelete=True
    )

    result = run_doctor(SHIPPED_CONFIG, ENV)

    (finding,) = about(result, group("us-east-1b"), NAT_INSTANCE)
    assert finding["severity"] == "error" and "no Auto Scaling group" in finding["what"]
    assert "deploy" in finding["fix"]


def test_a_stopped_instance_is_an_error(aws: Aws, budget: Deployment) -> None:
    aws.ec2.stop_instances(InstanceIds=[budget.instances["us-east-1a"]])

    result = run_doctor(SHIPPED_CONFIG, ENV)

    assert result.exit_code == 1
    (finding,) = about(result, budget.instances["us-east-1a"], NAT_INSTANCE)
    assert finding["severity"] == "error"
    assert "stopped" in finding["what"] or "stopping" in finding["what"]


def test_a_detached_eni_is_an_error_naming_how_to_replace_the_instance(
    aws: Aws, budget: Deployment
) -> None:
    eni = aws.ec2.describe_network_interfaces(NetworkInterfaceIds=[budget.enis["us-east-1a"]])
    attachment = eni["NetworkInterfaces"][0]["Attachment"]["AttachmentId"]
    aws.ec2.detach_network_interface(AttachmentId=attachment)

    result = run_doctor(SHIPPED_CONFIG, ENV)

    assert result.exit_code == 1
    (finding,) = about(result, budget.enis["us-east-1a"], NAT_ENI)
    assert finding["severity"] == "error" and "not attached" in finding["what"]
    assert "terminate-instance-in-auto-scaling-group" in finding["fix"]
    # The route is right but leads nowhere: it says so rather than asking for another target.
    (route,) = about(result, budget.private_subnets["us-east-1a"], "route")
    assert route["severity"] == "error" and "forwards nothing now" in route["what"]


def test_the_eni_on_another_instance_is_an_error(aws: Aws, budget: Deployment) -> None:
    eni = budget.enis["us-east-1a"]
    attachment = aws.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])[
        "NetworkInterfaces"
    ][0]["Attachment"]["AttachmentId"]
    aws.ec2.detach_network_interface(AttachmentId=attachment)
    stray = aws.ec2.run_instances(
        ImageId=NAT_IMAGE,
        MinCount=1,
        MaxCount=1,
        SubnetId=budget.public_subnets["us-east-1a"],
    )["Instances"][0]["InstanceId"]
    aws.ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=stray, DeviceIndex=1)

    result = run_doctor(SHIPPED_CONFIG, ENV)

    (finding,) = about(result, eni, NAT_ENI)
    assert finding["severity"] == "error"
    assert stray in finding["what"] and budget.instances["us-east-1a"] in finding["what"]


def test_source_destination_check_on_is_an_error(aws: Aws, budget: Deployment) -> None:
    aws.ec2.modify_network_interface_attribute(
        NetworkInterfaceId=budget.enis["us-east-1b"], SourceDestCheck={"Value": True}
    )

    result = run_doctor(SHIPPED_CONFIG, ENV)

    assert result.exit_code == 1
    (finding,) = about(result, budget.enis["us-east-1b"], NAT_ENI)
    assert finding["severity"] == "error" and "source/destination check is on" in finding["what"]


def test_the_eip_moved_off_the_eni_is_an_error_on_both(aws: Aws, budget: Deployment) -> None:
    (address,) = aws.ec2.describe_addresses(AllocationIds=[budget.allocation("us-east-1a")])[
        "Addresses"
    ]
    aws.ec2.disassociate_address(AssociationId=address["AssociationId"])

    result = run_doctor(SHIPPED_CONFIG, ENV)

    assert result.exit_code == 1
    (finding,) = about(result, budget.enis["us-east-1a"], NAT_ENI)
    assert finding["severity"] == "error" and "holds no Elastic IP" in finding["what"]
    # The allow-listed EIP itself is reported as not on a NAT instance's ENI.
    eip = [f for f in errors(result) if budget.ip("us-east-1a") in f["what"]]
    assert eip and all(f["check"] != NAT_INSTANCE for f in eip)


def test_a_route_to_another_azs_eni_is_an_error(aws: Aws, budget: Deployment) -> None:
    aws.ec2.replace_route(
        RouteTableId=budget.route_tables["us-east-1b"],
        DestinationCidrBlock="0.0.0.0/0",
        NetworkInterfaceId=budget.enis["us-east-1a"],
    )

    result = run_doctor(SHIPPED_CONFIG, ENV)

    assert result.exit_code == 1
    (route,) = about(result, budget.private_subnets["us-east-1b"], "route")
    assert route["severity"] == "error"
    assert budget.enis["us-east-1b"] in route["what"] and "another AZ" in route["what"]
    (fine,) = about(result, budget.private_subnets["us-east-1a"], "route")
    assert fine["severity"] == "ok"


def test_a_missing_eni_leaves_its_route_without_a_target(aws: Aws, budget: Deployment) -> None:
    eni = budget.enis["us-east-1b"]
    description = aws.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])
    iface = description["NetworkInterfaces"][0]
    aws.ec2.disassociate_address(AssociationId=iface["Association"]["AssociationId"])
    aws.ec2.detach_network_interface(AttachmentId=iface["Attachment"]["AttachmentId"])
    aws.ec2.delete_network_interface(NetworkInterfaceId=eni)

    result = run_doctor(SHIPPED_CONFIG, ENV)

    (finding,) = about(result, "us-east-1b", NAT_ENI)
    assert finding["severity"] == "error" and "no static ENI" in finding["what"]


def test_the_nat_checks_cost_one_describe_each_whatever_the_az_count(
    aws: Aws, budget: Deployment
) -> None:
    clients = DoctorClients(aws.ec2, aws.lambda_client, autoscaling=aws.autoscaling)
    calls = count_calls(clients.all())

    found = doctor.diagnose(clients, PROJECT, shipped_config().environment(ENV))

    assert {f.check for f in found} >= {NAT_INSTANCE, NAT_ENI, "route"}
    assert calls["autoscaling.DescribeAutoScalingGroups"] == 1
    assert calls["ec2.DescribeInstanceStatus"] == 1
    # One listing of the static ENIs; the functions check lists the VPC's Lambda ENIs once.
    assert calls["ec2.DescribeNetworkInterfaces"] == 2
