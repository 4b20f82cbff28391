"""`staticip cost` and `staticip review` with `ipam_pool_id` (issue #19): EIPs from a pool are
priced as the pool's block (each address at the `[ipam]` per-address price) plus IPAM's own
charge per active IP; setting the pool on a deployed EIP replaces it, which review blocks.
Figures come from the shipped price table, never from the code's output."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import IPAM_POOL

from staticip.cost import fixed_monthly_cost, price_stack
from staticip.prices import SHIPPED_PRICES, load_prices
from staticip.review.command import BLOCKER, load_plan, review_plan

PRICES = tomllib.loads(SHIPPED_PRICES.read_text())
HOURS = PRICES["hours_per_month"]
PER_ADDRESS = PRICES["ipam"]["contiguous_ipv4_per_address_hour"] * HOURS
PER_ACTIVE_IP = PRICES["ipam"]["advanced_per_active_ip_hour"] * HOURS
PLANS = Path(__file__).resolve().parent / "fixtures" / "plans"


def test_the_ipam_table_carries_its_figures_and_source():
    table = PRICES["ipam"]
    # The facts file's public IPv4 price per address, and the IPAM Advanced Tier's.
    assert table["contiguous_ipv4_per_address_hour"] == PRICES["public_ipv4"]["per_hour"]
    assert table["advanced_per_active_ip_hour"] == pytest.approx(0.00027)
    assert "aws.amazon.com/vpc/pricing" in table["source"]


def test_four_pooled_eips_are_priced_as_a_slash_30_block_and_four_active_ips(ipam: Any):
    items = {i.item: i for i in price_stack(ipam.stack("vendor"), load_prices())}
    # Every EIP (2 egress, 2 ingress) is drawn from the pool: none is priced one by one.
    assert "public IPv4: EIP" not in items
    block = items["public IPv4: IPAM block"]
    assert block.quantity == 4 and block.fixed_monthly == pytest.approx(4 * PER_ADDRESS)
    assert "/30" in block.note and IPAM_POOL in block.note
    tier = items["IPAM Advanced Tier"]
    assert tier.quantity == 4 and tier.fixed_monthly == pytest.approx(4 * PER_ACTIVE_IP)


@pytest.mark.parametrize(
    ("eips", "block", "prefix"), [(1, 1, 32), (2, 2, 31), (3, 4, 30), (5, 8, 29)]
)
def test_the_block_is_the_smallest_power_of_two_holding_the_eips(eips, block, prefix):
    stack = {
        "resource": {
            "aws_eip": {
                **{f"p{n}": {"ipam_pool_id": IPAM_POOL} for n in range(eips)},
                # A plan's EIP outside any pool reads back an empty ipam_pool_id.
                "plain": {"ipam_pool_id": ""},
            }
        },
        "data": {"aws_eip": {"reused": {"id": "eipalloc-0123456789abcdef0"}}},
    }
    items = {i.item: i for i in price_stack(stack, load_prices())}
    assert items["public IPv4: IPAM block"].quantity == block
    assert f"/{prefix}" in items["public IPv4: IPAM block"].note
    assert items["IPAM Advanced Tier"].quantity == eips
    assert items["public IPv4: EIP"].quantity == 2  # the plain one and the reused one
    ipv4 = PRICES["public_ipv4"]["per_hour"] * HOURS
    expected = block * PER_ADDRESS + eips * PER_ACTIVE_IP + 2 * ipv4
    assert fixed_monthly_cost(stack, load_prices()) == pytest.approx(expected)


def test_setting_a_pool_on_a_deployed_eip_replaces_it_and_review_blocks(tmp_path):
    """The provider's aws_eip schema has ipam_pool_id ForceNew, so Terraform plans a
    replacement (released address) when the pool is added: made from a real plan of prod
    with one EIP's change edited the way Terraform writes a forced replacement."""
    document = json.loads((PLANS / "prod-clean.json").read_text())
    rc = next(r for r in document["resource_changes"] if r["type"] == "aws_eip")
    before_ip = rc["change"]["before"]["public_ip"]
    after = copy.deepcopy(rc["change"]["after"]) | {
        "ipam_pool_id": IPAM_POOL,
        "public_ip": None,
        "allocation_id": None,
        "id": None,
    }
    rc["change"] |= {
        "actions": ["delete", "create"],
        "after": after,
        "replace_paths": [["ipam_pool_id"]],
    }
    rc["action_reason"] = "replace_because_cannot_update"
    for resource in document["planned_values"]["root_module"]["resources"]:
        if resource["address"] == rc["address"]:
            resource["values"] = after
    path = tmp_path / "prod.json"
    path.write_text(json.dumps(document))

    result = review_plan("prod", load_plan(path), load_prices())

    (finding,) = [f for f in result.findings if f.code == "eip-replaced"]
    assert finding.severity == BLOCKER
    assert finding.ips == (before_ip,) and "forced by ipam_pool_id" in finding.message
    # After the plan the replaced EIP is priced as the pool's block.
    assert result.cost is not None
    assert result.cost.items_after["public IPv4: IPAM block"] == 1
