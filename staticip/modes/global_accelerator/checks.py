"""What `staticip doctor` checks for `ingress = "global-accelerator"`: the accelerator, its
listener and endpoint group, the ALB and its Lambda target (`staticip.doctor_ingress`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from staticip.doctor_context import DoctorCheck, DoctorContext, ModeChecks
from staticip.doctor_ingress import ACCELERATOR, check_global_accelerator
from staticip.modes.global_accelerator import GlobalAccelerator

if TYPE_CHECKING:
    from staticip.config import EnvironmentConfig
    from staticip.findings import Finding


def _accelerator(ctx: DoctorContext) -> list[Finding]:
    clients = ctx.clients
    return check_global_accelerator(
        clients["globalaccelerator"], clients["elbv2"], ctx.project, ctx.env
    )


def doctor_checks(env: EnvironmentConfig) -> Sequence[DoctorCheck]:
    return (DoctorCheck(ACCELERATOR, _accelerator, needs=GlobalAccelerator().services(env)),)


CHECKS: Mapping[str, ModeChecks] = {GlobalAccelerator().label: doctor_checks}
