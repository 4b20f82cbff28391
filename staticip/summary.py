"""Facts about synthesized stacks, read back from `cdktf.out/stacks/<env>/cdk.tf.json`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from staticip.config import Config
from staticip.cost import fixed_monthly_cost
from staticip.prices import Prices
from staticip.stackfile import load_stack

#: A Global Accelerator gets two static anycast IPv4 addresses.
ADDRESSES_PER_ACCELERATOR = 2


def resources(stack: dict[str, Any], kind: str = "resource") -> dict[str, dict[str, Any]]:
    """`{type: {logical_id: body}}` of a stack's resources (or `kind="data"` sources)."""
    return stack.get(kind, {})


def static_ip_count(stack: dict[str, Any]) -> int:
    """Allow-listed IPs: created EIPs, reused EIPs, and the accelerator's two addresses."""
    res, data = resources(stack), resources(stack, "data")
    return (
        len(res.get("aws_eip", {}))
        + len(data.get("aws_eip", {}))
        + ADDRESSES_PER_ACCELERATOR * len(res.get("aws_globalaccelerator_accelerator", {}))
    )


def resource_count(stack: dict[str, Any]) -> int:
    return sum(len(by_id) for by_id in resources(stack).values())


@dataclass(frozen=True)
class StackSummary:
    environment: str
    region: str
    egress: str
    ingress: str
    static_ips: int
    resources: int
    fixed_usd_per_month: float
    """List-price fixed cost (see `staticip cost` for the breakdown and traffic costs)."""


def summarize(config: Config, outdir: Path, prices: Prices) -> list[StackSummary]:
    rows = []
    for env in config.environments:
        stack = load_stack(outdir, env.name)
        rows.append(
            StackSummary(
                env.name,
                env.region,
                env.egress,
                env.ingress,
                static_ip_count(stack),
                resource_count(stack),
                round(fixed_monthly_cost(stack, prices), 2),
            )
        )
    return rows
