"""One environment as one CDKTF stack: the network, the functions (the built-in probe or
webhook, and the user's declared ones), and what the environment's modes build
(`staticip.modes`, built by `stacks.modes`), plus the outputs every mode shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cdktf import TerraformOutput, TerraformStack, TerraformVariable
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from stacks.backend import configure_backend
from stacks.credentials import provider_credentials
from stacks.egress_canary import EgressCanary, EgressCanaryProps
from stacks.elastic_ips import CONSTRUCT_IDS, ElasticIps, ElasticIpsProps
from stacks.exports import FunctionExports, FunctionExportsProps
from stacks.flow_logs import FlowLogsProps, VpcFlowLogs
from stacks.function import Function, FunctionProps, builtin_code
from stacks.function_code import prepare_code
from stacks.mode_context import EgressContext, IngressContext
from stacks.modes import build_egress, build_ingress
from stacks.network import Network, NetworkProps
from stacks.prefix_list import AllowListPrefixList, PrefixListProps
from stacks.retained_ips import forget_removed_eips
from stacks.security_group import FunctionSecurityGroup
from stacks.webhook_alb import AlbRoute
from staticip.config import (
    DEFAULT_CONFIG_FILE,
    DeclaredFunction,
    EnvironmentConfig,
    FunctionConfig,
    possible_azs,
)
from staticip.modes import EgressMode, IngressMode
from staticip.names import (
    EGRESS,
    INGRESS,
    environment_tags,
    function_security_group_name,
    prefix_list_id_output,
    prefix_list_name,
    resource_prefix,
)


@dataclass(frozen=True)
class EnvironmentStackProps:
    project: str
    env: EnvironmentConfig
    config_path: Path = Path(DEFAULT_CONFIG_FILE)
    """The environments file: named in the errors about a declared function's code."""


#: The Terraform variable that holds the role to assume; `plan -var assume_role_arn=...` swaps
#: in another role of the same account (the pull-request workflow's read-only plan role).
ROLE_VARIABLE = "assume_role_arn"


def function_props(
    config: FunctionConfig,
    code: Path,
    subnet_ids: Sequence[str] = (),
    security_group_ids: Sequence[str] = (),
) -> FunctionProps:
    """FunctionProps from a function table: `[function]` (the built-in one, whose code is
    `builtin_code`) or a declared `[functions.<key>]`, with its runtime, handler,
    architecture, environment and policies."""
    declared: dict[str, Any] = {}
    if isinstance(config, DeclaredFunction):
        declared = {
            "runtime": config.runtime,
            "handler": config.handler,
            "architecture": config.architecture,
            "environment": config.environment,
            "policy_arns": config.policy_arns,
        }
    return FunctionProps(
        name=config.name,
        code=code,
        memory_mb=config.memory_mb,
        timeout_seconds=config.timeout_seconds,
        log_retention_days=config.log_retention_days,
        tracing_mode=config.tracing,
        reserved_concurrency=config.reserved_concurrency,
        kms_key_arn=config.kms_key_arn,
        subnet_ids=subnet_ids,
        security_group_ids=security_group_ids,
        **declared,
    )


