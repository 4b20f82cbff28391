"""The ENI guard: re-attaches the dev EIPs when Lambda replaces its Hyperplane ENIs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import Fn, TerraformResource
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.eip_association import EipAssociation
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from stacks.alarms import two_period_sum_alarm
from stacks.function import Function, FunctionProps, builtin_code
from staticip.guard import (
    ALLOCATION_IDS_VARIABLE,
    ENVIRONMENT_VARIABLE,
    FUNCTION_NAMES_VARIABLE,
    LOCK_KEY,
    LOCK_TABLE_VARIABLE,
    METRIC_DIMENSION,
    METRIC_NAME,
    METRIC_NAMESPACE_VARIABLE,
    PROJECT_VARIABLE,
    UPDATE_FAILED_METRIC,
    metric_namespace,
)
from staticip.names import (
    ALLOW_LISTED_TAG,
    alarm_name,
    errors_alarm_name,
    guard_function_name,
    guard_lock_table_name,
    silence_alarm_name,
)
from staticip.schedule import DEFAULT_SCHEDULE, alarm_period_seconds


@dataclass(frozen=True)
class EniGuardProps:
    """What the guard watches and where it reports."""

    name: str
    environment: str
    project: str
    region: str
    vpc_id: str
    function_names: Sequence[str]
    """The environment's egress functions (the anchor first), whose shared ENIs carry the
    EIPs: the guard holds off while any of them is being updated."""
    subnet_ids: Mapping[str, str]
    """AZ name -> the function's subnet there; only ENIs created there trigger the guard."""
    associations: Mapping[str, EipAssociation]
    """AZ name -> the stack's `aws_eip_association` there (`EniEipAssociations.associations`).
    Every guard resource depends on them, so Terraform removes the guard before them."""
    schedule: str = DEFAULT_SCHEDULE
    """Periodic check, for replacements whose CloudTrail event was missed."""
    alarm_topic_arn: str | None = None
    """SNS topic notified when ENIs are left without an EIP. Default: no action."""
    log_retention_days: int = 30
    kms_key_arn: str | None = None
    """Customer-managed key for the guard's environment variables and its lock table.
    Default: AWS-managed (the variables) and AWS-owned (the table)."""
    reserved_concurrency: bool = False
    """Also reserve one concurrent execution, so Lambda throttles a second run instead of the
    lock making it wait. Default off: Lambda keeps 100 of the account's concurrency
    unreserved, so in an account whose limit is below 101 the reservation fails the deploy."""

    @property
    def metric_namespace(self) -> str:
        return metric_namespace(self.project)


