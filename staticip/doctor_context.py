"""What a mode's doctor checks are made of (`staticip/modes/<mode>/checks.py`), apart from
`staticip.doctor`, which runs them: the checks import this, and `doctor` imports the checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from staticip.findings import Finding

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from staticip.config import EnvironmentConfig


@dataclass(frozen=True)
class DoctorContext:
    """What a mode's doctor checks get: the AWS clients the mode asked for (`services`, by
    service name), and the facts the shared egress checks already gathered."""

    project: str
    env: EnvironmentConfig
    clients: Mapping[str, BaseClient]
    facts: dict[str, Any] = field(default_factory=dict)
    """Egress only: `eips` (the allow-listed EIPs found), `function` (`FunctionFacts`),
    `subnet_az` (function subnet ID -> AZ)."""


@dataclass(frozen=True)
class DoctorCheck:
    """One named doctor check; `run` raising a botocore error becomes an error finding under
    `name`, so the other checks still run."""

    name: str
    run: Callable[[DoctorContext], list[Finding]]
    needs: Sequence[str] = ("ec2",)
    """The services whose clients `run` uses (from `DoctorContext.clients`)."""


ModeChecks = Callable[["EnvironmentConfig"], Sequence[DoctorCheck]]
"""A mode's checks for an environment, in order; they share `DoctorContext.facts`."""
