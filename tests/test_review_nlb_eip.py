"""`staticip review` rules of the nlb-eip ingress mode (`nlb_findings`), on plans built here in
the shape `terraform show -json` gives for the hashicorp/aws 6.x schema (`subnet_mapping`
blocks with `allocation_id`, an `alb` target group with the ALB attached), as in
test_review_regional.py: the committed real plans have no nlb-eip environment."""

from __future__ import annotations

from typing import Any

from staticip.modes.nlb_eip.rules import nlb_findings
from staticip.prices import load_prices
from staticip.review.command import BLOCKER, WARNING, review_plan
from staticip.review.plans import PlanView

ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
NLB = "aws_lb.ingress_nlb_1A2B3C4D"
ALB = "aws_lb.ingress_alb_A9A82B87"
NLB_GROUP = "aws_lb_target_group.ingress_nlb-80_5E6F7A8B"
NLB_ATTACHMENT = "aws_lb_target_group_attachment.ingress_nlb-80-alb_9C0D1E2F"
EIP = {
    "us-east-1a": "aws_eip.ingress-ips_eip-us-east-1a_11111111",
    "us-east-1b": "aws_eip.ingress-ips_eip-us-east-1b_22222222",
}
ALLOC = {"us-east-1a": "eipalloc-0aaaaaaaaaaaaaaa1", "us-east-1b": "eipalloc-0bbbbbbbbbbbbbbb2"}
IP = {"us-east-1a": "198.51.100.11", "us-east-1b": "198.51.100.12"}
SUBNET = {"us-east-1a": "subnet-0aaaaaaaaaaaaaaa1", "us-east-1b": "subnet-0bbbbbbbbbbbbbbb2"}
NLB_ARN = f"{ELB}:loadbalancer/net/staticip-edge/0123456789abcdef"
ALB_ARN = f"{ELB}:loadbalancer/app/staticip-edge/fedcba9876543210"
GROUP_ARN = f"{ELB}:targetgroup/staticip-edge-nlb-80/0000000000000080"
TAGS = {"environment": "edge", "project": "staticip"}


def mapping(az: str, **overrides: Any) -> dict[str, Any]:
    return {
        "allocation_id": ALLOC[az],
        "ipv6_address": "",
        "outpost_id": "",
        "private_ipv4_address": "",
        "subnet_id": SUBNET[az],
    } | overrides


NLB_BEFORE = {
    "arn": NLB_ARN,
    "id": NLB_ARN,
    "name": "staticip-edge",
    "load_balancer_type": "network",
    "internal": False,
    "dns_name": "staticip-edge-0123456789abcdef.elb.us-east-1.amazonaws.com",
    "enable_deletion_protection": False,
    "security_groups": ["sg-0123456789abcdef0"],
    "subnet_mapping": [mapping(az) for az in sorted(ALLOC)],
    "tags_all": TAGS,
}
ALB_BEFORE = {
    "arn": ALB_ARN,
    "id": ALB_ARN,
    "name": "staticip-edge",
    "load_balancer_type": "application",
    "internal": True,
    "enable_deletion_protection": True,
    # An ALB's subnet mappings carry no allocation: "" in the plan.
    "subnet_mapping": [mapping(az, allocation_id="") for az in sorted(ALLOC)],
    "tags_all": TAGS,
}


def eip_before(az: str) -> dict[str, Any]:
    return {
        "id": ALLOC[az],
        "allocation_id": ALLOC[az],
        "public_ip": IP[az],
        "tags": {
            "staticip:allow-listed": "true",
            "staticip:az": az,
            "staticip:direction": "ingress",
        },
        "tags_all": TAGS,
    }


def change(
    address: str,
    actions: list[str],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    rtype, name = address.split(".", 1)
    if after is None and actions in (["no-op"], ["update"]):
        after = before
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "change": {"actions": actions, "before": before, "after": after},
    } | extra


