"""Facts about synthesized stacks, read back from `cdktf.out/stacks/<env>/cdk.tf.json`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from staticip.config import Config

#: A Global Accelerator gets two static anycast IPv4 addresses.
ADDRESSES_PER_ACCELERATOR = 2


def load_stack(outdir: Path, name: str) -> dict[str, Any]:
    return json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())


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


def summarize(config: Config, outdir: Path) -> list[StackSummary]:
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
            )
        )
    return rows
