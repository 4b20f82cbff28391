"""`staticip review` on a regional NAT Gateway (`nat = "regional"`). The committed real plans
come from the mirror's hashicorp/aws 5.100.0, which predates `availability_mode` (6.24.0), so
these plans are constructed in the shape `terraform show -json` gives for the 6.25.0 schema
(`availability_zone_address`, `regional_nat_gateway_address`), as in test_review_prefix_list."""

from __future__ import annotations

from typing import Any

from staticip.prices import load_prices
from staticip.review.command import BLOCKER, WARNING, review_plan

NAT = "aws_nat_gateway.nat_nat-regional_7F157404"
EIP_B = "aws_eip.egress-ips_eip-us-east-1b_0C9F3F11"
ALLOC = {"us-east-1a": "eipalloc-0aaaaaaaaaaaaaaa1", "us-east-1b": "eipalloc-0bbbbbbbbbbbbbbb2"}
IP = {"us-east-1a": "198.51.100.1", "us-east-1b": "198.51.100.2"}
BEFORE = {
    "id": "nat-0123456789abcdef0",
    "availability_mode": "regional",
    "connectivity_type": "public",
    "vpc_id": "vpc-0123456789abcdef0",
    "subnet_id": "",
    "allocation_id": None,
    "public_ip": "",
    "availability_zone_address": [
        {"allocation_ids": [ALLOC[az]], "availability_zone": az, "availability_zone_id": ""}
        for az in sorted(ALLOC)
    ],
    "regional_nat_gateway_address": [
        {"allocation_id": ALLOC[az], "availability_zone": az, "public_ip": IP[az]}
        for az in sorted(ALLOC)
    ],
    "tags": {"Name": "staticip-prod-regional"},
}


def nat_change(actions: list[str], after: dict[str, Any] | None, **change: Any) -> dict:
    return {
        "address": NAT,
        "mode": "managed",
        "type": "aws_nat_gateway",
        "name": "nat_nat-regional_7F157404",
        "change": {"actions": actions, "before": BEFORE, "after": after, **change},
    }


def review(*changes: dict[str, Any]) -> list[Any]:
    document = {"format_version": "1.2", "resource_changes": list(changes)}
    return review_plan("prod", document, load_prices()).findings


def test_a_replaced_regional_gateway_warns_of_an_egress_gap_in_every_az() -> None:
    (finding,) = review(
        nat_change(
            ["delete", "create"],
            BEFORE | {"id": None, "vpc_id": None},
            replace_paths=[["vpc_id"]],
        )
    )
    assert (finding.severity, finding.code, finding.address) == (
        WARNING,
        "nat-gateway-replaced",
        NAT,
    )
    assert "every AZ" in finding.message and "(forced by vpc_id)" in finding.message
    assert "the same Elastic IPs (198.51.100.1, 198.51.100.2)" in finding.message
    assert finding.ips == ("198.51.100.1", "198.51.100.2")


def test_a_replacement_whose_addresses_are_unknown_does_not_promise_the_same_ips() -> None:
    (finding,) = review(
        nat_change(
            ["delete", "create"],
            BEFORE | {"availability_zone_address": [{"availability_zone": "us-east-1a"}]},
            after_unknown={"availability_zone_address": [{"allocation_ids": True}]},
        )
    )
    assert finding.code == "nat-gateway-replaced"
    assert "addresses change too" in finding.message


def test_a_destroyed_regional_gateway_is_a_warning_naming_its_ips() -> None:
    (finding,) = review(nat_change(["delete"], None))
    assert (finding.severity, finding.code) == (WARNING, "nat-gateway-removed")
    assert "198.51.100.1, 198.51.100.2 no longer carry" in finding.message


def test_dropping_an_az_releases_its_eip_blocker_and_warns_of_the_address() -> None:
    eip_before = {
        "id": ALLOC["us-east-1b"],
        "allocation_id": ALLOC["us-east-1b"],
        "public_ip": IP["us-east-1b"],
        "tags": {"staticip:az": "us-east-1b", "staticip:allow-listed": "true"},
    }
    after = BEFORE | {"availability_zone_address": BEFORE["availability_zone_address"][:1]}
    found = review(
        nat_change(["update"], after),
        {
            "address": EIP_B,
            "mode": "managed",
            "type": "aws_eip",
            "name": "egress-ips_eip-us-east-1b_0C9F3F11",
            "change": {"actions": ["delete"], "before": eip_before, "after": None},
        },
    )
    by_code = {f.code: f for f in found}
    assert by_code["eip-released"].severity == BLOCKER
    assert by_code["eip-released"].ips == ("198.51.100.2",)
    removed = by_code["nat-gateway-address-removed"]
    assert removed.severity == WARNING and removed.ips == ("198.51.100.2",)
    assert "us-east-1b" in removed.message and "us-east-1a" not in removed.message


def test_an_update_that_keeps_every_address_says_nothing() -> None:
    assert review(nat_change(["update"], BEFORE | {"tags": {"Name": "renamed"}})) == []


def test_a_zonal_gateway_is_still_reviewed_by_the_zonal_rule() -> None:
    zonal = {
        "id": "nat-0fedcba9876543210",
        "availability_mode": "zonal",
        "allocation_id": ALLOC["us-east-1a"],
        "public_ip": IP["us-east-1a"],
        "tags": {"Name": "staticip-prod-us-east-1a"},
    }
    change = nat_change(["delete"], None)
    change["change"]["before"] = zonal
    (finding,) = review(change)
    assert finding.code == "nat-gateway-removed"
    assert finding.message.startswith("NAT Gateway staticip-prod-us-east-1a is destroyed")
    assert finding.ips == ("198.51.100.1",)
