"""`staticip cost`: what each synthesized environment costs per month, from its `cdk.tf.json`
alone (no AWS access), next to the egress alternatives a user weighs.

Every cost here is linear in the traffic: `fixed_monthly + per_gb * gb_per_month`. Data
transfer out to the internet is the same whichever way the traffic leaves, so it is left out;
so are ALB/NLB capacity units (usage nobody can read from a stack).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from staticip import canary, modes
from staticip.config import Config, ConfigError, EnvironmentConfig, load_config

# Re-exported: the result types live below the mode declarations, which build them.
from staticip.cost_items import Alternatives, Crossover, LineItem, Option
from staticip.prices import Prices, PricesError, load_prices
from staticip.result import EXIT_OK, CommandResult, usage_error
from staticip.stackfile import blocks, load_stack
from staticip.table import render_table

Stack = Mapping[str, Any]

HOSTED_PROXY = "hosted proxy"


@dataclass(frozen=True)
class EnvironmentCost:
    """The priced stack of one environment."""

    environment: str
    region: str
    egress: str
    ingress: str
    az_count: int
    items: list[LineItem]
    fixed_monthly: float
    per_gb: float
    gb_per_month: float | None
    at_traffic: float | None
    notes: list[str] = field(default_factory=list)


# --- pricing one stack --------------------------------------------------------------------------


def price_stack(stack: Stack, prices: Prices) -> list[LineItem]:
    """Line items for the billable resources of a synthesized stack (`cdk.tf.json`): the
    addresses, load balancers and prefix lists any mode may have, and the modes' own
    (`Mode.price_rules`)."""
    res, data = stack.get("resource", {}), stack.get("data", {})
    items: list[LineItem] = []

    # EIPs drawn from an IPAM pool are billed as the pool's block instead (`_ipam_items`).
    pools = Counter(
        pool for eip in res.get("aws_eip", {}).values() if (pool := _ipam_pool(eip)) is not None
    )
    created = len(res.get("aws_eip", {})) - sum(pools.values())
    reused = len(data.get("aws_eip", {}))
    ipv4_month = prices.monthly(prices.public_ipv4_per_hour)
    if created + reused:
        # Terraform does not own a reused EIP (a data source), but AWS bills it all the same.
        note = f"{created} created, {reused} reused" if reused else f"{created} created"
        items.append(
            LineItem(
                "public IPv4: EIP", created + reused, (created + reused) * ipv4_month, 0.0, note
            )
        )
    for pool, count in sorted(pools.items()):
        items += _ipam_items(pool, count, prices)
    lbs = list(res.get("aws_lb", {}).values())
    lb_ips = sum(_lb_public_ips(lb) for lb in lbs)
    if lb_ips:
        items.append(
            LineItem(
                "public IPv4: load balancer",
                lb_ips,
                lb_ips * ipv4_month,
                0.0,
                "AWS-managed, one per AZ at least (more when an ALB scales out)",
            )
        )

    # What only some modes build (NAT Gateways, an accelerator) each mode prices itself; a
    # stack's resources say which are there, so every registered mode's rule reads them.
    for rule in modes.price_rules():
        items += rule(res, prices)

    for kind, label, per_hour, per_lcu in (
        ("application", "ALB", prices.alb_per_hour, prices.alb_per_lcu_hour),
        ("network", "NLB", prices.nlb_per_hour, prices.nlb_per_lcu_hour),
    ):
        count = sum(1 for lb in lbs if lb.get("load_balancer_type", "application") == kind)
        if count:
            items.append(
                LineItem(
                    label,
                    count,
                    count * prices.monthly(per_hour),
                    0.0,
                    f"hourly only; capacity units (${per_lcu}/LCU-hour) not included",
                )
            )

    items += price_canary(res, prices)

    prefix_lists = len(res.get("aws_ec2_managed_prefix_list", {}))
    if prefix_lists:
        # Listed so that nobody has to wonder: AWS does not charge for managed prefix lists.
        items.append(
            LineItem("managed prefix list", prefix_lists, 0.0, 0.0, "no charge (AWS VPC pricing)")
        )
    return items


def price_canary(resources: Mapping[str, Any], prices: Prices) -> list[LineItem]:
    """The egress canary (`stacks/egress_canary.py`): its runs, the two metrics per AZ it
    publishes and its alarms' metrics. Found by the variable its functions carry; each AZ runs
    once per period of its alarm, which is the schedule's interval (a plan knows the period
    before it knows which rule targets which new function). A run is priced at the check's
    timeout, an upper bound: a check that gets an answer returns sooner."""
    functions = {
        _variables(fn)[canary.AZ_VARIABLE]: fn
        for fn in resources.get("aws_lambda_function", {}).values()
        if canary.AZ_VARIABLE in _variables(fn)
    }
    if not functions:
        return []
    namespaces = {_variables(fn).get(canary.METRIC_NAMESPACE_VARIABLE) for fn in functions.values()}
    periods: dict[str, float] = {}
    alarm_metrics = 0
    for alarm in resources.get("aws_cloudwatch_metric_alarm", {}).values():
        for query in blocks(alarm.get("metric_query")):
            for metric in blocks(query.get("metric")):
                if metric.get("namespace") in namespaces:
                    alarm_metrics += 1
                    az = (metric.get("dimensions") or {}).get(canary.AZ_DIMENSION)
                    periods[az] = float(metric.get("period") or 0)
    runs = 0.0
    gb_seconds = 0.0
    for az, fn in functions.items():
        if periods.get(az):
            fn_runs = prices.hours_per_month * 3600 / periods[az]
            runs += fn_runs
            memory_gb = fn.get("memory_size", canary.FUNCTION_MEMORY_MB) / 1024
            gb_seconds += fn_runs * memory_gb * canary.CHECK_TIMEOUT_SECONDS
    azs = len(functions)
    metrics = azs * len(canary.METRICS)
    return [
        LineItem(
            "egress canary: Lambda runs",
            azs,
            runs * prices.lambda_per_million_requests / 1e6
            + gb_seconds * prices.lambda_per_gb_second,
            0.0,
            f"{round(runs / azs):,} runs/month per AZ, each priced at its "
            f"{canary.CHECK_TIMEOUT_SECONDS} s timeout; free tier not deducted",
        ),
        LineItem(
            "egress canary: CloudWatch",
            metrics + alarm_metrics,
            metrics * prices.cloudwatch_metric_per_month
            + alarm_metrics * prices.cloudwatch_alarm_metric_per_month,
            0.0,
            f"{metrics} custom metrics + {alarm_metrics} alarm metrics",
        ),
    ]


def _ipam_pool(eip: Mapping[str, Any]) -> str | None:
    """The IPAM pool a created EIP is drawn from: `cdk.tf.json` has the configured ID, a
    plan's values the one the provider read back (empty for other EIPs)."""
    pool = eip.get("ipam_pool_id")
    return pool if isinstance(pool, str) and pool.startswith("ipam-pool-") else None


