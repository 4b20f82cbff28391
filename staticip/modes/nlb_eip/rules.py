"""The `staticip review` rule for `ingress = "nlb-eip"`: the NLB replaced or destroyed, and the
ALB behind its `alb` target group (see the facts in the package's docstring)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from staticip.modes.nlb_eip import NlbEip
from staticip.review.model import DELETE, REPLACE
from staticip.review.model import WARNING as REVIEW_WARNING
from staticip.review.model import Finding as ReviewFinding
from staticip.review.plans import PlanView
from staticip.review.rules import (
    ReviewRule,
    alb_gap_findings,
    deletion_protection_note,
    ip_of_allocation,
    replace_why,
)

#: What lets the NLB's delete go through when deletion protection is on: the ALB's key
#: covers the NLB too (stacks/nlb_eip_ingress.py).
NLB_DELETION_PROTECTION_OFF = "alb_deletion_protection = false is deployed first"


def nlb_findings(plan: PlanView) -> list[ReviewFinding]:
    """An NLB replaced or destroyed (`nlb-replaced`, `nlb-destroyed`), and the ALB behind an
    `alb` target group replaced or destroyed (`alb-replaced`, `alb-destroyed`): warnings, the
    ingress stops for a while. The EIPs' own release is `eip-released`/`eip-replaced`, a
    blocker, from the generic EIP rule."""
    return _nlb_change_findings(plan) + _alb_behind_nlb_findings(plan)


def _nlb_allocations(values: Mapping[str, Any]) -> list[str]:
    """The allocation IDs of an `aws_lb`'s `subnet_mapping` blocks (an ALB's are "")."""
    return [
        str(mapping["allocation_id"])
        for mapping in values.get("subnet_mapping") or []
        if isinstance(mapping, dict) and mapping.get("allocation_id")
    ]


def _released(plan: PlanView, allocation: str) -> bool:
    """Whether the plan destroys or replaces the `aws_eip` of `allocation`."""
    return any(
        plan.before(rc).get("allocation_id") == allocation
        for rc in plan.changes_of("aws_eip", REPLACE, DELETE)
    )


def _nlb_change_findings(plan: PlanView) -> list[ReviewFinding]:
    findings = []
    for rc in plan.changes_of("aws_lb", REPLACE, DELETE):
        before = plan.before(rc)
        if before.get("load_balancer_type") != "network":
            continue
        name = before.get("name") or before.get("id", "")
        allocations = _nlb_allocations(before)
        ips = tuple(ip for a in allocations if (ip := ip_of_allocation(plan, a)))
        shown = ", ".join(ips) or ", ".join(allocations) or "its Elastic IPs"
        released = [ip_of_allocation(plan, a) or a for a in allocations if _released(plan, a)]
        if released:
            fate = f"this plan also releases {', '.join(released)} (see the blockers)"
        else:
            fate = f"the Elastic IPs ({shown}) stay allocated"
        if plan.action(rc) == REPLACE:
            code = "nlb-replaced"
            message = (
                f"NLB {name} is replaced{replace_why(rc)}: {fate}, but webhooks to them fail "
                "from the old NLB's deletion until the new one holds them and is active "
                f"(minutes). {_order(rc)}{_subnet_mapping_why(rc)}"
            )
            dns = before.get("dns_name")
            if dns:
                message += (
                    f" Its DNS name {dns} changes too (output ingress_dns_name): vendors that "
                    "call the name rather than the IPs need the new one."
                )
        else:
            code = "nlb-destroyed"
            message = f"NLB {name} is destroyed: webhooks to {shown} fail; {fate}" + (
                "." if released else ", and reach nothing until an NLB holds them again."
            )
        message += deletion_protection_note(before, NLB_DELETION_PROTECTION_OFF)
        findings.append(ReviewFinding(REVIEW_WARNING, code, rc["address"], message, ips))
    return findings


def _subnet_mapping_why(rc: Mapping[str, Any]) -> str:
    paths = rc["change"].get("replace_paths") or []
    if not any(path and path[0] == "subnet_mapping" for path in paths):
        return ""
    return (
        " The AWS provider replaces an NLB whose subnet_mapping loses or changes a mapping (an "
        "AZ removed, another subnet or EIP in one): AWS cannot change an NLB's Elastic IPs. "
        "Only adding AZs, the other mappings unchanged, is done in place."
    )


def _order(rc: Mapping[str, Any]) -> str:
    """What the replacement order does: an EIP sits on one load balancer at a time."""
    if rc["change"].get("actions", [])[:1] == ["create"]:
        return (
            "This replacement is create_before_destroy: the new NLB asks for Elastic IPs the "
            "old one still holds, which AWS refuses, so the apply fails; remove "
            "create_before_destroy from the NLB."
        )
    return (
        "The new NLB cannot take the EIPs while the old one holds them, so Terraform destroys "
        "the old one first (its default order for a replacement), then creates the new one."
    )


def _alb_behind_nlb_findings(plan: PlanView) -> list[ReviewFinding]:
    """The ALB registered in an `alb` target group: the NLB forwards the webhooks to it."""
    groups = {
        plan.before(rc).get("arn")
        for rc in plan.of_type("aws_lb_target_group")
        if plan.before(rc).get("target_type") == "alb"
    }
    groups.discard(None)
    if not groups:
        return []
    # Only an attachment that exists now serves webhooks: a new one (after a mode change)
    # has no traffic to lose.
    served = {
        plan.before(rc).get("target_id")
        for rc in plan.of_type("aws_lb_target_group_attachment")
        if plan.before(rc).get("target_group_arn") in groups
    }
    ips = tuple(
        ip
        for rc in plan.of_type("aws_lb")
        if plan.before(rc).get("load_balancer_type") == "network"
        for a in _nlb_allocations(plan.before(rc))
        if (ip := ip_of_allocation(plan, a))
    )
    return alb_gap_findings(
        plan,
        {arn for arn in served if arn},
        front="the NLB",
        stays=f"the NLB's Elastic IPs ({', '.join(ips) or 'unchanged'})",
        until=(
            "the new ALB is registered in the NLB's alb target group and passes its health checks"
        ),
        ips=ips,
    )


RULES: Mapping[str, Sequence[ReviewRule]] = {NlbEip().label: (nlb_findings,)}
