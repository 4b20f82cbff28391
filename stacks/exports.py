"""What a function deployed by another tool (SAM, Serverless, plain Terraform, AWS CDK) needs to
sit behind an environment's egress IPs: the VPC, the function subnets and the one function
security group, as Terraform outputs and as SSM parameters under `/<project>/<environment>/`.

The security group matters most with `eni-eip`: Lambda shares a Hyperplane ENI per subnet and
security-group set, and only the ENIs of exactly this group's set carry the Elastic IPs. A
function with any other set gets ENIs of its own, which have no EIP and so no internet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import Fn, TerraformOutput
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from staticip.names import (
    EGRESS_IPS_PARAMETER,
    FUNCTION_SECURITY_GROUP_OUTPUT,
    FUNCTION_SECURITY_GROUP_PARAMETER,
    FUNCTION_SUBNET_IDS_OUTPUT,
    FUNCTION_SUBNET_IDS_PARAMETER,
    VPC_ID_OUTPUT,
    VPC_ID_PARAMETER,
    parameter_path,
)


@dataclass(frozen=True)
class FunctionExportsProps:
    project: str
    environment: str
    vpc_id: str
    function_subnet_ids: Mapping[str, str]
    """AZ name -> the subnet functions go in (public with eni-eip, private otherwise)."""
    security_group_id: str
    """The environment's one function security group."""
    egress_ips: Sequence[str]
    """The allow-listed egress IPs, sorted by AZ name."""
    ssm_parameters: bool = True
    """Write the SSM parameters too (no charge: standard tier). Default on."""


class FunctionExports(Construct):
    """Outputs `vpc_id`, `function_subnet_ids` (sorted by AZ name) and
    `function_security_group_id`; SSM parameters `vpc-id`, `function-subnet-ids` (StringList),
    `function-security-group-id` and `egress-ips` (StringList) under `parameter_path`."""

    def __init__(self, scope: Construct, id_: str, props: FunctionExportsProps) -> None:
        super().__init__(scope, id_)
        subnets = [props.function_subnet_ids[az] for az in sorted(props.function_subnet_ids)]
        where = f"{props.environment}'s"
        TerraformOutput(scope, VPC_ID_OUTPUT, value=props.vpc_id, description=f"{where} VPC")
        TerraformOutput(
            scope,
            FUNCTION_SUBNET_IDS_OUTPUT,
            value=subnets,
            description=f"Subnets for a Lambda function behind {where} egress IPs, by AZ name",
        )
        TerraformOutput(
            scope,
            FUNCTION_SECURITY_GROUP_OUTPUT,
            value=props.security_group_id,
            description="The ONLY security group such a function may have: another set gets "
            "Hyperplane ENIs of its own, without the static IPs",
        )
        if not props.ssm_parameters:
            return
        path = parameter_path(props.project, props.environment)
        values = {
            VPC_ID_PARAMETER: ("String", props.vpc_id, f"{where} VPC"),
            FUNCTION_SUBNET_IDS_PARAMETER: (
                "StringList",
                Fn.join(",", subnets),
                f"Subnets for a Lambda function behind {where} egress IPs",
            ),
            FUNCTION_SECURITY_GROUP_PARAMETER: (
                "String",
                props.security_group_id,
                "The only security group such a function may have (Lambda ENIs are per set)",
            ),
            EGRESS_IPS_PARAMETER: (
                "StringList",
                Fn.join(",", list(props.egress_ips)),
                f"{where} allow-listed egress IPs, sorted by AZ name",
            ),
        }
        self.parameters = {
            key: SsmParameter(
                self,
                key,
                name=f"{path}{key}",
                type=kind,
                value=value,
                description=description,
            )
            for key, (kind, value, description) in values.items()
        }