def _ipam_items(pool: str, eips: int, prices: Prices) -> list[LineItem]:
    """The block `eips` EIPs of `pool` come from, and IPAM's own charge for them.

    A stack does not say how large the CIDR provisioned to the pool is (that is chosen when
    the pool is provisioned, outside staticip), so the block priced is the smallest one
    holding the EIPs; the note says so, and how a larger block scales."""
    size = 1 << (eips - 1).bit_length()
    prefix = 32 - (size.bit_length() - 1)
    return [
        LineItem(
            "public IPv4: IPAM block",
            size,
            size * prices.monthly(prices.ipam_block_per_address_hour),
            0.0,
            f"{pool}, {eips} EIP(s) from it: priced as a /{prefix} ({size} addresses), the "
            "smallest block holding them; AWS bills every address of the block provisioned "
            "to the pool, used or not",
        ),
        LineItem(
            "IPAM Advanced Tier",
            eips,
            eips * prices.monthly(prices.ipam_advanced_per_ip_hour),
            0.0,
            "per active IP managed: the pooled EIPs (IPAM bills every IP it manages in the "
            "account, not only this stack's)",
        ),
    ]


def _variables(function: Mapping[str, Any]) -> Mapping[str, Any]:
    for environment in blocks(function.get("environment")):
        return environment.get("variables") or {}
    return {}


