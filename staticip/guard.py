"""Names the ENI guard shares with its stack and with `staticip doctor`: the metrics it publishes,
its function and the alarms on it. Standard library only: the guard Lambda packages this module."""

from __future__ import annotations

import re

METRIC_NAME = "EnisWithoutElasticIp"
"""In-use Hyperplane ENIs of the function left without an allow-listed EIP by one run."""
HELD_ELSEWHERE_METRIC = "ElasticIpsHeldElsewhere"
"""Allow-listed EIPs found on something that is not one of the function's Lambda ENIs."""
UPDATE_FAILED_METRIC = "EgressFunctionUpdateFailed"
"""1 while the egress function's `LastUpdateStatus` is `Failed`, else 0."""
METRIC_DIMENSION = "Environment"
ALLOCATION_IDS_VARIABLE = "ALLOCATION_IDS"
"""The guard's environment variable listing the EIPs the stack associates (comma-separated)."""

#: CloudWatch wants an alarm's evaluation window (period x periods) within one day; the alarms
#: use two periods, so a period is at most half a day.
MAX_ALARM_PERIOD_SECONDS = 43_200
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def metric_namespace(project: str) -> str:
    return f"{project}/eni-guard"


def guard_function_name(project: str, environment: str) -> str:
    return f"{project}-{environment}-eni-guard"


def alarm_name(project: str, environment: str) -> str:
    """ENIs stayed without an EIP (or the function's update failed) for two periods in a row."""
    return f"{project}-{environment}-enis-without-eip"


def silence_alarm_name(project: str, environment: str) -> str:
    """The guard published nothing for two schedule periods: it stopped running."""
    return f"{project}-{environment}-eni-guard-silent"


def errors_alarm_name(project: str, environment: str) -> str:
    """The guard's Lambda invocations failed (AWS errors, denied associations, bad settings)."""
    return f"{project}-{environment}-eni-guard-errors"


def alarm_names(project: str, environment: str) -> tuple[str, str, str]:
    return (
        alarm_name(project, environment),
        silence_alarm_name(project, environment),
        errors_alarm_name(project, environment),
    )


def alarm_period_seconds(schedule: str) -> int:
    """The alarms' period: the schedule's interval for `rate(...)`, one hour for `cron(...)`
    (whose interval is not known here), capped at :data:`MAX_ALARM_PERIOD_SECONDS`."""
    rate = re.fullmatch(r"rate\(([1-9]\d*) (minute|hour|day)s?\)", schedule.strip())
    seconds = int(rate.group(1)) * _UNIT_SECONDS[rate.group(2)] if rate else 3600
    return min(seconds, MAX_ALARM_PERIOD_SECONDS)
