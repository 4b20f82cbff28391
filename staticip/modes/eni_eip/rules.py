"""The `staticip review` rule for `egress = "eni-eip"`: what moves the function to new
Hyperplane ENIs (which have no EIP until the associations are redone). It lives with the
common rules (`staticip.review.rules`), whose EIP-association logic it shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from staticip.modes.eni_eip import EniEip
from staticip.review.rules import ReviewRule, eni_rotation_findings

RULES: Mapping[str, Sequence[ReviewRule]] = {EniEip().label: (eni_rotation_findings,)}
