"""`egress = "nat-instance"`: the function in private subnets behind a NAT instance per AZ
(`nat = "per-az"`, default) or one for all AZs (`nat = "single"`).

Each NAT AZ has a static ENI in its public subnet that holds the AZ's allow-listed EIP (an
`aws_eip_association` Terraform owns) and is the private route tables' 0.0.0.0/0 target, and
an Auto Scaling group of exactly one instance whose boot script (stacks/nat_instance_boot.sh)
attaches that ENI and masquerades the VPC's traffic out of it. A replaced instance attaches the
same ENI, so egress resumes from the same address with no Terraform run; what the replacement
costs is one instance boot (fck-nat users report 3-5 minutes, fck-nat issue #80), and
connections in flight are dropped.

Here: the declarations (`PerAzNatInstance`, `SingleNatInstance`), the config keys and the
price rule; `checks.py` holds what `staticip doctor` checks and `rules.py` the `staticip review`
rule; the construct is `stacks/nat_instance.py`, built by `stacks/modes.py`. Not the
`staticip.modes` registry, which imports this package on first use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from staticip.cost_items import LineItem
from staticip.modes.base import EgressMode, Option
from staticip.names import NAT_INSTANCE_TAG
from staticip.stackfile import blocks

if TYPE_CHECKING:
    from staticip.config import EnvironmentConfig
    from staticip.config_reader import TableReader
    from staticip.prices import Prices

# --- config -------------------------------------------------------------------------------------

INSTANCE_TYPE_KEY = "nat_instance_type"
SSM_KEY = "nat_instance_ssm"
DEFAULT_INSTANCE_TYPE = "t4g.nano"
"""fck-nat's default: the cheapest instance (~$3/month), 32 Mbps sustained, bursts to 5 Gbps."""

ARM64, X86_64 = "arm64", "x86_64"
#: The instance families a NAT instance may use -> the CPU architecture of their Amazon Linux
#: 2023 AMI: current-generation families with ENA networking, burstable or network-heavy.
FAMILIES: Mapping[str, str] = {
    **dict.fromkeys(
        ("t4g", "c6g", "c6gn", "c7g", "c7gn", "c8g", "m6g", "m7g", "m8g", "r6g", "r7g"), ARM64
    ),
    **dict.fromkeys(
        ("t3", "t3a", "c5", "c5n", "c6i", "c6in", "c7i", "m5", "m5n", "m6i", "m7i", "r6in"),
        X86_64,
    ),
}
_SIZE = re.compile(r"(nano|micro|small|medium|large|xlarge|[1-9][0-9]?xlarge|metal)")
#: The public SSM parameter EC2 resolves to the newest AL2023 AMI at every launch.
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
#: The root volume `cost` assumes for a launch template that states no size (the AL2023 AMI's).
ROOT_VOLUME_GIB = 8

_REGIONAL_REASON = (
    "is a NAT Gateway layout, not a NAT instance one; use 'per-az' (default) or 'single', or "
    "egress = 'nat-gateway' for a regional NAT Gateway"
)


def instance_type(env: EnvironmentConfig) -> str:
    return str(env.mode_options.get(INSTANCE_TYPE_KEY, DEFAULT_INSTANCE_TYPE))


def ssm_enabled(env: EnvironmentConfig) -> bool:
    return bool(env.mode_options.get(SSM_KEY, False))


def architecture(type_name: str) -> str:
    """arm64 or x86_64, from the instance family (raises KeyError for an unknown one)."""
    return FAMILIES[type_name.split(".", 1)[0]]


def burstable(type_name: str) -> bool:
    return type_name.startswith("t")


def _instance_type_problem(value: str) -> str | None:
    family, dot, size = value.partition(".")
    if family not in FAMILIES:
        return (
            f"'{value}' is not an instance type of a known family; use one of "
            f"{', '.join(sorted(FAMILIES))}, e.g. '{DEFAULT_INSTANCE_TYPE}'"
        )
    if not dot or not _SIZE.fullmatch(size):
        return f"'{value}' has no instance size; write it like '{family}.medium'"
    return None


# --- cost ---------------------------------------------------------------------------------------


def _tagged(values: Mapping[str, Any]) -> bool:
    return NAT_INSTANCE_TAG in (values.get("tags") or {})


def price_nat_instances(resources: Mapping[str, Any], prices: Prices) -> list[LineItem]:
    """One instance per NAT launch template (its group holds exactly one): the instance by
    type, its root volume, and the public address its primary interface boots with. No per-GB
    fee: a NAT instance processes traffic for nothing but its hourly price."""
    templates = [t for t in resources.get("aws_launch_template", {}).values() if _tagged(t)]
    if not templates:
        return []
    items = []
    by_type: dict[str, int] = {}
    for template in templates:
        name = str(template.get("instance_type", "?"))
        by_type[name] = by_type.get(name, 0) + 1
    for name, count in sorted(by_type.items()):
        per_hour = prices.ec2_per_hour.get(name)
        if per_hour is None:
            items.append(
                LineItem(
                    f"EC2 instance {name}",
                    count,
                    0.0,
                    0.0,
                    f"NOT PRICED: no {name} in [ec2_per_hour]; add it with --prices",
                )
            )
            continue
        items.append(
            LineItem(
                f"EC2 instance {name}",
                count,
                count * prices.monthly(per_hour),
                0.0,
                "NAT instance, On-Demand; no per-GB processing fee",
            )
        )
    sizes = [_root_volume_gib(template) for template in templates]
    items.append(
        LineItem(
            "EBS gp3 root volume",
            len(sizes),
            sum(sizes) * prices.ebs_gp3_per_gb_month,
            0.0,
            f"{'/'.join(f'{size:g}' for size in sorted(set(sizes)))} GiB each",
        )
    )
    bootstrap = sum(
        1
        for template in templates
        for interface in blocks(template.get("network_interfaces"))
        if interface.get("associate_public_ip_address") in (True, "true")
    )
    if bootstrap:
        items.append(
            LineItem(
                "public IPv4: NAT instance",
                bootstrap,
                bootstrap * prices.monthly(prices.public_ipv4_per_hour),
                0.0,
                "the primary interface's own address (boot-time AWS calls, updates)",
            )
        )
    return items


