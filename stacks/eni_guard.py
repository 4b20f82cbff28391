"""The ENI guard: re-attaches the dev EIPs when Lambda replaces its Hyperplane ENIs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from stacks.function import Function, FunctionProps
from staticip.eips import ALLOW_LISTED_TAG
from staticip.guard import METRIC_DIMENSION, METRIC_NAME, alarm_name, metric_namespace

#: The guard imports the ENI matching rules and the EIP lookup from these modules, the same
#: code the resolver and `doctor` run: one copy of the logic.
SHARED_MODULES = (
    "staticip/__init__.py",
    "staticip/aws.py",
    "staticip/eips.py",
    "staticip/enis.py",
    "staticip/guard.py",
)


@dataclass(frozen=True)
class EniGuardProps:
    """What the guard watches and where it reports."""

    name: str
    environment: str
    project: str
    region: str
    vpc_id: str
    function: LambdaFunction
    """The egress function whose ENIs carry the EIPs."""
    subnet_ids: Sequence[str]
    """The function's subnets; only ENIs created there trigger the guard."""
    schedule: str = "rate(5 minutes)"
    """Periodic check, for replacements whose CloudTrail event was missed."""
    alarm_topic_arn: str | None = None
    """SNS topic notified when ENIs are left without an EIP. Default: no action."""
    log_retention_days: int = 30
    kms_key_arn: str | None = None
    """Customer-managed key for the guard's environment variables. Default: AWS-managed."""

    @property
    def metric_namespace(self) -> str:
        return metric_namespace(self.project)


class EniGuard(Construct):
    """A function outside the VPC (so it always reaches the EC2 API), run by EventBridge on
    Lambda's `CreateNetworkInterface` in the function's subnets and on a schedule, with
    permission to move only this environment's tagged EIPs; and an alarm on ENIs it could not
    give an EIP (it never guesses which ENI should lose one)."""

    def __init__(self, scope: Construct, id_: str, props: EniGuardProps) -> None:
        super().__init__(scope, id_)
        self.guard = Function(
            self,
            "function",
            FunctionProps(
                name=f"{props.name}-eni-guard",
                source="eni_guard",
                # Room to wait out a function update it was triggered in the middle of.
                timeout_seconds=180,
                memory_mb=128,
                log_retention_days=props.log_retention_days,
                kms_key_arn=props.kms_key_arn,
                shared_modules=SHARED_MODULES,
                environment={
                    "ENVIRONMENT": props.environment,
                    "PROJECT": props.project,
                    "FUNCTION_NAME": props.function.function_name,
                    "METRIC_NAMESPACE": props.metric_namespace,
                },
            ),
        )
        IamRolePolicy(
            self,
            "permissions",
            name="eni-guard",
            role=self.guard.role.id,
            policy=self._policy(props),
        )

        rules = {
            "on-eni-created": CloudwatchEventRule(
                self,
                "on-eni-created",
                name=f"{props.name}-eni-created",
                description="Lambda created a network interface in the egress subnets",
                event_pattern=Fn.jsonencode(
                    {
                        "source": ["aws.ec2"],
                        "detail-type": ["AWS API Call via CloudTrail"],
                        "detail": {
                            "eventSource": ["ec2.amazonaws.com"],
                            "eventName": ["CreateNetworkInterface"],
                            "requestParameters": {"subnetId": list(props.subnet_ids)},
                        },
                    }
                ),
            ),
            "schedule": CloudwatchEventRule(
                self,
                "schedule",
                name=f"{props.name}-eni-guard-schedule",
                description="Periodic check that every Lambda ENI holds its EIP",
                schedule_expression=props.schedule,
            ),
        }
        for key, rule in rules.items():
            CloudwatchEventTarget(
                self, f"{key}-target", rule=rule.name, arn=self.guard.function.arn
            )
            LambdaPermission(
                self,
                f"{key}-invoke",
                statement_id=f"AllowEventBridge-{key}",
                action="lambda:InvokeFunction",
                function_name=self.guard.function.function_name,
                principal="events.amazonaws.com",
                source_arn=rule.arn,
            )

        CloudwatchMetricAlarm(
            self,
            "alarm",
            alarm_name=alarm_name(props.project, props.environment),
            alarm_description="Lambda ENIs without an Elastic IP: their invocations have no "
            "egress (connection spill-over or a replacement). "
            "Run `staticip doctor " + props.environment + "`.",
            namespace=props.metric_namespace,
            metric_name=METRIC_NAME,
            dimensions={METRIC_DIMENSION: props.environment},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            # No data means the guard itself stopped running: that needs a look too.
            treat_missing_data="breaching",
            alarm_actions=[props.alarm_topic_arn] if props.alarm_topic_arn else None,
            ok_actions=[props.alarm_topic_arn] if props.alarm_topic_arn else None,
        )

    def _policy(self, props: EniGuardProps) -> str:
        partition = DataAwsPartition(self, "partition").partition
        account = DataAwsCallerIdentity(self, "account").account_id
        ec2_arn = f"arn:{partition}:ec2:{props.region}:{account}"

        def allow(
            sid: str, actions: list[str], resource: str, conditions: dict[str, str] | None = None
        ) -> DataAwsIamPolicyDocumentStatement:
            return DataAwsIamPolicyDocumentStatement(
                sid=sid,
                effect="Allow",
                actions=actions,
                resources=[resource],
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="StringEquals", variable=key, values=[value]
                    )
                    for key, value in (conditions or {}).items()
                ]
                or None,
            )

        document = DataAwsIamPolicyDocument(
            self,
            "policy",
            statement=[
                # Describe calls support no resource-level permissions.
                allow(
                    "ReadNetworkState",
                    ["ec2:DescribeNetworkInterfaces", "ec2:DescribeAddresses"],
                    "*",
                ),
                allow(
                    "ReadTheEgressFunction", ["lambda:GetFunctionConfiguration"], props.function.arn
                ),
                # AssociateAddress authorizes the EIP and the interface separately: the EIP must
                # be one of this environment's allow-listed ones, the interface in its VPC.
                allow(
                    "MoveOnlyThisEnvironmentsEips",
                    ["ec2:AssociateAddress"],
                    f"{ec2_arn}:elastic-ip/*",
                    {
                        "aws:ResourceTag/environment": props.environment,
                        "aws:ResourceTag/project": props.project,
                        f"aws:ResourceTag/{ALLOW_LISTED_TAG}": "true",
                    },
                ),
                allow(
                    "OntoInterfacesInThisVpc",
                    ["ec2:AssociateAddress"],
                    f"{ec2_arn}:network-interface/*",
                    {"ec2:Vpc": f"{ec2_arn}:vpc/{props.vpc_id}"},
                ),
                allow(
                    "OwnMetricNamespaceOnly",
                    ["cloudwatch:PutMetricData"],
                    "*",
                    {"cloudwatch:namespace": props.metric_namespace},
                ),
            ],
        )
        return document.json
