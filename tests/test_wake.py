"""`staticip wake ENV`: an Inactive eni-eip function is invoked once and waited for until Active.

moto keeps every function `Active` and never changes state on invoke. The tests set the state of
moto's function model and play Lambda's part between polls (FakeClock.on_sleep): after the
failed invocation of an Inactive function Lambda makes it `Pending`, creates ENIs, then `Active`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_fixtures import moto_function
from eni_fixtures import REGION, FakeClock, create_function, create_role, use_fake_aws
from moto import mock_aws

from staticip import cli, wake

FUNCTION = "staticip-dev-egress-probe"
CONFIG = """
project = "staticip"
[environments.dev]
egress = "eni-eip"
vpc_cidr = "10.10.0.0/16"
[environments.prod]
egress = "nat-gateway"
vpc_cidr = "10.20.0.0/16"
"""


@pytest.fixture
def lambda_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    use_fake_aws(monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        client = boto3.client("lambda", region_name=REGION)
        create_function(client, create_role(boto3.client("iam", region_name=REGION)), FUNCTION)
        yield client


def model() -> Any:
    return moto_function(FUNCTION)


def test_an_inactive_function_is_invoked_once_and_waited_for(lambda_client) -> None:
    model().state = "Inactive"
    invokes = []
    lambda_client.meta.events.register(
        "provide-client-params.lambda.Invoke", lambda params, **_: invokes.append(params)
    )

    def lambda_rebuilds(sleeps: int) -> None:
        model().state = "Pending" if sleeps < 3 else "Active"

    clock = FakeClock(on_sleep=lambda_rebuilds)
    said: list[str] = []
    # After the invocation Lambda reports Pending; the first read after it sees that.
    lambda_client.meta.events.register(
        "after-call.lambda.Invoke", lambda **_: setattr(model(), "state", "Pending")
    )

    report = wake.wake_function(
        lambda_client, FUNCTION, sleep=clock.sleep, clock=clock.clock, progress=said.append
    )

    assert [p["FunctionName"] for p in invokes] == [FUNCTION]
    assert (report.state_before, report.state_after, report.invoked) == ("Inactive", "Active", True)
    assert len(clock.sleeps) == 3
    assert any("Pending" in line for line in said), "progress is shown while waiting"


def test_an_active_function_is_left_alone(lambda_client) -> None:
    invokes = []
    lambda_client.meta.events.register(
        "provide-client-params.lambda.Invoke", lambda params, **_: invokes.append(params)
    )
    report = wake.wake_function(lambda_client, FUNCTION, sleep=FakeClock().sleep)
    assert invokes == [] and not report.invoked and report.state_after == "Active"


def test_a_function_that_stays_pending_times_out(lambda_client) -> None:
    model().state = "Pending"
    clock = FakeClock()
    with pytest.raises(wake.WakeError, match="still Pending"):
        wake.wake_function(
            lambda_client,
            FUNCTION,
            timeout_seconds=30,
            sleep=clock.sleep,
            clock=clock.clock,
            progress=lambda _: None,
        )
    assert sum(clock.sleeps) >= 30


def test_a_failed_function_is_reported(lambda_client) -> None:
    model().state = "Failed"
    with pytest.raises(wake.WakeError, match="Failed"):
        wake.wake_function(lambda_client, FUNCTION, sleep=FakeClock().sleep)


def test_cli_refuses_an_environment_without_eni_eip(tmp_path, capsys) -> None:
    config = tmp_path / "staticip.toml"
    config.write_text(CONFIG)
    assert cli.main(["wake", "prod", "--config", str(config)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "prod" in line and "nothing to wake" in line


def test_cli_wakes_the_configured_function(lambda_client, tmp_path, capsys) -> None:
    config = tmp_path / "staticip.toml"
    config.write_text(CONFIG)
    assert cli.main(["wake", "dev", "--config", str(config), "--json"]) == 0
    out = capsys.readouterr().out
    assert f'"function": "{FUNCTION}"' in out and '"state_after": "Active"' in out


WORKER = "staticip-dev-worker"
CONFIG_WITH_WORKER = CONFIG.replace(
    'vpc_cidr = "10.10.0.0/16"\n',
    'vpc_cidr = "10.10.0.0/16"\n[environments.dev.functions.worker]\nsource = "w"\n',
    1,
)


def test_every_inactive_function_of_the_environment_is_woken(lambda_client, tmp_path) -> None:
    role = boto3.client("iam", region_name=REGION).get_role(RoleName="staticip-test")["Role"]
    create_function(lambda_client, role["Arn"], WORKER)
    model().state = "Inactive"
    moto_function(WORKER).state = "Inactive"
    invoked: list[str] = []

    def lambda_rebuilds(params: dict[str, Any], **_: Any) -> None:
        invoked.append(params["FunctionName"])
        moto_function(params["FunctionName"]).state = "Active"

    lambda_client.meta.events.register("provide-client-params.lambda.Invoke", lambda_rebuilds)
    reports = wake.wake_functions(
        lambda_client, [FUNCTION, WORKER], sleep=FakeClock().sleep, progress=lambda _: None
    )
    assert invoked == [FUNCTION, WORKER]
    assert [(r.function, r.state_before, r.state_after) for r in reports] == [
        (FUNCTION, "Inactive", "Active"),
        (WORKER, "Inactive", "Active"),
    ]


def test_the_cli_wakes_the_declared_functions_too(lambda_client, tmp_path, monkeypatch) -> None:
    role = boto3.client("iam", region_name=REGION).get_role(RoleName="staticip-test")["Role"]
    create_function(lambda_client, role["Arn"], WORKER)
    moto_function(WORKER).state = "Inactive"
    invoked: list[str] = []

    def lambda_rebuilds(params: dict[str, Any], **_: Any) -> None:
        invoked.append(params["FunctionName"])
        moto_function(params["FunctionName"]).state = "Active"

    # Lambda's part (the invoked function comes back Active) is played on this client: the
    # command gets it instead of building its own.
    lambda_client.meta.events.register("provide-client-params.lambda.Invoke", lambda_rebuilds)
    monkeypatch.setattr(wake.aws, "client", lambda *args, **kwargs: lambda_client)
    config = tmp_path / "staticip.toml"
    config.write_text(CONFIG_WITH_WORKER)
    result = wake.run_wake(config, "dev")
    assert result.exit_code == 0, result.text
    assert invoked == [WORKER], "only the Inactive one is invoked"
    assert [(f["function"], f["state_before"]) for f in result.data["functions"]] == [
        (FUNCTION, "Active"),
        (WORKER, "Inactive"),
    ]
