"""`staticip review` on a managed prefix list replaced or destroyed. The committed real plans
predate the prefix lists, so these plans are constructed in the shape `terraform show -json`
gives (the same resource_changes fields the other rules read)."""

from __future__ import annotations

from typing import Any

import pytest

from staticip.prices import load_prices
from staticip.review.command import BLOCKER, WARNING, review_plan

ADDRESS = "aws_ec2_managed_prefix_list.egress-prefix-list_5E0AD650"
BEFORE = {
    "id": "pl-0123456789abcdef0",
    "name": "staticip-prod-egress",
    "address_family": "IPv4",
    "max_entries": 2,
    "entry": [
        {"cidr": "203.0.113.10/32", "description": "us-east-1a"},
        {"cidr": "203.0.113.11/32", "description": "us-east-1b"},
    ],
}


def plan_with(actions: list[str], after: dict[str, Any] | None, **change: Any) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": ADDRESS,
                "mode": "managed",
                "type": "aws_ec2_managed_prefix_list",
                "name": "egress-prefix-list_5E0AD650",
                "change": {"actions": actions, "before": BEFORE, "after": after, **change},
            }
        ],
    }


def findings(document: dict[str, Any]) -> list[Any]:
    return review_plan("prod", document, load_prices()).findings


def test_a_replaced_list_warns_that_its_id_changes():
    document = plan_with(
        ["delete", "create"],
        BEFORE | {"name": "acme-prod-egress", "id": None},
        replace_paths=[["name"]],
    )
    (finding,) = findings(document)
    assert (finding.severity, finding.code, finding.address) == (
        WARNING,
        "prefix-list-replaced",
        ADDRESS,
    )
    assert "pl-0123456789abcdef0" in finding.message and "(forced by name)" in finding.message
    assert finding.ips == ("203.0.113.10", "203.0.113.11")


def test_a_destroyed_list_warns_and_is_no_blocker():
    (finding,) = findings(plan_with(["delete"], None))
    assert (finding.severity, finding.code) == (WARNING, "prefix-list-removed")
    assert "IPs themselves are unaffected" in finding.message


@pytest.mark.parametrize("actions", [["update"], ["no-op"], ["create"]])
def test_updating_entries_in_place_says_nothing(actions):
    after = BEFORE | {"max_entries": 3}
    assert [
        f for f in findings(plan_with(actions, after)) if f.severity in (WARNING, BLOCKER)
    ] == []
