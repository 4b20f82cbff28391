"""Names the ENI guard shares with its stack and with `staticip doctor`: the metric it publishes
and the alarm on it. Standard library only: the guard Lambda packages this module."""

from __future__ import annotations

METRIC_NAME = "EnisWithoutElasticIp"
METRIC_DIMENSION = "Environment"


def metric_namespace(project: str) -> str:
    return f"{project}/eni-guard"


def alarm_name(project: str, environment: str) -> str:
    return f"{project}-{environment}-enis-without-eip"
