"""Static ingress IPs: internet-facing NLB with our EIPs -> internal ALB -> Lambda.

The Network Load Balancer holds one of the environment's Elastic IPs per AZ (`subnet_mapping`)
and forwards TCP, unchanged, to an `alb`-type target group per port whose one target is the
webhook ALB (`webhook_alb.py`). TLS ends on the ALB, as in the global-accelerator mode.

Client IPs: towards an `alb`-type target group the NLB keeps the client's source address (an
`alb` group's attributes, `preserve_client_ip` among them, stay at their defaults), and the ALB
appends that address to `X-Forwarded-For`. So the rightmost entry the webhook reads is the
vendor's address, as with Global Accelerator. Source: AWS, User Guide for Network Load
Balancers, "Target groups for your Network Load Balancers" (sections "Client IP preservation"
and "Target group attributes").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lb import Lb, LbSubnetMapping
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.lb_target_group_attachment import LbTargetGroupAttachment
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

from stacks.webhook_alb import (
    ANYWHERE,
    HEALTH_CHECK_PATH,
    AlbInbound,
    AlbRoute,
    WebhookAlb,
    WebhookAlbProps,
    cidr_rule_id,
    lb_name,
    listener_ports,
)


@dataclass(frozen=True)
class NlbEipIngressProps:
    """The NLB with our EIPs, and the internal ALB and Lambda target behind it."""

    name: str
    """Names the NLB (`<name>-nlb`), its target groups (`<name>-nlb-<port>`), the ALB and the
    security groups; each load balancer and target group name is cut to AWS's 32 characters."""
    vpc_id: str
    public_subnet_ids: Mapping[str, str]
    """AZ name -> public subnet ID: the NLB gets one subnet mapping per AZ."""
    allocation_ids: Mapping[str, str]
    """AZ name -> Elastic IP allocation ID (from `ElasticIps`), for exactly the AZs of
    `public_subnet_ids`. The EIPs are created and protected elsewhere: replacing the NLB moves
    them, it never releases them."""
    function: LambdaFunction | None
    """The webhook; the ALB invokes it through the Lambda API. None when `routes` are given."""
    alb_subnet_ids: Sequence[str] | None = None
    """Subnets of the internal ALB. Default: the NLB's public subnets. An internal ALB gets
    private addresses only, and AWS advises the same AZs as the NLB."""
    certificate_arn: str | None = None
    """With it: TCP 443 and 80 to the ALB, which serves HTTPS (TLS 1.2+) on 443 and redirects
    80; without it: TCP 80 to HTTP 80 only."""
    deletion_protection: bool = True
    """Deletion protection on the NLB and the ALB. Default on; the stack turns it off for
    `dev`."""
    access_logs_bucket: str | None = None
    """S3 bucket for the ALB's access logs. Default off. The NLB gets none: NLBs write access
    logs for TLS listeners only, and these listeners are TCP."""
    routes: Sequence[AlbRoute] = ()
    """The ALB's rules to declared functions, instead of `function`."""
    allowed_cidrs: Sequence[str] = (ANYWHERE,)
    """The only sources the NLB lets in (it keeps client addresses). Default: the internet."""


