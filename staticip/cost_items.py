"""What pricing returns: a stack's line items and the egress options with their crossings.

Plain data and no imports of the project: the mode declarations' price rules and cost lines
(`staticip.modes`) build them without importing `staticip.cost`, which reads the registry,
and `cost_chart` draws them without importing `cost`. `staticip.cost` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineItem:
    """One priced kind of resource of a stack."""

    item: str
    quantity: int
    fixed_monthly: float
    """For the whole quantity."""
    per_gb: float
    """Per GB of traffic through the environment (not multiplied by quantity: the traffic is
    split between, say, the NAT Gateways, and each GB is processed once)."""
    note: str = ""


@dataclass(frozen=True)
class Option:
    """One way to get static egress IPs, as a cost line: `fixed_monthly + per_gb * x`."""

    name: str
    fixed_monthly: float
    per_gb: float
    description: str = ""

    def at(self, gb_per_month: float) -> float:
        """Monthly cost at `gb_per_month` GB of traffic."""
        return self.fixed_monthly + self.per_gb * gb_per_month


@dataclass(frozen=True)
class Crossover:
    """Below `gb_per_month`, `cheaper_below` costs less; above it, `cheaper_above` does."""

    cheaper_below: str
    cheaper_above: str
    gb_per_month: float
    monthly_cost: float
    """What both cost at the crossing."""


@dataclass(frozen=True)
class Alternatives:
    """The egress options for one AZ count and where their lines cross."""

    az_count: int
    environments: list[str]
    current: dict[str, str]
    """Environment -> the option it uses."""
    options: list[Option]
    crossovers: list[Crossover]
