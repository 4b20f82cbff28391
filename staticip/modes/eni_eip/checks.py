"""What `staticip doctor` checks for `egress = "eni-eip"`: every Hyperplane ENI holds an
allow-listed EIP, and with the ENI guard its alarm, its CloudTrail source and its
concurrency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from staticip.doctor_context import DoctorCheck, DoctorContext, ModeChecks
from staticip.doctor_egress import (
    ENI,
    GUARD,
    GUARD_CONCURRENCY,
    TRAIL,
    check_cloudtrail,
    check_eni_guard,
    check_enis,
    check_guard_concurrency,
)
from staticip.modes.eni_eip import EniEip

if TYPE_CHECKING:
    from staticip.config import EnvironmentConfig
    from staticip.findings import Finding


def _enis(ctx: DoctorContext) -> list[Finding]:
    fn = ctx.facts["function"]
    if not fn.found:
        return []
    return check_enis(ctx.clients["ec2"], ctx.env, fn, ctx.facts["eips"])


def _guard(ctx: DoctorContext) -> list[Finding]:
    return check_eni_guard(ctx.clients["cloudwatch"], ctx.project, ctx.env)


def _guard_concurrency(ctx: DoctorContext) -> list[Finding]:
    return check_guard_concurrency(ctx.clients["lambda"], ctx.project, ctx.env)


def _trail(ctx: DoctorContext) -> list[Finding]:
    cloudtrail = ctx.clients["cloudtrail"]
    return check_cloudtrail(cloudtrail, ctx.env, cloudtrail.meta.region_name or ctx.env.region)


def doctor_checks(env: EnvironmentConfig) -> Sequence[DoctorCheck]:
    checks = [DoctorCheck(ENI, _enis)]
    if env.eni_guard.enabled:
        checks += [
            DoctorCheck(GUARD, _guard, needs=("cloudwatch",)),
            DoctorCheck(TRAIL, _trail, needs=("cloudtrail",)),
        ]
    if env.eni_guard.enabled and env.eni_guard.reserved_concurrency:
        checks.append(DoctorCheck(GUARD_CONCURRENCY, _guard_concurrency, needs=("lambda",)))
    return checks


CHECKS: Mapping[str, ModeChecks] = {EniEip().label: doctor_checks}
