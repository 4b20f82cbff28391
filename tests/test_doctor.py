"""`staticip doctor`: egress environments against moto, Global Accelerator through botocore's
Stubber (moto has no Global Accelerator) in front of a moto ALB."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from aws_fixtures import (
    SHIPPED_CONFIG,
    Deployment,
    canary_results,
    count_calls,
    create_function,
    deploy_eni_eip,
    deploy_nat,
    guard_alarm,
    lambda_eni,
    logging_trail,
    moto_function,
    recycle_eni,
    shipped_config,
)
from botocore.stub import Stubber
from eni_fixtures import REGION, use_fake_aws
from moto import mock_aws

from staticip import doctor
from staticip.doctor import DoctorClients, run_doctor
from staticip.doctor_egress import GUARD_CONCURRENCY, check_guard_concurrency
from staticip.guard import alarm_names
from staticip.modes.eni_eip.checks import doctor_checks as eni_eip_checks
from staticip.result import CommandResult

PROJECT = "staticip"


@dataclass
class Aws:
    ec2: Any
    lambda_client: Any
    iam: Any
    elbv2: Any


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    use_fake_aws(monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield Aws(
            boto3.client("ec2", region_name=REGION),
            boto3.client("lambda", region_name=REGION),
            boto3.client("iam", region_name=REGION),
            boto3.client("elbv2", region_name=REGION),
        )


@pytest.fixture
def dev(aws: Aws) -> Deployment:
    return deploy_eni_eip(aws.ec2, aws.lambda_client, aws.iam, PROJECT, "dev")


@pytest.fixture
def prod(aws: Aws) -> Deployment:
    return deploy_nat(aws.ec2, aws.lambda_client, aws.iam, PROJECT, "prod")


def findings(result: CommandResult, check: str | None = None) -> list[dict[str, Any]]:
    return [f for f in result.data["findings"] if check is None or f["check"] == check]


def problems(result: CommandResult) -> list[dict[str, Any]]:
    return [f for f in result.data["findings"] if f["severity"] in ("warning", "error")]


def about(result: CommandResult, subject: str, check: str | None = None) -> list[dict[str, Any]]:
    return [f for f in findings(result, check) if f["subject"] == subject]


# --- eni-eip ------------------------------------------------------------------------------------


def test_healthy_eni_eip_environment_exits_0_and_shows_each_eni_with_its_eip(
    dev: Deployment,
) -> None:
    result = run_doctor(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 0, result.text
    assert problems(result) == []
    assert result.data["healthy"] is True
    for az, eni in dev.enis.items():
        (finding,) = about(result, eni)
        assert finding["severity"] == "ok"
        assert dev.ip(az) in finding["what"] and az in finding["what"]
    names = list(shipped_config().environment("dev").egress_function_names)
    function = findings(result, "function")
    assert [(f["subject"], f["what"]) for f in function] == [(n, "Active") for n in names]
    # Every function in the VPC leaves from the EIPs (they share the probe's ENIs), the
    # canaries too.
    in_vpc = findings(result, "functions")
    canaries = dev.env.canary_function_names(PROJECT)
    assert sorted(f["subject"] for f in in_vpc) == sorted([*names, *canaries])
    assert all(f["severity"] == "ok" for f in in_vpc)
    assert result.text.rstrip().endswith("dev: healthy")
    # The human table and the JSON carry the same findings.
    for finding in findings(result):
        assert finding["subject"] in result.text


@pytest.mark.parametrize(
    ("alarm", "state", "severity", "words"),
    [
        ("enis-without-eip", "ALARM", "error", "stayed without an EIP for two guard periods"),
        ("eni-guard-silent", "ALARM", "error", "published nothing for two schedule periods"),
        ("eni-guard-errors", "ALARM", "error", "guard invocations failed"),
        ("enis-without-eip", "INSUFFICIENT_DATA", "info", "no data yet"),
    ],
)
def test_each_eni_guard_alarm_is_reported(dev: Deployment, alarm, state, severity, words) -> None:
    name = f"{PROJECT}-dev-{alarm}"
    guard_alarm(PROJECT, "dev", state, name)

    result = run_doctor(SHIPPED_CONFIG, "dev")

    guard = {f["subject"]: f for f in findings(result, "eni-guard")}
    assert set(guard) == set(alarm_names(PROJECT, "dev"))
    assert guard[name]["severity"] == severity
    assert words in guard[name]["what"]
    assert (guard[name]["fix"] is not None) == (severity != "info")
    assert [f["severity"] for n, f in guard.items() if n != name] == ["ok", "ok"]
    assert result.exit_code == (0 if severity == "info" else 1)


def test_an_undeployed_guard_is_one_warning(dev: Deployment) -> None:
    guard_alarm(PROJECT, "dev", None)

    result = run_doctor(SHIPPED_CONFIG, "dev")

    (finding,) = findings(result, "eni-guard")
    assert finding["severity"] == "warning" and "not deployed" in finding["what"]
    assert result.exit_code == 1


# --- the guard's reserved concurrency (issue 23.1) --------------------------------------------


def account_with(limit: int, unreserved: int, guard_reserves: int | None) -> Any:
    """A Lambda client answering as an account with that concurrency (moto implements no
    GetAccountSettings); `guard_reserves` None: the guard is not deployed yet."""
    client = boto3.client("lambda", region_name=REGION)
    stub = Stubber(client)
    guard = f"{PROJECT}-dev-eni-guard"
    if guard_reserves is None:
        stub.add_client_error(
            "get_function_concurrency",
            "ResourceNotFoundException",
            expected_params={"FunctionName": guard},
        )
    else:
        stub.add_response(
            "get_function_concurrency",
            {"ReservedConcurrentExecutions": guard_reserves},
            {"FunctionName": guard},
        )
    stub.add_response(
        "get_account_settings",
        {
            "AccountLimit": {
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": unreserved,
            }
        },
    )
    stub.activate()
    return client


def reserving_dev() -> Any:
    env = shipped_config().environment("dev")
    return replace(env, eni_guard=replace(env.eni_guard, reserved_concurrency=True))


@pytest.mark.parametrize(
    ("limit", "unreserved", "reserved", "severity", "needed"),
    [
        (10, 10, None, "error", 101),  # a new account's limit: the deploy would fail
        (1000, 150, None, "ok", None),
        (120, 100, None, "error", 121),  # other reservations took the room
        (1000, 101, None, "ok", None),  # exactly enough: 100 stay unreserved
        (120, 100, 1, "ok", None),  # already reserved: it holds
    ],
)
def test_the_account_limit_is_reported_when_the_reservation_cannot_hold(
    monkeypatch: pytest.MonkeyPatch, limit, unreserved, reserved, severity, needed
) -> None:
    use_fake_aws(monkeypatch)
    (finding,) = check_guard_concurrency(
        account_with(limit, unreserved, reserved), PROJECT, reserving_dev()
    )

    assert finding.severity == severity
    if needed is not None:
        assert f"limit is {limit} ({unreserved} unreserved)" in finding.what
        assert "reserved_concurrency = false" in finding.fix
        assert finding.fix.endswith(f"at least {needed}")


def test_the_concurrency_check_runs_only_where_a_reservation_is_asked_for() -> None:
    default = shipped_config().environment("dev")
    assert GUARD_CONCURRENCY not in [c.name for c in eni_eip_checks(default)]
    (check,) = [c for c in eni_eip_checks(reserving_dev()) if c.name == GUARD_CONCURRENCY]
    assert check.needs == ("lambda",)


# --- the CloudTrail trail the guard's event trigger needs (issue 10.5) --------------------------


def drop_trails() -> None:
    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    for trail in cloudtrail.describe_trails()["trailList"]:
        cloudtrail.delete_trail(Name=trail["Name"])


def test_a_logging_trail_is_reported_ok(dev: Deployment) -> None:
    result = run_doctor(SHIPPED_CONFIG, "dev")

    (finding,) = findings(result, "cloudtrail")
    assert finding["severity"] == "ok"
    assert "CreateNetworkInterface" in finding["what"]


@pytest.mark.parametrize(
    "trail",
    [
        pytest.param(None, id="no trail"),
        pytest.param({"logging": False}, id="trail not logging"),
        pytest.param({"region": "eu-west-1", "multi_region": False}, id="trail of another region"),
        pytest.param({"write": False}, id="trail logs read-only management events"),
    ],
)
def test_no_trail_logging_write_events_here_is_a_warning_with_the_fix(
    dev: Deployment, trail: dict[str, Any] | None
) -> None:
    drop_trails()
    if trail is not None:
        write = trail.pop("write", True)
        name = logging_trail(**trail)
        if not write:
            boto3.client("cloudtrail", region_name=trail.get("region", REGION)).put_event_selectors(
                TrailName=name,
                EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}],
            )

    result = run_doctor(SHIPPED_CONFIG, "dev")

    (finding,) = findings(result, "cloudtrail")
    assert finding["severity"] == "warning"
    assert finding["subject"] == REGION
    assert "no CloudTrail trail logs write management events in us-east-1" in finding["what"]
    assert "rate(5 minutes)" in finding["what"]
    assert "aws cloudtrail create-trail" in finding["fix"]
    assert "start-logging" in finding["fix"]
    assert result.exit_code == 1


def test_advanced_selectors_without_read_only_count_as_logging(dev: Deployment) -> None:
    drop_trails()
    name = logging_trail()
    boto3.client("cloudtrail", region_name=REGION).put_event_selectors(
        TrailName=name,
        AdvancedEventSelectors=[
            {
                "Name": "management",
                "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
            }
        ],
    )

    result = run_doctor(SHIPPED_CONFIG, "dev")

    assert [f["severity"] for f in findings(result, "cloudtrail")] == ["ok"]


def test_replaced_eni_without_eip_and_the_eip_left_unassociated(aws: Aws, dev: Deployment) -> None:
    new_eni = recycle_eni(aws.ec2, dev, "us-east-1b")
    # us-east-1b's canary, on the new ENI, then finds no way out.
    canary_results(PROJECT, "dev", {"us-east-1b": (1, 0)})

    result = run_doctor(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    (eni_finding,) = about(result, new_eni)
    assert eni_finding["severity"] == "error"
    assert "no EIP" in eni_finding["what"]
    assert "cdktf deploy dev" in eni_finding["fix"]
    (eip_finding,) = about(result, dev.allocation("us-east-1b"))
    assert eip_finding["severity"] == "error"
    assert dev.ip("us-east-1b") in eip_finding["what"]
    assert "not associated" in eip_finding["what"]
    assert eip_finding["fix"] == "run `cdktf deploy dev` to re-associate"
    # The other AZ is untouched.
    assert [f["severity"] for f in about(result, dev.enis["us-east-1a"])] == ["ok"]
    # Every function on the shared ENIs is named as not behind the IPs, with the ENI: those in
    # both subnets and us-east-1b's canary; us-east-1a's canary still leaves from its EIP.
    in_vpc = {f["subject"]: f for f in findings(result, "functions")}
    canary_a, canary_b = dev.env.canary_function_names(PROJECT)
    cut_off = [*dev.env.egress_function_names, canary_b]
    assert set(in_vpc) == {*cut_off, canary_a}
    assert all(in_vpc[n]["severity"] == "error" and new_eni in in_vpc[n]["fix"] for n in cut_off)
    assert in_vpc[canary_a]["severity"] == "ok"
    # The canary's last results: us-east-1b has no egress, us-east-1a is fine.
    canary = {f["subject"]: f for f in findings(result, "canary")}
    assert canary["us-east-1b"]["severity"] == "error"
    assert "no egress" in canary["us-east-1b"]["what"]
    assert canary["us-east-1a"]["severity"] == "ok"
    errors = 2 + len(cut_off) + 1
    assert f"{errors} error(s)" in result.text.splitlines()[-1]


def test_spill_over_eni_without_eip_points_to_nat_gateway(aws: Aws, dev: Deployment) -> None:
    extra = lambda_eni(
        aws.ec2, dev.public_subnets["us-east-1a"], dev.security_group_id, "another-function"
    )

    result = run_doctor(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    (finding,) = about(result, extra)
    assert finding["severity"] == "error"
    assert "65,000" in finding["what"]
    assert "nat-gateway" in finding["fix"]
    # The ENI that holds the EIP is still fine, and no EIP is reported astray.
    assert [f["severity"] for f in about(result, dev.enis["us-east-1a"])] == ["ok"]
    assert findings(result, "eip") == []


def test_eip_removed_from_a_live_eni(aws: Aws, dev: Deployment) -> None:
    address = aws.ec2.describe_addresses(AllocationIds=[dev.allocation("us-east-1a")])
    aws.ec2.disassociate_address(AssociationId=address["Addresses"][0]["AssociationId"])

    result = run_doctor(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    assert [f["severity"] for f in about(result, dev.enis["us-east-1a"])] == ["error"]
    (eip_finding,) = about(result, dev.allocation("us-east-1a"))
    assert "cdktf deploy dev" in eip_finding["fix"]


def test_inactive_functions_whose_enis_lambda_reclaimed(aws: Aws, dev: Deployment) -> None:
    # Lambda reclaims a shared ENI once no function on it is active: all of them idled.
    for name in dev.env.egress_function_names:
        moto_function(name).state = "Inactive"
    for az in list(dev.enis):
        recycle_eni(aws.ec2, dev, az, replace=False)

    result = run_doctor(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    states = findings(result, "function")
    assert [s["subject"] for s in states] == list(dev.env.egress_function_names)
    for state in states:
        assert state["severity"] == "error"
        assert state["what"].startswith("Inactive")
        assert "staticip verify dev" in state["fix"] and "cdktf deploy dev" in state["fix"]
    # No ENI is expected while Inactive: a warning per subnet, not an error on top.
    missing = findings(result, "eni")
    assert {f["subject"] for f in missing} == set(dev.public_subnets.values())
    assert {f["severity"] for f in missing} == {"warning"}
    unassociated = findings(result, "eip")
    assert {f["subject"] for f in unassociated} == {dev.allocation(az) for az in dev.eips}


def test_pending_function_is_a_warning(dev: Deployment) -> None:
    moto_function(dev.env.function.name).state = "Pending"

    result = run_doctor(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    (state,) = about(result, dev.env.function.name, "function")
    assert state["severity"] == "warning"
    assert "Pending" in state["what"]
    # The worker beside it stays Active, and with it the shared ENIs: no ENI finding.
    assert {f["severity"] for f in findings(result, "eni")} == {"ok"}


def test_function_vpc_config_drifted_from_the_stack(aws: Aws, dev: Deployment) -> None:
    # Someone moved the function by hand into a subnet the stack did not make.
    foreign = aws.ec2.create_subnet(
        VpcId=dev.vpc_id, CidrBlock="10.10.200.0/24", AvailabilityZone="us-east-1a"
    )["Subnet"]["SubnetId"]
    aws.lambda_client.update_function_configuration(
        FunctionName=dev.env.function.name,
        VpcConfig={
            "SubnetIds": [foreign, dev.public_subnets["us-east-1b"]],
            "SecurityGroupIds": [dev.security_group_id],
        },
    )

    result = run_doctor(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    drift = [f for f in findings(result, "vpc-config") if f["severity"] != "ok"]
    assert {f["subject"] for f in drift} == {foreign, dev.public_subnets["us-east-1a"]}
    assert all(f["severity"] == "error" and "drifted" in f["what"] for f in drift)
    assert all("cdktf deploy dev" in f["fix"] for f in drift)


def test_security_group_drift_is_named(aws: Aws, dev: Deployment) -> None:
    other = aws.ec2.create_security_group(GroupName="hand-made", Description="x", VpcId=dev.vpc_id)[
        "GroupId"
    ]
    aws.lambda_client.update_function_configuration(
        FunctionName=dev.env.function.name,
        VpcConfig={"SubnetIds": list(dev.public_subnets.values()), "SecurityGroupIds": [other]},
    )

    result = run_doctor(SHIPPED_CONFIG, "dev")

    (drift,) = [f for f in findings(result, "vpc-config") if f["severity"] != "ok"]
    assert other in drift["what"] and dev.security_group_id in drift["what"]
    # The moved function gets ENIs of its own, without the EIPs: named with the one fix.
    (moved,) = about(result, dev.env.function.name, "functions")
    assert moved["severity"] == "error"
    assert other in moved["fix"] and f"use only {dev.security_group_id}" in moved["fix"]
    # The ENIs of the new SG set do not exist yet: Lambda would be creating them.
    assert {f["subject"] for f in findings(result, "eni")} == set(dev.public_subnets.values())


def test_undeployed_environment_names_the_missing_function_and_eips(aws: Aws) -> None:
    result = run_doctor(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    functions = findings(result, "function")
    assert [f["subject"] for f in functions] == list(
        shipped_config().environment("dev").egress_function_names
    )
    for function in functions:
        assert "not found" in function["what"] and "cdktf deploy dev" in function["fix"]
    assert {f["subject"] for f in findings(result, "eip")} == {"us-east-1a", "us-east-1b"}
    # Without a function there is nothing to look for ENIs of.
    assert findings(result, "eni") == []


def test_one_listing_of_enis_for_all_subnets(aws: Aws, dev: Deployment) -> None:
    clients = DoctorClients(aws.ec2, aws.lambda_client)
    calls = count_calls(clients.all())

    doctor.diagnose(clients, PROJECT, shipped_config().environment("dev"))

    # One listing for the ENI check and one of the VPC's Lambda ENIs for the functions check,
    # whatever the number of subnets and functions.
    assert calls["ec2.DescribeNetworkInterfaces"] == 2
    assert calls["ec2.DescribeAddresses"] == 2


# --- nat-gateway --------------------------------------------------------------------------------


def test_healthy_nat_environment_routes_each_subnet_through_its_azs_nat(prod: Deployment) -> None:
    result = run_doctor(SHIPPED_CONFIG, "prod")

    assert result.exit_code == 0, result.text
    for az, nat in prod.nats.items():
        (finding,) = about(result, nat)
        assert finding["severity"] == "ok"
        assert "available" in finding["what"] and prod.ip(az) in finding["what"]
    for az, subnet in prod.private_subnets.items():
        (route,) = about(result, subnet)
        assert route["check"] == "route" and route["severity"] == "ok"
        assert prod.nats[az] in route["what"] and prod.route_tables[az] in route["what"]


def test_nat_without_route(aws: Aws, prod: Deployment) -> None:
    aws.ec2.delete_route(
        RouteTableId=prod.route_tables["us-east-1a"], DestinationCidrBlock="0.0.0.0/0"
    )

    result = run_doctor(SHIPPED_CONFIG, "prod")

    assert result.exit_code == 1
    (route,) = about(result, prod.private_subnets["us-east-1a"])
    assert route["severity"] == "error"
    assert prod.route_tables["us-east-1a"] in route["what"] and "0.0.0.0/0" in route["what"]
    assert "cdktf deploy prod" in route["fix"]
    assert [f["severity"] for f in about(result, prod.private_subnets["us-east-1b"])] == ["ok"]


def test_subnet_without_its_own_route_table_falls_back_to_the_main_one(
    aws: Aws, prod: Deployment
) -> None:
    subnet = prod.private_subnets["us-east-1b"]
    (table,) = aws.ec2.describe_route_tables(RouteTableIds=[prod.route_tables["us-east-1b"]])[
        "RouteTables"
    ]
    (assoc,) = [a for a in table["Associations"] if a.get("SubnetId") == subnet]
    aws.ec2.disassociate_route_table(AssociationId=assoc["RouteTableAssociationId"])
    (main,) = aws.ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [prod.vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]

    result = run_doctor(SHIPPED_CONFIG, "prod")

    (route,) = about(result, subnet)
    assert route["severity"] == "error"
    assert route["what"].startswith(f"{main['RouteTableId']}: no 0.0.0.0/0 route")


def test_route_through_the_internet_gateway_is_wrong_for_private_subnets(
    aws: Aws, prod: Deployment
) -> None:
    aws.ec2.replace_route(
        RouteTableId=prod.route_tables["us-east-1b"],
        DestinationCidrBlock="0.0.0.0/0",
        GatewayId=prod.igw_id,
    )

    result = run_doctor(SHIPPED_CONFIG, "prod")

    (route,) = about(result, prod.private_subnets["us-east-1b"])
    assert route["severity"] == "error"
    assert prod.igw_id in route["what"] and "internet gateway" in route["what"]


def test_deleted_nat_leaves_its_eip_idle_and_its_route_dangling(aws: Aws, prod: Deployment) -> None:
    aws.ec2.delete_nat_gateway(NatGatewayId=prod.nats["us-east-1a"])

    result = run_doctor(SHIPPED_CONFIG, "prod")

    assert result.exit_code == 1
    (eip,) = about(result, prod.allocation("us-east-1a"))
    assert "not on an available NAT" in eip["what"]
    (route,) = about(result, prod.private_subnets["us-east-1a"])
    assert route["severity"] == "error" and prod.nats["us-east-1a"] in route["what"]
    # The deleted NAT itself is history, not a finding.
    assert about(result, prod.nats["us-east-1a"]) == []


def test_unknown_environment_is_a_usage_error(aws: Aws) -> None:
    result = run_doctor(SHIPPED_CONFIG, "staging")
    assert result.exit_code == 2
    assert "staging" in result.text and "dev, prod, ingress" in result.text


def test_json_is_serialisable_and_matches_the_exit_code(dev: Deployment) -> None:
    result = run_doctor(SHIPPED_CONFIG, "dev")
    assert json.loads(json.dumps(result.data)) == result.data
    assert result.data["healthy"] == (result.exit_code == 0)


# --- global-accelerator (Stubber) ---------------------------------------------------------------

ACCOUNT = "123456789012"
ACCELERATOR_ARN = (
    f"arn:aws:globalaccelerator::{ACCOUNT}:accelerator/1234abcd-abcd-1234-abcd-1234abcdefgh"
)
LISTENER_ARN = f"{ACCELERATOR_ARN}/listener/0123vxyz"
ENDPOINT_GROUP_ARN = f"{LISTENER_ARN}/endpoint-group/098765zyxwvu"
GA_IPS = ["75.2.101.10", "99.83.202.20"]
NOW = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)


@dataclass
class Ingress:
    alb_arn: str
    target_group_arn: str
    function_arn: str
    ga: Any
    stubber: Stubber
    clients: DoctorClients


@pytest.fixture
def ingress(aws: Aws) -> Any:
    """The ingress stack's ALB and Lambda target in moto; its accelerator stubbed."""
    env = shipped_config().environment("ingress")
    vpc = aws.ec2.create_vpc(CidrBlock=env.vpc_cidr)["Vpc"]["VpcId"]
    subnets = [
        aws.ec2.create_subnet(VpcId=vpc, CidrBlock=env.subnet_cidr(az), AvailabilityZone=az)[
            "Subnet"
        ]["SubnetId"]
        for az in env.azs
    ]
    sg = aws.ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    function_arn = create_function(aws.lambda_client, aws.iam, env.function.name, [], [])
    alb = aws.elbv2.create_load_balancer(
        Name="staticip-ingress", Subnets=subnets, SecurityGroups=[sg], Type="application"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = aws.elbv2.create_target_group(Name="staticip-ingress", TargetType="lambda")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    aws.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": function_arn}])
    aws.elbv2.create_listener(
        LoadBalancerArn=alb,
        Port=80,
        Protocol="HTTP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    ga = boto3.client("globalaccelerator", region_name="us-west-2")
    with Stubber(ga) as stubber:
        clients = DoctorClients(aws.ec2, aws.lambda_client, aws.elbv2, ga)
        yield Ingress(alb, tg, function_arn, ga, stubber, clients)


def accelerator(**overrides: Any) -> dict[str, Any]:
    """One ListAccelerators item as the GA API returns it."""
    return {
        "AcceleratorArn": ACCELERATOR_ARN,
        "Name": "staticip-ingress",
        "IpAddressType": "IPV4",
        "Enabled": True,
        "IpSets": [{"IpFamily": "IPv4", "IpAddresses": GA_IPS, "IpAddressFamily": "IPv4"}],
        "DnsName": "a1234567890abcdef.awsglobalaccelerator.com",
        "Status": "DEPLOYED",
        "CreatedTime": NOW,
        "LastModifiedTime": NOW,
    } | overrides


def stub_accelerator(
    ing: Ingress,
    acc: dict[str, Any] | None = None,
    environment: str = "ingress",
    health: str = "HEALTHY",
    health_reason: str | None = None,
) -> None:
    s = ing.stubber
    s.add_response("list_accelerators", {"Accelerators": [acc or accelerator()]}, {})
    s.add_response(
        "list_tags_for_resource",
        {
            "Tags": [
                {"Key": "environment", "Value": environment},
                {"Key": "project", "Value": PROJECT},
                {"Key": "Name", "Value": "staticip-ingress"},
            ]
        },
        {"ResourceArn": ACCELERATOR_ARN},
    )
    if environment != "ingress":
        return
    s.add_response(
        "list_listeners",
        {
            "Listeners": [
                {
                    "ListenerArn": LISTENER_ARN,
                    "PortRanges": [{"FromPort": 80, "ToPort": 80}],
                    "Protocol": "TCP",
                    "ClientAffinity": "NONE",
                }
            ]
        },
        {"AcceleratorArn": ACCELERATOR_ARN},
    )
    endpoint = {
        "EndpointId": ing.alb_arn,
        "Weight": 100,
        "HealthState": health,
        "ClientIPPreservationEnabled": True,
    }
    if health_reason:
        endpoint["HealthReason"] = health_reason
    s.add_response(
        "list_endpoint_groups",
        {
            "EndpointGroups": [
                {
                    "EndpointGroupArn": ENDPOINT_GROUP_ARN,
                    "EndpointGroupRegion": REGION,
                    "EndpointDescriptions": [endpoint],
                    "TrafficDialPercentage": 100.0,
                    "HealthCheckPort": 80,
                    "HealthCheckProtocol": "TCP",
                    "HealthCheckIntervalSeconds": 30,
                    "ThresholdCount": 3,
                }
            ]
        },
        {"ListenerArn": LISTENER_ARN},
    )


def test_healthy_accelerator_alb_and_lambda_target(ingress: Ingress) -> None:
    stub_accelerator(ingress)

    result = run_doctor(SHIPPED_CONFIG, "ingress", clients=ingress.clients)

    assert result.exit_code == 0, result.text
    ingress.stubber.assert_no_pending_responses()
    (acc,) = findings(result, "accelerator")
    assert acc["severity"] == "ok"
    assert all(ip in acc["what"] for ip in GA_IPS) and "DEPLOYED" in acc["what"]
    (listener,) = findings(result, "listener")
    assert listener["what"] == "TCP 80"
    (endpoint,) = findings(result, "endpoint")
    assert "HEALTHY" in endpoint["what"]
    assert [f["what"] for f in findings(result, "alb")] == ["active"]
    (target,) = findings(result, "target")
    assert target["severity"] == "ok" and ingress.function_arn.endswith(target["subject"])
    assert [f["what"] for f in findings(result, "function")] == ["Active"]


def test_unhealthy_endpoint_and_no_registered_target(aws: Aws, ingress: Ingress) -> None:
    aws.elbv2.deregister_targets(
        TargetGroupArn=ingress.target_group_arn, Targets=[{"Id": ingress.function_arn}]
    )
    stub_accelerator(ingress, health="UNHEALTHY", health_reason="Health checks failed")

    result = run_doctor(SHIPPED_CONFIG, "ingress", clients=ingress.clients)

    assert result.exit_code == 1
    (endpoint,) = findings(result, "endpoint")
    assert endpoint["severity"] == "error"
    assert "UNHEALTHY" in endpoint["what"] and "Health checks failed" in endpoint["what"]
    (target,) = findings(result, "target")
    assert target["severity"] == "error"
    assert "cdktf deploy ingress" in target["fix"]


def test_disabled_accelerator_still_rolling_out(ingress: Ingress) -> None:
    stub_accelerator(ingress, accelerator(Enabled=False, Status="IN_PROGRESS"))

    result = run_doctor(SHIPPED_CONFIG, "ingress", clients=ingress.clients)

    assert result.exit_code == 1
    severities = sorted(f["severity"] for f in findings(result, "accelerator"))
    assert severities == ["error", "warning"]
    assert any("disabled" in f["what"] for f in findings(result, "accelerator"))


def test_accelerator_of_another_environment_is_not_ours(ingress: Ingress) -> None:
    stub_accelerator(ingress, environment="staging")

    result = run_doctor(SHIPPED_CONFIG, "ingress", clients=ingress.clients)

    assert result.exit_code == 1
    ingress.stubber.assert_no_pending_responses()
    (acc,) = findings(result, "accelerator")
    assert "no accelerator tagged environment=ingress" in acc["what"]
    assert findings(result, "alb") == []


def test_access_denied_on_global_accelerator_is_a_finding_not_a_crash(ingress: Ingress) -> None:
    ingress.stubber.add_client_error(
        "list_accelerators",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform globalaccelerator:ListAccelerators",
    )

    result = run_doctor(SHIPPED_CONFIG, "ingress", clients=ingress.clients)

    assert result.exit_code == 1
    (acc,) = findings(result, "accelerator")
    assert acc["what"].startswith("could not check: ListAccelerators: access denied")
    # The function check ran all the same.
    assert [f["what"] for f in findings(result, "function")] == ["Active"]