def fixed_monthly_cost(stack: Stack, prices: Prices) -> float:
    """The traffic-independent monthly cost of a synthesized stack (for `make synth`)."""
    return sum(item.fixed_monthly for item in price_stack(stack, prices))


def _lb_public_ips(lb: Mapping[str, Any]) -> int:
    """AWS-managed public IPv4 addresses of an internet-facing load balancer: one per subnet
    (at least; an ALB may add nodes under load). Mapped EIPs are counted as EIPs instead."""
    if lb.get("internal") is True:
        return 0
    mappings = lb.get("subnet_mapping")
    if isinstance(mappings, list) and mappings:
        return sum(1 for m in mappings if not (isinstance(m, dict) and m.get("allocation_id")))
    subnets = lb.get("subnets")
    # A single token for the whole list hides the count; an ALB needs at least two AZs.
    return len(subnets) if isinstance(subnets, list) else 2


def cost_environment(
    env: EnvironmentConfig, stack: Stack, prices: Prices, gb_per_month: float | None = None
) -> EnvironmentCost:
    """Price one environment's synthesized stack."""
    items = price_stack(stack, prices)
    fixed = sum(item.fixed_monthly for item in items)
    per_gb = sum(item.per_gb for item in items)
    notes = []
    stack_region = _stack_region(stack) or env.region
    if stack_region != prices.region:
        notes.append(
            f"{env.name} is in {stack_region} but the prices are for {prices.region}: "
            "pass --prices with that region's figures"
        )
    if sum(1 for item in items if item.per_gb) > 1:
        notes.append(f"{env.name}: the same GB/month is assumed through each per-GB item")
    return EnvironmentCost(
        environment=env.name,
        region=stack_region,
        egress=env.egress,
        ingress=env.ingress,
        az_count=len(env.azs),
        items=items,
        fixed_monthly=fixed,
        per_gb=per_gb,
        gb_per_month=gb_per_month,
        at_traffic=None if gb_per_month is None else fixed + per_gb * gb_per_month,
        notes=notes,
    )


def _stack_region(stack: Stack) -> str | None:
    providers = stack.get("provider", {}).get("aws", [])
    for provider in providers:
        if "alias" not in provider:
            return provider.get("region")
    return None


# --- alternatives and crossovers ----------------------------------------------------------------


def egress_options(az_count: int, prices: Prices) -> list[Option]:
    """The egress options for `az_count` AZs: each egress mode's line (`cost_option`), in the
    registry's order, then the hosted proxy users compare with."""
    options = [
        option
        for mode in modes.egress_modes()
        if (option := mode.cost_option(az_count, prices)) is not None
    ]
    options.append(
        Option(
            HOSTED_PROXY,
            prices.hosted_proxy_per_month,
            0.0,
            f"{prices.hosted_proxy_name}; flat fee, plan traffic limits not modelled",
        )
    )
    return options


def current_option(env: EnvironmentConfig) -> str | None:
    """The option an environment uses, or None without egress."""
    mode = env.egress_mode
    return mode.cost_option_name(env) if mode else None


def crossover(a: Option, b: Option) -> Crossover | None:
    """Where the cost lines of `a` and `b` cross at a positive traffic, or None.

    Solves `a.fixed + a.per_gb * x = b.fixed + b.per_gb * x`. Parallel lines never cross (one
    is always cheaper); a crossing at x <= 0 means one is cheaper at every real traffic.
    """
    slope = a.per_gb - b.per_gb
    if slope == 0:
        return None
    x = (b.fixed_monthly - a.fixed_monthly) / slope
    if not (x > 0 and math.isfinite(x)):
        return None
    # Below the crossing the line with the lower fixed cost wins, above it the lower slope.
    below, above = (a, b) if a.fixed_monthly < b.fixed_monthly else (b, a)
    return Crossover(below.name, above.name, x, a.at(x))


