"""`staticip cost`: the shipped stacks priced by hand from the price table, the crossover
arithmetic, and the price file's validation."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from canary_prices import (
    CANARY_CLOUDWATCH_PER_AZ_USD,
    CANARY_PER_AZ_USD,
    CANARY_RUNS_PER_AZ_USD,
)
from hypothesis import given
from hypothesis import strategies as st

from staticip import cost
from staticip.cost import Option, crossover, fixed_monthly_cost, price_stack, run_cost
from staticip.prices import SHIPPED_PRICES, PricesError, load_prices

HOURS = 730
TABLE = tomllib.loads(SHIPPED_PRICES.read_text())


def hourly(section: str) -> float:
    """A month of one unit, straight from the price table."""
    return TABLE[section]["per_hour"] * HOURS


IPV4 = hourly("public_ipv4")  # 0.005 * 730 = 3.65
NAT = hourly("nat_gateway")  # 0.045 * 730 = 32.85
GA = hourly("global_accelerator")  # 0.025 * 730 = 18.25
ALB = hourly("alb")  # 0.0225 * 730 = 16.425
NAT_GB = TABLE["nat_gateway"]["per_gb"]  # 0.045
GA_GB = TABLE["global_accelerator"]["per_gb"]  # 0.015
PROXY = TABLE["hosted_proxy"]["per_month"]  # 259
REGIONAL_AZ = TABLE["regional_nat_gateway"]["per_az_hour"] * HOURS  # 0.045 * 730 = 32.85
REGIONAL_GB = TABLE["regional_nat_gateway"]["per_gb"]  # 0.045

# By hand, for the shipped stacks (2 AZs each):
#   dev (eni-eip): 2 EIPs                          = 2 x 3.65                  =  7.30
#   prod (NAT per AZ): 2 EIPs + 2 NAT Gateways     = 7.30 + 2 x 32.85          = 73.00
#   ingress: accelerator + ALB + the ALB's 2 IPs   = 18.25 + 16.425 + 2 x 3.65 = 41.975
# and each egress environment the canary of its 2 AZs (2 x 0.893, tests/canary_prices.py).
DEV_IPS = 2 * IPV4
PROD_IPS = 2 * IPV4 + 2 * NAT
CANARY = 2 * CANARY_PER_AZ_USD
DEV_FIXED = DEV_IPS + CANARY
PROD_FIXED = PROD_IPS + CANARY
INGRESS_FIXED = GA + ALB + 2 * IPV4


def test_the_shipped_table_is_the_documented_us_east_1_one() -> None:
    assert TABLE["region"] == "us-east-1" and TABLE["hours_per_month"] == HOURS
    units = [IPV4, NAT, GA, ALB]
    assert units == pytest.approx([3.65, 32.85, 18.25, 16.425])
    stacks = [DEV_IPS, PROD_IPS, INGRESS_FIXED]
    assert stacks == pytest.approx([7.30, 73.00, 41.975])
    assert pytest.approx(1.786, abs=0.001) == CANARY


def test_fixed_monthly_cost_of_each_shipped_stack(shipped: Any) -> None:
    prices = load_prices()
    assert fixed_monthly_cost(shipped.stack("dev"), prices) == pytest.approx(DEV_FIXED)
    assert fixed_monthly_cost(shipped.stack("prod"), prices) == pytest.approx(PROD_FIXED)
    assert fixed_monthly_cost(shipped.stack("ingress"), prices) == pytest.approx(INGRESS_FIXED)


def test_line_items_count_what_the_stacks_create(shipped: Any) -> None:
    prices = load_prices()

    def items(name: str) -> dict[str, tuple[int, float]]:
        return {
            i.item: (i.quantity, round(i.fixed_monthly, 6))
            for i in price_stack(shipped.stack(name), prices)
        }

    # Each environment's managed prefix list is listed at its real price: nothing.
    free_list = {"managed prefix list": (1, 0.0)}
    # Two AZs: 2 functions; 4 metrics and the 4 metrics their 2 alarms read.
    canary = {
        "egress canary: Lambda runs": (2, round(2 * CANARY_RUNS_PER_AZ_USD, 6)),
        "egress canary: CloudWatch": (8, round(2 * CANARY_CLOUDWATCH_PER_AZ_USD, 6)),
    }
    assert items("dev") == {"public IPv4: EIP": (2, round(2 * IPV4, 6))} | canary | free_list
    assert (
        items("prod")
        == {
            "public IPv4: EIP": (2, round(2 * IPV4, 6)),
            "NAT Gateway": (2, round(2 * NAT, 6)),
        }
        | canary
        | free_list
    )
    assert (
        items("ingress")
        == {
            "public IPv4: load balancer": (2, round(2 * IPV4, 6)),
            "Global Accelerator": (1, round(GA, 6)),
            "ALB": (1, round(ALB, 6)),
        }
        | free_list
    )


def test_cost_at_the_given_traffic(shipped: Any) -> None:
    result = run_cost(shipped.config.path, shipped.outdir, gb_per_month=1000)

    assert result.exit_code == 0
    by_env = {e["environment"]: e for e in result.data["environments"]}
    # 1000 GB: dev pays no per-GB fee; prod 1000 x 0.045 NAT processing; ingress 1000 x 0.015.
    assert by_env["dev"]["at_traffic"] == pytest.approx(DEV_FIXED)
    assert by_env["prod"]["at_traffic"] == pytest.approx(PROD_FIXED + 1000 * NAT_GB)
    assert by_env["ingress"]["at_traffic"] == pytest.approx(INGRESS_FIXED + 1000 * GA_GB)
    assert by_env["prod"]["at_traffic"] == pytest.approx(118.00 + CANARY)
    # The table shows the same figures.
    prod_row = next(line for line in result.text.splitlines() if line.startswith("prod "))
    assert f"{PROD_FIXED:.2f}" in prod_row and f"{118.00 + CANARY:.2f}" in prod_row


def test_egress_alternatives_and_where_they_cross(shipped: Any) -> None:
    result = run_cost(shipped.config.path, shipped.outdir, ["dev", "prod", "ingress"])

    (block,) = result.data["egress_alternatives"]  # ingress has no egress; dev, prod: 2 AZs
    assert block["az_count"] == 2 and block["environments"] == ["dev", "prod"]
    options = {o["name"]: o for o in block["options"]}
    assert options["nat-gateway per-az"]["fixed_monthly"] == pytest.approx(
        2 * (NAT + IPV4)
    )  # 73.00
    assert options["nat-gateway single"]["fixed_monthly"] == pytest.approx(NAT + IPV4)  # 36.50
    assert options["eni-eip"]["fixed_monthly"] == pytest.approx(2 * IPV4)  # 7.30
    assert options[cost.HOSTED_PROXY]["fixed_monthly"] == pytest.approx(PROXY)  # 259
    # Each environment's own option costs what its stack costs, less the canary (the same
    # whichever option an environment picks, so no option's line carries it).
    assert block["current"] == {"dev": "eni-eip", "prod": "nat-gateway per-az"}
    assert options["eni-eip"]["fixed_monthly"] == pytest.approx(DEV_FIXED - CANARY)
    assert options["nat-gateway per-az"]["fixed_monthly"] == pytest.approx(PROD_FIXED - CANARY)

    # 73.00 + 0.045x = 259 -> x = 186 / 0.045 = 4133.3; 36.50 + 0.045x = 259 -> x = 4944.4.
    # The others never cross: equal per-GB rates (parallel), or ENI-EIP cheaper at any traffic.
    crossings = [
        (c["cheaper_below"], c["cheaper_above"], c["gb_per_month"]) for c in block["crossovers"]
    ]
    # The regional gateway is billed per AZ at the zonal rate: its line is per-AZ's line.
    assert options["nat-gateway regional"]["fixed_monthly"] == pytest.approx(
        2 * (REGIONAL_AZ + IPV4)
    )
    assert crossings == [
        ("nat-gateway per-az", cost.HOSTED_PROXY, pytest.approx(186 / 0.045)),
        ("nat-gateway regional", cost.HOSTED_PROXY, pytest.approx(186 / 0.045)),
        ("nat-gateway single", cost.HOSTED_PROXY, pytest.approx(222.5 / 0.045)),
    ]
    assert "4,133 GB/month" in result.text and "4,944 GB/month" in result.text


def test_options_for_other_az_counts() -> None:
    prices = load_prices()
    three = {o.name: o for o in cost.egress_options(3, prices)}
    assert three["nat-gateway per-az"].fixed_monthly == pytest.approx(3 * (NAT + IPV4))  # 109.50
    assert three["eni-eip"].fixed_monthly == pytest.approx(3 * IPV4)  # 10.95
    assert three["nat-gateway regional"].fixed_monthly == pytest.approx(3 * (REGIONAL_AZ + IPV4))
    # With one AZ, one NAT per AZ is the single NAT: listed once (gateway and instance alike).
    assert [o.name for o in cost.egress_options(1, prices)] == [
        "nat-gateway single",
        "nat-instance single",
        "eni-eip",
        cost.HOSTED_PROXY,
    ]


def test_regional_nat_is_priced_per_az_it_has_an_address_in(regional: Any) -> None:
    # edge: 3 AZs, 2 created EIPs + 1 reused; one regional gateway active in all 3 AZs:
    #   3 x 3.65 + 3 x 32.85 = 10.95 + 98.55 = 109.50, and the canary of 3 AZs.
    stack = regional.stack("edge")
    canary = 3 * CANARY_PER_AZ_USD
    prices = load_prices()
    items = {i.item: i for i in price_stack(stack, prices)}
    assert "NAT Gateway" not in items
    regional_item = items["NAT Gateway (regional), per AZ"]
    assert regional_item.quantity == 3
    assert regional_item.fixed_monthly == pytest.approx(3 * REGIONAL_AZ)
    assert regional_item.per_gb == REGIONAL_GB
    assert items["public IPv4: EIP"].quantity == 3
    assert fixed_monthly_cost(stack, prices) == pytest.approx(109.50 + canary)

    result = run_cost(regional.config.path, regional.outdir, gb_per_month=1000)
    (block,) = result.data["egress_alternatives"]
    assert block["az_count"] == 3 and block["current"] == {"edge": "nat-gateway regional"}
    options = {o["name"]: o for o in block["options"]}
    # The option for the environment's own layout costs what its stack costs, canary aside.
    assert options["nat-gateway regional"]["fixed_monthly"] == pytest.approx(109.50)
    (env,) = result.data["environments"]
    assert env["at_traffic"] == pytest.approx(109.50 + canary + 1000 * REGIONAL_GB)
    assert "nat-gateway regional" in result.text


def test_a_cheaper_regional_rate_moves_only_the_regional_line(tmp_path: Path) -> None:
    override = tmp_path / "prices.toml"
    override.write_text("[regional_nat_gateway]\nper_az_hour = 0.03\n")
    prices = load_prices(override)
    options = {o.name: o for o in cost.egress_options(2, prices)}
    assert options["nat-gateway regional"].fixed_monthly == pytest.approx(2 * (0.03 * HOURS + IPV4))
    assert options["nat-gateway per-az"].fixed_monthly == pytest.approx(2 * (NAT + IPV4))


def test_crossover_arithmetic_on_hand_made_lines() -> None:
    # 10 + 0.5x = 40 + 0.2x  ->  x = 30 / 0.3 = 100, where both cost 60.
    a, b = Option("a", 10.0, 0.5), Option("b", 40.0, 0.2)
    c = crossover(a, b)
    assert c is not None
    assert (c.cheaper_below, c.cheaper_above) == ("a", "b")
    assert c.gb_per_month == pytest.approx(100.0) and c.monthly_cost == pytest.approx(60.0)
    assert crossover(b, a) == c
    # Parallel lines, and lines that would cross at negative traffic, never cross.
    assert crossover(Option("p", 1.0, 0.1), Option("q", 2.0, 0.1)) is None
    assert crossover(Option("cheap", 1.0, 0.1), Option("dear", 2.0, 0.2)) is None


money = st.floats(min_value=0, max_value=10_000, allow_nan=False)
rates = st.floats(min_value=0, max_value=1, allow_nan=False)


@given(money, rates, money, rates)
def test_crossover_is_where_the_cheaper_option_changes(
    fa: float, ra: float, fb: float, rb: float
) -> None:
    a, b = Option("a", fa, ra), Option("b", fb, rb)
    c = crossover(a, b)
    if c is None:
        # One is at least as cheap at every traffic: the difference never changes sign.
        d0, d1 = a.at(0) - b.at(0), a.at(1e7) - b.at(1e7)
        assert not (d0 < 0 < d1 or d1 < 0 < d0)
        return
    x = c.gb_per_month
    assert x > 0
    assert a.at(x) == pytest.approx(b.at(x), rel=1e-6, abs=1e-6)
    below, above = {"a": a, "b": b}[c.cheaper_below], {"a": a, "b": b}[c.cheaper_above]
    assert below.at(0) < above.at(0)
    assert below.per_gb > above.per_gb


def test_price_stack_counts_reused_eips_and_skips_internal_load_balancers() -> None:
    prices = load_prices()
    stack = {
        "resource": {
            "aws_eip": {"a": {}},
            "aws_lb": {
                "internal": {"internal": True, "subnets": ["s1", "s2"]},
                "nlb": {
                    "load_balancer_type": "network",
                    "subnet_mapping": [
                        {"subnet_id": "s1", "allocation_id": "${aws_eip.a.id}"},
                        {"subnet_id": "s2"},
                    ],
                },
            },
        },
        "data": {"aws_eip": {"reused": {"id": "eipalloc-0123456789abcdef0"}}},
    }
    items = {i.item: i for i in price_stack(stack, prices)}
    # 1 created + 1 reused EIP; the NLB's mapped EIP is that created one, its other subnet
    # gets an AWS-managed IP; the internal ALB has none.
    assert items["public IPv4: EIP"].quantity == 2
    assert items["public IPv4: load balancer"].quantity == 1
    assert items["ALB"].quantity == 1 and items["NLB"].quantity == 1
    expected = 3 * IPV4 + ALB + hourly("nlb")
    assert fixed_monthly_cost(stack, prices) == pytest.approx(expected)


# --- prices file --------------------------------------------------------------------------------


def test_override_file_replaces_only_its_keys(shipped: Any, tmp_path: Path) -> None:
    override = tmp_path / "prices.toml"
    override.write_text('region = "eu-central-1"\n[nat_gateway]\nper_hour = 0.052\n')

    result = run_cost(shipped.config.path, shipped.outdir, ["prod"], prices_path=override)

    assert result.exit_code == 0
    (prod,) = result.data["environments"]
    # 2 x 0.052 x 730 = 75.92 for the NATs, EIPs and the canary unchanged.
    assert prod["fixed_monthly"] == pytest.approx(2 * 0.052 * HOURS + 2 * IPV4 + CANARY)
    assert result.data["prices"]["overridden"] == ["region", "nat_gateway.per_hour"]
    # prod is in us-east-1, the prices now say eu-central-1: the user is told.
    assert any("eu-central-1" in note for note in prod["notes"])


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[nat_gateway]\nper_hour = -1\n", "nat_gateway.per_hour", "negative"),
        ('[nat_gateway]\nper_gb = "cheap"\n', "nat_gateway.per_gb", "expected a number"),
        ("[alb]\nper_hour = true\n", "alb.per_hour", "expected a number"),
        ("[nat]\nper_hour = 1\n", "nat", "unknown key"),
        ("[alb]\nper_day = 1\n", "alb.per_day", "unknown key"),
        ("hours_per_month = 0\n", "hours_per_month", "> 0"),
        ("public_ipv4 = 1\n", "public_ipv4", "expected a table"),
    ],
)
def test_bad_override_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)

    with pytest.raises(PricesError) as caught:
        load_prices(path)

    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message and f"'{key}'" in message and problem in message


def test_a_shipped_table_missing_a_key_is_named(tmp_path: Path) -> None:
    shipped = tmp_path / "prices.toml"
    shipped.write_text(SHIPPED_PRICES.read_text().replace("per_gb = 0.015\n", ""))
    with pytest.raises(PricesError, match=r"'global_accelerator\.per_gb': missing"):
        load_prices(shipped=shipped)


def test_unreadable_price_files(tmp_path: Path) -> None:
    with pytest.raises(PricesError, match="not found"):
        load_prices(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[nat_gateway\n")
    with pytest.raises(PricesError, match="invalid TOML"):
        load_prices(broken)


# --- the command's input errors -----------------------------------------------------------------


def test_input_errors_exit_2_with_one_line(shipped: Any, tmp_path: Path) -> None:
    cases = [
        run_cost(shipped.config.path, shipped.outdir, ["staging"]),
        run_cost(shipped.config.path, tmp_path / "nowhere", ["dev"]),
        run_cost(shipped.config.path, shipped.outdir, gb_per_month=-5),
        run_cost(shipped.config.path, shipped.outdir, prices_path=tmp_path / "absent.toml"),
    ]
    for result, named in zip(
        cases, ["'staging'", "make synth", "--gb-per-month", "absent.toml"], strict=True
    ):
        assert result.exit_code == 2
        assert named in result.text and "\n" not in result.text
        assert result.data == {"error": result.text}


def test_without_traffic_the_at_column_is_left_out(shipped: Any) -> None:
    result = run_cost(shipped.config.path, shipped.outdir, ["dev"])
    header = result.text.splitlines()[0]
    assert "FIXED USD/MONTH" in header and "AT " not in header
    assert result.data["environments"][0]["at_traffic"] is None


NLB = hourly("nlb")  # 0.0225 * 730 = 16.425


def test_nlb_eip_ingress_costs_the_nlb_its_eips_and_an_internal_alb(user: Any) -> None:
    """3 AZs, one EIP reused: 3 EIPs, 1 NLB, 1 internal ALB (no AWS-assigned public IPv4 on
    either: the NLB's addresses are the EIPs), and the NLB's capacity units named, not priced."""
    items = {i.item: i for i in price_stack(user.stack("partners"), load_prices())}

    assert set(items) == {"public IPv4: EIP", "NLB", "ALB", "managed prefix list"}
    assert items["public IPv4: EIP"].quantity == 3
    assert items["public IPv4: EIP"].note == "2 created, 1 reused"
    assert items["NLB"].fixed_monthly == pytest.approx(NLB)
    assert "LCU" in items["NLB"].note and str(TABLE["nlb"]["per_lcu_hour"]) in items["NLB"].note
    assert items["ALB"].fixed_monthly == pytest.approx(ALB)
    total = fixed_monthly_cost(user.stack("partners"), load_prices())
    assert total == pytest.approx(NLB + ALB + 3 * IPV4)  # 16.43 + 16.43 + 10.95 = 43.80


def test_the_canary_is_priced_from_a_plan_too_at_its_schedule() -> None:
    # A plan's values: nested blocks as lists, and a new target's function ARN unknown; the
    # runs follow the alarm's period, the schedule's interval (rate(1 minute): 43,800 a month).
    def function(az: str) -> dict[str, Any]:
        variables = {"CANARY_AZ": az, "METRIC_NAMESPACE": "acme/egress-canary"}
        return {"memory_size": 128, "environment": [{"variables": variables}]}

    def alarm(az: str) -> dict[str, Any]:
        metric = {"namespace": "acme/egress-canary", "period": 60, "dimensions": {"AZ": az}}
        return {"metric_query": [{"metric": [metric]}, {"metric": [metric]}, {"metric": []}]}

    azs = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    resources = {
        "aws_lambda_function": {f"fn-{az}": function(az) for az in azs},
        "aws_cloudwatch_metric_alarm": {f"alarm-{az}": alarm(az) for az in azs},
        "aws_cloudwatch_event_target": {f"t-{az}": {"rule": f"r-{az}"} for az in azs},
    }
    runs, cloudwatch = cost.price_canary(resources, load_prices())
    lam, watch = TABLE["lambda"], TABLE["cloudwatch"]
    per_run = lam["per_million_requests"] / 1e6 + 0.125 * 5 * lam["per_gb_second"]
    assert runs.quantity == 3 and "43,800 runs/month per AZ" in runs.note
    assert runs.fixed_monthly == pytest.approx(3 * 43_800 * per_run)
    assert cloudwatch.quantity == 6 + 6
    assert cloudwatch.fixed_monthly == pytest.approx(
        6 * watch["custom_metric_per_month"] + 6 * watch["alarm_metric_per_month"]
    )