class EniGuard(Construct):
    """A function outside the VPC (so it always reaches the EC2 API), run by EventBridge on
    Lambda's `CreateNetworkInterface` in the function's subnets and on a schedule, one run at a
    time, with permission to move only the EIPs the stack associates, and only onto interfaces
    in the function's subnets; and alarms on ENIs left without an EIP, on a silent guard and on
    its errors (it never guesses which ENI should lose an EIP).

    IAM bounds the guard to the environment's associated EIPs and the function subnets'
    interfaces, not to pairs of them: AssociateAddress authorizes the address and the interface
    separately, and the Allow statements of every policy on the role pool, so AZ a's address
    statement and AZ b's interface statement together allow AZ a's EIP onto an AZ b interface.
    The handler keeps each EIP in its own AZ (`recheck` in lambda_src/eni_guard/handler.py,
    pinned by tests/test_eni_guard.py).

    Teardown order: every resource here depends on the stack's EIP associations, so
    `terraform destroy` removes the guard's triggers, permissions and function before it
    disassociates and releases an EIP. Removing an AZ is subtler: the guard's function is then
    UPDATED (the AZ's allocation ID leaves `ALLOCATION_IDS`), and Terraform destroys a former
    dependency before it updates the dependent (docs/destroying.md in hashicorp/terraform;
    measured with Terraform 1.11.4; only recent releases may try the update first).
    So the permission to associate each EIP is a resource of its own per AZ
    (`associate-<az>`) that depends on that AZ's association: it is DESTROYED, hence gone
    before the association in every Terraform version, and from then on AWS refuses the guard
    that EIP whatever its environment variable still says.
    """

    def __init__(self, scope: Construct, id_: str, props: EniGuardProps) -> None:
        super().__init__(scope, id_)
        missing = sorted(set(props.subnet_ids) - set(props.associations))
        if missing:
            raise ValueError(f"the ENI guard needs an EIP association in AZ(s) {missing}")
        associations = [props.associations[az] for az in sorted(props.associations)]
        lock_table = guard_lock_table_name(props.project, props.environment)
        self.lock = DynamodbTable(
            self,
            "lock",
            name=lock_table,
            # One item per run at most: on demand costs two write requests a run, nothing idle.
            billing_mode="PAY_PER_REQUEST",
            hash_key=LOCK_KEY,
            attribute=[DynamodbTableAttribute(name=LOCK_KEY, type="S")],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=props.kms_key_arn
            )
            if props.kms_key_arn
            else None,
        )
        self.guard = Function(
            self,
            "function",
            FunctionProps(
                name=guard_function_name(props.project, props.environment),
                code=builtin_code("eni_guard"),
                # Room to wait out a function update it was triggered in the middle of.
                timeout_seconds=180,
                memory_mb=128,
                log_retention_days=props.log_retention_days,
                kms_key_arn=props.kms_key_arn,
                # One run at a time: a VPC change fires one event per subnet on top of the
                # schedule and Lambda's async retries, and two runs acting on their own snapshots
                # can move an EIP onto an ENI the other already saw replaced. The lock table
                # ensures it in any account; a reservation adds throttling where the account
                # has room for it (throttled async events are retried for up to 6 hours).
                reserved_concurrency=1 if props.reserved_concurrency else None,
                environment={
                    ENVIRONMENT_VARIABLE: props.environment,
                    PROJECT_VARIABLE: props.project,
                    FUNCTION_NAMES_VARIABLE: ",".join(props.function_names),
                    METRIC_NAMESPACE_VARIABLE: props.metric_namespace,
                    # The EIPs the stack associates, read from the associations themselves: the
                    # guard moves only these, and ranks ENIs with exactly the allocation IDs
                    # the resolver is given.
                    ALLOCATION_IDS_VARIABLE: Fn.join(",", [a.allocation_id for a in associations]),
                    # The table's own attribute: the function is created after the table.
                    LOCK_TABLE_VARIABLE: self.lock.name,
                },
            ),
        )
        partition = DataAwsPartition(self, "partition").partition
        account = DataAwsCallerIdentity(self, "account").account_id
        ec2_arn = f"arn:{partition}:ec2:{props.region}:{account}"
        # Built from the configured names, not `function.arn`: a data source that references a
        # function is read only at apply time whenever the function changes (every code deploy),
        # which would show this policy as changing in every pull-request plan.
        function_arns = [
            f"arn:{partition}:lambda:{props.region}:{account}:function:{name}"
            for name in props.function_names
        ]
        lock_arn = f"arn:{partition}:dynamodb:{props.region}:{account}:table/{lock_table}"
        guarded: list[TerraformResource] = [self.guard.function, self.lock]
        guarded.append(
            IamRolePolicy(
                self,
                "permissions",
                name="eni-guard",
                role=self.guard.role.id,
                policy=self._read_policy(props, function_arns, lock_arn),
            )
        )
        for az in sorted(props.associations):
            IamRolePolicy(
                self,
                f"associate-{az}",
                name=f"eni-guard-associate-{az}",
                role=self.guard.role.id,
                policy=self._associate_policy(props, az, ec2_arn),
                # Its own AZ's association: removing the AZ destroys this policy first.
                depends_on=[props.associations[az]],
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
                            "requestParameters": {
                                "subnetId": [
                                    props.subnet_ids[az] for az in sorted(props.subnet_ids)
                                ]
                            },
                            # Only calls that created something: failed and dry-run calls carry
                            # an errorCode (e.g. Client.DryRunOperation).
                            "errorCode": [{"exists": False}],
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
            guarded.append(rule)
            guarded.append(
                CloudwatchEventTarget(
                    self, f"{key}-target", rule=rule.name, arn=self.guard.function.arn
                )
            )
            guarded.append(
                LambdaPermission(
                    self,
                    f"{key}-invoke",
                    statement_id=f"AllowEventBridge-{key}",
                    action="lambda:InvokeFunction",
                    function_name=self.guard.function.function_name,
                    principal="events.amazonaws.com",
                    source_arn=rule.arn,
                )
            )
        # Destroy removes dependents first: the guard goes before any association does. (The
        # per-AZ policies depend on their own AZ's association already.)
        every_association = [
            f"{a.terraform_resource_type}.{a.friendly_unique_id}" for a in associations
        ]
        for resource in guarded:
            if not (resource.depends_on or []):
                resource.depends_on = every_association
            elif resource is self.guard.function:
                resource.depends_on = [*resource.depends_on, *every_association]
        self._alarms(props)

    def _alarms(self, props: EniGuardProps) -> None:
        """Three alarms, none of which fires on one late run or one transient state.

        - ENIs without an EIP: every run of two consecutive periods (statistic Minimum) saw an
          in-use ENI of the function without an EIP, or the function's last update Failed. A
          recycle (new ENI in use while the old one still holds the EIP until Lambda detaches it)
          or an ENI deleted mid-run lasts less than that and does not count.
        - Silent: no data point at all for two consecutive periods: the guard stopped running.
        - Errors: the guard's Lambda `Errors` metric, any failed invocation.
        """
        period = alarm_period_seconds(props.schedule)
        actions = [props.alarm_topic_arn] if props.alarm_topic_arn else None
        dimensions = {METRIC_DIMENSION: props.environment}
        doctor = f"Run `staticip doctor {props.environment}`."

        def guard_metric(name: str, stat: str) -> CloudwatchMetricAlarmMetricQueryMetric:
            return CloudwatchMetricAlarmMetricQueryMetric(
                namespace=props.metric_namespace,
                metric_name=name,
                dimensions=dimensions,
                period=period,
                stat=stat,
            )

        two_period_sum_alarm(
            self,
            "alarm",
            alarm_name=alarm_name(props.project, props.environment),
            description="Lambda ENIs stayed without an Elastic IP for two guard periods "
            "(their invocations have no egress: connection spill-over, an EIP held by something "
            "else, or no EIP for the AZ), or the egress function's last update failed. " + doctor,
            metrics={
                "gaps": guard_metric(METRIC_NAME, "Minimum"),
                "failed": guard_metric(UPDATE_FAILED_METRIC, "Minimum"),
            },
            sum_id="problems",
            label="ENIs without EIP + failed update",
            # A guard that stopped publishing is the silence alarm's business.
            treat_missing_data="ignore",
            actions=actions,
        )
        CloudwatchMetricAlarm(
            self,
            "silent",
            alarm_name=silence_alarm_name(props.project, props.environment),
            alarm_description="The ENI guard published no data for two schedule periods: it "
            "stopped running (rules disabled, function throttled or deleted), so replaced ENIs "
            "stay without EIPs. " + doctor,
            namespace=props.metric_namespace,
            metric_name=METRIC_NAME,
            dimensions=dimensions,
            statistic="SampleCount",
            period=period,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=actions,
            ok_actions=actions,
        )
        CloudwatchMetricAlarm(
            self,
            "errors",
            alarm_name=errors_alarm_name(props.project, props.environment),
            alarm_description="ENI guard invocations failed (an AWS call failed, an association "
            "was refused, or its settings are wrong): see its log group. " + doctor,
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions={"FunctionName": self.guard.function.function_name},
            statistic="Sum",
            period=period,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
        )

    def _read_policy(
        self, props: EniGuardProps, function_arns: Sequence[str], lock_arn: str
    ) -> str:
        document = DataAwsIamPolicyDocument(
            self,
            "policy",
            statement=[
                # Describe calls support no resource-level permissions.
                _allow(
                    "ReadNetworkState",
                    ["ec2:DescribeNetworkInterfaces", "ec2:DescribeAddresses"],
                    ["*"],
                ),
                _allow(
                    "TakeAndReturnTheRunLock",
                    ["dynamodb:PutItem", "dynamodb:DeleteItem"],
                    [lock_arn],
                ),
                _allow(
                    "ReadTheEgressFunctions",
                    ["lambda:GetFunctionConfiguration"],
                    list(function_arns),
                ),
                _allow(
                    "OwnMetricNamespaceOnly",
                    ["cloudwatch:PutMetricData"],
                    ["*"],
                    {"cloudwatch:namespace": [props.metric_namespace]},
                ),
            ],
        )
        return document.json

    def _associate_policy(self, props: EniGuardProps, az: str, ec2_arn: str) -> str:
        """This AZ's share of the guard's bounds: its associated EIP (carrying the
        environment's tags) and the interfaces of its function subnet (in the VPC). Split per
        AZ for the destroy order (see the class docstring), not for pairing: the statements of
        all AZs pool, so they do not bind this EIP to this subnet; the handler does."""
        document = DataAwsIamPolicyDocument(
            self,
            f"policy-associate-{az}",
            statement=[
                _allow(
                    "MoveOnlyThisAzsAssociatedEip",
                    ["ec2:AssociateAddress"],
                    [f"{ec2_arn}:elastic-ip/{props.associations[az].allocation_id}"],
                    {
                        "aws:ResourceTag/environment": [props.environment],
                        "aws:ResourceTag/project": [props.project],
                        f"aws:ResourceTag/{ALLOW_LISTED_TAG}": ["true"],
                    },
                ),
                _allow(
                    "OntoInterfacesInThisAzsFunctionSubnet",
                    ["ec2:AssociateAddress"],
                    [f"{ec2_arn}:network-interface/*"],
                    {
                        "ec2:Vpc": [f"{ec2_arn}:vpc/{props.vpc_id}"],
                        "ec2:Subnet": [f"{ec2_arn}:subnet/{props.subnet_ids[az]}"],
                    },
                ),
            ],
        )
        return document.json


def _allow(
    sid: str,
    actions: list[str],
    resources: list[str],
    conditions: Mapping[str, list[str]] | None = None,
) -> DataAwsIamPolicyDocumentStatement:
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect="Allow",
        actions=actions,
        resources=resources,
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(
                test="StringEquals", variable=key, values=values
            )
            for key, values in (conditions or {}).items()
        ]
        or None,
    )
