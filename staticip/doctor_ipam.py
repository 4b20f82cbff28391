"""`staticip doctor` with `ipam_pool_id`: every allow-listed EIP of the directions that draw
from the pool (egress, and nlb-eip ingress) lies inside the pool's provisioned CIDRs, so a
vendor that allow-listed the pool's CIDR has every address (issue #19)."""

from __future__ import annotations

from collections.abc import Sequence

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from staticip import aws, ipam
from staticip.config import EnvironmentConfig
from staticip.doctor_egress import deploy_fix
from staticip.eips import EGRESS, INGRESS, AllowListedEip, find_allow_listed_eips
from staticip.findings import ERROR, OK, Finding

IPAM_POOL = "ipam-pool"


def check_ipam_pool(
    ec2: BaseClient,
    project: str,
    env: EnvironmentConfig,
    egress_eips: Sequence[AllowListedEip] | None,
) -> list[Finding]:
    """The allow-listed EIPs against the pool's provisioned CIDRs. `egress_eips` are those the
    shared egress check found (None: that lookup failed and was reported; egress is skipped).

    One GetIpamPoolCidrs call, and with nlb-eip one DescribeAddresses for the ingress EIPs
    (no adopted ones to look up by ID: the config refuses them next to a pool). Raises
    botocore errors but the pool's own, which become a finding naming the pool."""
    pool = env.ipam_pool_id
    if pool is None:
        return []
    eips: list[tuple[str, AllowListedEip]] = []
    if env.egress_mode is not None and egress_eips is not None:
        azs = set(env.static_ip_azs)
        eips += [(EGRESS, eip) for eip in egress_eips if eip.az in azs]
    ingress = env.ingress_mode
    if ingress is not None and ingress.takes_ipam_pool:
        found = find_allow_listed_eips(ec2, project, env.name, direction=INGRESS)
        eips += [(INGRESS, eip) for eip in found if eip.az in env.azs]
    try:
        cidrs = ipam.provisioned_cidrs(ec2, pool)
    except ClientError as exc:
        return [
            Finding(
                ERROR,
                IPAM_POOL,
                pool,
                f"the IPAM pool could not be read ({aws.explain(exc)}), so no EIP was checked "
                "against its CIDR",
                f"check ipam_pool_id, that the pool's locale is {env.region} and that it is "
                "shared with this account (AWS RAM) if another account owns it",
            )
        ]
    if not cidrs:
        return [
            Finding(
                ERROR,
                IPAM_POOL,
                pool,
                "the IPAM pool has no provisioned CIDR: AWS cannot allocate an EIP from it",
                "provision an Amazon-provided contiguous IPv4 CIDR to the pool "
                "(`aws ec2 provision-ipam-pool-cidr`), or drop ipam_pool_id",
            )
        ]
    outside = set(ipam.outside([eip.public_ip for _, eip in eips], cidrs))
    findings = [
        Finding(
            ERROR,
            IPAM_POOL,
            eip.public_ip,
            f"{direction} EIP {eip.public_ip} ({eip.az}, {eip.allocation_id}) is not inside "
            f"IPAM pool {pool} ({ipam.describe(cidrs)}): a vendor that allow-listed the "
            "pool's CIDR does not have it",
            deploy_fix(
                env,
                " to replace it with an EIP from the pool (one created before ipam_pool_id "
                "was set: a new address, which `staticip review` shows first; protect_ips "
                "must be off for that deploy), or drop ipam_pool_id and give vendors the /32s",
            ),
        )
        for direction, eip in eips
        if eip.public_ip in outside
    ]
    if eips and not findings:
        findings.append(
            Finding(
                OK,
                IPAM_POOL,
                pool,
                f"all {len(eips)} allow-listed EIPs are inside {ipam.describe(cidrs)}: "
                f"vendors can allow-list that (`staticip ips {env.name} --format cidr`)",
            )
        )
    return findings
