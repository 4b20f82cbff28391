"""`staticip doctor` on an nlb-eip environment: `check_nlb_ingress`.

The ingress EIPs live in moto. Elastic Load Balancing answers through botocore's Stubber:
moto 5.2.5's elbv2 (and moto's main branch) keeps only the subnet of each `SubnetMappings`
entry, so its NLBs have no `LoadBalancerAddresses` and no AllocationId to check. The Stubber
checks every canned request and response against the installed botocore model (1.44.8)."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from aws_fixtures import count_calls, tag_spec
from botocore.stub import Stubber
from eni_fixtures import REGION, use_fake_aws
from moto import mock_aws

from staticip.config import EnvironmentConfig, FunctionConfig
from staticip.doctor_ingress import ALB, LISTENER, TARGET
from staticip.eips import ALLOW_LISTED_TAG, AZ_TAG, DIRECTION_TAG, INGRESS
from staticip.findings import ERROR, OK, WARNING, Finding
from staticip.modes.nlb_eip.checks import INGRESS_EIP, NLB, NLB_TARGET, check_nlb_ingress

PROJECT = "acme"
ACCOUNT = "123456789012"
AZS = ("us-east-1a", "us-east-1b")
SUBNETS = {"us-east-1a": "subnet-0aaaaaaaaaaaaaaa1", "us-east-1b": "subnet-0bbbbbbbbbbbbbbb2"}
CERTIFICATE = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0a0a0a0a-0000-4000-8000-000000000001"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
NLB_ARN = f"{ELB}:loadbalancer/net/acme-edge/0123456789abcdef"
ALB_ARN = f"{ELB}:loadbalancer/app/acme-edge/fedcba9876543210"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:acme-edge-webhook"
LAMBDA_GROUP = f"{ELB}:targetgroup/acme-edge/1111111111111111"
NOW = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)


def environment(certificate: bool = False) -> EnvironmentConfig:
    return EnvironmentConfig(
        name="edge",
        region=REGION,
        vpc_cidr="10.90.0.0/16",
        azs=AZS,
        function=FunctionConfig(name="acme-edge-webhook"),
        ingress="nlb-eip",
        certificate_arn=CERTIFICATE if certificate else None,
    )


def group_arn(port: int) -> str:
    return f"{ELB}:targetgroup/acme-edge-nlb-{port}/{port:016d}"


def listener_arn(port: int) -> str:
    return f"{ELB}:listener/net/acme-edge/0123456789abcdef/{port:016d}"


@dataclass
class Edge:
    """The deployed environment: ingress EIPs in moto, a Stubber in front of elbv2."""

    env: EnvironmentConfig
    ec2: Any
    elbv2: Any
    stubber: Stubber
    eips: dict[str, tuple[str, str]]
    """AZ -> (allocation ID, public IP)."""
    calls: Counter[str] = field(default_factory=Counter)

    def check(self) -> list[Finding]:
        findings = check_nlb_ingress(self.elbv2, self.ec2, PROJECT, self.env)
        self.stubber.assert_no_pending_responses()
        return findings


def allocate(ec2: Any, az: str, *, ours: bool = True) -> tuple[str, str]:
    extra = (
        {ALLOW_LISTED_TAG: "true", AZ_TAG: az, DIRECTION_TAG: INGRESS}
        if ours
        else {"Name": "someone-elses"}
    )
    address = ec2.allocate_address(
        Domain="vpc", TagSpecifications=tag_spec("elastic-ip", PROJECT, "edge", **extra)
    )
    return address["AllocationId"], address["PublicIp"]


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    use_fake_aws(monkeypatch)
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        eips = {az: allocate(ec2, az) for az in AZS}
        elbv2 = boto3.client("elbv2", region_name=REGION)
        with Stubber(elbv2) as stubber:
            edge = Edge(environment(), ec2, elbv2, stubber, eips)
            edge.calls = count_calls([ec2, elbv2])
            yield edge


# --- canned ELB answers, the shapes of the botocore model ----------------------------------------


def zone(az: str, allocation: str | None, ip: str) -> dict[str, Any]:
    address: dict[str, Any] = {"IpAddress": ip}
    if allocation:
        address["AllocationId"] = allocation
    return {"ZoneName": az, "SubnetId": SUBNETS[az], "LoadBalancerAddresses": [address]}


def nlb(edge: Edge, **overrides: Any) -> dict[str, Any]:
    return {
        "LoadBalancerArn": NLB_ARN,
        "DNSName": "acme-edge-0123456789abcdef.elb.us-east-1.amazonaws.com",
        "LoadBalancerName": "acme-edge",
        "Scheme": "internet-facing",
        "VpcId": "vpc-0123456789abcdef0",
        "State": {"Code": "active"},
        "Type": "network",
        "CreatedTime": NOW,
        "IpAddressType": "ipv4",
        "AvailabilityZones": [zone(az, *edge.eips[az]) for az in AZS],
    } | overrides


def alb(**overrides: Any) -> dict[str, Any]:
    return {
        "LoadBalancerArn": ALB_ARN,
        "DNSName": "internal-acme-edge-1.us-east-1.elb.amazonaws.com",
        "LoadBalancerName": "acme-edge",
        "Scheme": "internal",
        "VpcId": "vpc-0123456789abcdef0",
        "State": {"Code": "active"},
        "Type": "application",
        "CreatedTime": NOW,
        "IpAddressType": "ipv4",
    } | overrides


def health(target: dict[str, Any], state: str, reason: str | None = None) -> dict[str, Any]:
    description: dict[str, Any] = {"Target": target, "TargetHealth": {"State": state}}
    if reason:
        description["TargetHealth"] |= {"Reason": reason, "Description": f"{reason} (test)"}
    return {"TargetHealthDescriptions": [description]}


def stub(
    edge: Edge,
    *,
    nlb_overrides: dict[str, Any] | None = None,
    alb_overrides: dict[str, Any] | None = None,
    environment: str = "edge",
    nlb_target: tuple[str, str | None] = ("healthy", None),
    lambda_target: tuple[str, str | None] = ("healthy", None),
    ports: list[int] | None = None,
    leftover: dict[str, Any] | None = None,
) -> None:
    """The ELB answers of a deployed environment, call by call, in the order doctor asks;
    `ports` are the NLB's listeners (default: those of the environment); `leftover` another
    NLB tagged for the environment, listed first."""
    s = edge.stubber
    ports = ports or ([80, 443] if edge.env.certificate_arn else [80])
    nlbs = [*([leftover] if leftover else []), nlb(edge, **(nlb_overrides or {}))]
    s.add_response(
        "describe_load_balancers", {"LoadBalancers": [*nlbs, alb(**(alb_overrides or {}))]}, {}
    )
    tags = [{"Key": "environment", "Value": environment}, {"Key": "project", "Value": PROJECT}]
    s.add_response(
        "describe_tags",
        {"TagDescriptions": [{"ResourceArn": lb["LoadBalancerArn"], "Tags": tags} for lb in nlbs]},
        {"ResourceArns": [lb["LoadBalancerArn"] for lb in nlbs]},
    )
    if environment != "edge":
        return
    s.add_response(
        "describe_listeners",
        {
            "Listeners": [
                {
                    "ListenerArn": listener_arn(port),
                    "LoadBalancerArn": NLB_ARN,
                    "Port": port,
                    "Protocol": "TCP",
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": group_arn(port)}],
                }
                for port in ports
            ]
        },
        {"LoadBalancerArn": NLB_ARN},
    )
    s.add_response(
        "describe_target_groups",
        {
            "TargetGroups": [
                {
                    "TargetGroupArn": group_arn(port),
                    "TargetGroupName": f"acme-edge-nlb-{port}",
                    "Protocol": "TCP",
                    "Port": port,
                    "TargetType": "alb",
                    "LoadBalancerArns": [NLB_ARN],
                }
                for port in ports
            ]
        },
        {"LoadBalancerArn": NLB_ARN},
    )
    for port in ports:
        s.add_response(
            "describe_target_health",
            health({"Id": ALB_ARN, "Port": port}, *nlb_target),
            {"TargetGroupArn": group_arn(port)},
        )
    s.add_response(
        "describe_target_groups",
        {
            "TargetGroups": [
                {
                    "TargetGroupArn": LAMBDA_GROUP,
                    "TargetGroupName": "acme-edge",
                    "TargetType": "lambda",
                    "HealthCheckPath": "/health",
                    "LoadBalancerArns": [ALB_ARN],
                }
            ]
        },
        {"LoadBalancerArn": ALB_ARN},
    )
    s.add_response(
        "describe_target_health",
        health({"Id": FUNCTION_ARN}, *lambda_target),
        {"TargetGroupArn": LAMBDA_GROUP},
    )


def of(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def problems(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.is_problem]


# --- healthy ------------------------------------------------------------------------------------


def test_a_healthy_environment_is_all_ok_in_8_calls(edge: Edge) -> None:
    stub(edge)

    findings = edge.check()

    assert problems(findings) == []
    (state,) = of(findings, NLB)
    assert state.what.startswith("active, internet-facing, acme-edge-")
    eips = of(findings, INGRESS_EIP)
    assert [f.subject for f in eips] == list(AZS)
    for finding, az in zip(eips, AZS, strict=True):
        assert edge.eips[az][1] in finding.what and edge.eips[az][0] in finding.what
    assert [f.what.split(" -> ")[0] for f in of(findings, LISTENER)] == ["TCP 80"]
    assert [(f.severity, f.subject) for f in of(findings, NLB_TARGET)] == [
        (OK, "app/acme-edge/fedcba9876543210:80")
    ]
    assert [f.what for f in of(findings, ALB)] == ["active"]
    (target,) = of(findings, TARGET)
    assert target.severity == OK and target.subject == "function:acme-edge-webhook"
    assert sum(edge.calls.values()) == 8, edge.calls
    assert edge.calls == Counter(
        {
            "elbv2.DescribeLoadBalancers": 1,
            "elbv2.DescribeTags": 1,
            "ec2.DescribeAddresses": 1,
            "elbv2.DescribeListeners": 1,
            "elbv2.DescribeTargetGroups": 2,
            "elbv2.DescribeTargetHealth": 2,
        }
    )


def test_with_a_certificate_443_is_checked_too_in_9_calls(edge: Edge) -> None:
    edge.env = environment(certificate=True)
    stub(edge)

    findings = edge.check()

    assert problems(findings) == []
    assert sorted(f.what.split(" -> ")[0] for f in of(findings, LISTENER)) == [
        "TCP 443",
        "TCP 80",
    ]
    assert len(of(findings, NLB_TARGET)) == 2
    assert sum(edge.calls.values()) == 9, edge.calls


# --- one failure each ---------------------------------------------------------------------------


def test_no_nlb_of_this_environment_is_an_error_naming_the_deploy(edge: Edge) -> None:
    stub(edge, environment="staging")

    (finding,) = edge.check()

    assert (finding.severity, finding.check) == (ERROR, NLB)
    assert "no network load balancer tagged environment=edge, project=acme" in finding.what
    assert "cdktf deploy edge" in (finding.fix or "")


def test_an_az_whose_address_aws_assigned_names_the_allow_listed_ip(edge: Edge) -> None:
    allocation, ip = edge.eips["us-east-1b"]
    zones = [zone("us-east-1a", *edge.eips["us-east-1a"]), zone("us-east-1b", None, "3.3.3.3")]
    stub(edge, nlb_overrides={"AvailabilityZones": zones})

    findings = edge.check()

    (finding,) = problems(findings)
    assert (finding.severity, finding.check, finding.subject) == (ERROR, INGRESS_EIP, "us-east-1b")
    assert "3.3.3.3" in finding.what and "an address AWS assigned" in finding.what
    assert f"the vendors' allow-list has {ip} ({allocation})" in finding.what
    assert "cdktf deploy edge" in (finding.fix or "") and "replace the NLB" in (finding.fix or "")


def test_a_foreign_allocation_on_the_nlb_is_an_error(edge: Edge) -> None:
    foreign, foreign_ip = allocate(edge.ec2, "us-east-1a", ours=False)
    zones = [zone("us-east-1a", foreign, foreign_ip), zone("us-east-1b", *edge.eips["us-east-1b"])]
    stub(edge, nlb_overrides={"AvailabilityZones": zones})

    (finding,) = problems(edge.check())

    assert (finding.severity, finding.check, finding.subject) == (ERROR, INGRESS_EIP, "us-east-1a")
    assert f"{foreign}, not one of edge's allow-listed ingress EIPs" in finding.what
    assert edge.eips["us-east-1a"][1] in finding.what
    assert "replace the NLB" in (finding.fix or "")


def test_an_nlb_missing_an_az_leaves_that_eip_reaching_nothing(edge: Edge) -> None:
    stub(edge, nlb_overrides={"AvailabilityZones": [zone("us-east-1a", *edge.eips["us-east-1a"])]})

    (finding,) = problems(edge.check())

    assert (finding.check, finding.subject) == (INGRESS_EIP, "us-east-1b")
    assert "not in us-east-1b" in finding.what and edge.eips["us-east-1b"][1] in finding.what
    assert "add the AZ" in (finding.fix or "")


def test_an_az_without_an_ingress_eip_says_so(edge: Edge) -> None:
    edge.ec2.release_address(AllocationId=edge.eips["us-east-1b"][0])
    stub(edge)

    (finding,) = problems(edge.check())

    assert (finding.severity, finding.subject) == (ERROR, "us-east-1b")
    assert "no allow-listed ingress EIP is tagged staticip:az=us-east-1b" in finding.what
    assert "allocate it" in (finding.fix or "")


def test_an_unhealthy_alb_target_is_an_error_with_the_reason(edge: Edge) -> None:
    stub(edge, nlb_target=("unhealthy", "Target.FailedHealthChecks"))

    (finding,) = problems(edge.check())

    assert (finding.severity, finding.check) == (ERROR, NLB_TARGET)
    assert "unhealthy" in finding.what and "Target.FailedHealthChecks" in finding.what
    assert "health-checks the ALB" in (finding.fix or "")


def test_an_alb_target_still_checking_is_a_warning(edge: Edge) -> None:
    stub(edge, nlb_target=("initial", "Elb.InitialHealthChecking"))

    (finding,) = problems(edge.check())

    assert (finding.severity, finding.check) == (WARNING, NLB_TARGET)
    assert "wait" in (finding.fix or "")


def test_an_internet_facing_alb_is_an_error(edge: Edge) -> None:
    stub(edge, alb_overrides={"Scheme": "internet-facing"})

    (finding,) = problems(edge.check())

    assert (finding.severity, finding.check, finding.subject) == (ERROR, ALB, "acme-edge")
    assert "internet-facing, but the stack makes it internal" in finding.what
    assert "cdktf deploy edge" in (finding.fix or "") and "replaces the ALB" in (finding.fix or "")


def test_an_unhealthy_lambda_target_names_the_health_check(edge: Edge) -> None:
    stub(edge, lambda_target=("unhealthy", "Target.ResponseCodeMismatch"))

    (finding,) = problems(edge.check())

    assert (finding.severity, finding.check) == (ERROR, TARGET)
    assert "Target.ResponseCodeMismatch" in finding.what
    assert "/health" in (finding.fix or "") and "logs" in (finding.fix or "")


def test_a_leftover_nlb_is_a_warning_and_the_one_holding_the_eips_is_checked(edge: Edge) -> None:
    other_arn = f"{ELB}:loadbalancer/net/acme-edge-old/00000000000000ff"
    zones = [zone(az, None, f"3.3.3.{i}") for i, az in enumerate(AZS)]
    leftover = nlb(
        edge, LoadBalancerArn=other_arn, LoadBalancerName="acme-edge-old", AvailabilityZones=zones
    )
    stub(edge, leftover=leftover)

    (finding,) = problems(edge.check())

    assert (finding.severity, finding.check, finding.subject) == (WARNING, NLB, "acme-edge-old")
    assert "acme-edge is the one checked" in finding.what


def test_an_impaired_nlb_still_routing_is_a_warning(edge: Edge) -> None:
    stub(edge, nlb_overrides={"State": {"Code": "active_impaired"}})

    (finding,) = problems(edge.check())

    assert (finding.severity, finding.check) == (WARNING, NLB)
    assert finding.what.startswith("active_impaired") and "traffic still flows" in (
        finding.fix or ""
    )


def test_an_internal_provisioning_nlb(edge: Edge) -> None:
    stub(edge, nlb_overrides={"Scheme": "internal", "State": {"Code": "provisioning"}})

    found = sorted((f.severity, f.what.split(",")[0].split(":")[0]) for f in of(edge.check(), NLB))

    assert found == [(ERROR, "internal"), (WARNING, "provisioning")]


def test_a_missing_443_listener_with_a_certificate(edge: Edge) -> None:
    edge.env = environment(certificate=True)
    stub(edge, ports=[80])

    (finding,) = problems(edge.check())

    assert (finding.severity, finding.check) == (ERROR, LISTENER)
    assert "no listener on 443" in finding.what
    assert "cdktf deploy edge" in (finding.fix or "")


def test_doctor_finds_the_mode_in_the_registry_and_runs_its_checks(edge: Edge) -> None:
    """`diagnose` on an nlb-eip environment: the webhook function's check (no egress), then
    the mode's declared check; no Global Accelerator client is made or asked for."""
    from staticip.doctor import DoctorClients, diagnose

    env = edge.env
    assert env.ingress_mode is not None and env.ingress_mode.name == "nlb-eip"
    made = DoctorClients.create(REGION, None, env)
    assert made.elbv2 is not None and made.globalaccelerator is None
    stub(edge)
    lambda_ = boto3.client("lambda", region_name=REGION)

    findings = diagnose(DoctorClients(edge.ec2, lambda_, edge.elbv2), PROJECT, env)
    edge.stubber.assert_no_pending_responses()

    checks = list(dict.fromkeys(f.check for f in findings))
    assert checks == ["function", NLB, INGRESS_EIP, LISTENER, NLB_TARGET, ALB, TARGET]
    # The webhook is not deployed in moto here: the one problem is that, named.
    assert [(f.severity, f.check) for f in problems(findings)] == [(ERROR, "function")]


def test_a_reused_ingress_eip_counts_before_the_stack_tagged_it(edge: Edge) -> None:
    """`ingress_reuse_eip_allocation_ids`: the address is someone else's until the stack's
    `aws_ec2_tag`s land, so doctor also looks it up by allocation ID."""
    import dataclasses

    from staticip.modes.nlb_eip import REUSE_KEY

    untagged = edge.ec2.allocate_address(Domain="vpc")
    edge.eips["us-east-1b"] = (untagged["AllocationId"], untagged["PublicIp"])
    edge.env = dataclasses.replace(
        edge.env, mode_options={REUSE_KEY: {"us-east-1b": untagged["AllocationId"]}}
    )
    stub(edge)

    findings = edge.check()

    assert problems(findings) == []
    (on_b,) = [f for f in of(findings, INGRESS_EIP) if f.subject == "us-east-1b"]
    assert untagged["PublicIp"] in on_b.what
