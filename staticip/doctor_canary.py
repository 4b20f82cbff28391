"""`staticip doctor`'s reading of the egress canary: each AZ's last result, from the metrics
the canary publishes (`lambda_src/egress_canary`), in one GetMetricData call."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from botocore.client import BaseClient

from staticip import aws
from staticip.canary import (
    AZ_DIMENSION,
    ENVIRONMENT_DIMENSION,
    METRICS,
    NO_EGRESS_METRIC,
    NOT_ALLOW_LISTED_METRIC,
    metric_namespace,
)
from staticip.config import EnvironmentConfig
from staticip.doctor_egress import deploy_fix
from staticip.findings import ERROR, OK, WARNING, Finding
from staticip.names import canary_function_name
from staticip.schedule import alarm_period_seconds

CANARY = "canary"
#: How far back a result still counts as the last one: the alarm's two periods and one more
#: for the delay between a run and its metrics.
LOOKBACK_PERIODS = 3


def read_canary(
    cloudwatch: BaseClient, project: str, env: EnvironmentConfig, now: datetime | None = None
) -> dict[str, tuple[datetime, dict[str, float]] | None]:
    """AZ -> (time, metric -> value) of its latest period with data, or None when the
    canary published nothing for that AZ in the last `LOOKBACK_PERIODS` periods."""
    if env.canary is None:
        return {}
    period = alarm_period_seconds(env.canary)
    end = now or datetime.now(UTC)
    azs = sorted(env.azs)
    queries = [
        {
            "Id": f"m{i}_{j}",
            "MetricStat": {
                "Metric": {
                    "Namespace": metric_namespace(project),
                    "MetricName": metric,
                    "Dimensions": [
                        {"Name": ENVIRONMENT_DIMENSION, "Value": env.name},
                        {"Name": AZ_DIMENSION, "Value": az},
                    ],
                },
                "Period": period,
                "Stat": "Maximum",
            },
        }
        for i, az in enumerate(azs)
        for j, metric in enumerate(METRICS)
    ]
    series: dict[str, dict[datetime, float]] = {}
    results = aws.paginate(
        cloudwatch,
        "get_metric_data",
        "MetricDataResults",
        MetricDataQueries=queries,
        StartTime=end - timedelta(seconds=period * LOOKBACK_PERIODS),
        EndTime=end,
    )
    for result in results:
        points = series.setdefault(result["Id"], {})
        points.update(zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
    return {
        az: _latest({metric: series.get(f"m{i}_{j}", {}) for j, metric in enumerate(METRICS)})
        for i, az in enumerate(azs)
    }


def _latest(
    by_metric: Mapping[str, Mapping[datetime, float]],
) -> tuple[datetime, dict[str, float]] | None:
    times = [t for points in by_metric.values() for t in points]
    if not times:
        return None
    last = max(times)
    return last, {m: points[last] for m, points in by_metric.items() if last in points}


def check_canary(
    cloudwatch: BaseClient,
    project: str,
    env: EnvironmentConfig,
    now: datetime | None = None,
) -> list[Finding]:
    """One finding per AZ: its traffic left from its allow-listed IP at the last check, left
    from another address, could not leave at all, or went unchecked."""
    findings = []
    for az, last in read_canary(cloudwatch, project, env, now).items():
        logs = f"/aws/lambda/{canary_function_name(project, env.name, az)}"
        if last is None:
            findings.append(
                Finding(
                    WARNING,
                    CANARY,
                    az,
                    f"no canary result in the last {LOOKBACK_PERIODS} periods of "
                    f"{env.canary}: nobody is checking this AZ's egress",
                    deploy_fix(env, f" (the schedule rule and function); its log: {logs}"),
                )
            )
            continue
        at, values = last
        when = at.strftime("%Y-%m-%d %H:%M UTC")
        if values.get(NO_EGRESS_METRIC, 0) > 0:
            findings.append(
                Finding(
                    ERROR,
                    CANARY,
                    az,
                    f"no egress at {when}: the check could not reach the internet from this AZ",
                    f"see the eni, eip, nat and route findings for {az}; the error is in {logs}",
                )
            )
        elif values.get(NOT_ALLOW_LISTED_METRIC, 0) > 0:
            findings.append(
                Finding(
                    ERROR,
                    CANARY,
                    az,
                    f"at {when} traffic left from an address that is not {az}'s allow-listed IP",
                    f"{logs} names the address seen; vendors reject calls from it. Run "
                    f"`cdktf deploy {env.name}` to put the EIP back, or check for hand-made "
                    "routes or EIP moves",
                )
            )
        else:
            findings.append(
                Finding(OK, CANARY, az, f"left from its allow-listed IP at the last check ({when})")
            )
    return findings