def environment(**replacements: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource of a deployed nlb-eip environment unchanged (no-op), except those given
    by address."""
    unchanged = [
        change(NLB, ["no-op"], NLB_BEFORE),
        change(ALB, ["no-op"], ALB_BEFORE),
        *(change(EIP[az], ["no-op"], eip_before(az)) for az in sorted(EIP)),
        change(
            NLB_GROUP,
            ["no-op"],
            {"arn": GROUP_ARN, "target_type": "alb", "protocol": "TCP", "port": 80},
        ),
        change(
            NLB_ATTACHMENT,
            ["no-op"],
            {"target_group_arn": GROUP_ARN, "target_id": ALB_ARN, "port": 80},
        ),
    ]
    return [replacements.get(rc["address"], rc) for rc in unchanged]


def document(changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format_version": "1.2", "resource_changes": changes}


def rules(changes: list[dict[str, Any]]) -> list[Any]:
    return nlb_findings(PlanView(document(changes)))


def review(changes: list[dict[str, Any]]) -> list[Any]:
    """The whole review: the common rules (the EIP blocker among them) and every mode's."""
    return review_plan("edge", document(changes), load_prices()).findings


def test_a_plan_that_changes_nothing_has_no_finding() -> None:
    assert rules(environment()) == []
    assert review(environment()) == []


def test_an_nlb_replaced_for_its_subnet_mapping_says_why_and_in_which_order() -> None:
    after = NLB_BEFORE | {
        "arn": None,
        "id": None,
        "subnet_mapping": [
            mapping("us-east-1a"),
            mapping("us-east-1b", subnet_id="subnet-0ccccccccccccccc3"),
        ],
    }
    replaced = change(
        NLB,
        ["delete", "create"],
        NLB_BEFORE,
        after,
        action_reason="replace_because_cannot_update",
    )
    replaced["change"]["replace_paths"] = [["subnet_mapping"]]

    (finding,) = rules(environment(**{NLB: replaced}))

    assert (finding.severity, finding.code, finding.address) == (WARNING, "nlb-replaced", NLB)
    assert finding.ips == (IP["us-east-1a"], IP["us-east-1b"])
    message = finding.message
    assert "(forced by subnet_mapping)" in message
    assert "loses or changes a mapping" in message and "adding AZs" in message
    assert f"the Elastic IPs ({IP['us-east-1a']}, {IP['us-east-1b']}) stay allocated" in message
    assert "cannot take the EIPs while the old one holds them" in message
    assert "destroys the old one first" in message
    assert NLB_BEFORE["dns_name"] in message and "ingress_dns_name" in message
    assert "Deletion protection" not in message


def test_an_nlb_replaced_create_before_destroy_fails_at_the_apply() -> None:
    replaced = change(NLB, ["create", "delete"], NLB_BEFORE, NLB_BEFORE | {"arn": None})

    (finding,) = rules(environment(**{NLB: replaced}))

    assert finding.code == "nlb-replaced"
    assert "create_before_destroy" in finding.message and "apply fails" in finding.message


def test_a_destroyed_nlb_with_deletion_protection_warns_of_both() -> None:
    destroyed = change(NLB, ["delete"], NLB_BEFORE | {"enable_deletion_protection": True})

    (finding,) = rules(environment(**{NLB: destroyed}))

    assert (finding.severity, finding.code) == (WARNING, "nlb-destroyed")
    assert finding.ips == (IP["us-east-1a"], IP["us-east-1b"])
    assert "stay allocated" in finding.message and "reach nothing" in finding.message
    assert "Deletion protection is on" in finding.message


def test_releasing_an_ingress_eip_is_the_generic_blocker() -> None:
    az = "us-east-1b"
    changes = environment(
        **{
            NLB: change(NLB, ["delete"], NLB_BEFORE),
            EIP[az]: change(EIP[az], ["delete"], eip_before(az)),
        }
    )

    blockers = [f for f in review(changes) if f.severity == BLOCKER]
    (nlb,) = rules(changes)

    assert [(f.code, f.address, f.ips) for f in blockers] == [("eip-released", EIP[az], (IP[az],))]
    assert f"also releases {IP[az]} (see the blockers)" in nlb.message


def test_the_alb_behind_the_nlb_replaced_is_an_ingress_gap() -> None:
    replaced = change(
        ALB,
        ["delete", "create"],
        ALB_BEFORE,
        ALB_BEFORE | {"arn": None, "internal": True},
        action_reason="replace_because_cannot_update",
    )
    replaced["change"]["replace_paths"] = [["internal"]]
    attachment = change(
        NLB_ATTACHMENT,
        ["delete", "create"],
        {"target_group_arn": GROUP_ARN, "target_id": ALB_ARN, "port": 80},
        {"target_group_arn": GROUP_ARN, "target_id": None, "port": 80},
    )

    changes = environment(**{ALB: replaced, NLB_ATTACHMENT: attachment})
    (finding,) = rules(changes)

    assert (finding.severity, finding.code, finding.address) == (WARNING, "alb-replaced", ALB)
    assert finding.ips == (IP["us-east-1a"], IP["us-east-1b"])
    assert "behind the NLB" in finding.message and "(forced by internal)" in finding.message
    assert "Deletion protection is on" in finding.message
    # Without an accelerator in the plan the Global Accelerator rule says nothing of it: the
    # review, which runs every mode's rules, reports the gap once.
    assert [f.code for f in review(changes)] == ["alb-replaced"]


def test_an_alb_not_yet_serving_the_nlb_is_not_a_gap() -> None:
    """A mode change to nlb-eip: the target group and its attachment are new, so the NLB sent
    no webhooks to the ALB being replaced."""
    changes = [
        change(NLB, ["create"], None, NLB_BEFORE | {"arn": None}),
        change(ALB, ["delete", "create"], ALB_BEFORE, ALB_BEFORE | {"arn": None}),
        change(NLB_GROUP, ["create"], None, {"arn": None, "target_type": "alb"}),
        change(NLB_ATTACHMENT, ["create"], None, {"target_group_arn": None, "target_id": None}),
    ]

    assert rules(changes) == []


def test_the_accelerator_rule_leaves_network_load_balancers_to_this_one() -> None:
    accelerator = change(
        "aws_globalaccelerator_accelerator.ingress_accelerator_5833E601",
        ["create"],
        None,
        {"name": "staticip-edge"},
    )
    changes = [accelerator, change(NLB, ["delete"], NLB_BEFORE)]

    assert [f.code for f in rules(changes)] == ["nlb-destroyed"]
    assert sorted(f.code for f in review(changes)) == ["accelerator-created", "nlb-destroyed"]
