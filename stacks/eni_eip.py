"""The dev trick: Elastic IPs on the function's Lambda Hyperplane ENIs, no NAT Gateway."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import AssetType, DataResource, Fn, TerraformAsset
from cdktf_cdktf_provider_aws.eip_association import EipAssociation
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_external.data_external import DataExternal
from constructs import Construct

from stacks.packaging import stage_directory

DEFAULT_RESOLVE_TIMEOUT_SECONDS = 300
#: The launcher Terraform runs, and the modules of the resolver it starts (shipped beside it).
RESOLVER_LAUNCHER = "staticip/resolve-enis.sh"
RESOLVER_MODULES = ("staticip/__init__.py", "staticip/aws.py", "staticip/enis.py")


@dataclass(frozen=True)
class EniEipProps:
    """How to find the function's Hyperplane ENIs and which EIP goes on each."""

    region: str
    function: LambdaFunction
    """The anchor function (the probe, else the first declared function). Only its ARN is
    read, through `terraform_data` (see below)."""
    function_names: Sequence[str]
    """Every function with the subnet + security-group set, as literals: the resolver reads
    their states (waiting while one is Pending, failing fast when none is Active)."""
    environment: str
    """Named in the resolver's errors (e.g. `staticip wake <environment>`)."""
    subnet_ids: Mapping[str, str]
    """AZ name -> public subnet ID the function sits in."""
    security_group_ids: Sequence[str]
    """The function's complete security-group set: ENIs are shared per subnet + SG set."""
    allocation_ids: Mapping[str, str]
    """AZ name -> EIP allocation ID; one per subnet."""
    internet_gateway: InternetGateway
    """The VPC's gateway: an EIP association needs it attached first (provider docs)."""
    resolve_timeout_seconds: int = DEFAULT_RESOLVE_TIMEOUT_SECONDS
    """How long the resolver waits for ENIs of a function that is still Pending. Default 300."""
    credentials: Mapping[str, str] = field(default_factory=dict)
    """`profile` and/or `assume_role_arn` for the resolver: the environment's account."""


class EniEipAssociations(Construct):
    """Per AZ: a `data.external` lookup resolves `{subnet_id: eni_id}` for that AZ's subnet,
    and an `aws_eip_association` puts that AZ's EIP on the ENI it found.

    **When the lookup is read.** Terraform defers a data source to apply time when a resource it
    references directly (or through `depends_on`) has planned changes; every argument of
    `aws_eip_association` forces replacement, so a deferred lookup means the EIP comes off the
    ENI during the apply. The lookup therefore references one `terraform_data` per AZ and no
    other resource (literals and the role variable only). Its `input` is what decides which ENI
    Lambda uses: the anchor function's ARN, that AZ's subnet and the security-group set (and the
    AZ's allocation ID, which the resolver prefers ENIs by). A code, memory, tag or environment
    change of any function leaves that input as it was, so the lookup is read at plan time and
    the association stays; a new subnet, another security group or a replaced anchor changes
    the input, and `terraform_data` (which references the anchor) is updated after it, so the
    lookup is read after Lambda made the new ENIs. Adding an AZ defers only the new AZ's lookup.
    The other functions are named in the query as literals: adding or removing one changes
    the query, which Terraform reads at plan time like any other argument it knows.

    **What runs.** `staticip/resolve-enis.sh` with `staticip/enis.py` beside it, shipped as an
    asset in the stack directory, so the JSON names no path of the machine that synthesized it.
    """

    def __init__(self, scope: Construct, id_: str, props: EniEipProps) -> None:
        super().__init__(scope, id_)
        azs = sorted(props.subnet_ids)
        missing = [az for az in azs if az not in props.allocation_ids]
        if missing:
            raise ValueError(f"no Elastic IP for AZ(s) {', '.join(missing)}")
        resolver = TerraformAsset(
            self,
            "resolver",
            path=str(stage_directory("eni-resolver", None, (RESOLVER_LAUNCHER, *RESOLVER_MODULES))),
            type=AssetType.DIRECTORY,
        )
        program = ["sh", f"{resolver.path}/{RESOLVER_LAUNCHER}"]
        security_groups = Fn.join(",", list(props.security_group_ids))
        self.inputs: dict[str, DataResource] = {}
        self.lookups: dict[str, DataExternal] = {}
        self.associations: dict[str, EipAssociation] = {}
        for az in azs:
            inputs = DataResource(
                self,
                f"inputs-{az}",
                input={
                    "function_arn": props.function.arn,
                    "subnet_id": props.subnet_ids[az],
                    "security_group_ids": security_groups,
                    "allocation_id": props.allocation_ids[az],
                },
            )
            lookup = DataExternal(
                self,
                f"enis-{az}",
                program=program,
                query={
                    "region": props.region,
                    "function_names": ",".join(props.function_names),
                    "environment": props.environment,
                    "subnet_ids": Fn.lookup(inputs.output, "subnet_id"),
                    "security_group_ids": Fn.lookup(inputs.output, "security_group_ids"),
                    "allocation_ids": Fn.lookup(inputs.output, "allocation_id"),
                    "timeout_seconds": str(props.resolve_timeout_seconds),
                    **props.credentials,
                },
            )
            self.inputs[az], self.lookups[az] = inputs, lookup
            self.associations[az] = EipAssociation(
                self,
                f"assoc-{az}",
                allocation_id=props.allocation_ids[az],
                network_interface_id=Fn.lookup(lookup.result, props.subnet_ids[az]),
                # Lets the association converge when the ENI guard (or a person) already
                # moved the EIP to this ENI, instead of failing with "already associated".
                allow_reassociation=True,
                depends_on=[props.internet_gateway],
            )
