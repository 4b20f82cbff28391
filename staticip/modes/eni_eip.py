"""`egress = "eni-eip"`: the function in public subnets, an EIP on each Hyperplane ENI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from staticip.modes.base import DoctorCheck, DoctorContext, EgressMode, Option, ReviewRule
from staticip.names import PUBLIC_TIER

if TYPE_CHECKING:
    from stacks.mode_context import EgressContext
    from staticip.config import EnvironmentConfig
    from staticip.findings import Finding
    from staticip.prices import Prices


def _enis(ctx: DoctorContext) -> list[Finding]:
    from staticip.doctor_egress import check_enis

    fn = ctx.facts["function"]
    if not fn.found:
        return []
    return check_enis(ctx.clients["ec2"], ctx.env, fn, ctx.facts["eips"])


def _guard(ctx: DoctorContext) -> list[Finding]:
    from staticip.doctor_egress import check_eni_guard

    return check_eni_guard(ctx.clients["cloudwatch"], ctx.project, ctx.env)


def _guard_concurrency(ctx: DoctorContext) -> list[Finding]:
    from staticip.doctor_egress import check_guard_concurrency

    return check_guard_concurrency(ctx.clients["lambda"], ctx.project, ctx.env)


def _trail(ctx: DoctorContext) -> list[Finding]:
    from staticip.doctor_egress import check_cloudtrail

    cloudtrail = ctx.clients["cloudtrail"]
    return check_cloudtrail(cloudtrail, ctx.env, cloudtrail.meta.region_name or ctx.env.region)


class EniEip(EgressMode):
    name = "eni-eip"
    summary = "dev trick: function in public subnets, one EIP per Hyperplane ENI, no NAT"
    keys = {"eni_guard": "the ENI guard that re-attaches the EIPs (on by default)"}
    subnet_tier = PUBLIC_TIER

    def services(self, env: EnvironmentConfig) -> Sequence[str]:
        return ("cloudwatch", "cloudtrail") if env.eni_guard.enabled else ()

    def doctor_checks(self, env: EnvironmentConfig) -> Sequence[DoctorCheck]:
        from staticip.doctor_egress import ENI, GUARD, GUARD_CONCURRENCY, TRAIL

        checks = [DoctorCheck(ENI, _enis)]
        if env.eni_guard.enabled:
            checks += [
                DoctorCheck(GUARD, _guard, needs=("cloudwatch",)),
                DoctorCheck(TRAIL, _trail, needs=("cloudtrail",)),
            ]
        if env.eni_guard.enabled and env.eni_guard.reserved_concurrency:
            checks.append(DoctorCheck(GUARD_CONCURRENCY, _guard_concurrency, needs=("lambda",)))
        return checks

    @property
    def review_rules(self) -> Sequence[ReviewRule]:
        from staticip.review.rules import eni_rotation_findings

        return (eni_rotation_findings,)

    def cost_option(self, az_count: int, prices: Prices) -> Option:
        return Option(
            self.label,
            az_count * prices.monthly(prices.public_ipv4_per_hour),
            0.0,
            f"{az_count} EIPs on Lambda ENIs; no NAT; breaks when Lambda recycles an ENI",
        )

    def build(self, ctx: EgressContext) -> None:
        from cdktf_cdktf_provider_external.provider import ExternalProvider

        from stacks.eni_eip import EniEipAssociations, EniEipProps
        from stacks.eni_guard import EniGuard, EniGuardProps
        from stacks.environment import resolver_credentials

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
