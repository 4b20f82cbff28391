"""What the environment stack hands a mode's builder (`stacks/modes.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.provider import AwsProviderDefaultTags
from constructs import Construct

from stacks.network import Network
from stacks.webhook_alb import AlbRoute
from staticip.config import EnvironmentConfig


@dataclass(frozen=True)
class ModeContext:
    """The parts every mode may build on."""

    stack: Construct
    """The scope for the mode's constructs."""
    env: EnvironmentConfig
    name: str
    """`<project>-<environment>`: the prefix of resource names."""
    project: str
    network: Network
    default_tags: Mapping[str, str]
    """The provider's default tags (copied onto what default_tags never reach)."""
    provider_tags: AwsProviderDefaultTags
    role_arn: str | None
    """The role the providers assume (a variable reference), or None."""


@dataclass(frozen=True)
class EgressContext(ModeContext):
    function: LambdaFunction
    """The anchor of the environment's egress functions: the probe, or without it the first
    declared function by key. What must wait for Lambda's ENIs waits for this one."""
    function_names: Sequence[str]
    """Every function in the function subnets (`EnvironmentConfig.egress_function_names`),
    the anchor first: literal names, so nothing that reads them waits for a function change."""
    security_group_id: str
    allocation_ids: Mapping[str, str]
    """AZ name -> allocation ID of the allow-listed EIPs (`static_ip_azs`)."""


@dataclass(frozen=True)
class IngressContext(ModeContext):
    function: LambdaFunction | None
    """The built-in webhook, the target of every path; None when there are `routes`."""
    routes: Sequence[AlbRoute] = ()
    """The ALB's listener rules to the declared functions (`routes` in staticip.toml)."""
