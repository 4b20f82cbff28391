"""`staticip verify`: the egress probe answered through moto's Docker-free Lambda, whose
invocations return the results queued through moto's API, in order (one per invocation)."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from aws_fixtures import SHIPPED_CONFIG, Deployment, create_function, deploy_eni_eip, tag_spec
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber
from eni_fixtures import REGION, use_fake_aws
from moto import mock_aws

from staticip import verify
from staticip.eips import AllowListedEip
from staticip.verify import ProbeAnswer, run_verify

PROJECT = "staticip"
# moto's documented endpoint for the Docker-free Lambda's result queue.
LAMBDA_SIMPLE_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/lambda-simple/response"
FOREIGN_IP = "198.51.100.7"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    use_fake_aws(monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield (
            boto3.client("ec2", region_name=REGION),
            boto3.client("lambda", region_name=REGION),
            boto3.client("iam", region_name=REGION),
        )


@pytest.fixture
def dev(aws: Any) -> Deployment:
    return deploy_eni_eip(*aws, PROJECT, "dev")


def queue(*results: dict[str, Any] | str) -> None:
    """Queue what the next invocations return (dicts as the probe's JSON)."""
    payloads = [r if isinstance(r, str) else json.dumps(r) for r in results]
    response = requests.post(
        LAMBDA_SIMPLE_RESULTS, json={"results": payloads, "region": REGION}, timeout=5
    )
    assert response.status_code == 201


def queued() -> int:
    """Results still waiting in moto's queue."""
    from moto.awslambda_simple.models import lambda_simple_backends

    return sum(
        len(lambda_simple_backends[account][REGION].lambda_simple_results_queue)
        for account in list(lambda_simple_backends.keys())
    )


def seen(result: Any) -> dict[str, int]:
    return {row["ip"]: row["seen"] for row in result.data["ips"]}


def ok(ip: str) -> dict[str, Any]:
    return {"ok": True, "ip": ip, "region": REGION}


# --- the command against moto -------------------------------------------------------------------


def test_every_answer_from_an_allow_listed_ip_exits_0(dev: Deployment) -> None:
    a, b = dev.ip("us-east-1a"), dev.ip("us-east-1b")
    queue(*[ok(a)] * 6, *[ok(b)] * 4)

    result = run_verify(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 0, result.text
    assert queued() == 0
    assert result.data["invocations"] == verify.DEFAULT_INVOCATIONS == 10
    assert seen(result) == {a: 6, b: 4}
    by_ip = {row["ip"]: row for row in result.data["ips"]}
    assert by_ip[a]["az"] == "us-east-1a" and by_ip[b]["az"] == "us-east-1b"
    assert all(row["allow_listed"] for row in result.data["ips"])
    assert result.data["ok"] is True and result.data["problems"] == []
    for ip in (a, b):
        assert ip in result.text


def test_count_sets_how_many_invocations_run(dev: Deployment) -> None:
    a = dev.ip("us-east-1a")
    queue(*[ok(a)] * 5)

    result = run_verify(SHIPPED_CONFIG, "dev", count=3, concurrency=2)

    assert result.data["invocations"] == 3
    assert queued() == 2
    assert seen(result)[a] == 3


def test_an_ip_that_is_not_allow_listed_fails(dev: Deployment) -> None:
    a, b = dev.ip("us-east-1a"), dev.ip("us-east-1b")
    queue(*[ok(a)] * 4, *[ok(b)] * 4, *[ok(FOREIGN_IP)] * 2)

    result = run_verify(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    (foreign,) = [row for row in result.data["ips"] if not row["allow_listed"]]
    assert (foreign["ip"], foreign["seen"]) == (FOREIGN_IP, 2)
    (problem,) = result.data["problems"]
    assert FOREIGN_IP in problem and "2 of 10" in problem
    assert "NO" in next(line for line in result.text.splitlines() if FOREIGN_IP in line)


def test_probe_errors_fail_and_are_counted(dev: Deployment) -> None:
    a = dev.ip("us-east-1a")
    error = {"ok": False, "error": "TimeoutError: timed out", "region": REGION}
    queue(*[ok(a)] * 7, *[error] * 3)

    result = run_verify(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    assert result.data["errors"] == {"probe failed: TimeoutError: timed out": 3}
    (problem,) = result.data["problems"]
    assert "3 of 10" in problem and "ENI without an EIP" in problem
    assert "staticip doctor dev" in problem


def test_answers_that_are_not_the_probes_fail(dev: Deployment) -> None:
    # moto's default answer, then a probe reporting garbage as its IP.
    queue("Simple Lambda happy path OK", {"ok": True, "ip": "not-an-ip"})

    result = run_verify(SHIPPED_CONFIG, "dev", count=2)

    assert result.exit_code == 1
    errors = result.data["errors"]
    assert any(e.startswith("unexpected probe answer") for e in errors)
    assert any("not an IP" in e for e in errors)
    assert sum(errors.values()) == 2


def test_an_allow_listed_ip_not_seen_is_a_warning_not_a_failure(dev: Deployment) -> None:
    queue(*[ok(dev.ip("us-east-1a"))] * 10)

    result = run_verify(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 0
    assert seen(result)[dev.ip("us-east-1b")] == 0
    (warning,) = result.data["warnings"]
    assert dev.ip("us-east-1b") in warning and "--count" in warning


def test_no_allow_listed_eips_fails(aws: Any) -> None:
    ec2, lambda_client, iam = aws
    create_function(lambda_client, iam, "staticip-dev-egress-probe", [], [])
    # An EIP of the environment that is not allow-listed does not count.
    ec2.allocate_address(Domain="vpc", TagSpecifications=tag_spec("elastic-ip", PROJECT, "dev"))
    queue(*[ok(FOREIGN_IP)] * 10)

    result = run_verify(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 1
    assert any("no allow-listed EIPs" in p for p in result.data["problems"])


def test_reused_eips_are_allow_listed_by_allocation_id(aws: Any, tmp_path: Path) -> None:
    ec2, lambda_client, iam = aws
    # Someone else's EIP, untagged, reused for us-east-1a; us-east-1b's is the stack's own.
    reused = ec2.allocate_address(Domain="vpc")
    own = ec2.allocate_address(
        Domain="vpc",
        TagSpecifications=tag_spec(
            "elastic-ip",
            PROJECT,
            "dev",
            **{"staticip:allow-listed": "true", "staticip:az": "us-east-1b"},
        ),
    )
    create_function(lambda_client, iam, "staticip-dev-egress-probe", [], [])
    config = tmp_path / "staticip.toml"
    config.write_text(
        'project = "staticip"\n[environments.dev]\negress = "eni-eip"\n'
        'vpc_cidr = "10.10.0.0/16"\n'
        f'reuse_eip_allocation_ids = {{ "us-east-1a" = "{reused["AllocationId"]}" }}\n'
    )
    queue(*[ok(reused["PublicIp"])] * 3, *[ok(own["PublicIp"])] * 3)

    result = run_verify(config, "dev", count=6)

    assert result.exit_code == 0, result.text
    by_ip = {row["ip"]: row for row in result.data["ips"]}
    assert by_ip[reused["PublicIp"]]["az"] == "us-east-1a"
    assert by_ip[own["PublicIp"]]["az"] == "us-east-1b"


@pytest.mark.parametrize(
    ("environment", "kwargs", "named"),
    [
        ("ingress", {}, "no egress"),
        ("staging", {}, "no environment named 'staging'"),
        ("dev", {"count": 0}, "--count"),
        ("dev", {"concurrency": 0}, "--concurrency"),
    ],
)
def test_usage_errors_exit_2(
    aws: Any, environment: str, kwargs: dict[str, Any], named: str
) -> None:
    result = run_verify(SHIPPED_CONFIG, environment, **kwargs)
    assert result.exit_code == 2
    assert named in result.text and "\n" not in result.text


# --- invoking -----------------------------------------------------------------------------------


def invoke_response(payload: dict[str, Any], function_error: str | None = None) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    response: dict[str, Any] = {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "Payload": StreamingBody(io.BytesIO(body), len(body)),
    }
    if function_error:
        response["FunctionError"] = function_error
    return response


def test_lambda_timeout_is_an_error_with_the_eni_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_aws(monkeypatch)
    client = boto3.client("lambda", region_name=REGION)
    timed_out = {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: 0c1d Error: Task timed out after 30.00 seconds",
    }
    with Stubber(client) as stubber:
        stubber.add_response(
            "invoke",
            invoke_response(timed_out, "Unhandled"),
            {"FunctionName": "probe", "InvocationType": "RequestResponse", "Payload": b"{}"},
        )
        answer = verify.invoke_probe(client, "probe")

    assert answer.ip is None
    assert "Sandbox.Timedout" in answer.error and "timed out after 30.00" in answer.error
    eip = AllowListedEip("eipalloc-1", "192.0.2.1", "us-east-1a", "eipassoc-1", "eni-1")
    report = verify.compare("dev", "probe", REGION, [eip], [answer])
    assert not report.ok
    assert "ENI without an EIP" in report.problems[0]


def test_a_read_timeout_of_the_call_is_an_error_not_a_crash(aws: Any) -> None:
    _, lambda_client, _ = aws

    def hang_up(request: Any, **_: Any) -> None:
        raise ReadTimeoutError(endpoint_url=request.url)

    lambda_client.meta.events.register_first("before-send.lambda.Invoke", hang_up)

    answer = verify.invoke_probe(lambda_client, "probe")

    assert answer.ip is None and "cannot reach AWS" in answer.error


def test_invocations_run_concurrently() -> None:
    # Every call waits until all of them have started: calls made one after another would
    # break the barrier (Lambda would also keep them in one warm environment, one AZ).
    barrier = threading.Barrier(5, timeout=5)

    def invoke(client: Any, name: str) -> ProbeAnswer:
        barrier.wait()
        return ProbeAnswer(ip="192.0.2.1")

    answers = verify.invoke_many(None, "probe", 5, invoke=invoke)  # type: ignore[arg-type]

    assert answers == [ProbeAnswer(ip="192.0.2.1")] * 5


def test_concurrency_caps_the_calls_in_flight() -> None:
    lock, in_flight, peak = threading.Lock(), [0], [0]

    def invoke(client: Any, name: str) -> ProbeAnswer:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        threading.Event().wait(0.05)
        with lock:
            in_flight[0] -= 1
        return ProbeAnswer(error="x")

    answers = verify.invoke_many(None, "probe", 8, concurrency=2, invoke=invoke)  # type: ignore[arg-type]

    assert len(answers) == 8 and peak[0] == 2


def test_the_answer_covers_declared_functions_on_the_same_enis(aws: Any, dev: Deployment) -> None:
    a, b = dev.ip("us-east-1a"), dev.ip("us-east-1b")
    queue(*[ok(a)] * 5, *[ok(b)] * 5)
    (worker,) = dev.env.functions

    result = run_verify(SHIPPED_CONFIG, "dev")

    assert result.exit_code == 0, result.text
    assert result.data["covers"] == [worker.name]
    assert f"the same holds for {worker.name}" in result.text


def test_a_declared_function_elsewhere_is_not_covered(aws: Any, dev: Deployment) -> None:
    ec2, lambda_client, _ = aws
    other = ec2.create_security_group(GroupName="x", Description="x", VpcId=dev.vpc_id)["GroupId"]
    (worker,) = dev.env.functions
    lambda_client.update_function_configuration(
        FunctionName=worker.name,
        VpcConfig={"SubnetIds": list(dev.public_subnets.values()), "SecurityGroupIds": [other]},
    )
    queue(*[ok(dev.ip("us-east-1a"))] * 5, *[ok(dev.ip("us-east-1b"))] * 5)

    result = run_verify(SHIPPED_CONFIG, "dev")

    assert result.data["covers"] == []
    (warning,) = result.data["warnings"]
    assert worker.name in warning and "staticip functions dev" in warning


def test_without_the_probe_there_is_nothing_to_invoke(tmp_path: Path) -> None:
    config = tmp_path / "staticip.toml"
    config.write_text(
        '[environments.dev]\negress = "eni-eip"\nvpc_cidr = "10.0.0.0/16"\nprobe = false\n'
        '[environments.dev.functions.w]\nsource = "w"\n'
    )
    result = run_verify(config, "dev")
    assert result.exit_code == 2
    assert "probe = false" in result.text and "staticip functions dev" in result.text
