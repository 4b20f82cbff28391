"""The `staticip review` rules for `egress = "nat-gateway"`: a zonal gateway replaced or
removed, and the regional gateway's own. They live with the common rules
(`staticip.review.rules`), whose EIP and route logic they share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from staticip.modes.nat_gateway import PerAzNatGateway, RegionalNatGateway, SingleNatGateway
from staticip.review.rules import ReviewRule, nat_findings, regional_nat_findings

RULES: Mapping[str, Sequence[ReviewRule]] = {
    PerAzNatGateway().label: (nat_findings,),
    SingleNatGateway().label: (nat_findings,),
    RegionalNatGateway().label: (regional_nat_findings,),
}
