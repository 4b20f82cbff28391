"""The `staticip review` rules for `ingress = "global-accelerator"`: the accelerator replaced
or destroyed (its two anycast IPs change), and the ALB behind it. They live with the common
rules (`staticip.review.rules`), whose ALB logic the nlb-eip mode shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from staticip.modes.global_accelerator import GlobalAccelerator
from staticip.review.rules import ReviewRule, accelerator_findings, alb_findings

RULES: Mapping[str, Sequence[ReviewRule]] = {
    GlobalAccelerator().label: (accelerator_findings, alb_findings),
}