class NlbEipIngress(Construct):
    """`nlb` (its `dns_name` resolves to the EIPs), `nlb_security_group`, `target_groups` and
    `listeners` (NLB, by port), and `webhook_alb` (the ALB, its target group and listeners)."""

    def __init__(self, scope: Construct, id_: str, props: NlbEipIngressProps) -> None:
        super().__init__(scope, id_)
        azs = sorted(props.public_subnet_ids)
        if sorted(props.allocation_ids) != azs:
            raise ValueError(
                f"NlbEipIngress {props.name}: allocation_ids are for AZs "
                f"{sorted(props.allocation_ids)}, public_subnet_ids for {azs}; give one "
                "Elastic IP per public subnet's AZ"
            )
        alb_subnet_ids = (
            list(props.alb_subnet_ids)
            if props.alb_subnet_ids is not None
            else [props.public_subnet_ids[az] for az in azs]
        )
        if len(alb_subnet_ids) < 2:
            raise ValueError(
                f"NlbEipIngress {props.name}: the ALB needs subnets in at least two AZs, "
                f"got {alb_subnet_ids}"
            )
        ports = listener_ports(props.certificate_arn)

        self.nlb_security_group = SecurityGroup(
            self,
            "nlb-sg",
            name=f"{props.name}-nlb",
            vpc_id=props.vpc_id,
            description=f"{props.name}: public webhook NLB, inbound on {ports} only",
            tags={"Name": f"{props.name}-nlb"},
        )
        for port in ports:
            # An NLB passes the vendors' own addresses through: the allowed CIDRs (default the
            # internet), on the listener ports only. The ALB behind accepts nothing but this
            # group.
            for cidr in props.allowed_cidrs:
                VpcSecurityGroupIngressRule(
                    self,
                    cidr_rule_id("nlb-in", port, cidr),
                    security_group_id=self.nlb_security_group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    description=f"Webhooks from the internet on {port}"
                    if cidr == ANYWHERE
                    else f"Webhooks from {cidr} on {port}",
                )

        self.webhook_alb = WebhookAlb(
            self,
            WebhookAlbProps(
                name=props.name,
                vpc_id=props.vpc_id,
                subnet_ids=alb_subnet_ids,
                function=props.function,
                routes=props.routes,
                # AWS documents that targets referencing the NLB's group accept its traffic
                # even though it keeps the clients' source addresses.
                inbound=AlbInbound(via="the NLB", security_group_id=self.nlb_security_group.id),
                internal=True,
                certificate_arn=props.certificate_arn,
                deletion_protection=props.deletion_protection,
                access_logs_bucket=props.access_logs_bucket,
            ),
        )
        alb = self.webhook_alb
        for port in ports:
            # Forwarded traffic and the health checks (which only outbound rules govern) go to
            # the ALB on its listener ports; nowhere else.
            VpcSecurityGroupEgressRule(
                self,
                f"nlb-out-{port}",
                security_group_id=self.nlb_security_group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                referenced_security_group_id=alb.security_group.id,
                description=f"To the webhook ALB on {port}",
            )

        self.nlb = Lb(
            self,
            "nlb",
            name=lb_name(props.name, "-nlb"),
            load_balancer_type="network",
            internal=False,
            security_groups=[self.nlb_security_group.id],
            # Keyed by AZ name and sorted, like every IP-bearing resource here: the mapping,
            # not a list position, says which EIP serves which AZ.
            subnet_mapping=[
                LbSubnetMapping(
                    subnet_id=props.public_subnet_ids[az],
                    allocation_id=props.allocation_ids[az],
                )
                for az in azs
            ],
            # Off (AWS's default, and its advice for an ALB target): each AZ's EIP answers from
            # that AZ's ALB node, with no cross-AZ data charge, and the ALB, cross-zone by
            # design, spreads requests itself. An ALB target also counts as 50 NLB targets
            # instead of 100.
            enable_cross_zone_load_balancing=False,
            # No endpoint service exists; if one is ever added, its traffic still meets the
            # group's inbound rules.
            enforce_security_group_inbound_rules_on_private_link_traffic="on",
            enable_deletion_protection=props.deletion_protection,
        )

        self.target_groups: dict[int, LbTargetGroup] = {}
        self.listeners: dict[int, LbListener] = {}
        for port in ports:
            target_group = LbTargetGroup(
                self,
                f"nlb-target-group-{port}",
                name=lb_name(props.name, f"-nlb-{port}"),
                target_type="alb",
                protocol="TCP",
                port=port,
                vpc_id=props.vpc_id,
                health_check=self._health_check(alb.https),
            )
            # AWS refuses to register an ALB in a target group whose port has no ALB listener.
            alb_listener = alb.listeners[port]
            LbTargetGroupAttachment(
                self,
                f"nlb-target-{port}",
                target_group_arn=target_group.arn,
                target_id=alb.alb.arn,
                port=port,
                depends_on=[alb_listener],
            )
            self.target_groups[port] = target_group
            self.listeners[port] = LbListener(
                self,
                f"nlb-listener-{port}",
                load_balancer_arn=self.nlb.arn,
                port=port,
                protocol="TCP",
                default_action=[
                    LbListenerDefaultAction(type="forward", target_group_arn=target_group.arn)
                ],
                # Never forward on a port before the ALB answers on it.
                depends_on=[alb_listener],
            )

    @staticmethod
    def _health_check(https: bool) -> LbTargetGroupHealthCheck:
        """Through the ALB to the webhook's /health. An `alb` target group takes HTTP or HTTPS
        health checks only, and the ALB must have a listener on that port and protocol. With a
        certificate, both groups check HTTPS on 443: the ALB's port 80 only redirects, so an
        HTTP check there would see a 301, never the webhook."""
        # Only the settings AWS has always allowed for an `alb` target group. Its NLB guide said
        # the unhealthy threshold, timeout and success codes of such a group cannot be changed
        # (current pages no longer say so): `timeout` and `matcher` stay unset, so the provider
        # sends neither and AWS keeps its own. `unhealthy_threshold` has a schema default (3)
        # that the provider always sends; leaving it unset here at least never asks for more.
        return LbTargetGroupHealthCheck(
            protocol="HTTPS" if https else "HTTP",
            port="443" if https else "80",
            path=HEALTH_CHECK_PATH,
            interval=30,
            healthy_threshold=3,
        )
