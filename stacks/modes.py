"""What each egress and ingress mode builds into the environment stack, by the mode's label.

The declarations (`staticip.modes`) sit below the constructs and do not import them; the
environment stack looks its modes' builders up here (`modes.lookup`), so a registered mode
without a builder fails the synth naming it. Each builder imports its constructs when it runs:
an environment loads only the provider modules its own modes use (`provider_bindings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from stacks.credentials import provider_credentials, resolver_credentials
from stacks.mode_context import EgressContext, IngressContext
from staticip import modes
from staticip.modes import EgressMode, IngressMode
from staticip.modes.eni_eip import EniEip
from staticip.modes.global_accelerator import GlobalAccelerator
from staticip.modes.nat_gateway import PerAzNatGateway, RegionalNatGateway, SingleNatGateway
from staticip.modes.nat_instance import (
    AMI_PARAMETER,
    PerAzNatInstance,
    SingleNatInstance,
    architecture,
    burstable,
    instance_type,
    ssm_enabled,
)
from staticip.modes.nlb_eip import NlbEip, ingress_azs, reused
from staticip.names import (
    INGRESS,
    INGRESS_DNS_NAME_OUTPUT,
    INGRESS_IPS_OUTPUT,
    nat_instance_group_name,
)

EgressBuilder = Callable[[EgressContext], None]
"""Add the mode's constructs to the stack."""
IngressBuilder = Callable[[IngressContext], Mapping[str, str]]
"""Add the mode's constructs and its outputs (`ingress_ips` first) to the stack; return the
static IPs as label -> address for the ingress prefix list."""


# --- egress -------------------------------------------------------------------------------------


def build_eni_eip(ctx: EgressContext) -> None:
    from cdktf_cdktf_provider_external.provider import ExternalProvider

    from stacks.eni_eip import EniEipAssociations, EniEipProps
    from stacks.eni_guard import EniGuard, EniGuardProps

    env, network = ctx.env, ctx.network
    subnets = network.public_subnets
    ExternalProvider(ctx.stack, "external")
    eni_eip = EniEipAssociations(
        ctx.stack,
        "eni-eip",
        EniEipProps(
            region=env.region,
            function=ctx.function,
            function_names=ctx.function_names,
            environment=env.name,
            subnet_ids={az: s.id for az, s in subnets.items()},
            security_group_ids=[ctx.security_group_id],
            allocation_ids=ctx.allocation_ids,
            internet_gateway=network.igw,
            credentials=resolver_credentials(env, ctx.role_arn),
        ),
    )
    if not env.eni_guard.enabled:
        return
    # Built after the associations: the guard depends on them, so Terraform tears the
    # guard down before it disassociates (and releases) any EIP.
    EniGuard(
        ctx.stack,
        "eni-guard",
        EniGuardProps(
            name=ctx.name,
            environment=env.name,
            project=ctx.project,
            region=env.region,
            vpc_id=network.vpc.id,
            function_names=ctx.function_names,
            subnet_ids={az: subnets[az].id for az in env.azs},
            associations=eni_eip.associations,
            schedule=env.eni_guard.schedule,
            alarm_topic_arn=env.eni_guard.alarm_topic_arn,
            log_retention_days=env.function.log_retention_days,
            kms_key_arn=env.function.kms_key_arn,
            reserved_concurrency=env.eni_guard.reserved_concurrency,
        ),
    )


def build_nat_gateway(ctx: EgressContext) -> None:
    # ElasticIps made one EIP in each AZ of `static_ip_azs`; one NAT Gateway per EIP.
    from stacks.nat_gateway import NatGatewayEgress, NatGatewayProps

    NatGatewayEgress(
        ctx.stack,
        "nat",
        NatGatewayProps(
            name=ctx.name,
            public_subnets=ctx.network.public_subnets,
            private_route_tables=ctx.network.private_route_tables,
            allocation_ids=ctx.allocation_ids,
            internet_gateway=ctx.network.igw,
        ),
    )


def build_regional_nat_gateway(ctx: EgressContext) -> None:
    from stacks.regional_nat_gateway import RegionalNatGatewayEgress, RegionalNatGatewayProps

    RegionalNatGatewayEgress(
        ctx.stack,
        "nat",
        RegionalNatGatewayProps(
            name=ctx.name,
            vpc_id=ctx.network.vpc.id,
            allocation_ids=ctx.allocation_ids,
            private_route_tables=ctx.network.private_route_tables,
            internet_gateway=ctx.network.igw,
        ),
    )


def build_nat_instance(ctx: EgressContext) -> None:
    from stacks.nat_instance import NatInstanceEgress, NatInstanceProps

    env, network = ctx.env, ctx.network
    type_name = instance_type(env)
    NatInstanceEgress(
        ctx.stack,
        "nat-instance",
        NatInstanceProps(
            name=ctx.name,
            group_names={
                az: nat_instance_group_name(ctx.project, env.name, az) for az in ctx.allocation_ids
            },
            region=env.region,
            vpc_id=network.vpc.id,
            vpc_cidr=env.vpc_cidr,
            public_subnets=network.public_subnets,
            private_route_tables=network.private_route_tables,
            allocation_ids=ctx.allocation_ids,
            internet_gateway=network.igw,
            instance_type=type_name,
            image_id="resolve:ssm:" + AMI_PARAMETER.format(arch=architecture(type_name)),
            standard_cpu_credits=burstable(type_name),
            ssm=ssm_enabled(env),
            tags=ctx.default_tags,
        ),
    )


