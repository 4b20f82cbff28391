"""`ingress = "global-accelerator"`: two static anycast IPs in front of an ALB whose target is
the webhook function."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from staticip.modes.base import (
    ALB_KEYS,
    DoctorCheck,
    DoctorContext,
    IngressMode,
    ReviewRule,
)
from staticip.names import INGRESS_DNS_NAME_OUTPUT, INGRESS_IPS_OUTPUT

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from stacks.mode_context import IngressContext
    from staticip.config import EnvironmentConfig
    from staticip.cost import LineItem
    from staticip.findings import Finding
    from staticip.ips import IpsReport
    from staticip.prices import Prices


def price_accelerator(resources: Mapping[str, Any], prices: Prices) -> list[LineItem]:
    """Hourly per accelerator (its two anycast IPs included), and the DT-Premium per GB."""
    from staticip.cost import LineItem

    accelerators = len(resources.get("aws_globalaccelerator_accelerator", {}))
    if not accelerators:
        return []
    return [
        LineItem(
            "Global Accelerator",
            accelerators,
            accelerators * prices.monthly(prices.global_accelerator_per_hour),
            prices.global_accelerator_per_gb,
            f"per-GB: DT-Premium {prices.global_accelerator_route}; 2 anycast IPs included",
        )
    ]


def _accelerator(ctx: DoctorContext) -> list[Finding]:
    from staticip.doctor_ingress import check_global_accelerator

    clients = ctx.clients
    return check_global_accelerator(
        clients["globalaccelerator"], clients["elbv2"], ctx.project, ctx.env
    )


class GlobalAccelerator(IngressMode):
    name = "global-accelerator"
    summary = "two static anycast IPs (Global Accelerator) in front of an ALB"
    keys = ALB_KEYS
    min_azs = 2
    min_azs_reason = "an ALB needs subnets in at least 2 AZs; use 2 or more"
    price_rules = (price_accelerator,)

    def services(self, env: EnvironmentConfig) -> Sequence[str]:
        return ("elbv2", "globalaccelerator")

    def doctor_checks(self, env: EnvironmentConfig) -> Sequence[DoctorCheck]:
        from staticip.doctor_ingress import ACCELERATOR

        return (DoctorCheck(ACCELERATOR, _accelerator, needs=self.services(env)),)

    @property
    def review_rules(self) -> Sequence[ReviewRule]:
        from staticip.review.rules import accelerator_findings, alb_findings

        return (accelerator_findings, alb_findings)

    def ips_from_aws(
        self,
        report: IpsReport,
        clients: Mapping[str, BaseClient],
        project: str,
        env: EnvironmentConfig,
    ) -> None:
        from staticip.ips import accelerator_ips_from_aws

        accelerator_ips_from_aws(report, clients["globalaccelerator"], project, env)

    def ips_from_outputs(
        self, report: IpsReport, values: Mapping[str, Any], env: EnvironmentConfig
    ) -> None:
        from staticip.ips import accelerator_ips_from_outputs

        accelerator_ips_from_outputs(report, values)

    def build(self, ctx: IngressContext) -> Mapping[str, str]:
        from cdktf import Fn, TerraformOutput
        from cdktf_cdktf_provider_aws.provider import AwsProvider

        from stacks.environment import provider_credentials
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
