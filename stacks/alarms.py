"""Alarms the scheduled functions share: on the sum of their metrics, over two periods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from constructs import Construct


def two_period_sum_alarm(
    scope: Construct,
    id_: str,
    *,
    alarm_name: str,
    description: str,
    metrics: Mapping[str, CloudwatchMetricAlarmMetricQueryMetric],
    sum_id: str,
    label: str,
    treat_missing_data: str,
    actions: Sequence[str] | None,
) -> CloudwatchMetricAlarm:
    """Fires when the sum of `metrics` (query ID -> metric, in this order), the query
    `sum_id`, is above 0 in two consecutive periods: one late run or one transient state
    never fires it."""
    return CloudwatchMetricAlarm(
        scope,
        id_,
        alarm_name=alarm_name,
        alarm_description=description,
        metric_query=[
            *(
                CloudwatchMetricAlarmMetricQuery(id=query_id, metric=metric, return_data=False)
                for query_id, metric in metrics.items()
            ),
            CloudwatchMetricAlarmMetricQuery(
                id=sum_id,
                expression=" + ".join(metrics),
                label=label,
                return_data=True,
            ),
        ],
        evaluation_periods=2,
        datapoints_to_alarm=2,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data=treat_missing_data,
        alarm_actions=list(actions) if actions else None,
        ok_actions=list(actions) if actions else None,
    )
