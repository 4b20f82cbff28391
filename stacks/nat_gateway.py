"""Egress through NAT Gateway(s) with Elastic IPs, for functions in private subnets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.subnet import Subnet
from constructs import Construct


@dataclass(frozen=True)
class NatGatewayProps:
    """Where the NAT Gateways go and which private route tables use them."""

    name: str
    public_subnets: Mapping[str, Subnet]
    """AZ name -> public subnet (NAT Gateways live there)."""
    private_route_tables: Mapping[str, RouteTable]
    """AZ name -> private route table to send 0.0.0.0/0 through a NAT."""
    allocation_ids: Mapping[str, str]
    """AZ name -> EIP allocation ID, one per NAT. Its keys are the AZs that get a NAT: every
    AZ for one NAT per AZ (default, survives an AZ outage), one AZ for a single shared NAT
    (~$32.85/month less per AZ, but an outage of that AZ stops all egress)."""
    internet_gateway: InternetGateway
    """The VPC's gateway. A public NAT Gateway created before it is attached can end up
    `failed`; the provider documentation asks for this dependency."""


class NatGatewayEgress(Construct):
    """One NAT Gateway per key of `allocation_ids`, keyed by AZ name; each private route
    table routes to the NAT in its own AZ, or to the single NAT when there is one."""

    def __init__(self, scope: Construct, id_: str, props: NatGatewayProps) -> None:
        super().__init__(scope, id_)
        self.nat_gateways: dict[str, NatGateway] = {
            az: NatGateway(
                self,
                f"nat-{az}",
                subnet_id=props.public_subnets[az].id,
                allocation_id=allocation,
                connectivity_type="public",
                tags={"Name": f"{props.name}-{az}"},
                depends_on=[props.internet_gateway],
            )
            for az, allocation in sorted(props.allocation_ids.items())
        }
        fallback = min(self.nat_gateways)
        for az, table in sorted(props.private_route_tables.items()):
            nat = self.nat_gateways.get(az, self.nat_gateways[fallback])
            Route(
                self,
                f"default-{az}",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
            )