def crossovers(options: Sequence[Option]) -> list[Crossover]:
    """Every positive crossing between two options, by traffic."""
    found = [crossover(a, b) for a, b in itertools.combinations(options, 2)]
    return sorted((c for c in found if c), key=lambda c: c.gb_per_month)


def alternatives_for(envs: Sequence[EnvironmentConfig], prices: Prices) -> list[Alternatives]:
    """Egress alternatives, one block per AZ count among the environments with egress."""
    by_count: dict[int, list[EnvironmentConfig]] = {}
    for env in envs:
        if env.egress_mode is not None:
            by_count.setdefault(len(env.azs), []).append(env)
    blocks = []
    for count, group in sorted(by_count.items()):
        options = egress_options(count, prices)
        blocks.append(
            Alternatives(
                az_count=count,
                environments=[env.name for env in group],
                current={env.name: current_option(env) or "" for env in group},
                options=options,
                crossovers=crossovers(options),
            )
        )
    return blocks


# --- the command --------------------------------------------------------------------------------


def run_cost(
    config_path: str | Path,
    outdir: str | Path = "cdktf.out",
    environments: Sequence[str] = (),
    gb_per_month: float | None = None,
    prices_path: str | Path | None = None,
    chart_path: str | Path | None = None,
) -> CommandResult:
    """`staticip cost [environment ...] [--gb-per-month N] [--prices FILE] [--chart FILE]`.

    Prices the named environments (all of the config file's when none) from their synthesized
    stacks under `outdir`; with `chart_path`, also draws the egress alternatives there as SVG
    (`staticip.cost_chart`). Exit 0, or 2 with a one-line message for a bad config or price
    file, an unknown environment, a stack not synthesized yet, a negative traffic, or a chart
    that cannot be drawn (no egress environment, matplotlib missing, unwritable file).
    """
    if gb_per_month is not None and not gb_per_month >= 0:
        return usage_error(f"--gb-per-month must be a number >= 0, got {gb_per_month}")
    try:
        config = load_config(config_path)
        envs = _select(config, environments)
        prices = load_prices(prices_path)
    except (ConfigError, PricesError) as exc:
        return usage_error(str(exc))
    outdir = Path(outdir)
    costs = []
    for env in envs:
        try:
            stack = load_stack(outdir, env.name)
        except FileNotFoundError:
            return usage_error(
                f"{outdir}/stacks/{env.name}/cdk.tf.json not found: run `make synth` first"
            )
        except (OSError, ValueError) as exc:
            return usage_error(f"{outdir}/stacks/{env.name}/cdk.tf.json: unreadable ({exc})")
        costs.append(cost_environment(env, stack, prices, gb_per_month))
    blocks = alternatives_for(envs, prices)
    if chart_path is not None:
        # Imported here: it is the only user of the optional matplotlib.
        from staticip.cost_chart import ChartError, draw_cost_chart

        try:
            draw_cost_chart(blocks, prices, chart_path)
        except ChartError as exc:
            return usage_error(str(exc))
    data = {
        "prices": _prices_json(prices),
        "gb_per_month": gb_per_month,
        "environments": [asdict(c) for c in costs],
        "egress_alternatives": [_alternatives_json(b, gb_per_month) for b in blocks],
        "chart": None if chart_path is None else str(chart_path),
    }
    text = render_cost(costs, blocks, prices, gb_per_month)
    if chart_path is not None:
        text += f"\n\nChart: {chart_path}"
    return CommandResult(EXIT_OK, text, data)


