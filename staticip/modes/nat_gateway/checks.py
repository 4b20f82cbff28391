"""What `staticip doctor` checks for `egress = "nat-gateway"`: the gateways (zonal, or the
regional one) holding the allow-listed EIPs, then each function subnet's route through them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from staticip.doctor_context import DoctorCheck, DoctorContext, ModeChecks
from staticip.doctor_egress import (
    NAT,
    ROUTE,
    check_nat_gateways,
    check_regional_nat_gateway,
    check_routes,
)
from staticip.modes.nat_gateway import PerAzNatGateway, RegionalNatGateway, SingleNatGateway

if TYPE_CHECKING:
    from staticip.config import EnvironmentConfig
    from staticip.findings import Finding


def _routes(ctx: DoctorContext) -> list[Finding]:
    fn = ctx.facts["function"]
    if not fn.found:
        return []
    return check_routes(ctx.clients["ec2"], ctx.env, fn, ctx.facts.get("nat_ips", {}))


def _nat_check(
    check: Callable[..., tuple[list[Finding], Any]],
) -> Callable[[DoctorContext], list[Finding]]:
    """The layout's gateway check, leaving the gateways' addresses for `_routes`."""

    def run(ctx: DoctorContext) -> list[Finding]:
        found, ctx.facts["nat_ips"] = check(
            ctx.clients["ec2"], ctx.project, ctx.env, ctx.facts["eips"], ctx.facts["subnet_az"]
        )
        return found

    return run


def _checks(check: Callable[..., tuple[list[Finding], Any]]) -> ModeChecks:
    def doctor_checks(env: EnvironmentConfig) -> Sequence[DoctorCheck]:
        return (DoctorCheck(NAT, _nat_check(check)), DoctorCheck(ROUTE, _routes))

    return doctor_checks


CHECKS: Mapping[str, ModeChecks] = {
    PerAzNatGateway().label: _checks(check_nat_gateways),
    SingleNatGateway().label: _checks(check_nat_gateways),
    RegionalNatGateway().label: _checks(check_regional_nat_gateway),
}
