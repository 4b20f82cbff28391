"""The dev trick: Elastic IPs on the function's Lambda Hyperplane ENIs, no NAT Gateway."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import Fn
from cdktf_cdktf_provider_aws.eip_association import EipAssociation
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_external.data_external import DataExternal
from constructs import Construct

#: `python -m staticip.enis` with the interpreter that synthesizes the stack, so Terraform
#: runs the resolver where boto3 and staticip are installed.
DEFAULT_RESOLVER_COMMAND: tuple[str, ...] = (sys.executable, "-m", "staticip.enis")
DEFAULT_RESOLVE_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class EniEipProps:
    """How to find the function's Hyperplane ENIs and which EIP goes on each."""

    region: str
    function: LambdaFunction
    """The deployed function; the lookup waits for it (depends_on)."""
    function_name: str
    subnet_ids: Mapping[str, str]
    """AZ name -> public subnet ID the function sits in."""
    security_group_ids: Sequence[str]
    """The function's complete security-group set: ENIs are shared per subnet + SG set."""
    allocation_ids: Mapping[str, str]
    """AZ name -> EIP allocation ID; one per subnet."""
    resolver_command: Sequence[str] = DEFAULT_RESOLVER_COMMAND
    resolve_timeout_seconds: int = DEFAULT_RESOLVE_TIMEOUT_SECONDS
    """How long the resolver waits for ENIs of a function that is still Pending."""
    credentials: Mapping[str, str] = field(default_factory=dict)
    """`profile` and/or `assume_role_arn` for the resolver: the environment's account."""


class EniEipAssociations(Construct):
    """`data.external` resolves `{subnet_id: eni_id}` after the function is deployed, and one
    `aws_eip_association` per AZ puts that AZ's EIP on that subnet's ENI.

    Terraform reads the data source on every plan, so an ENI that Lambda replaced shows up in
    review as a changed association rather than as silent loss of egress.
    """

    def __init__(self, scope: Construct, id_: str, props: EniEipProps) -> None:
        super().__init__(scope, id_)
        azs = sorted(props.subnet_ids)
        missing = [az for az in azs if az not in props.allocation_ids]
        if missing:
            raise ValueError(f"no Elastic IP for AZ(s) {', '.join(missing)}")
        self.lookup = DataExternal(
            self,
            "enis",
            program=list(props.resolver_command),
            query={
                "region": props.region,
                "function_name": props.function_name,
                "subnet_ids": Fn.join(",", [props.subnet_ids[az] for az in azs]),
                "security_group_ids": Fn.join(",", list(props.security_group_ids)),
                "allocation_ids": Fn.join(",", [props.allocation_ids[az] for az in azs]),
                "timeout_seconds": str(props.resolve_timeout_seconds),
                **props.credentials,
            },
            depends_on=[props.function],
        )
        self.associations = {
            az: EipAssociation(
                self,
                f"assoc-{az}",
                allocation_id=props.allocation_ids[az],
                network_interface_id=Fn.lookup(self.lookup.result, props.subnet_ids[az]),
                # Lets the association converge when the ENI guard (or a person) already
                # moved the EIP to this ENI, instead of failing with "already associated".
                allow_reassociation=True,
            )
            for az in azs
        }
