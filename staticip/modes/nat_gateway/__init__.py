"""`egress = "nat-gateway"`: the function in private subnets behind NAT, in three layouts
chosen by `nat`: `per-az`, `single` and `regional` (one declaration each).

Here the declarations and price rules; `checks.py` holds what `staticip doctor` checks and
`rules.py` the `staticip review` rules; the constructs are `stacks/nat_gateway.py` and
`stacks/regional_nat_gateway.py`, built by `stacks/modes.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from staticip.cost_items import LineItem
from staticip.modes.base import EgressMode, Option

if TYPE_CHECKING:
    from staticip.config import EnvironmentConfig
    from staticip.prices import Prices

# A regional NAT Gateway in auto mode lets AWS allocate addresses of its own under load, so its
# egress IPs are not the allow-listed ones; these spellings get that reason instead of a list.
_AUTO_REASON = (
    "is not offered: an auto-mode regional NAT Gateway adds addresses AWS allocates under load,"
    " which breaks allow-lists; use 'regional' (manual mode, one allow-listed EIP per AZ)"
)


def price_nat_gateways(resources: Mapping[str, Any], prices: Prices) -> list[LineItem]:
    """Zonal NAT Gateways (`per-az`, `single`): hourly each, and data processed per GB."""
    gateways = resources.get("aws_nat_gateway", {}).values()
    nats = sum(1 for nat in gateways if nat.get("availability_mode", "zonal") == "zonal")
    if not nats:
        return []
    return [
        LineItem(
            "NAT Gateway",
            nats,
            nats * prices.monthly(prices.nat_gateway_per_hour),
            prices.nat_gateway_per_gb,
            "per-GB: data processed",
        )
    ]


def price_regional_nat_gateway(resources: Mapping[str, Any], prices: Prices) -> list[LineItem]:
    """A regional NAT Gateway is billed per AZ it is active in; in manual mode that is the
    AZs given an address."""
    regional_azs = sum(
        len(nat.get("availability_zone_address", []))
        for nat in resources.get("aws_nat_gateway", {}).values()
        if nat.get("availability_mode") == "regional"
    )
    if not regional_azs:
        return []
    return [
        LineItem(
            "NAT Gateway (regional), per AZ",
            regional_azs,
            regional_azs * prices.monthly(prices.regional_nat_per_az_hour),
            prices.regional_nat_per_gb,
            "one gateway; per-GB: data processed",
        )
    ]


class _NatGateway(EgressMode):
    name = "nat-gateway"
    variant_key = "nat"
    keys = {"nat": "the NAT layout: per-az (default), single or regional"}
    rejected_variants: Mapping[str, str] = {
        "auto": _AUTO_REASON,
        "regional-auto": _AUTO_REASON,
    }

    def cost_option_name(self, env: EnvironmentConfig) -> str:
        # In one AZ every layout is one gateway and one EIP: the block for one AZ lists only
        # the single NAT (per-az and regional offer no line there).
        return self.label if len(env.azs) > 1 else SingleNatGateway().label

    price_rules = (price_nat_gateways,)


class PerAzNatGateway(_NatGateway):
    variant = "per-az"
    summary = "one NAT Gateway + EIP per AZ; survives an AZ outage"

    def cost_option(self, az_count: int, prices: Prices) -> Option | None:
        if az_count < 2:
            return None  # in one AZ it is the single NAT
        nat = prices.monthly(prices.nat_gateway_per_hour)
        ipv4 = prices.monthly(prices.public_ipv4_per_hour)
        return Option(
            self.label,
            az_count * (nat + ipv4),
            prices.nat_gateway_per_gb,
            f"{az_count} NAT Gateways + {az_count} EIPs; survives an AZ outage",
        )


class SingleNatGateway(_NatGateway):
    variant = "single"
    summary = "one NAT Gateway + EIP for all AZs; egress stops if its AZ fails"

    def static_ip_azs(self, env: EnvironmentConfig) -> tuple[str, ...]:
        # The alphabetically first AZ, so reordering `azs` never moves it.
        return (env.single_nat_az,)

    def cost_option(self, az_count: int, prices: Prices) -> Option:
        nat = prices.monthly(prices.nat_gateway_per_hour)
        return Option(
            self.label,
            nat + prices.monthly(prices.public_ipv4_per_hour),
            prices.nat_gateway_per_gb,
            "1 NAT Gateway + 1 EIP; egress stops if its AZ fails",
        )


class RegionalNatGateway(_NatGateway):
    variant = "regional"
    summary = "one regional NAT Gateway (manual mode) with an allow-listed EIP per AZ"

    price_rules = (price_regional_nat_gateway,)

    def cost_option(self, az_count: int, prices: Prices) -> Option | None:
        if az_count < 2:
            return None
        ipv4 = prices.monthly(prices.public_ipv4_per_hour)
        return Option(
            self.label,
            az_count * (prices.monthly(prices.regional_nat_per_az_hour) + ipv4),
            prices.regional_nat_per_gb,
            f"1 regional NAT Gateway active in {az_count} AZs + {az_count} EIPs; survives"
            " an AZ outage",
        )
