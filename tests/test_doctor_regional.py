"""`staticip doctor` on a `nat = "regional"` environment. moto 5.2.5 does not model regional
NAT Gateways, so DescribeNatGateways answers through botocore's Stubber, which checks every
canned response against the installed botocore EC2 model (so each field used here exists)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from staticip.config import parse_config
from staticip.doctor_egress import EIP, NAT, FunctionFacts, check_regional_nat_gateway, check_routes
from staticip.eips import AllowListedEip, environment_tag_filters
from staticip.findings import ERROR, OK, WARNING

PROJECT = "acme"
NAT_ID = "nat-0123456789abcdef0"
AZS = ("us-east-1a", "us-east-1b")
ALLOCATIONS = {
    "us-east-1a": "eipalloc-0aaaaaaaaaaaaaaa1",
    "us-east-1b": "eipalloc-0bbbbbbbbbbbbbbb2",
}
IPS = {"us-east-1a": "198.51.100.1", "us-east-1b": "198.51.100.2"}
SUBNETS = {"subnet-0aaaaaaaaaaaaaaa1": "us-east-1a", "subnet-0bbbbbbbbbbbbbbb2": "us-east-1b"}

ENV = parse_config(
    {
        "project": PROJECT,
        "environments": {
            "edge": {
                "egress": "nat-gateway",
                "nat": "regional",
                "vpc_cidr": "10.80.0.0/16",
                "azs": list(AZS),
            }
        },
    },
    Path("staticip.toml"),
).environment("edge")
EIPS = [
    AllowListedEip(ALLOCATIONS[az], IPS[az], az, f"eipassoc-{i}", None) for i, az in enumerate(AZS)
]


def address(az: str, allocation: str | None = None, ip: str | None = None, **extra: Any) -> dict:
    return {
        "AllocationId": allocation or ALLOCATIONS[az],
        "PublicIp": ip or IPS[az],
        "AvailabilityZone": az,
        "Status": "succeeded",
        **extra,
    }


def gateway(**overrides: Any) -> dict[str, Any]:
    return {
        "NatGatewayId": NAT_ID,
        "State": "available",
        "VpcId": "vpc-0123456789abcdef0",
        "ConnectivityType": "public",
        "AvailabilityMode": "regional",
        "AutoScalingIps": "disabled",
        "AutoProvisionZones": "disabled",
        "RouteTableId": "rtb-0ffffffffffffffff",
        "NatGatewayAddresses": [address(az) for az in AZS],
        **overrides,
    }


@pytest.fixture
def ec2() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def check(ec2, *nats: dict[str, Any], subnet_az=SUBNETS, eips=EIPS):
    client, stubber = ec2
    stubber.add_response(
        "describe_nat_gateways",
        {"NatGateways": list(nats)},
        {"Filter": environment_tag_filters(PROJECT, "edge")},
    )
    return check_regional_nat_gateway(client, PROJECT, ENV, eips, subnet_az)


def severities(findings) -> list[tuple[str, str, str]]:
    return [(f.severity, f.check, f.subject) for f in findings]


def test_healthy_gateway_serves_each_function_subnet_az_with_its_eip(ec2) -> None:
    findings, nat_ips = check(ec2, gateway())
    assert severities(findings) == [(OK, NAT, NAT_ID)]
    assert "us-east-1a 198.51.100.1" in findings[0].what
    assert "us-east-1b 198.51.100.2" in findings[0].what
    assert nat_ips == {NAT_ID: "198.51.100.1, 198.51.100.2"}


def test_a_function_subnet_in_an_az_without_an_address_is_an_error(ec2) -> None:
    findings, _ = check(ec2, gateway(NatGatewayAddresses=[address("us-east-1a")]))
    errors = [f for f in findings if f.severity == ERROR]
    about_az = [f for f in errors if "us-east-1b" in f.what and f.check == NAT]
    assert len(about_az) == 1
    assert "subnet-0bbbbbbbbbbbbbbb2" in about_az[0].what
    # The idle EIP of that AZ is named too.
    assert (ERROR, EIP, ALLOCATIONS["us-east-1b"]) in severities(findings)


def test_without_the_functions_subnets_every_environment_az_needs_an_address(ec2) -> None:
    findings, _ = check(ec2, gateway(NatGatewayAddresses=[address("us-east-1b")]), subnet_az={})
    assert any(f.severity == ERROR and "us-east-1a has no" in f.what for f in findings)


@pytest.mark.parametrize(
    ("state", "severity"), [("pending", WARNING), ("failed", ERROR), ("deleting", ERROR)]
)
def test_gateway_state(ec2, state: str, severity: str) -> None:
    findings, nat_ips = check(
        ec2, gateway(State=state, FailureCode="Gateway.NotAttached", NatGatewayAddresses=[])
    )
    assert severities(findings) == [(severity, NAT, NAT_ID)]
    assert state in findings[0].what
    assert nat_ips == {}


def test_an_address_that_is_not_allow_listed_is_an_error(ec2) -> None:
    stranger = address("us-east-1a", "eipalloc-0ccccccccccccccc3", "203.0.113.9")
    findings, _ = check(
        ec2, gateway(NatGatewayAddresses=[*gateway()["NatGatewayAddresses"], stranger])
    )
    (error,) = [f for f in findings if f.severity == ERROR]
    assert "203.0.113.9" in error.what and "not one of edge's allow-listed" in error.what


def test_auto_mode_is_an_error(ec2) -> None:
    findings, _ = check(ec2, gateway(AutoScalingIps="enabled"))
    (error,) = [f for f in findings if f.severity == ERROR]
    assert "AutoScalingIps" in error.what and "auto mode" in error.what


def test_an_address_still_associating_is_a_warning_and_its_az_not_yet_served(ec2) -> None:
    findings, _ = check(
        ec2,
        gateway(
            NatGatewayAddresses=[address("us-east-1a"), address("us-east-1b", Status="associating")]
        ),
    )
    assert (WARNING, NAT, NAT_ID) in severities(findings)
    assert any(f.severity == ERROR and "us-east-1b" in f.what for f in findings)


def test_no_regional_gateway_and_a_leftover_zonal_one(ec2) -> None:
    zonal = gateway(NatGatewayId="nat-0zzzzzzzzzzzzzzz9", AvailabilityMode="zonal")
    del zonal["AutoScalingIps"], zonal["AutoProvisionZones"]
    findings, nat_ips = check(
        ec2, zonal, gateway(NatGatewayId="nat-0dddddddddddddddd", State="deleted")
    )
    assert severities(findings) == [
        (WARNING, NAT, "nat-0zzzzzzzzzzzzzzz9"),
        (ERROR, NAT, "edge"),
    ]
    assert nat_ips == {}


def test_routes_through_the_regional_gateway_are_ok(ec2) -> None:
    client, stubber = ec2
    _, nat_ips = check(ec2, gateway())
    stubber.add_response(
        "describe_route_tables",
        {
            "RouteTables": [
                {
                    "RouteTableId": f"rtb-{az[-1] * 17}",
                    "Associations": [{"SubnetId": subnet}],
                    "Routes": [
                        {
                            "DestinationCidrBlock": "0.0.0.0/0",
                            "NatGatewayId": NAT_ID,
                            "State": "active",
                        }
                    ],
                }
                for subnet, az in SUBNETS.items()
            ]
        },
    )
    fn = FunctionFacts("acme-edge-egress-probe", "Active", list(SUBNETS))
    routes = check_routes(client, ENV, fn, nat_ips)
    assert [(f.severity, f.subject) for f in routes] == [(OK, s) for s in SUBNETS]
    assert all(NAT_ID in f.what for f in routes)


def test_doctor_runs_the_regional_check_for_a_regional_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole `diagnose` against moto (no function, no EIPs deployed), with moto's
    DescribeNatGateways answering an empty list: the finding comes from the regional check."""
    from eni_fixtures import use_fake_aws
    from moto import mock_aws

    from staticip import doctor

    use_fake_aws(monkeypatch)
    with mock_aws():
        clients = doctor.DoctorClients(
            boto3.client("ec2", region_name="us-east-1"),
            boto3.client("lambda", region_name="us-east-1"),
        )
        findings = doctor.diagnose(clients, PROJECT, ENV)
    nat = [f for f in findings if f.check == NAT]
    assert [(f.severity, f.subject, f.what) for f in nat] == [
        (ERROR, "edge", "no regional NAT Gateway found")
    ]
