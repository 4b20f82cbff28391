"""Egress through one regional NAT Gateway (manual mode) with an allow-listed EIP per AZ."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import (
    NatGateway,
    NatGatewayAvailabilityZoneAddress,
)
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from constructs import Construct


@dataclass(frozen=True)
class RegionalNatGatewayProps:
    """The VPC, the EIP of each AZ the gateway serves, and the private route tables."""

    name: str
    vpc_id: str
    allocation_ids: Mapping[str, str]
    """AZ name -> EIP allocation ID. One `availability_zone_address` per key: manual mode,
    so the gateway translates traffic from that AZ to exactly this address and AWS never
    adds one of its own (auto mode would, which breaks allow-lists)."""
    private_route_tables: Mapping[str, RouteTable]
    """AZ name -> private route table; each sends 0.0.0.0/0 to the regional gateway. Every
    key must also be a key of `allocation_ids`: a manual-mode gateway does not serve an AZ
    it has no address for."""
    internet_gateway: InternetGateway
    """A public NAT Gateway, regional too, needs the VPC's Internet Gateway attached first."""


class RegionalNatGatewayEgress(Construct):
    """`nat_gateway`: one `availability_mode = "regional"` gateway in the VPC (no subnet)."""

    def __init__(self, scope: Construct, id_: str, props: RegionalNatGatewayProps) -> None:
        super().__init__(scope, id_)
        uncovered = sorted(set(props.private_route_tables) - set(props.allocation_ids))
        if uncovered:
            raise ValueError(f"regional NAT Gateway has no address in {', '.join(uncovered)}")
        self.nat_gateway = NatGateway(
            self,
            "nat-regional",
            availability_mode="regional",
            connectivity_type="public",
            vpc_id=props.vpc_id,
            availability_zone_address=[
                NatGatewayAvailabilityZoneAddress(availability_zone=az, allocation_ids=[allocation])
                for az, allocation in sorted(props.allocation_ids.items())
            ],
            tags={"Name": f"{props.name}-regional"},
            depends_on=[props.internet_gateway],
        )
        for az, table in sorted(props.private_route_tables.items()):
            Route(
                self,
                f"default-{az}",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=self.nat_gateway.id,
            )
