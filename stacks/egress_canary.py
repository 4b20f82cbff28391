"""The egress canary: checks on a schedule that each AZ's traffic leaves from that AZ's
allow-listed address, with an alarm per AZ."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from stacks.alarms import two_period_sum_alarm
from stacks.function import Function, FunctionProps, builtin_code
from staticip.canary import (
    AZ_DIMENSION,
    AZ_VARIABLE,
    ENVIRONMENT_DIMENSION,
    ENVIRONMENT_VARIABLE,
    EXPECTED_IP_VARIABLE,
    FUNCTION_MEMORY_MB,
    FUNCTION_TIMEOUT_SECONDS,
    METRIC_NAMESPACE_VARIABLE,
    NO_EGRESS_METRIC,
    NOT_ALLOW_LISTED_METRIC,
    metric_namespace,
)
from staticip.names import canary_alarm_name, canary_function_name
from staticip.schedule import DEFAULT_SCHEDULE, alarm_period_seconds


@dataclass(frozen=True)
class EgressCanaryProps:
    """Where each AZ's check runs and what it must see."""

    name: str
    """`<project>-<environment>`: the prefix of the rules' names."""
    project: str
    environment: str
    subnet_ids: Mapping[str, str]
    """AZ name -> the function subnet there. One canary per AZ, in that subnet alone."""
    security_group_id: str
    """The function security group every function of the environment shares: with it, the
    canary uses the same Hyperplane ENI (one per subnet + group set) as the user's functions."""
    expected_ips: Mapping[str, str]
    """AZ name -> the allow-listed address that AZ's traffic must leave from (its own EIP, or
    the one NAT's in a `single` layout). Keys must be those of `subnet_ids`."""
    schedule: str = DEFAULT_SCHEDULE
    """EventBridge schedule of the checks; each AZ is checked once per run of it."""
    alarm_topic_arn: str | None = None
    """SNS topic for the alarms' state changes. Default: alarms without action."""
    log_retention_days: int = 30
    kms_key_arn: str | None = None
    """Customer-managed key for the functions' environment variables. Default: AWS-managed."""


class EgressCanary(Construct):
    """Per AZ: a function in that AZ's function subnet, a schedule rule invoking it, and an
    alarm on its two metrics.

    Each AZ needs a function of its own: Lambda picks which of a function's subnets runs an
    invocation, so one function in every subnet would check whichever AZ it lands in. A
    function in one subnet with the shared group adds no ENI: Lambda already has one for that
    subnet and group."""

    def __init__(self, scope: Construct, id_: str, props: EgressCanaryProps) -> None:
        super().__init__(scope, id_)
        if set(props.expected_ips) != set(props.subnet_ids):
            azs = sorted(props.subnet_ids)
            raise ValueError(f"the egress canary needs an expected address for each AZ of {azs}")
        namespace = metric_namespace(props.project)
        for az in sorted(props.subnet_ids):
            function = Function(
                self,
                f"function-{az}",
                FunctionProps(
                    name=canary_function_name(props.project, props.environment, az),
                    code=builtin_code("egress_canary"),
                    memory_mb=FUNCTION_MEMORY_MB,
                    timeout_seconds=FUNCTION_TIMEOUT_SECONDS,
                    log_retention_days=props.log_retention_days,
                    kms_key_arn=props.kms_key_arn,
                    subnet_ids=[props.subnet_ids[az]],
                    security_group_ids=[props.security_group_id],
                    environment={
                        ENVIRONMENT_VARIABLE: props.environment,
                        AZ_VARIABLE: az,
                        EXPECTED_IP_VARIABLE: props.expected_ips[az],
                        METRIC_NAMESPACE_VARIABLE: namespace,
                    },
                ),
            ).function
            rule = CloudwatchEventRule(
                self,
                f"schedule-{az}",
                name=f"{props.name}-canary-{az}",
                description=f"Egress check of {az}: its traffic leaves from its allow-listed IP",
                schedule_expression=props.schedule,
            )
            CloudwatchEventTarget(self, f"target-{az}", rule=rule.name, arn=function.arn)
            LambdaPermission(
                self,
                f"invoke-{az}",
                statement_id="AllowEventBridgeSchedule",
                action="lambda:InvokeFunction",
                function_name=function.function_name,
                principal="events.amazonaws.com",
                source_arn=rule.arn,
            )
            self._alarm(props, az, namespace)

    def _alarm(self, props: EgressCanaryProps, az: str, namespace: str) -> None:
        """Fires when two periods in a row failed (no egress, or a foreign address), and when
        the canary reported nothing for two periods: missing data counts as failing, since a
        canary that stopped running proves nothing about the address."""
        period = alarm_period_seconds(props.schedule)
        actions = [props.alarm_topic_arn] if props.alarm_topic_arn else None
        dimensions = {ENVIRONMENT_DIMENSION: props.environment, AZ_DIMENSION: az}

        def metric(name: str) -> CloudwatchMetricAlarmMetricQueryMetric:
            return CloudwatchMetricAlarmMetricQueryMetric(
                namespace=namespace,
                metric_name=name,
                dimensions=dimensions,
                period=period,
                stat="Maximum",
            )

        two_period_sum_alarm(
            self,
            f"alarm-{az}",
            alarm_name=canary_alarm_name(props.project, props.environment, az),
            description=f"Traffic from {az} did not leave from its allow-listed IP for two "
            "canary periods (no egress, or another address), or the canary reported nothing. "
            f"Run `staticip doctor {props.environment}`.",
            metrics={
                "no_egress": metric(NO_EGRESS_METRIC),
                "foreign": metric(NOT_ALLOW_LISTED_METRIC),
            },
            sum_id="failed",
            label="no egress + address not allow-listed",
            treat_missing_data="breaching",
            actions=actions,
        )
