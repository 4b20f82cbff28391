"""The security group of a VPC function: egress only, never an ingress rule."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct


class FunctionSecurityGroup(Construct):
    """A security group with one egress rule to the internet and no ingress rule.

    Rules are separate `aws_vpc_security_group_*_rule` resources (the provider's recommended
    form) so that nobody adds an inline `ingress` block by habit, and so that scanners read them.
    In the eni-eip mode the function's ENI has a public IP: this group is all that stands
    between it and the internet, and with no ingress rule nothing can open a connection to it.
    """

    def __init__(self, scope: Construct, id_: str, *, name: str, vpc_id: str) -> None:
        super().__init__(scope, id_)
        self.group = SecurityGroup(
            self,
            "sg",
            name=name,
            vpc_id=vpc_id,
            description=f"{name}: Lambda egress only, no inbound",
            tags={"Name": name},
        )
        VpcSecurityGroupEgressRule(
            self,
            "egress-all",
            security_group_id=self.group.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            description="Outbound to vendors' APIs through the allow-listed IPs",
        )
