"""`staticip cost` for `egress = "nat-instance"`: each stack priced by hand from the price
table (instance by type, root volume, EIP, the boot address, no per-GB fee), its line among
the alternatives, and where it stands against a single NAT Gateway."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from canary_prices import CANARY_PER_AZ_USD

from staticip import cost
from staticip.cost import fixed_monthly_cost, price_stack, run_cost
from staticip.modes.nat_instance import price_nat_instances
from staticip.prices import SHIPPED_PRICES, PricesError, load_prices

TABLE = tomllib.loads(SHIPPED_PRICES.read_text())
HOURS = TABLE["hours_per_month"]
IPV4 = TABLE["public_ipv4"]["per_hour"] * HOURS  # 3.65
NAT = TABLE["nat_gateway"]["per_hour"] * HOURS  # 32.85
NAT_GB = TABLE["nat_gateway"]["per_gb"]  # 0.045
NANO = TABLE["ec2_per_hour"]["t4g.nano"] * HOURS  # 0.0042 x 730 = 3.066
MICRO = TABLE["ec2_per_hour"]["t3.micro"] * HOURS  # 0.0104 x 730 = 7.592
#: The AL2023 AMI's root volume is 8 GiB (its snapshot; checked in the e2e plan's volume).
ROOT = 8 * TABLE["ebs"]["gp3_per_gb_month"]  # 0.64
#: One NAT AZ: an instance, its root volume, the allow-listed EIP and the primary interface's
#: own public address.
NANO_AZ = NANO + ROOT + 2 * IPV4  # 11.006


def items(stack: dict[str, Any]) -> dict[str, tuple[int, float, float]]:
    """The stack's line items but the egress canary's (priced alike in every egress mode)."""
    prices = load_prices()
    return {
        i.item: (i.quantity, pytest.approx(i.fixed_monthly), i.per_gb)
        for i in price_stack(stack, prices)
        if not i.item.startswith("egress canary")
    }


def test_the_shipped_budget_stack_costs_two_nano_azs_and_nothing_per_gb(shipped: Any) -> None:
    stack = shipped.stack("budget")
    assert items(stack) == {
        "public IPv4: EIP": (2, 2 * IPV4, 0.0),
        "EC2 instance t4g.nano": (2, 2 * NANO, 0.0),
        "EBS gp3 root volume": (2, 2 * ROOT, 0.0),
        "public IPv4: NAT instance": (2, 2 * IPV4, 0.0),
        "managed prefix list": (1, 0.0, 0.0),
    }
    # 22.01, and the canary of its 2 AZs.
    total = 2 * NANO_AZ + 2 * CANARY_PER_AZ_USD
    assert fixed_monthly_cost(stack, load_prices()) == pytest.approx(total)
    result = run_cost(shipped.config.path, shipped.outdir, ["budget"], gb_per_month=5000)
    (budget,) = result.data["environments"]
    assert budget["per_gb"] == 0 and budget["at_traffic"] == pytest.approx(total)


def test_user_environments_are_priced_by_their_type_and_nat_azs(nat_instances: Any) -> None:
    # edge: 3 AZs per-az, one EIP reused (still billed); pair: single on t3.micro; solo: 1 AZ.
    edge = items(nat_instances.stack("edge"))
    assert edge["EC2 instance t4g.nano"] == (3, 3 * NANO, 0.0)
    assert edge["public IPv4: EIP"] == (3, 3 * IPV4, 0.0)
    assert edge["public IPv4: NAT instance"] == (3, 3 * IPV4, 0.0)
    pair = items(nat_instances.stack("pair"))
    assert pair["EC2 instance t3.micro"] == (1, MICRO, 0.0)
    assert "EC2 instance t4g.nano" not in pair
    assert pair["EBS gp3 root volume"] == (1, ROOT, 0.0)
    solo = fixed_monthly_cost(nat_instances.stack("solo"), load_prices())
    assert solo == pytest.approx(NANO_AZ + CANARY_PER_AZ_USD)


def test_an_unpriced_instance_type_is_shown_not_priced_rather_than_free() -> None:
    template = {
        "instance_type": "c6gn.medium",
        "tags": {"staticip:nat-instance": "us-east-1a"},
        "network_interfaces": [{"associate_public_ip_address": "true"}],
    }
    found = price_nat_instances({"aws_launch_template": {"t": template}}, load_prices())
    (instance,) = [i for i in found if i.item.startswith("EC2 instance")]
    assert instance.fixed_monthly == 0 and "NOT PRICED" in instance.note
    assert "--prices" in instance.note
    # The root volume is priced at the size the template states.
    (volume,) = [i for i in found if i.item == "EBS gp3 root volume"]
    assert volume.fixed_monthly == pytest.approx(ROOT)  # no size stated: the AMI's 8 GiB
    template["block_device_mappings"] = [{"ebs": {"volume_size": 20}}]
    found = price_nat_instances({"aws_launch_template": {"t": template}}, load_prices())
    (volume,) = [i for i in found if i.item == "EBS gp3 root volume"]
    assert volume.fixed_monthly == pytest.approx(20 * TABLE["ebs"]["gp3_per_gb_month"])
    assert volume.note == "20 GiB each"
    # A launch template that is not a NAT instance's (no tag) is not priced as one.
    del template["tags"]
    assert price_nat_instances({"aws_launch_template": {"t": template}}, load_prices()) == []


def test_an_override_file_prices_another_instance_type(tmp_path: Path) -> None:
    override = tmp_path / "prices.toml"
    override.write_text('[ec2_per_hour]\n"c6gn.medium" = 0.0432\n')
    prices = load_prices(override)
    assert prices.ec2_per_hour["c6gn.medium"] == 0.0432
    assert prices.ec2_per_hour["t4g.nano"] == TABLE["ec2_per_hour"]["t4g.nano"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[ec2_per_hour]\n"t4g.nano" = "cheap"\n')
    with pytest.raises(PricesError, match=r"ec2_per_hour\.t4g\.nano"):
        load_prices(bad)


@pytest.mark.parametrize("az_count", [1, 2, 3])
def test_nat_instance_lines_among_the_alternatives(az_count: int) -> None:
    options = {o.name: o for o in cost.egress_options(az_count, load_prices())}
    single = options["nat-instance single"]
    assert (single.fixed_monthly, single.per_gb) == (pytest.approx(NANO_AZ), 0.0)
    if az_count == 1:
        assert "nat-instance per-az" not in options  # one AZ: per-az is the single instance
    else:
        per_az = options["nat-instance per-az"]
        assert per_az.fixed_monthly == pytest.approx(az_count * NANO_AZ)
        assert per_az.per_gb == 0.0
    # Against one NAT Gateway (32.85 + 3.65 = 36.50 + 0.045/GB) the default instances are
    # cheaper at any traffic: 3 x 11.01 = 33.02 still is.
    gateway = options["nat-gateway single"]
    for option in (o for name, o in options.items() if name.startswith("nat-instance")):
        saving = gateway.fixed_monthly - option.fixed_monthly
        assert saving > 0
        assert f"cheaper at any traffic, by {saving:,.2f}/month at 0 GB" in option.description


def test_a_dearer_instance_crosses_the_single_nat_gateway(tmp_path: Path) -> None:
    # t4g.nano at 0.05/h: 36.50 + 0.64 + 7.30 = 44.44 for one AZ, against 36.50 + 0.045x:
    # the gateway costs less below (44.44 - 36.50) / 0.045 = 176 GB/month.
    override = tmp_path / "prices.toml"
    override.write_text('[ec2_per_hour]\n"t4g.nano" = 0.05\n')
    prices = load_prices(override)
    options = {o.name: o for o in cost.egress_options(1, prices)}
    instance = 0.05 * HOURS + ROOT + 2 * IPV4
    crossing = (instance - (NAT + IPV4)) / NAT_GB
    assert round(crossing) == 176
    assert f"cheaper above {crossing:,.0f} GB/month" in options["nat-instance single"].description
    found = cost.crossover(options["nat-gateway single"], options["nat-instance single"])
    assert found is not None and found.gb_per_month == pytest.approx(crossing)
    assert (found.cheaper_below, found.cheaper_above) == (
        "nat-gateway single",
        "nat-instance single",
    )


def test_the_budget_block_shows_its_option_as_used(shipped: Any) -> None:
    result = run_cost(shipped.config.path, shipped.outdir)
    (block,) = result.data["egress_alternatives"]
    assert block["current"]["budget"] == "nat-instance per-az"
    options = {o["name"]: o for o in block["options"]}
    # Its option costs what its stack costs, less the canary (the same in every option).
    assert options["nat-instance per-az"]["fixed_monthly"] == pytest.approx(
        fixed_monthly_cost(shipped.stack("budget"), load_prices()) - 2 * CANARY_PER_AZ_USD
    )
    row = next(line for line in result.text.splitlines() if line.startswith("nat-instance per-az"))
    assert "budget" in row and "22.01" in row


def test_a_planned_template_is_priced_like_a_synthesized_one() -> None:
    # `terraform show -json` writes every nested block as a list (what `review` prices), a
    # synthesized stack a single block as an object.
    tags = {"staticip:nat-instance": "us-east-1a"}
    synthesized = {
        "instance_type": "t4g.nano",
        "tags": tags,
        "block_device_mappings": [{"ebs": {"volume_size": 16}}],
        "network_interfaces": [{"associate_public_ip_address": "true"}],
    }
    planned = synthesized | {
        "block_device_mappings": [{"ebs": [{"volume_size": 16}]}],
        "network_interfaces": [{"associate_public_ip_address": "true"}],
    }
    prices = load_prices()
    both = [
        price_nat_instances({"aws_launch_template": {"t": t}}, prices)
        for t in (synthesized, planned)
    ]
    assert both[0] == both[1]
    (volume,) = [i for i in both[1] if i.item == "EBS gp3 root volume"]
    assert volume.fixed_monthly == pytest.approx(16 * TABLE["ebs"]["gp3_per_gb_month"])