class EnvironmentStack(TerraformStack):
    """The stack `cdktf deploy <env.name>` deploys."""

    def __init__(self, scope: Construct, props: EnvironmentStackProps) -> None:
        env = props.env
        super().__init__(scope, env.name)
        self.env, self.project, self.config_path = env, props.project, props.config_path
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
        self.declared: dict[str, LambdaFunction] = {}
        if env.egress_mode is not None:
            self._egress(env.egress_mode)
        else:
            # No egress, so no static egress IP to give them: outside the VPC, where Lambda's
            # own networking reaches the internet.
            self.declared = self._declared_functions()
        if env.ingress_mode is not None:
            self._ingress(env.ingress_mode)
        if env.protect_ips:
            forget_removed_eips(self, possible_azs(env.region))

    def _declared_functions(
        self, subnet_ids: Sequence[str] = (), security_group_ids: Sequence[str] = ()
    ) -> dict[str, LambdaFunction]:
        """The user's functions by key, each under the construct ID `function-<key>`."""
        return {
            fn.key: Function(
                self,
                f"function-{fn.key}",
                function_props(
                    fn,
                    prepare_code(self.config_path, self.env.name, fn),
                    subnet_ids,
                    security_group_ids,
                ),
            ).function
            for fn in self.env.functions
        }

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
            CONSTRUCT_IDS[EGRESS],
            ElasticIpsProps(
                name=f"{self.name}-egress",
                azs=mode.static_ip_azs(env),
                protect=env.protect_ips,
                reuse_allocation_ids=env.reuse_eip_allocation_ids,
                environment_tags=self.default_tags,
                ipam_pool_id=env.ipam_pool_id,
            ),
        )
        sg = FunctionSecurityGroup(
            self,
            "function-sg",
            name=function_security_group_name(self.project, env.name),
            vpc_id=network.vpc.id,
        )
        subnets = network.private_subnets if env.needs_private_subnets else network.public_subnets
        subnet_ids = [subnets[az].id for az in env.azs]
        # Every function gets the same subnets and the one group: Lambda then shares one
        # Hyperplane ENI per subnet between all of them, and with it the AZ's static IP.
        probe = None
        if env.probe:
            probe = Function(
                self,
                "egress-probe",
                function_props(
                    env.function, builtin_code("egress_probe"), subnet_ids, [sg.group.id]
                ),
            ).function
        self.declared = self._declared_functions(subnet_ids, [sg.group.id])
        anchor = probe if probe is not None else next(iter(self.declared.values()))
        build_egress(
            mode,
            EgressContext(
                **self._context(),
                function=anchor,
                function_names=env.egress_function_names,
                security_group_id=sg.group.id,
                allocation_ids=eips.allocation_ids,
            ),
        )
        if env.canary is not None:
            EgressCanary(
                self,
                "egress-canary",
                EgressCanaryProps(
                    name=self.name,
                    project=self.project,
                    environment=env.name,
                    subnet_ids={az: subnets[az].id for az in env.azs},
                    security_group_id=sg.group.id,
                    expected_ips={
                        az: eips.public_ips[mode.egress_ip_az(env, az)] for az in env.azs
                    },
                    schedule=env.canary,
                    alarm_topic_arn=env.alarm_topic_arn,
                    log_retention_days=env.function.log_retention_days,
                    kms_key_arn=env.function.kms_key_arn,
                ),
            )
        eips.add_outputs(
            self,
            EGRESS,
            "Allow-list these: every egress IP of the environment's functions, sorted by AZ name",
        )
        if env.prefix_list:
            self._prefix_list_output(EGRESS, eips.public_ips)
        FunctionExports(
            self,
            "exports",
            FunctionExportsProps(
                project=self.project,
                environment=env.name,
                vpc_id=network.vpc.id,
                function_subnet_ids={az: subnets[az].id for az in env.azs},
                security_group_id=sg.group.id,
                egress_ips=[eips.public_ips[az] for az in sorted(eips.public_ips)],
                ssm_parameters=env.ssm_parameters,
            ),
        )
        if probe is not None:
            TerraformOutput(
                self,
                "function_name",
                value=probe.function_name,
                description="Egress probe; `staticip verify` invokes it",
            )

    def _ingress(self, mode: IngressMode) -> None:
        env = self.env
        webhook = None
        if env.has_webhook:
            # An environment with both modes keeps `function.name` for the egress probe.
            settings = replace(env.function, name=env.webhook_name(self.project))
            webhook = Function(
                self, "webhook", function_props(settings, builtin_code("webhook"))
            ).function
        routes = [
            AlbRoute(route.path_pattern, route.priority, self.declared[route.function])
            for route in env.routes
        ]
        addresses = build_ingress(
            mode, IngressContext(**self._context(), function=webhook, routes=routes)
        )
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
