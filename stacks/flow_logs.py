"""Optional VPC flow logs to CloudWatch Logs."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from stacks.iam import assume_role_policy


@dataclass(frozen=True)
class FlowLogsProps:
    name: str
    vpc_id: str
    retention_days: int
    """Retention of the flow-log group."""


class VpcFlowLogs(Construct):
    """All traffic of the VPC to a log group with retention, through a role that may write to
    that log group only."""

    def __init__(self, scope: Construct, id_: str, props: FlowLogsProps) -> None:
        super().__init__(scope, id_)
        group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/staticip/{props.name}/vpc-flow-logs",
            retention_in_days=props.retention_days,
        )
        role = IamRole(
            self,
            "role",
            name=f"{props.name}-flow-logs",
            assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"),
        )
        IamRolePolicy(
            self,
            "write",
            role=role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                                "logs:DescribeLogStreams",
                            ],
                            "Resource": [group.arn, f"{group.arn}:*"],
                        }
                    ],
                }
            ),
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=props.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,
        )
