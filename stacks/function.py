"""A Python Lambda function packaged from `lambda_src/`, with its role and log group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from constructs import Construct

from stacks.iam import assume_role_policy
from stacks.packaging import REPO, stage_directory

LAMBDA_SRC = REPO / "lambda_src"
RUNTIME = "python3.12"
BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_ACCESS_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"

#: The repository modules a `lambda_src/<source>` handler imports, packaged next to it under the
#: same relative paths, so the function shares the tooling's code instead of copying it. Keyed by
#: source: whichever stack builds the function, its package holds what the handler imports.
PACKAGED_MODULES: Mapping[str, tuple[str, ...]] = {
    # The ENI matching rules and the EIP lookup the resolver and `doctor` run (one copy of the
    # logic), and the names its stack gives the EIPs, tags and alarms.
    "eni_guard": (
        "staticip/__init__.py",
        "staticip/aws.py",
        "staticip/eips.py",
        "staticip/enis.py",
        "staticip/guard.py",
        "staticip/names.py",
    ),
    # The health check path the ALB's target group requests.
    "webhook": ("staticip/__init__.py", "staticip/names.py"),
}


@dataclass(frozen=True)
class FunctionProps:
    """A function whose code is the directory `lambda_src/<source>` with `handler.handler`."""

    name: str
    """Function name (also names the role and log group)."""
    source: str
    """Directory under `lambda_src/`."""
    memory_mb: int = 256
    timeout_seconds: int = 30
    log_retention_days: int = 30
    """CloudWatch Logs retention of `/aws/lambda/<name>`. Default 30 days."""
    subnet_ids: Sequence[str] = ()
    """Subnets to attach to; empty means outside any VPC (no VPC access policy either)."""
    security_group_ids: Sequence[str] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    tracing_mode: str = "PassThrough"
    """X-Ray: `PassThrough` (default, no traces unless the caller samples) or `Active`."""
    reserved_concurrency: int | None = None
    """Reserved concurrent executions. Default none: the account's shared pool."""
    kms_key_arn: str | None = None
    """Customer-managed key for environment variables. Default: the AWS-managed key."""


class Function(Construct):
    """Lambda function + execution role (AWS-managed basic execution, plus VPC access only
    when in a VPC: nothing more) + log group with retention."""

    def __init__(self, scope: Construct, id_: str, props: FunctionProps) -> None:
        super().__init__(scope, id_)
        source = LAMBDA_SRC / props.source
        if not (source / "handler.py").is_file():
            raise ValueError(
                f"{source}/handler.py not found: every function in lambda_src/ "
                "has a handler.py with a `handler` function"
            )
        in_vpc = bool(props.subnet_ids)

        self.role = IamRole(
            self,
            "role",
            name=f"{props.name}-role",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
        )
        policies = [BASIC_EXECUTION_POLICY] + ([VPC_ACCESS_POLICY] if in_vpc else [])
        attachments = [
            IamRolePolicyAttachment(
                self, f"policy-{arn.rsplit('/', 1)[-1]}", role=self.role.name, policy_arn=arn
            )
            for arn in policies
        ]
        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/aws/lambda/{props.name}",
            retention_in_days=props.log_retention_days,
        )
        # Packaged from a clean copy: bytecode or dot-files in lambda_src/ must not change the
        # hash, or a plan would deploy a "new" function that is the same code.
        package = stage_directory(props.source, source, PACKAGED_MODULES.get(props.source, ()))
        asset = TerraformAsset(self, "code", path=str(package), type=AssetType.ARCHIVE)
        self.function = LambdaFunction(
            self,
            "function",
            function_name=props.name,
            role=self.role.arn,
            runtime=RUNTIME,
            handler="handler.handler",
            filename=asset.path,
            source_code_hash=asset.asset_hash,
            memory_size=props.memory_mb,
            timeout=props.timeout_seconds,
            tracing_config=LambdaFunctionTracingConfig(mode=props.tracing_mode),
            reserved_concurrent_executions=props.reserved_concurrency,
            kms_key_arn=props.kms_key_arn,
            environment={"variables": dict(props.environment)} if props.environment else None,
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=list(props.subnet_ids), security_group_ids=list(props.security_group_ids)
            )
            if in_vpc
            else None,
            # The log group must exist first, or Lambda creates one without retention; the
            # VPC policy must be attached first, or creating the ENIs fails.
            depends_on=[self.log_group, *attachments],
        )
