"""`staticip doctor` reads the egress canary's last result per AZ (moto's CloudWatch holds the
metrics the canary's log lines yield in AWS; see aws_fixtures.canary_results)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_fixtures import (
    SHIPPED_CONFIG,
    canary_results,
    count_calls,
    deploy_eni_eip,
    deploy_nat,
    shipped_config,
)
from eni_fixtures import REGION

from staticip.doctor import run_doctor
from staticip.doctor_canary import CANARY, LOOKBACK_PERIODS, check_canary
from staticip.names import canary_function_name

PROJECT = "staticip"


def canary_findings(result: Any) -> dict[str, dict[str, Any]]:
    return {f["subject"]: f for f in result.data["findings"] if f["check"] == CANARY}


def test_each_az_passing_its_last_check_is_ok(aws: Any) -> None:
    deploy_nat(*aws, PROJECT, "prod")

    result = run_doctor(SHIPPED_CONFIG, "prod")

    assert result.exit_code == 0, result.text
    found = canary_findings(result)
    assert set(found) == {"us-east-1a", "us-east-1b"}
    assert all(f["severity"] == "ok" and "allow-listed" in f["what"] for f in found.values())


def test_a_foreign_address_in_one_az_is_an_error_naming_the_canarys_log(aws: Any) -> None:
    deploy_nat(*aws, PROJECT, "prod")
    canary_results(PROJECT, "prod", {"us-east-1a": (0, 1), "us-east-1b": (0, 0)})

    result = run_doctor(SHIPPED_CONFIG, "prod")

    assert result.exit_code == 1
    found = canary_findings(result)
    assert found["us-east-1a"]["severity"] == "error"
    assert "not us-east-1a's allow-listed IP" in found["us-east-1a"]["what"]
    log = f"/aws/lambda/{canary_function_name(PROJECT, 'prod', 'us-east-1a')}"
    assert log in found["us-east-1a"]["fix"]
    assert found["us-east-1b"]["severity"] == "ok"


def test_the_last_result_counts_not_an_older_failure(aws: Any) -> None:
    deploy_nat(*aws, PROJECT, "prod")
    # Failing a period ago, passing since.
    canary_results(PROJECT, "prod", {"us-east-1a": (1, 0)}, minutes_ago=6)
    canary_results(PROJECT, "prod", {"us-east-1a": (0, 0)}, minutes_ago=1)

    found = canary_findings(run_doctor(SHIPPED_CONFIG, "prod"))

    assert found["us-east-1a"]["severity"] == "ok"


def test_an_unchecked_az_is_a_warning(aws: Any) -> None:
    # Results older than the look-back (three periods of five minutes) do not count.
    dev = deploy_eni_eip(*aws, PROJECT, "dev")
    env = dev.env
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    later = datetime.now(UTC) + timedelta(minutes=5 * LOOKBACK_PERIODS + 10)

    found = {f.subject: f for f in check_canary(cloudwatch, PROJECT, env, now=later)}

    assert {f.severity for f in found.values()} == {"warning"}
    assert "no canary result" in found["us-east-1a"].what
    assert "cdktf deploy dev" in (found["us-east-1a"].fix or "")


def test_one_metric_query_call_for_every_az(aws: Any) -> None:
    deploy_nat(*aws, PROJECT, "prod")
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    calls = count_calls([cloudwatch])

    check_canary(cloudwatch, PROJECT, shipped_config().environment("prod"))

    assert calls == {"cloudwatch.GetMetricData": 1}


def test_no_canary_finding_without_a_canary(aws: Any, tmp_path: Any) -> None:
    config = tmp_path / "staticip.toml"
    text = SHIPPED_CONFIG.read_text()
    config.write_text(
        text.replace('egress = "nat-gateway"\n', 'egress = "nat-gateway"\ncanary = false\n', 1)
    )
    deploy_nat(*aws, PROJECT, "prod")

    result = run_doctor(config, "prod")

    assert result.data["findings"], result.text  # the other checks ran
    assert canary_findings(result) == {}