# --- ingress ------------------------------------------------------------------------------------


def build_global_accelerator(ctx: IngressContext) -> Mapping[str, str]:
    from cdktf import Fn, TerraformOutput
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from stacks.global_accelerator import GlobalAcceleratorIngress, GlobalAcceleratorProps
    from stacks.webhook_alb import ANYWHERE
    from staticip.aws import GLOBAL_ACCELERATOR_REGION

    env, network = ctx.env, ctx.network
    ga_provider = AwsProvider(
        ctx.stack,
        "aws-global-accelerator",
        alias="global-accelerator",
        region=GLOBAL_ACCELERATOR_REGION,
        default_tags=[ctx.provider_tags],
        **provider_credentials(env, ctx.role_arn),
    )
    ingress = GlobalAcceleratorIngress(
        ctx.stack,
        "ingress",
        GlobalAcceleratorProps(
            name=ctx.name,
            region=env.region,
            vpc_id=network.vpc.id,
            public_subnet_ids=[network.public_subnets[az].id for az in env.azs],
            function=ctx.function,
            routes=ctx.routes,
            allowed_cidrs=env.ingress_allowed_cidrs or (ANYWHERE,),
            ga_provider=ga_provider,
            certificate_arn=env.certificate_arn,
            deletion_protection=env.deletion_protection,
            access_logs_bucket=env.alb_access_logs_bucket,
            protect=env.protect_ips,
        ),
    )
    TerraformOutput(
        ctx.stack,
        INGRESS_IPS_OUTPUT,
        value=ingress.ip_addresses,
        description="Give these two static anycast IPs to vendors that call your webhooks",
    )
    TerraformOutput(
        ctx.stack,
        INGRESS_DNS_NAME_OUTPUT,
        value=ingress.accelerator.dns_name,
        description="The accelerator's DNS name (resolves to ingress_ips)",
    )
    # Global Accelerator always gives exactly two static IPv4 addresses.
    return {f"accelerator-{i + 1}": Fn.element(ingress.ip_addresses, i) for i in range(2)}


def build_nlb_eip(ctx: IngressContext) -> Mapping[str, str]:
    from cdktf import TerraformOutput

    from stacks.elastic_ips import CONSTRUCT_IDS, ElasticIps, ElasticIpsProps
    from stacks.nlb_eip_ingress import NlbEipIngress, NlbEipIngressProps
    from stacks.webhook_alb import ANYWHERE

    env, network = ctx.env, ctx.network
    eips = ElasticIps(
        ctx.stack,
        CONSTRUCT_IDS[INGRESS],
        ElasticIpsProps(
            name=f"{ctx.name}-ingress",
            azs=ingress_azs(env),
            protect=env.protect_ips,
            reuse_allocation_ids=reused(env),
            environment_tags=ctx.default_tags,
            direction=INGRESS,
            ipam_pool_id=env.ipam_pool_id,
        ),
    )
    ingress = NlbEipIngress(
        ctx.stack,
        "ingress",
        NlbEipIngressProps(
            name=ctx.name,
            vpc_id=network.vpc.id,
            public_subnet_ids={az: network.public_subnets[az].id for az in env.azs},
            allocation_ids=eips.allocation_ids,
            function=ctx.function,
            routes=ctx.routes,
            allowed_cidrs=env.ingress_allowed_cidrs or (ANYWHERE,),
            certificate_arn=env.certificate_arn,
            deletion_protection=env.deletion_protection,
            access_logs_bucket=env.alb_access_logs_bucket,
        ),
    )
    eips.add_outputs(
        ctx.stack,
        INGRESS,
        "Give these Elastic IPs to vendors that call your webhooks, sorted by AZ",
    )
    TerraformOutput(
        ctx.stack,
        INGRESS_DNS_NAME_OUTPUT,
        value=ingress.nlb.dns_name,
        description="The NLB's DNS name (resolves to ingress_ips)",
    )
    return eips.public_ips


# --- the tables ---------------------------------------------------------------------------------

EGRESS_BUILDERS: Mapping[str, EgressBuilder] = {
    PerAzNatGateway().label: build_nat_gateway,
    SingleNatGateway().label: build_nat_gateway,
    RegionalNatGateway().label: build_regional_nat_gateway,
    PerAzNatInstance().label: build_nat_instance,
    SingleNatInstance().label: build_nat_instance,
    EniEip().label: build_eni_eip,
}
INGRESS_BUILDERS: Mapping[str, IngressBuilder] = {
    GlobalAccelerator().label: build_global_accelerator,
    NlbEip().label: build_nlb_eip,
}


def build_egress(mode: EgressMode, ctx: EgressContext) -> None:
    modes.lookup(EGRESS_BUILDERS, mode, "builder")(ctx)


def build_ingress(mode: IngressMode, ctx: IngressContext) -> Mapping[str, str]:
    return modes.lookup(INGRESS_BUILDERS, mode, "builder")(ctx)