def _root_volume_gib(template: Mapping[str, Any]) -> float:
    for mapping in blocks(template.get("block_device_mappings")):
        for ebs in blocks(mapping.get("ebs")):
            size = ebs.get("volume_size")
            if isinstance(size, int | float) and size > 0:
                return float(size)
    return float(ROOT_VOLUME_GIB)


def _unit_monthly(prices: Prices) -> float:
    """One NAT AZ with the default instance: instance, root volume, EIP, bootstrap address."""
    ipv4 = prices.monthly(prices.public_ipv4_per_hour)
    instance = prices.monthly(prices.ec2_per_hour.get(DEFAULT_INSTANCE_TYPE, 0.0))
    return instance + ROOT_VOLUME_GIB * prices.ebs_gp3_per_gb_month + 2 * ipv4


def versus_single_nat_gateway(fixed_monthly: float, prices: Prices) -> str:
    """Where a NAT instance line (`fixed_monthly`, no per-GB fee) stands against one NAT
    Gateway and its EIP: the comparison users make before they take on an instance."""
    gateway = prices.monthly(prices.nat_gateway_per_hour) + prices.monthly(
        prices.public_ipv4_per_hour
    )
    per_gb = prices.nat_gateway_per_gb
    head = f"vs a single NAT Gateway ({gateway:,.2f}/month + {per_gb:g}/GB): "
    if fixed_monthly <= gateway:
        return head + f"cheaper at any traffic, by {gateway - fixed_monthly:,.2f}/month at 0 GB"
    if not per_gb:
        return head + f"{fixed_monthly - gateway:,.2f}/month dearer at any traffic"
    return head + f"cheaper above {(fixed_monthly - gateway) / per_gb:,.0f} GB/month"


# --- the declarations ---------------------------------------------------------------------------


class _NatInstance(EgressMode):
    name = "nat-instance"
    variant_key = "nat"
    keys = {
        "nat": "the NAT layout: per-az (default) or single",
        INSTANCE_TYPE_KEY: f"the NAT instance type (default {DEFAULT_INSTANCE_TYPE})",
        SSM_KEY: "SSM Session Manager access to the NAT instances (default off)",
    }
    rejected_variants: Mapping[str, str] = {"regional": _REGIONAL_REASON}

    def options(self, r: TableReader, azs: tuple[str, ...]) -> dict[str, Any]:
        type_name = r.get(INSTANCE_TYPE_KEY, str, DEFAULT_INSTANCE_TYPE)
        problem = _instance_type_problem(type_name)
        if problem:
            raise r.fail(INSTANCE_TYPE_KEY, problem)
        return {INSTANCE_TYPE_KEY: type_name, SSM_KEY: r.get(SSM_KEY, bool, False)}

    def services(self, env: EnvironmentConfig) -> Sequence[str]:
        return ("autoscaling",)

    price_rules = (price_nat_instances,)

    def cost_option_name(self, env: EnvironmentConfig) -> str:
        # In one AZ both layouts are one instance and one EIP: that block lists only single.
        return self.label if len(env.azs) > 1 else SingleNatInstance().label

    def _option(self, nat_azs: int, prices: Prices, what: str) -> Option:
        fixed = nat_azs * _unit_monthly(prices)
        return Option(
            self.label,
            fixed,
            0.0,
            f"{nat_azs} {DEFAULT_INSTANCE_TYPE} NAT instance(s) + {nat_azs} EIP(s), no per-GB "
            f"fee; {what}; {versus_single_nat_gateway(fixed, prices)}",
        )


class PerAzNatInstance(_NatInstance):
    variant = "per-az"
    summary = "one NAT instance + EIP per AZ; a failed instance is replaced in minutes"

    def cost_option(self, az_count: int, prices: Prices) -> Option | None:
        if az_count < 2:
            return None  # in one AZ it is the single NAT instance
        return self._option(az_count, prices, "each AZ keeps egress if another fails")


class SingleNatInstance(_NatInstance):
    variant = "single"
    summary = "one NAT instance + EIP for all AZs; egress stops if it or its AZ fails"

    def static_ip_azs(self, env: EnvironmentConfig) -> tuple[str, ...]:
        # The alphabetically first AZ, so reordering `azs` never moves it.
        return (env.single_nat_az,)

    def cost_option(self, az_count: int, prices: Prices) -> Option:
        return self._option(1, prices, "egress stops while it is replaced or if its AZ fails")
