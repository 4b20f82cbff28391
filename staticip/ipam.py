"""An environment's IPAM pool (`ipam_pool_id`): the CIDRs provisioned to it, and whether the
allow-listed addresses lie inside them, so a vendor can allow-list the pool's CIDR once.

Reading a pool is one EC2 GetIpamPoolCidrs call (another only past a page of results). AWS
answers `{"IpamPoolCidrs": [{"Cidr": "<a.b.c.d>/29", "State": "provisioned",
"IpamPoolCidrId": "ipam-pool-cidr-...", "NetmaskLength": 29}, ...]}` (EC2 API reference,
IpamPoolCidr); a CIDR still being
provisioned or deprovisioned (`pending-provision`, `failed-provision`, ...) holds no address
an EIP can have, so only `provisioned` ones count. moto has no IPAM API: tests stub this call.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from botocore.client import BaseClient

from staticip import aws

PROVISIONED = "provisioned"

Network = ipaddress.IPv4Network


def provisioned_cidrs(ec2: BaseClient, pool_id: str) -> list[Network]:
    """The IPv4 CIDRs provisioned to `pool_id`, sorted. Raises botocore errors (an unknown
    pool is `InvalidIpamPoolId.NotFound`)."""
    found = aws.paginate(ec2, "get_ipam_pool_cidrs", "IpamPoolCidrs", IpamPoolId=pool_id)
    cidrs = set()
    for cidr in found:
        if cidr.get("State") != PROVISIONED or not cidr.get("Cidr"):
            continue
        network = ipaddress.ip_network(cidr["Cidr"], strict=False)
        # An IPv6 pool never holds an EIP; its CIDRs cannot cover one either.
        if isinstance(network, Network):
            cidrs.add(network)
    return sorted(cidrs)


def outside(addresses: Iterable[str], cidrs: Sequence[Network]) -> list[str]:
    """The addresses of `addresses` that no CIDR of `cidrs` contains, in their order."""
    return [ip for ip in addresses if not any(ipaddress.IPv4Address(ip) in c for c in cidrs)]


def covering(addresses: Sequence[str], cidrs: Sequence[Network]) -> list[str] | None:
    """The CIDRs of `cidrs` that hold `addresses`, each once, in the order of the first
    address each holds; None when an address lies outside them all (or there are none)."""
    if not addresses or outside(addresses, cidrs):
        return None
    used: dict[str, None] = {}
    for ip in addresses:
        address = ipaddress.IPv4Address(ip)
        used.setdefault(str(next(c for c in cidrs if address in c)), None)
    return list(used)


def describe(cidrs: Sequence[Network]) -> str:
    """`a.b.c.d/n, ...`, or `no provisioned CIDR`."""
    return ", ".join(map(str, cidrs)) or "no provisioned CIDR"
