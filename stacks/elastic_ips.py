"""The allow-listed Elastic IPs of an environment: one per AZ, created or reused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import TerraformOutput, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_eip import DataAwsEip
from cdktf_cdktf_provider_aws.ec2_tag import Ec2Tag
from cdktf_cdktf_provider_aws.eip import Eip
from constructs import Construct

from staticip.names import (
    ALLOW_LISTED_TAG,
    AZ_TAG,
    DIRECTION_TAG,
    EGRESS,
    INGRESS,
    ips_by_az_output,
    ips_output,
)

#: Direction -> the construct ID of its `ElasticIps` in the environment's stack. Part of each
#: EIP's Terraform address, which `stacks.retained_ips` must spell for EIPs no longer built.
CONSTRUCT_IDS = {EGRESS: "egress-ips", INGRESS: "ingress-ips"}


def eip_id(az: str) -> str:
    """The construct ID of the EIP `ElasticIps` creates for `az`."""
    return f"eip-{az}"


@dataclass(frozen=True)
class ElasticIpsProps:
    """Which AZs get an allow-listed IP and how it is protected."""

    name: str
    """Prefix for Name tags."""
    azs: tuple[str, ...]
    """AZ names. Each IP is keyed by its AZ name, so adding or reordering AZs never
    replaces (and so never releases) an existing IP."""
    protect: bool = True
    """`lifecycle.prevent_destroy` on every created EIP. Default on: a released EIP is gone
    for good, and vendors have it on their allow-list."""
    environment_tags: Mapping[str, str] = field(default_factory=dict)
    """The provider's default tags; copied onto reused EIPs, which default_tags never reach."""
    reuse_allocation_ids: Mapping[str, str] = field(default_factory=dict)
    """AZ name -> existing allocation ID to use instead of creating an EIP there (like
    terraform-aws-modules/vpc `reuse_nat_ips`); Terraform then never owns, so never
    releases, that address."""
    direction: str = EGRESS
    """`egress` (default, untagged: as every egress EIP deployed before ingress EIPs
    existed) or `ingress` (tagged `staticip:direction`, so tooling looking for one
    direction's addresses never counts the other's)."""
    ipam_pool_id: str | None = None
    """IPAM pool (an Amazon-provided contiguous public IPv4 block) every *created* EIP is
    allocated from, so a vendor can allow-list the pool's one CIDR. None (default): AWS's
    general pool. Reused EIPs keep their address. The provider replaces (releases) an EIP
    whose `ipam_pool_id` changes, so setting it on a deployed environment means new
    addresses."""


class ElasticIps(Construct):
    """`allocation_ids` and `public_ips`, both keyed by AZ name; `created_azs`, the AZs whose
    EIP Terraform owns (not reused)."""

    def __init__(self, scope: Construct, id_: str, props: ElasticIpsProps) -> None:
        super().__init__(scope, id_)
        self.allocation_ids: dict[str, str] = {}
        self.public_ips: dict[str, str] = {}
        self.created_azs: list[str] = []
        for az in props.azs:
            tags = {ALLOW_LISTED_TAG: "true", AZ_TAG: az}
            if props.direction != EGRESS:
                tags[DIRECTION_TAG] = props.direction
            reused = props.reuse_allocation_ids.get(az)
            if reused:
                found = DataAwsEip(self, f"reused-{az}", id=reused)
                # Terraform does not own a reused EIP, but the ENI guard, `doctor` and `verify`
                # find an environment's IPs by tag: tag it, one key at a time.
                for key, value in {**props.environment_tags, **tags}.items():
                    Ec2Tag(self, f"reused-{az}-tag-{key}", resource_id=reused, key=key, value=value)
                self.allocation_ids[az], self.public_ips[az] = found.id, found.public_ip
                continue
            eip = Eip(
                self,
                eip_id(az),
                domain="vpc",
                ipam_pool_id=props.ipam_pool_id,
                tags={"Name": f"{props.name}-{az}", **tags},
                lifecycle=TerraformResourceLifecycle(prevent_destroy=props.protect),
            )
            self.allocation_ids[az], self.public_ips[az] = eip.allocation_id, eip.public_ip
            self.created_azs.append(az)

    def add_outputs(self, stack: Construct, direction: str, description: str) -> None:
        """Outputs of `stack` for vendors: `<direction>_ips`, the addresses sorted by AZ name
        (`description` says what to do with them), and `<direction>_ips_by_az`."""
        TerraformOutput(
            stack,
            ips_output(direction),
            value=[self.public_ips[az] for az in sorted(self.public_ips)],
            description=description,
        )
        TerraformOutput(
            stack,
            ips_by_az_output(direction),
            value=self.public_ips,
            description="The same allow-listed IPs, by AZ name",
        )
