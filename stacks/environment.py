"""One environment as one CDKTF stack: the network, the function(s), and what the
environment's modes build (`staticip.modes`), plus the outputs every mode shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf import TerraformOutput, TerraformStack, TerraformVariable
from cdktf_cdktf_provider_aws.provider import (
    AwsProvider,
    AwsProviderAssumeRole,
    AwsProviderDefaultTags,
)
from constructs import Construct

from stacks.backend import configure_backend
from stacks.elastic_ips import ElasticIps, ElasticIpsProps
from stacks.flow_logs import FlowLogsProps, VpcFlowLogs
from stacks.function import Function, FunctionProps
from stacks.mode_context import EgressContext, IngressContext
from stacks.network import Network, NetworkProps
from stacks.prefix_list import AllowListPrefixList, PrefixListProps
from stacks.security_group import FunctionSecurityGroup
from staticip.config import EnvironmentConfig, FunctionConfig
from staticip.modes import EgressMode, IngressMode
from staticip.names import (
    EGRESS,
    INGRESS,
    environment_tags,
    function_security_group_name,
    prefix_list_id_output,
    prefix_list_name,
    resource_prefix,
    webhook_function_name,
)


@dataclass(frozen=True)
class EnvironmentStackProps:
    project: str
    env: EnvironmentConfig


#: The Terraform variable that holds the role to assume; `plan -var assume_role_arn=...` swaps
#: in another role of the same account (the pull-request workflow's read-only plan role).
ROLE_VARIABLE = "assume_role_arn"


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


def function_props(
    config: FunctionConfig,
    name: str,
    source: str,
    subnet_ids: Sequence[str] = (),
    security_group_ids: Sequence[str] = (),
) -> FunctionProps:
    """FunctionProps from the environment's `[function]` table."""
    return FunctionProps(
        name=name,
        source=source,
        memory_mb=config.memory_mb,
        timeout_seconds=config.timeout_seconds,
        log_retention_days=config.log_retention_days,
        tracing_mode=config.tracing,
        reserved_concurrency=config.reserved_concurrency,
        kms_key_arn=config.kms_key_arn,
        subnet_ids=subnet_ids,
        security_group_ids=security_group_ids,
    )


class EnvironmentStack(TerraformStack):
    """The stack `cdktf deploy <env.name>` deploys."""

    def __init__(self, scope: Construct, props: EnvironmentStackProps) -> None:
        env = props.env
        super().__init__(scope, env.name)
        self.env, self.project = env, props.project
        self.name = resource_prefix(props.project, env.name)
        # default_tags put these on every taggable AWS resource; `staticip doctor` and
        # `verify` find an environment's resources by them.
        self.default_tags = {**env.tags, **environment_tags(props.project, env.name)}
        self.tags = AwsProviderDefaultTags(tags=self.default_tags)
        self.role_arn: str | None = None
        if env.assume_role_arn:
            self.role_arn = TerraformVariable(
                self,
                ROLE_VARIABLE,
                type="string",
                nullable=False,
                default=env.assume_role_arn,
                description=f"IAM role the AWS providers and the ENI lookup assume in {env.name}'s"
                " account; a plan may pass a read-only role of that account with -var",
            ).string_value
        AwsProvider(
            self,
            "aws",
            region=env.region,
            default_tags=[self.tags],
            **provider_credentials(env, self.role_arn),
        )
        configure_backend(self, env)

        self.network = Network(
            self,
            "network",
            NetworkProps(
                name=self.name,
                cidr=env.vpc_cidr,
                azs=env.azs,
                subnet_cidr=env.subnet_cidr,
                private_subnets=env.needs_private_subnets,
            ),
        )
        if env.flow_logs_retention_days is not None:
            VpcFlowLogs(
                self,
                "flow-logs",
                FlowLogsProps(
                    name=self.name,
                    vpc_id=self.network.vpc.id,
                    retention_days=env.flow_logs_retention_days,
                ),
            )
        # Unknown modes never get here: the config parser takes them from the same registry.
        if env.egress_mode is not None:
            self._egress(env.egress_mode)
        if env.ingress_mode is not None:
            self._ingress(env.ingress_mode)

    def _context(self) -> dict[str, Any]:
        return {
            "stack": self,
            "env": self.env,
            "name": self.name,
            "project": self.project,
            "network": self.network,
            "default_tags": self.default_tags,
            "provider_tags": self.tags,
            "role_arn": self.role_arn,
        }

    def _egress(self, mode: EgressMode) -> None:
        env, network = self.env, self.network
        eips = ElasticIps(
            self,
            "egress-ips",
            ElasticIpsProps(
                name=f"{self.name}-egress",
                azs=mode.static_ip_azs(env),
                protect=env.protect_ips,
                reuse_allocation_ids=env.reuse_eip_allocation_ids,
                environment_tags=self.default_tags,
            ),
        )
        sg = FunctionSecurityGroup(
            self,
            "function-sg",
            name=function_security_group_name(self.project, env.name),
            vpc_id=network.vpc.id,
        )
        subnets = network.private_subnets if env.needs_private_subnets else network.public_subnets
        probe = Function(
            self,
            "egress-probe",
            function_props(
                env.function,
                env.function.name,
                "egress_probe",
                subnet_ids=[subnets[az].id for az in env.azs],
                security_group_ids=[sg.group.id],
            ),
        )
        mode.build(
            EgressContext(
                **self._context(),
                function=probe.function,
                security_group_id=sg.group.id,
                allocation_ids=eips.allocation_ids,
            )
        )
        eips.add_outputs(
            self,
            EGRESS,
            f"Allow-list these: every egress IP of {env.function.name}, sorted by AZ name",
        )
        if env.prefix_list:
            self._prefix_list_output(EGRESS, eips.public_ips)
        TerraformOutput(
            self,
            "function_name",
            value=probe.function.function_name,
            description="Egress probe; `staticip verify` invokes it",
        )

    def _ingress(self, mode: IngressMode) -> None:
        env = self.env
        # An environment with both modes keeps `function.name` for the egress probe.
        name = (
            webhook_function_name(self.project, env.name) if env.egress_mode else env.function.name
        )
        webhook = Function(self, "webhook", function_props(env.function, name, "webhook"))
        addresses = mode.build(IngressContext(**self._context(), function=webhook.function))
        if env.prefix_list:
            self._prefix_list_output(INGRESS, addresses)

    def _prefix_list_output(self, direction: str, addresses: dict[str, str]) -> None:
        """The direction's managed prefix list, and its ID as `<direction>_prefix_list_id`."""
        prefix_list = AllowListPrefixList(
            self,
            f"{direction}-prefix-list",
            PrefixListProps(
                name=prefix_list_name(self.project, self.env.name, direction), addresses=addresses
            ),
        )
        TerraformOutput(
            self,
            prefix_list_id_output(direction),
            value=prefix_list.prefix_list.id,
            description=f"Managed prefix list of the {direction} IPs as /32s, to share with "
            "partners (AWS RAM) instead of copying addresses",
        )
