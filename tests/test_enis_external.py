"""`python -m staticip.enis`: Terraform's external data source protocol, and AWS error lines.

The end-to-end tests run the module as a subprocess against moto's ThreadedMotoServer on
127.0.0.1, the way Terraform runs it: JSON on stdin, JSON or one error line out.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)
from botocore.stub import Stubber
from eni_fixtures import (
    AWS_SETUP_VARIABLES,
    REGION,
    Network,
    attach_eip,
    create_function,
    create_lambda_eni,
    create_role,
    endpoint_client,
    isolated_aws_env,
    make_network,
)

from staticip import aws, enis

REPO_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "staticip.enis: "


@pytest.fixture
def ec2(moto_endpoint: str) -> Any:
    return endpoint_client("ec2", moto_endpoint)


@pytest.fixture
def net(ec2: Any) -> Network:
    return make_network(ec2)


def child_env(endpoint: str | None, *, credentials: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AWS_SETUP_VARIABLES}
    env.update(isolated_aws_env(credentials=credentials))
    # The protocol's region key must be what counts, not the environment's.
    env.pop("AWS_DEFAULT_REGION")
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    # Works from any directory whether or not the package is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def run_external(stdin: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "staticip.enis"],
        input=stdin,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def query(net: Network, groups: tuple[str, ...], **extra: str) -> str:
    return json.dumps(
        {
            "region": REGION,
            "subnet_ids": ",".join(net.subnet_ids),
            "security_group_ids": ",".join(groups),
            **extra,
        }
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(PREFIX)
    return lines[0]


# --- end to end through a subprocess -------------------------------------------------------------


def test_a_good_query_prints_the_subnet_to_eni_map(
    ec2: Any, net: Network, moto_endpoint: str, tmp_path: Path
) -> None:
    groups = net.security_group_ids[:2]
    # With a function name the resolver reads the function's state first: it must exist.
    role = create_role(endpoint_client("iam", moto_endpoint))
    lambda_client = endpoint_client("lambda", moto_endpoint)
    create_function(lambda_client, role, "billing", net.subnet_ids, groups)
    expected = {subnet: create_lambda_eni(ec2, subnet, groups) for subnet in net.subnet_ids}

    result = run_external(
        query(net, groups, function_names="billing", timeout_seconds="30"),
        child_env(moto_endpoint),
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout) == expected


def test_spill_over_picks_our_eip_and_warns_about_the_other(
    ec2: Any, net: Network, moto_endpoint: str, tmp_path: Path
) -> None:
    groups = net.security_group_ids[:1]
    expected = {subnet: create_lambda_eni(ec2, subnet, groups) for subnet in net.subnet_ids}
    spill = create_lambda_eni(ec2, net.subnet_ids[0], groups)
    # Make the spill-over ENI the one that would win on id alone.
    allocation, _ = attach_eip(ec2, expected[net.subnet_ids[0]])
    attach_eip(ec2, spill)

    result = run_external(
        query(net, groups, allocation_ids=allocation), child_env(moto_endpoint), tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
    [warning] = result.stderr.splitlines()
    assert warning.startswith(PREFIX) and spill in warning and net.subnet_ids[0] in warning


def test_malformed_stdin_is_one_error_line(moto_endpoint: str, tmp_path: Path) -> None:
    line = assert_one_error_line(run_external('{"region": ', child_env(moto_endpoint), tmp_path))
    assert "JSON" in line


def test_a_missing_key_is_named(net: Network, moto_endpoint: str, tmp_path: Path) -> None:
    incomplete = json.loads(query(net, net.security_group_ids[:1]))
    del incomplete["security_group_ids"]

    line = assert_one_error_line(
        run_external(json.dumps(incomplete), child_env(moto_endpoint), tmp_path)
    )

    assert "'security_group_ids'" in line


def test_no_credentials_is_a_clear_error(net: Network, moto_endpoint: str, tmp_path: Path) -> None:
    result = run_external(
        query(net, net.security_group_ids[:1]),
        child_env(moto_endpoint, credentials=False),
        tmp_path,
    )

    line = assert_one_error_line(result)
    assert line == PREFIX + aws.explain(NoCredentialsError())


def test_waiting_in_vain_names_the_subnet(
    ec2: Any, net: Network, moto_endpoint: str, tmp_path: Path
) -> None:
    groups = net.security_group_ids[:1]
    ready, pending = net.subnet_ids
    create_lambda_eni(ec2, ready, groups)

    result = run_external(
        query(net, groups, timeout_seconds="0.2"), child_env(moto_endpoint), tmp_path
    )

    line = assert_one_error_line(result)
    assert pending in line and ready not in line


# --- the query, in process -----------------------------------------------------------------------

GOOD = {"region": REGION, "subnet_ids": "subnet-1,subnet-2", "security_group_ids": "sg-1"}


def run_in_process(stdin: str, client: Any = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def make_client(service: str, region: str | None, profile: str | None) -> Any:
        if client is None:
            raise AssertionError("the query should have been rejected before any AWS call")
        return client

    code = enis.external_main(io.StringIO(stdin), out, err, make_client=make_client)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("stdin", "named"),
    [
        ("", "JSON"),
        ("[1, 2]", "object"),
        ('"subnet-1"', "object"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "region"}), "'region'"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "subnet_ids"}), "'subnet_ids'"),
        (json.dumps(GOOD | {"subnet_ids": " "}), "'subnet_ids'"),
        (json.dumps(GOOD | {"subnet_ids": " , "}), "'subnet_ids'"),
        (json.dumps(GOOD | {"subnet_ids": ["subnet-1"]}), "'subnet_ids'"),
        (json.dumps(GOOD | {"timeout_seconds": 30}), "'timeout_seconds'"),
        (json.dumps(GOOD | {"timeout_seconds": "soon"}), "'timeout_seconds'"),
        (json.dumps(GOOD | {"timeout_seconds": "0"}), "'timeout_seconds'"),
        (json.dumps(GOOD | {"timeout_seconds": "-5"}), "'timeout_seconds'"),
        (json.dumps(GOOD | {"timeout_seconds": "nan"}), "'timeout_seconds'"),
        (json.dumps(GOOD | {"subnet_id": "subnet-1"}), "subnet_id"),
        (json.dumps(GOOD | {"security_group_ids": "default"}), "default"),
        (json.dumps(GOOD | {"allocation_ids": "203.0.113.7"}), "203.0.113.7"),
    ],
)
def test_bad_queries_are_rejected_before_calling_aws(stdin: str, named: str) -> None:
    code, out, err = run_in_process(stdin)

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith(PREFIX) and named in line


def test_the_query_is_parsed_with_defaults_and_lists() -> None:
    parsed = enis.parse_query(
        json.dumps(
            GOOD
            | {
                "security_group_ids": " sg-1 , sg-2,",
                "allocation_ids": "",
                "function_names": " a, ,b",
            }
        )
    )

    assert parsed.subnet_ids == ("subnet-1", "subnet-2")
    assert parsed.security_group_ids == ("sg-1", "sg-2")
    assert parsed.allocation_ids == ()
    assert parsed.function_names == ("a", "b")
    assert parsed.timeout_seconds == enis.DEFAULT_TIMEOUT_SECONDS
    assert enis.parse_query(json.dumps(GOOD | {"timeout_seconds": "2.5"})).timeout_seconds == 2.5


def stubbed_ec2_error(code: str, message: str = "denied") -> Any:
    client = boto3.client(
        "ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.add_client_error("describe_network_interfaces", code, message)
    stubber.activate()
    return client


def test_access_denied_is_one_line_naming_the_call() -> None:
    client = stubbed_ec2_error("UnauthorizedOperation", "You are not authorized\nto do this.")

    code, out, err = run_in_process(json.dumps(GOOD), client)

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith(PREFIX)
    assert "DescribeNetworkInterfaces" in line and "access denied" in line


# --- aws.explain and aws.client ------------------------------------------------------------------


def client_error(code: str, operation: str = "DescribeNetworkInterfaces") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, operation)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (NoCredentialsError(), ["no AWS credentials", "AWS_PROFILE", "aws sso login"]),
        (NoRegionError(), ["region", "--region"]),
        (client_error("ExpiredToken"), ["expired", "aws sso login"]),
        (client_error("ExpiredTokenException"), ["expired", "aws sso login"]),
        (client_error("AccessDenied"), ["access denied", "permission"]),
        (client_error("AccessDeniedException"), ["access denied", "permission"]),
        (client_error("UnauthorizedOperation"), ["access denied", "permission"]),
        (client_error("Throttling"), ["throttl", "after retries"]),
        (client_error("ThrottlingException"), ["throttl", "after retries"]),
        (client_error("RequestLimitExceeded"), ["throttl", "after retries"]),
        (client_error("ResourceNotFoundException", "GetFunctionConfiguration"), ["not found"]),
        (EndpointConnectionError(endpoint_url="https://ec2.xx.amazonaws.com"), ["cannot reach"]),
    ],
)
def test_explain_gives_one_line_with_the_cause_and_fix(exc: Exception, expected: list[str]) -> None:
    line = aws.explain(exc)

    assert "\n" not in line
    for fragment in expected:
        assert fragment in line
    if isinstance(exc, ClientError):
        assert exc.operation_name in line


def test_explain_keeps_unknown_aws_errors_recognisable() -> None:
    line = aws.explain(client_error("InvalidSubnetID.NotFound"))
    assert "InvalidSubnetID.NotFound" in line and "DescribeNetworkInterfaces" in line


def test_client_retries_in_standard_mode_and_uses_the_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in isolated_aws_env().items():
        monkeypatch.setenv(name, value)

    client = aws.client("ec2", "eu-west-3")

    assert client.meta.region_name == "eu-west-3"
    # botocore counts max_attempts as retries: 10 retries after the first attempt.
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 11}
