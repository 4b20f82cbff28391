"""`staticip functions ENV`: every Lambda function in the environment's VPC, declared or not,
and whether its egress leaves from the allow-listed IPs.

Against moto, with the deployed stacks built as fixtures (`aws_fixtures.deploy_eni_eip`,
`deploy_nat`). moto creates no Hyperplane ENIs: real Lambda makes one per subnet +
security-group set when a function is created, shared by every function with that set; the
tests make them with `lambda_eni` where Lambda would.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_fixtures import (
    SHIPPED_CONFIG,
    Deployment,
    count_calls,
    create_function,
    deploy_eni_eip,
    deploy_nat,
    lambda_eni,
    shipped_config,
)
from eni_fixtures import create_lambda_eni

from staticip import cli
from staticip.functions import list_functions, run_functions
from staticip.names import canary_function_name

PROJECT = "staticip"


@pytest.fixture
def dev(aws: Any) -> Deployment:
    return deploy_eni_eip(*aws, PROJECT, "dev")


def by_name(result: Any) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in result.data["functions"]}


def test_every_declared_function_leaves_from_its_azs_eip(dev: Deployment) -> None:
    result = run_functions(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 0, result.text
    rows = by_name(result)
    canaries = dict(zip(sorted(dev.env.azs), dev.env.canary_function_names(PROJECT), strict=True))
    assert set(rows) == set(dev.env.egress_function_names) | set(canaries.values())
    for name in dev.env.egress_function_names:
        row = rows[name]
        assert row["declared"] and row["allow_listed"] and row["why"] == ""
        assert row["egress_ips"] == sorted(dev.ip(az) for az in dev.env.azs)
        assert row["azs"] == sorted(dev.env.azs)
    # Each AZ's canary sits in that AZ's subnet alone, so it leaves from that AZ's EIP only.
    for az, name in canaries.items():
        row = rows[name]
        assert row["declared"] and row["allow_listed"]
        assert (row["azs"], row["egress_ips"]) == ([az], [dev.ip(az)])
    assert "OK: every function leaves from an allow-listed IP" in result.text


def test_a_function_attached_with_only_the_group_shares_the_ips(aws: Any, dev: Deployment) -> None:
    _, lambda_client, iam = aws
    create_function(
        lambda_client,
        iam,
        "sam-deployed",
        list(dev.public_subnets.values()),
        [dev.security_group_id],
    )

    result = run_functions(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 0, result.text
    row = by_name(result)["sam-deployed"]
    assert not row["declared"] and row["allow_listed"]


def test_another_security_group_set_gets_its_own_eni_without_an_eip(
    aws: Any, dev: Deployment
) -> None:
    ec2, lambda_client, iam = aws
    other = ec2.create_security_group(GroupName="extra", Description="x", VpcId=dev.vpc_id)[
        "GroupId"
    ]
    groups = [dev.security_group_id, other]
    create_function(lambda_client, iam, "two-groups", list(dev.public_subnets.values()), groups)
    for subnet in dev.public_subnets.values():
        create_lambda_eni(ec2, subnet, groups, "two-groups")  # as Lambda would: its own set

    result = run_functions(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    row = by_name(result)["two-groups"]
    assert not row["allow_listed"]
    assert row["why"] == (
        f"uses {','.join(sorted(groups))}: Lambda gives it its own ENI, which has no EIP: use "
        f"only {dev.security_group_id}"
    )
    (problem,) = result.data["problems"]
    assert problem.startswith("two-groups: uses")


def test_an_eni_lambda_replaced_without_its_eip_is_named(aws: Any, dev: Deployment) -> None:
    ec2 = aws[0]
    az = dev.env.azs[1]
    eni = dev.enis[az]
    (address,) = ec2.describe_addresses(AllocationIds=[dev.allocation(az)])["Addresses"]
    ec2.disassociate_address(AssociationId=address["AssociationId"])

    result = run_functions(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    rows = by_name(result)
    cut_off = [name for name, row in rows.items() if az in row["azs"]]
    assert sorted(cut_off) == sorted(
        [*dev.env.egress_function_names, canary_function_name(PROJECT, "dev", az)]
    )
    for name in cut_off:
        assert not rows[name]["allow_listed"]
        assert f"its ENI {eni} in {az} has no allow-listed EIP" in rows[name]["why"]
    # The other AZ's canary, alone in its subnet, still leaves from its EIP.
    (other,) = [row for name, row in rows.items() if name not in cut_off]
    assert other["allow_listed"] and other["azs"] == [dev.env.azs[0]]


def test_nat_gateway_functions_are_judged_by_their_route(aws: Any) -> None:
    ec2, lambda_client, iam = aws
    prod = deploy_nat(ec2, lambda_client, iam, PROJECT, "prod")
    # A function someone put in the public subnets: no NAT, and its ENI has no public IP.
    public = list(prod.public_subnets.values())
    create_function(lambda_client, iam, "misplaced", public, [prod.security_group_id])
    for subnet in public:
        lambda_eni(ec2, subnet, prod.security_group_id, "misplaced")

    result = run_functions(SHIPPED_CONFIG, "prod")

    rows = by_name(result)
    for name in prod.env.egress_function_names:
        assert rows[name]["allow_listed"], rows[name]
        assert rows[name]["egress_ips"] == sorted(prod.ip(az) for az in prod.env.azs)
    assert not rows["misplaced"]["allow_listed"]
    assert "has no allow-listed EIP" in rows["misplaced"]["why"]
    assert result.exit_code == 1


def test_a_route_to_a_nat_that_is_not_ours_is_named(aws: Any) -> None:
    ec2, lambda_client, iam = aws
    prod = deploy_nat(ec2, lambda_client, iam, PROJECT, "prod")
    foreign = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=prod.public_subnets["us-east-1a"], AllocationId=foreign)[
        "NatGateway"
    ]["NatGatewayId"]
    ec2.replace_route(
        RouteTableId=prod.route_tables["us-east-1a"],
        DestinationCidrBlock="0.0.0.0/0",
        NatGatewayId=nat,
    )

    result = run_functions(SHIPPED_CONFIG, "prod")

    assert result.exit_code == 1
    row = by_name(result)[prod.env.function.name]
    assert f"routes via {nat}, which holds no allow-listed EIP" in row["why"]


def test_aws_calls_stay_flat_in_the_number_of_functions(aws: Any, dev: Deployment) -> None:
    ec2, lambda_client, iam = aws
    env = shipped_config().environment("dev")

    def calls() -> dict[str, int]:
        counted = count_calls([ec2, lambda_client])
        list_functions(ec2, lambda_client, PROJECT, env)
        return dict(counted)

    few = calls()
    for i in range(5):
        create_function(
            lambda_client,
            iam,
            f"more-{i}",
            list(dev.public_subnets.values()),
            [dev.security_group_id],
        )
    assert calls() == few
    assert "lambda.GetFunctionConfiguration" not in few

    counted = count_calls([lambda_client])
    report = list_functions(ec2, lambda_client, PROJECT, env, with_state=True)
    assert counted["lambda.GetFunctionConfiguration"] == len(report.functions)
    assert {f.state for f in report.functions} == {"Active"}


def test_the_cli_prints_a_table_json_and_refuses_an_environment_without_egress(
    dev: Deployment, capsys
) -> None:
    assert cli.main(["functions", "dev", "--config", str(SHIPPED_CONFIG)]) == 0
    out = capsys.readouterr().out
    assert "ALLOW-LISTED" in out and dev.env.function.name in out
    assert dev.security_group_id in out.splitlines()[0]
    assert cli.main(["functions", "dev", "--config", str(SHIPPED_CONFIG), "--json"]) == 0
    assert '"allow_listed": true' in capsys.readouterr().out
    assert cli.main(["functions", "ingress", "--config", str(SHIPPED_CONFIG)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "ingress" in line and "no egress" in line


def test_an_undeployed_environment_is_one_problem(aws: Any) -> None:
    result = run_functions(SHIPPED_CONFIG, "dev")
    assert result.exit_code == 1
    (problem,) = result.data["problems"]
    assert "no VPC tagged environment=dev" in problem and "cdktf deploy dev" in problem
