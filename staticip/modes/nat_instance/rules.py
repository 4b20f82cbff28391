"""The `staticip review` rule for `egress = "nat-instance"`: the static ENI, the Auto Scaling
group and the launch template of a NAT AZ replaced, destroyed or changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from staticip.modes.nat_instance import PerAzNatInstance, SingleNatInstance
from staticip.names import NAT_INSTANCE_TAG
from staticip.review.model import BLOCKER as REVIEW_BLOCKER
from staticip.review.model import DELETE, NOTE, REPLACE, UPDATE
from staticip.review.model import WARNING as REVIEW_WARNING
from staticip.review.model import Finding as ReviewFinding
from staticip.review.plans import PlanView
from staticip.review.rules import ReviewRule, ip_of_allocation, replace_why


def _nat_az(values: Mapping[str, Any]) -> str | None:
    """The AZ of a NAT instance resource: its tag (ENIs, launch templates) or its group's."""
    tags = values.get("tags") or {}
    if isinstance(tags, dict) and NAT_INSTANCE_TAG in tags:
        return str(tags[NAT_INSTANCE_TAG])
    for tag in values.get("tag") or []:
        if isinstance(tag, dict) and tag.get("key") == NAT_INSTANCE_TAG:
            return str(tag.get("value"))
    return None


def _eni_ip(plan: PlanView, eni_id: str | None) -> str | None:
    for rc in plan.of_type("aws_eip_association"):
        before = plan.before(rc)
        if eni_id and before.get("network_interface_id") == eni_id:
            return before.get("public_ip") or ip_of_allocation(plan, before.get("allocation_id"))
    return None


def nat_instance_findings(plan: PlanView) -> list[ReviewFinding]:
    """The static ENI replaced or destroyed is a blocker: the running instance loses it and
    only a replacement instance attaches the new one. The Auto Scaling group replaced costs a
    gap of one instance boot; a launch template replaced or changed takes effect with the
    next instance."""
    findings = []
    for rc in plan.changes_of("aws_network_interface", REPLACE, DELETE):
        before = plan.before(rc)
        az = _nat_az(before)
        if az is None:
            continue
        eni_id = before.get("id")
        ip = _eni_ip(plan, eni_id)
        holds = f", which holds {ip}," if ip else ""
        if plan.action(rc) == REPLACE:
            findings.append(
                ReviewFinding(
                    REVIEW_BLOCKER,
                    "nat-eni-replaced",
                    rc["address"],
                    f"The static ENI of {az}'s NAT instance ({eni_id}{holds}) is replaced"
                    f"{replace_why(rc)}: Terraform detaches it from the running instance to "
                    "delete it, and only a new instance attaches the new one at boot, so "
                    f"{az}'s private subnets have no egress after this apply until the "
                    "instance is replaced (terminate it: its group launches one that attaches "
                    "the new ENI, a gap of one boot). The EIP association moves to the new ENI.",
                    (ip,) if ip else (),
                )
            )
        else:
            findings.append(
                ReviewFinding(
                    REVIEW_BLOCKER,
                    "nat-eni-destroyed",
                    rc["address"],
                    f"The static ENI of {az}'s NAT instance ({eni_id}{holds}) is destroyed: "
                    f"{az}'s private subnets lose the target of their default route, and their "
                    "egress, unless this plan routes them elsewhere.",
                    (ip,) if ip else (),
                )
            )
    for rc in plan.changes_of("aws_autoscaling_group", REPLACE, DELETE):
        before = plan.before(rc)
        az = _nat_az(before)
        if az is None:
            continue
        verb = "replaced" if plan.action(rc) == REPLACE else "destroyed"
        after = (
            "a new one boots and attaches the static ENI: no egress from "
            f"{az}'s private subnets for one instance boot (minutes)"
            if verb == "replaced"
            else f"nothing forwards {az}'s traffic any more unless this plan routes it elsewhere"
        )
        findings.append(
            ReviewFinding(
                REVIEW_WARNING,
                f"nat-instance-group-{verb}",
                rc["address"],
                f"The Auto Scaling group of {az}'s NAT instance ({before.get('name', '')}) is "
                f"{verb}{replace_why(rc)}: its instance is terminated with it and {after}; "
                "connections in flight are dropped. The allow-listed EIP stays on the ENI.",
            )
        )
    for rc in plan.changes_of("aws_launch_template", REPLACE, UPDATE):
        before = plan.before(rc)
        az = _nat_az(before)
        if az is None:
            continue
        if plan.action(rc) == REPLACE:
            findings.append(
                ReviewFinding(
                    REVIEW_WARNING,
                    "nat-launch-template-replaced",
                    rc["address"],
                    f"The launch template of {az}'s NAT instance ({before.get('name', '')}) is "
                    f"replaced{replace_why(rc)}: the running instance keeps forwarding, and the "
                    "group launches its next instance from the new template; that replacement "
                    f"is a gap of one instance boot in {az}.",
                )
            )
            continue
        changed = _changed_settings(before, plan.after(rc), plan.unknown(rc))
        findings.append(
            ReviewFinding(
                NOTE,
                "nat-launch-template-changed",
                rc["address"],
                f"The launch template of {az}'s NAT instance changes"
                + (f" ({', '.join(changed)})" if changed else "")
                + ": the running instance is unaffected; the change applies when the group "
                "next replaces it (a gap of one instance boot), or now with `aws autoscaling "
                "start-instance-refresh`.",
            )
        )
    return findings


#: Launch template arguments a review names when they change, with their label.
_TEMPLATE_SETTINGS = {
    "instance_type": "instance type",
    "user_data": "boot script",
    "image_id": "image",
    "iam_instance_profile": "instance profile",
    "network_interfaces": "network interface",
    "metadata_options": "metadata options",
}


def _changed_settings(
    before: Mapping[str, Any], after: Mapping[str, Any], unknown: Mapping[str, Any]
) -> list[str]:
    return [
        label
        for key, label in _TEMPLATE_SETTINGS.items()
        if unknown.get(key) or before.get(key) != after.get(key)
    ]


RULES: Mapping[str, Sequence[ReviewRule]] = {
    PerAzNatInstance().label: (nat_instance_findings,),
    SingleNatInstance().label: (nat_instance_findings,),
}
