"""The resolver reads the function's state before it waits for ENIs (issue: an idle dev
environment could not be planned, deployed or destroyed: the lookup waited out 300 s).

moto reports every function `Active`; the tests set the `state` of moto's in-memory function
model, as Lambda does after 14 idle days (`Inactive`, ENIs reclaimed), while it creates ENIs
(`Pending`) or when it could not (`Failed`). The resolver still reads it through the Lambda API.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_fixtures import moto_function
from eni_fixtures import (
    REGION,
    FakeClock,
    Network,
    create_function,
    create_lambda_eni,
    create_role,
    make_network,
    use_fake_aws,
)
from moto import mock_aws

from staticip import enis

FUNCTION = "staticip-dev-egress-probe"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    use_fake_aws(monkeypatch)
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        lambda_client = boto3.client("lambda", region_name=REGION)
        net = make_network(ec2, subnets=2, security_groups=1)
        role = create_role(boto3.client("iam", region_name=REGION))
        create_function(lambda_client, role, FUNCTION, net.subnet_ids, net.security_group_ids)
        yield {"ec2": ec2, "lambda": lambda_client, "net": net}


def set_state(state: str, reason_code: str | None = None, reason: str | None = None) -> None:
    model = moto_function(FUNCTION)
    model.state = state
    # moto's configuration has no StateReason: add it the way Lambda reports one.
    original = model.get_configuration

    def configuration(on_create: bool = False) -> dict[str, Any]:
        config = original(on_create)
        if reason_code:
            config.update(StateReasonCode=reason_code, StateReason=reason)
        return config

    model.get_configuration = configuration


def run_external(aws: dict[str, Any], clock: FakeClock) -> tuple[int, str, str]:
    net: Network = aws["net"]
    stdin = json.dumps(
        {
            "region": REGION,
            "function_names": FUNCTION,
            "environment": "dev",
            "subnet_ids": ",".join(net.subnet_ids),
            "security_group_ids": ",".join(net.security_group_ids),
        }
    )
    out, err = io.StringIO(), io.StringIO()
    code = enis.external_main(
        io.StringIO(stdin),
        out,
        err,
        make_client=lambda service, region, profile: aws[service],
        sleep=clock.sleep,
    )
    return code, out.getvalue(), err.getvalue()


def test_an_inactive_function_fails_at_once_naming_the_state_and_the_fix(aws) -> None:
    set_state("Inactive", "Idle", "The function is inactive.")
    clock = FakeClock()

    code, out, err = run_external(aws, clock)

    assert code == 1 and out == ""
    assert clock.sleeps == [], "must not wait for ENIs that only an invocation brings back"
    (line,) = err.splitlines()
    assert "Inactive" in line and "Idle" in line
    assert "`staticip wake dev`" in line and "plan again" in line


def test_a_failed_function_fails_at_once_with_lambdas_reason(aws) -> None:
    set_state("Failed", "SubnetOutOfIPAddresses", "No free IP addresses in subnet.")
    clock = FakeClock()

    code, _, err = run_external(aws, clock)

    assert code == 1 and clock.sleeps == []
    (line,) = err.splitlines()
    assert "Failed" in line and "SubnetOutOfIPAddresses" in line


def test_a_pending_function_is_waited_for_until_its_enis_exist(aws) -> None:
    net: Network = aws["net"]
    set_state("Pending")
    expected: dict[str, str] = {}

    def lambda_finishes(sleeps: int) -> None:
        if sleeps == 2:
            set_state("Active")
            for subnet in net.subnet_ids:
                expected[subnet] = create_lambda_eni(
                    aws["ec2"], subnet, net.security_group_ids, FUNCTION
                )

    clock = FakeClock(on_sleep=lambda_finishes)
    code, out, err = run_external(aws, clock)

    assert code == 0, err
    assert len(clock.sleeps) == 2
    assert json.loads(out) == expected


def test_a_function_that_fails_while_pending_stops_the_wait(aws) -> None:
    set_state("Pending")

    def lambda_gives_up(sleeps: int) -> None:
        if sleeps == 1:
            set_state("Failed", "EniLimitExceeded", "ENI limit reached.")

    clock = FakeClock(on_sleep=lambda_gives_up)
    code, _, err = run_external(aws, clock)

    assert code == 1
    assert len(clock.sleeps) == 1
    assert "EniLimitExceeded" in err


def test_a_deleted_function_is_named_in_one_line(aws) -> None:
    aws["lambda"].delete_function(FunctionName=FUNCTION)

    code, _, err = run_external(aws, FakeClock())

    assert code == 1
    (line,) = err.splitlines()
    assert FUNCTION in line and "not found" in line


# --- several functions on the same ENIs ---------------------------------------------------------

WORKER = "staticip-dev-worker"


@pytest.fixture
def two(aws: dict[str, Any]) -> dict[str, Any]:
    """The probe and a declared worker with the same subnets and security group."""
    net: Network = aws["net"]
    role = boto3.client("iam", region_name=REGION).get_role(RoleName="staticip-test")["Role"]
    create_function(aws["lambda"], role["Arn"], WORKER, net.subnet_ids, net.security_group_ids)
    return aws


def run_names(aws: dict[str, Any], clock: FakeClock, names: str) -> tuple[int, str, str]:
    net: Network = aws["net"]
    stdin = json.dumps(
        {
            "region": REGION,
            "function_names": names,
            "environment": "dev",
            "subnet_ids": ",".join(net.subnet_ids),
            "security_group_ids": ",".join(net.security_group_ids),
        }
    )
    out, err = io.StringIO(), io.StringIO()
    code = enis.external_main(
        io.StringIO(stdin),
        out,
        err,
        make_client=lambda service, region, profile: aws[service],
        sleep=clock.sleep,
    )
    return code, out.getvalue(), err.getvalue()


def test_an_idle_probe_beside_an_active_function_is_no_reason_to_fail(two) -> None:
    # Lambda keeps the shared ENIs while the worker is active, even with the probe Inactive.
    net: Network = two["net"]
    set_state("Inactive", "Idle", "The function is inactive.")
    expected = {
        s: create_lambda_eni(two["ec2"], s, net.security_group_ids, WORKER) for s in net.subnet_ids
    }

    code, out, err = run_names(two, FakeClock(), f"{FUNCTION},{WORKER}")

    assert code == 0, err
    assert json.loads(out) == expected


def test_all_functions_idle_fails_at_once_naming_each(two) -> None:
    set_state("Inactive", "Idle", "The function is inactive.")
    moto_function(WORKER).state = "Inactive"
    clock = FakeClock()

    code, out, err = run_names(two, clock, f"{FUNCTION},{WORKER}")

    assert code == 1 and out == "" and clock.sleeps == []
    (line,) = err.splitlines()
    assert f"{FUNCTION} Inactive (Idle" in line and f"{WORKER} Inactive" in line
    assert "`staticip wake dev`" in line


def test_one_pending_function_is_waited_for_while_the_others_idle(two) -> None:
    net: Network = two["net"]
    set_state("Inactive")
    moto_function(WORKER).state = "Pending"
    expected: dict[str, str] = {}

    def worker_comes_up(sleeps: int) -> None:
        if sleeps == 1:
            moto_function(WORKER).state = "Active"
            for subnet in net.subnet_ids:
                expected[subnet] = create_lambda_eni(
                    two["ec2"], subnet, net.security_group_ids, WORKER
                )

    clock = FakeClock(on_sleep=worker_comes_up)
    code, out, err = run_names(two, clock, f"{FUNCTION},{WORKER}")

    assert code == 0, err
    assert len(clock.sleeps) == 1
    assert json.loads(out) == expected


def test_a_function_not_created_yet_is_passed_over(two) -> None:
    net: Network = two["net"]
    expected = {
        s: create_lambda_eni(two["ec2"], s, net.security_group_ids, FUNCTION)
        for s in net.subnet_ids
    }
    code, out, err = run_names(two, FakeClock(), f"{FUNCTION},staticip-dev-new")
    assert code == 0, err
    assert json.loads(out) == expected


def test_none_of_the_functions_existing_is_one_line(two) -> None:
    code, _, err = run_names(two, FakeClock(), "staticip-dev-a,staticip-dev-b")
    assert code == 1
    (line,) = err.splitlines()
    assert "none of the Lambda functions staticip-dev-a, staticip-dev-b exists" in line
