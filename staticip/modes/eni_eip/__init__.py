"""`egress = "eni-eip"`: the function in public subnets, an EIP on each Hyperplane ENI.

Here the declaration; `checks.py` holds what `staticip doctor` checks and `rules.py` the
`staticip review` rules; the constructs are `stacks/eni_eip.py` and `stacks/eni_guard.py`,
built by `stacks/modes.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from staticip.modes.base import EgressMode, Option
from staticip.names import PUBLIC_TIER

if TYPE_CHECKING:
    from staticip.config import EnvironmentConfig
    from staticip.prices import Prices


class EniEip(EgressMode):
    name = "eni-eip"
    summary = "dev trick: function in public subnets, one EIP per Hyperplane ENI, no NAT"
    keys = {"eni_guard": "the ENI guard that re-attaches the EIPs (on by default)"}
    subnet_tier = PUBLIC_TIER

    def services(self, env: EnvironmentConfig) -> Sequence[str]:
        return ("cloudwatch", "cloudtrail") if env.eni_guard.enabled else ()

    def cost_option(self, az_count: int, prices: Prices) -> Option:
        return Option(
            self.label,
            az_count * prices.monthly(prices.public_ipv4_per_hour),
            0.0,
            f"{az_count} EIPs on Lambda ENIs; no NAT; breaks when Lambda recycles an ENI",
        )
