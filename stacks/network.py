"""VPC, subnets per AZ, Internet Gateway and route tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from constructs import Construct

from staticip.names import PRIVATE_TIER, PUBLIC_TIER, TIER_TAG


@dataclass(frozen=True)
class NetworkProps:
    """What the network needs to know."""

    name: str
    """Prefix for Name tags."""
    cidr: str
    """VPC IPv4 CIDR."""
    azs: tuple[str, ...]
    """AZ names; every per-AZ resource is keyed by name, never by position."""
    subnet_cidr: Callable[[str, bool], str]
    """(az, private) -> subnet CIDR; must depend on the AZ name only."""
    private_subnets: bool = False
    """Add one private subnet per AZ (route table per AZ, for a NAT per AZ). Default: none."""
    map_public_ip_on_launch: bool = False
    """Give EC2 instances in public subnets a public IP. Default off: Lambda ENIs never get
    one this way (they get Elastic IPs explicitly) and nothing else runs here."""


class Network(Construct):
    """A VPC with one public subnet per AZ routed to an Internet Gateway, and optionally one
    private subnet per AZ whose route table is left for an egress construct to fill."""

    def __init__(self, scope: Construct, id_: str, props: NetworkProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=props.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": props.name},
        )
        # Nothing uses the default group; leaving it with its allow-all rules invites mistakes.
        DefaultSecurityGroup(
            self, "default-sg", vpc_id=self.vpc.id, tags={"Name": f"{props.name}-default-unused"}
        )
        self.igw = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags={"Name": props.name})

        public_rt = RouteTable(
            self, "public-rt", vpc_id=self.vpc.id, tags={"Name": f"{props.name}-public"}
        )
        Route(
            self,
            "public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.igw.id,
        )

        self.public_subnets: dict[str, Subnet] = {}
        self.private_subnets: dict[str, Subnet] = {}
        self.private_route_tables: dict[str, RouteTable] = {}
        for az in props.azs:
            public = Subnet(
                self,
                f"public-{az}",
                vpc_id=self.vpc.id,
                availability_zone=az,
                cidr_block=props.subnet_cidr(az, False),
                map_public_ip_on_launch=props.map_public_ip_on_launch,
                tags={"Name": f"{props.name}-public-{az}", TIER_TAG: PUBLIC_TIER},
            )
            RouteTableAssociation(
                self, f"public-rta-{az}", subnet_id=public.id, route_table_id=public_rt.id
            )
            self.public_subnets[az] = public
            if not props.private_subnets:
                continue
            private = Subnet(
                self,
                f"private-{az}",
                vpc_id=self.vpc.id,
                availability_zone=az,
                cidr_block=props.subnet_cidr(az, True),
                tags={"Name": f"{props.name}-private-{az}", TIER_TAG: PRIVATE_TIER},
            )
            rt = RouteTable(
                self,
                f"private-rt-{az}",
                vpc_id=self.vpc.id,
                tags={"Name": f"{props.name}-private-{az}"},
            )
            RouteTableAssociation(
                self, f"private-rta-{az}", subnet_id=private.id, route_table_id=rt.id
            )
            self.private_subnets[az] = private
            self.private_route_tables[az] = rt