def _select(config: Config, names: Sequence[str]) -> list[EnvironmentConfig]:
    if not names:
        return list(config.environments)
    return [config.environment(name) for name in dict.fromkeys(names)]


def _prices_json(prices: Prices) -> dict[str, Any]:
    return {
        "region": prices.region,
        "currency": prices.currency,
        "as_of": prices.as_of,
        "hours_per_month": prices.hours_per_month,
        "files": list(prices.files),
        "overridden": list(prices.overridden),
        "global_accelerator_per_gb_route": prices.global_accelerator_route,
    }


def _alternatives_json(block: Alternatives, gb: float | None) -> dict[str, Any]:
    return {
        "az_count": block.az_count,
        "environments": block.environments,
        "current": block.current,
        "options": [
            asdict(o) | {"at_traffic": None if gb is None else o.at(gb)} for o in block.options
        ],
        "crossovers": [asdict(c) for c in block.crossovers],
    }


# --- human output -------------------------------------------------------------------------------


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _rate(value: float) -> str:
    return f"{value:.3f}" if value else "0"


def _gb(value: float) -> str:
    return f"{value:,.0f}"


def render_cost(
    costs: Sequence[EnvironmentCost],
    blocks: Sequence[Alternatives],
    prices: Prices,
    gb: float | None,
) -> str:
    """Tables: per environment, its line items, then the egress alternatives and crossovers."""
    at = [] if gb is None else [f"AT {_gb(gb)} GB"]
    cur = prices.currency
    parts = [
        render_table(
            ["ENVIRONMENT", "REGION", "EGRESS", "INGRESS", f"FIXED {cur}/MONTH", f"{cur}/GB", *at],
            [
                (
                    c.environment,
                    c.region,
                    c.egress,
                    c.ingress,
                    _money(c.fixed_monthly),
                    _rate(c.per_gb),
                    *([] if c.at_traffic is None else [_money(c.at_traffic)]),
                )
                for c in costs
            ],
        ),
        render_table(
            ["ENVIRONMENT", "ITEM", "QTY", f"FIXED {cur}/MONTH", f"{cur}/GB", "NOTE"],
            [
                (
                    c.environment,
                    i.item,
                    i.quantity,
                    _money(i.fixed_monthly),
                    _rate(i.per_gb),
                    i.note,
                )
                for c in costs
                for i in c.items
            ],
        ),
    ]
    for block in blocks:
        title = f"Egress alternatives for {block.az_count} AZ(s) ({', '.join(block.environments)}):"
        table = render_table(
            ["OPTION", f"FIXED {cur}/MONTH", f"{cur}/GB", *at, "USED BY", "WHAT"],
            [
                (
                    o.name,
                    _money(o.fixed_monthly),
                    _rate(o.per_gb),
                    *([] if gb is None else [_money(o.at(gb))]),
                    ", ".join(e for e, used in block.current.items() if used == o.name) or None,
                    o.description,
                )
                for o in block.options
            ],
        )
        lines = [title, table]
        if block.crossovers:
            lines += [
                f"  above {_gb(c.gb_per_month)} GB/month {c.cheaper_above} costs less than "
                f"{c.cheaper_below} (both {_money(c.monthly_cost)} {cur} there)"
                for c in block.crossovers
            ]
        else:
            lines.append("  no crossings: the order of the options is the same at any traffic")
        parts.append("\n".join(lines))
    footer = [
        f"Prices: {prices.region}, {cur}, as of {prices.as_of}, {prices.hours_per_month:g} h/month"
        f" ({' + '.join(prices.files)}"
        + (f"; overridden: {', '.join(prices.overridden)}" if prices.overridden else "")
        + ").",
        "Not included: data transfer out (the same for every option), ALB/NLB capacity units, "
        "usage-billed services (your functions' runs, logs, flow logs, EventBridge, the ENI "
        "guard's runs and alarms); the egress canary is priced.",
        *[note for c in costs for note in c.notes],
    ]
    parts.append("\n".join(footer))
    return "\n\n".join(parts)
