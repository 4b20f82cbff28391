"""How a stack's providers reach the environment's account: the AWS providers' arguments and
the ENI resolver's. Apart from `environment`, so that the mode builders (`stacks.modes`) use
them without importing the stack, which imports the builders."""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.provider import AwsProviderAssumeRole

from staticip.config import EnvironmentConfig


def provider_credentials(env: EnvironmentConfig, role_arn: str | None) -> dict[str, Any]:
    """AwsProvider arguments that pin the environment to its account: `allowed_account_ids`
    makes a plan with another account's credentials fail before it reads or changes anything;
    `assume_role` (`role_arn`, the variable's reference) and `profile` say how to reach it."""
    args: dict[str, Any] = {}
    if env.account_id:
        args["allowed_account_ids"] = [env.account_id]
    if role_arn:
        args["assume_role"] = [
            AwsProviderAssumeRole(role_arn=role_arn, session_name=f"staticip-{env.name}")
        ]
    if env.profile:
        args["profile"] = env.profile
    return args


def resolver_credentials(env: EnvironmentConfig, role_arn: str | None) -> dict[str, str]:
    """The same account for the ENI resolver, as query keys of its `external` data source."""
    keys = {"profile": env.profile, "assume_role_arn": role_arn}
    return {key: value for key, value in keys.items() if value}
