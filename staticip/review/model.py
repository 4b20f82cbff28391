"""The review's vocabulary: severities, plan actions, and the report model."""

from __future__ import annotations

import re
from dataclasses import dataclass

from staticip.result import EXIT_OK, EXIT_PROBLEM

FORMATS = ("markdown", "json")

BLOCKER = "blocker"
WARNING = "warning"
NOTE = "note"

CREATE = "create"
UPDATE = "update"
REPLACE = "replace"
DELETE = "delete"
NO_OP = "no-op"
READ = "read"
FORGET = "forget"
#: The actions counted in the summary, in its column order.
COUNTED = {CREATE: "add", UPDATE: "change", REPLACE: "replace", DELETE: "destroy"}

#: Only Terraform's JSON plan format 1.x is understood (its major version changes only for
#: incompatible changes; the format's documentation says to reject other majors).
SUPPORTED_FORMAT_MAJOR = "1"
#: `ENV=PATH` names the environment explicitly; the name follows staticip.toml's rule.
_NAMED_ARGUMENT = re.compile(r"^([a-z][a-z0-9-]{0,30})=(.+)$")
#: Rows of the resource list per environment; a PR comment is limited to 65,536 characters.
MAX_RESOURCE_ROWS = 150


class PlanError(ValueError):
    """An input that is not a readable Terraform JSON plan; `str()` is one line for the user."""


# --- the review model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One resource instance Terraform will act on."""

    address: str
    type: str
    action: str
    """create, update, replace, delete, forget (or Terraform's actions joined by '+')."""
    reason: str | None = None
    """Terraform's `action_reason`, e.g. replace_because_cannot_update."""
    replace_paths: tuple[str, ...] = ()
    """The attributes that force a replacement, as dotted paths."""
    deposed: bool = False


@dataclass(frozen=True)
class Finding:
    """One static-IP consequence of a plan."""

    severity: str
    """blocker, warning or note."""
    code: str
    """Stable identifier, e.g. `eip-released`, for tooling and tests."""
    address: str
    message: str
    ips: tuple[str, ...] = ()
    """The allow-listed addresses concerned, where the plan knows them."""
    acknowledged: bool = False
    """A blocker accepted with --allow-ip-change (reported, exit code 0)."""


@dataclass(frozen=True)
class CostChange:
    """Fixed monthly cost (and per-GB rate) of what is in the state now and after the apply."""

    currency: str
    fixed_monthly_before: float
    fixed_monthly_after: float | None
    """None when the plan failed: its planned values are partial."""
    per_gb_before: float
    per_gb_after: float | None
    items_before: dict[str, int]
    """Priced item -> quantity, e.g. {"NAT Gateway": 2}."""
    items_after: dict[str, int] | None
    notes: tuple[str, ...] = ()

    @property
    def delta(self) -> float | None:
        if self.fixed_monthly_after is None:
            return None
        return self.fixed_monthly_after - self.fixed_monthly_before


@dataclass(frozen=True)
class EnvironmentReview:
    """The review of one environment's plan."""

    environment: str
    source: str
    terraform_version: str | None
    errored: bool
    counts: dict[str, int]
    """add, change, replace, destroy (a replacement counts once, under replace)."""
    changes: list[Change]
    unchanged: int
    findings: list[Finding]
    cost: CostChange

    def of(self, severity: str, *, acknowledged: bool | None = None) -> list[Finding]:
        return [
            f
            for f in self.findings
            if f.severity == severity and (acknowledged is None or f.acknowledged == acknowledged)
        ]


@dataclass(frozen=True)
class Review:
    """Every environment's review and what it means for the merge."""

    environments: list[EnvironmentReview]
    allow_ip_change: bool = False

    @property
    def blockers(self) -> list[tuple[str, Finding]]:
        """Blockers not acknowledged: each one fails the check."""
        return [
            (env.environment, f)
            for env in self.environments
            for f in env.of(BLOCKER, acknowledged=False)
        ]

    @property
    def exit_code(self) -> int:
        return EXIT_PROBLEM if self.blockers else EXIT_OK
