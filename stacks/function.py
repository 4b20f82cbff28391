"""A Lambda function with its role and log group: a built-in one packaged from `lambda_src/`
(`builtin_code`), or one of the user's declared functions (`stacks/function_code.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
from stacks.packaging import REPO, archive_directory, stage_directory

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
        "staticip/guard_lock.py",
        "staticip/names.py",
    ),
    # The health check path the ALB's target group requests.
    "webhook": ("staticip/__init__.py", "staticip/names.py"),
    # The metric and variable names its stack and `doctor` read.
    "egress_canary": ("staticip/__init__.py", "staticip/canary.py"),
}


def builtin_code(source: str) -> Path:
    """The package of the built-in function `lambda_src/<source>`: its directory without
    bytecode and dot-files, plus the repository modules it imports (`PACKAGED_MODULES`)."""
    directory = LAMBDA_SRC / source
    if not (directory / "handler.py").is_file():
        raise ValueError(
            f"{directory}/handler.py not found: every function in lambda_src/ "
            "has a handler.py with a `handler` function"
        )
    return stage_directory(source, directory, PACKAGED_MODULES.get(source, ()))


@dataclass(frozen=True)
class FunctionProps:
    """A function, its code and its settings."""

    name: str
    """Function name (also names the role and log group)."""
    code: Path
    """What to deploy: a directory (archived at synth) or a `.zip` file (as it is)."""
    runtime: str = RUNTIME
    """Default Python 3.12, the built-in functions' runtime."""
    handler: str = "handler.handler"
    architecture: str | None = None
    """`x86_64` or `arm64`; default: left to the provider (x86_64), as the built-in functions
    always were, so their plans do not change."""
    policy_arns: Sequence[str] = ()
    """Managed policies attached to the role besides basic execution (and VPC access)."""
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
        in_vpc = bool(props.subnet_ids)

        self.role = IamRole(
            self,
            "role",
            name=f"{props.name}-role",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
        )
        policies = [
            BASIC_EXECUTION_POLICY,
            *([VPC_ACCESS_POLICY] if in_vpc else []),
            *props.policy_arns,
        ]
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
        # A directory is a staged copy: bytecode or dot-files must not change the hash, or a
        # plan would deploy a "new" function that is the same code. It is zipped here, with the
        # hash and path cdktf's own archive would have had (stacks/packaging.py says why).
        if props.code.is_file():
            asset = TerraformAsset(self, "code", path=str(props.code), type=AssetType.FILE)
        else:
            archive = archive_directory(props.code)
            asset = TerraformAsset(
                self,
                "code",
                path=str(archive.path),
                type=AssetType.FILE,
                asset_hash=archive.asset_hash,
            )
        self.function = LambdaFunction(
            self,
            "function",
            function_name=props.name,
            role=self.role.arn,
            runtime=props.runtime,
            handler=props.handler,
            architectures=[props.architecture] if props.architecture else None,
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
