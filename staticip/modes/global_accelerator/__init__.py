"""`ingress = "global-accelerator"`: two static anycast IPs in front of an ALB whose target is
the webhook function.

Here the declaration and its price rule; `checks.py` holds what `staticip doctor` checks and
`rules.py` the `staticip review` rules; `staticip.ips` reads the accelerator's addresses; the
construct is `stacks/global_accelerator.py`, built by `stacks/modes.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from staticip.cost_items import LineItem
from staticip.modes.base import ALB_KEYS, IngressMode

if TYPE_CHECKING:
    from staticip.config import EnvironmentConfig
    from staticip.prices import Prices


def price_accelerator(resources: Mapping[str, Any], prices: Prices) -> list[LineItem]:
    """Hourly per accelerator (its two anycast IPs included), and the DT-Premium per GB."""
    accelerators = len(resources.get("aws_globalaccelerator_accelerator", {}))
    if not accelerators:
        return []
    return [
        LineItem(
            "Global Accelerator",
            accelerators,
            accelerators * prices.monthly(prices.global_accelerator_per_hour),
            prices.global_accelerator_per_gb,
            f"per-GB: DT-Premium {prices.global_accelerator_route}; 2 anycast IPs included",
        )
    ]


class GlobalAccelerator(IngressMode):
    name = "global-accelerator"
    summary = "two static anycast IPs (Global Accelerator) in front of an ALB"
    keys = ALB_KEYS
    min_azs = 2
    min_azs_reason = "an ALB needs subnets in at least 2 AZs; use 2 or more"
    price_rules = (price_accelerator,)

    def services(self, env: EnvironmentConfig) -> Sequence[str]:
        return ("elbv2", "globalaccelerator")
