"""What `staticip doctor` reports: one finding per fact, with a severity and, for problems,
the fix."""

from __future__ import annotations

from dataclasses import dataclass

OK = "ok"
INFO = "info"
WARNING = "warning"
ERROR = "error"
#: Severities that make `doctor` exit 1.
PROBLEMS = frozenset({WARNING, ERROR})


@dataclass(frozen=True)
class Finding:
    """`severity` is ok, info (harmless, worth knowing), warning (not healthy yet, often
    transient) or error; `check` groups findings (function, vpc-config, eni, eip, nat, route,
    accelerator, listener, endpoint, alb, target; nlb, ingress-eip, nlb-target for nlb-eip;
    canary, the egress canary's last result per AZ);
    `subject` is the resource it is about."""

    severity: str
    check: str
    subject: str
    what: str
    fix: str | None = None

    @property
    def is_problem(self) -> bool:
        return self.severity in PROBLEMS
