"""Every rule `staticip review` runs over a plan: the common ones and each registered mode's.

The modes' rules are listed in `staticip/modes/<mode>/rules.py` by mode label and looked up
here for every mode of the registry, so a registered mode without an entry is an error, not a
mode silently left unreviewed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from staticip import modes
from staticip.modes.eni_eip.rules import RULES as ENI_EIP
from staticip.modes.global_accelerator.rules import RULES as GLOBAL_ACCELERATOR
from staticip.modes.nat_gateway.rules import RULES as NAT_GATEWAY
from staticip.modes.nat_instance.rules import RULES as NAT_INSTANCE
from staticip.modes.nlb_eip.rules import RULES as NLB_EIP
from staticip.review.model import Finding
from staticip.review.plans import PlanView
from staticip.review.rules import COMMON_RULES, ReviewRule

MODE_RULES: Mapping[str, Sequence[ReviewRule]] = {
    **NAT_GATEWAY,
    **NAT_INSTANCE,
    **ENI_EIP,
    **GLOBAL_ACCELERATOR,
    **NLB_EIP,
}


def review_rules() -> tuple[ReviewRule, ...]:
    """Every registered mode's review rules, each once, in the registry's order."""
    return tuple(
        dict.fromkeys(
            rule
            for mode in modes.all_modes()
            for rule in modes.lookup(MODE_RULES, mode, "review rules")
        )
    )


def findings(plan: PlanView) -> list[Finding]:
    """Every finding of the common rules and of every registered mode's rules for one plan,
    unsorted. A plan does not say which mode made it, and a mode change plans the old mode's
    resources away and the new one's in, so every mode's rules read it."""
    return [f for rule in (*COMMON_RULES, *review_rules()) for f in rule(plan)]
