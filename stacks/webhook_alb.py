"""The webhook's ALB: security group, load balancer, Lambda target group and listeners.

Shared by the ingress modes: Global Accelerator puts it on the internet, nlb-eip keeps it
internal behind a Network Load Balancer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.lb_target_group_attachment import LbTargetGroupAttachment
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

from staticip.names import HEALTH_PATH

#: TLS 1.2 and 1.3 only (AWS's recommended policy for new listeners).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTH_CHECK_PATH = HEALTH_PATH
#: AWS's limit on load balancer and target group names.
LB_NAME_MAX = 32


def listener_ports(certificate_arn: str | None) -> list[int]:
    """The ports the webhook answers on: 80, and 443 when there is a certificate (80 then
    redirects). Whatever sits in front (accelerator, NLB) listens on the same ones."""
    return [80, 443] if certificate_arn is not None else [80]


def lb_name(name: str, suffix: str = "") -> str:
    """`name` cut so that `name + suffix` fits AWS's 32 characters for load balancer and target
    group names, which must not end with a hyphen."""
    return f"{name[: LB_NAME_MAX - len(suffix)].rstrip('-')}{suffix}"


@dataclass(frozen=True)
class AlbInbound:
    """Where the ALB accepts connections from, on its listener ports only: exactly one of
    `cidr_ipv4` and `security_group_id`."""

    via: str
    """Names the sender in each rule's description: "Webhooks via <via> on <port>"."""
    cidr_ipv4: str | None = None
    """For a sender that keeps the vendors' own addresses on the packets (Global Accelerator
    preserves client IPs): the internet, 0.0.0.0/0."""
    security_group_id: str | None = None
    """For a sender with a security group of its own (the NLB): only traffic from it."""

    def __post_init__(self) -> None:
        if (self.cidr_ipv4 is None) == (self.security_group_id is None):
            raise ValueError(
                f"AlbInbound via {self.via}: give exactly one of cidr_ipv4 and security_group_id"
            )


@dataclass(frozen=True)
class WebhookAlbProps:
    """The ALB in front of the webhook function."""

    name: str
    """Names the security group, ALB and target group (cut to AWS's 32 characters)."""
    vpc_id: str
    subnet_ids: Sequence[str]
    """At least two AZs: an ALB needs them."""
    function: LambdaFunction
    """The webhook; the target group invokes it through the Lambda API, so it needs no VPC."""
    inbound: AlbInbound
    """Who may connect to the listener ports; nothing else gets an ingress rule."""
    internal: bool = False
    """Default internet-facing (Global Accelerator); nlb-eip keeps it internal."""
    certificate_arn: str | None = None
    """With it: HTTPS on 443 (TLS 1.2+), HTTP 80 redirects; without it: HTTP 80 only."""
    deletion_protection: bool = True
    """ALB deletion protection. Default on; the stack turns it off for `dev`."""
    access_logs_bucket: str | None = None
    """S3 bucket for ALB access logs (its policy must let ELB log delivery write). Default off."""


class WebhookAlb:
    """Adds the ALB's resources to `scope` under fixed construct IDs (`alb-sg`, `alb`,
    `target-group`, `alb-invoke`, `target`, `alb-in-<port>`, `http`, `https`).

    Not a construct of its own on purpose: construct IDs make the Terraform addresses, and the
    Global Accelerator environments were deployed with these resources directly under their
    ingress construct. A nested scope would rename them, and Terraform would replace the ALB.

    `ports` are the listener ports (80, and 443 with a certificate), `listeners` the listener
    on each, `https` whether there is a certificate.
    """

    def __init__(self, scope: Construct, props: WebhookAlbProps) -> None:
        self.https = props.certificate_arn is not None
        self.ports = listener_ports(props.certificate_arn)
        short = lb_name(props.name)
        reach = "internal" if props.internal else "public"

        self.security_group = SecurityGroup(
            scope,
            "alb-sg",
            name=f"{props.name}-alb",
            vpc_id=props.vpc_id,
            description=f"{props.name}: {reach} webhook ALB, inbound on {self.ports} only",
            tags={"Name": f"{props.name}-alb"},
        )
        for port in self.ports:
            VpcSecurityGroupIngressRule(
                scope,
                f"alb-in-{port}",
                security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=props.inbound.cidr_ipv4,
                referenced_security_group_id=props.inbound.security_group_id,
                description=f"Webhooks via {props.inbound.via} on {port}",
            )

        self.alb = Lb(
            scope,
            "alb",
            name=short,
            load_balancer_type="application",
            internal=props.internal,
            security_groups=[self.security_group.id],
            subnets=list(props.subnet_ids),
            drop_invalid_header_fields=True,
            enable_deletion_protection=props.deletion_protection,
            access_logs=LbAccessLogs(
                bucket=props.access_logs_bucket, enabled=True, prefix=props.name
            )
            if props.access_logs_bucket
            else None,
        )

        self.target_group = LbTargetGroup(
            scope,
            "target-group",
            name=short,
            target_type="lambda",
            health_check=LbTargetGroupHealthCheck(
                enabled=True, path=HEALTH_CHECK_PATH, matcher="200", interval=35, timeout=30
            ),
        )
        permission = LambdaPermission(
            scope,
            "alb-invoke",
            statement_id="AllowInvokeFromAlb",
            action="lambda:InvokeFunction",
            function_name=props.function.function_name,
            principal="elasticloadbalancing.amazonaws.com",
            source_arn=self.target_group.arn,
        )
        LbTargetGroupAttachment(
            scope,
            "target",
            target_group_arn=self.target_group.arn,
            target_id=props.function.arn,
            depends_on=[permission],
        )

        forward = [LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)]
        self.listeners: dict[int, LbListener] = {}
        if self.https:
            self.listeners[443] = LbListener(
                scope,
                "https",
                load_balancer_arn=self.alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=props.certificate_arn,
                default_action=forward,
            )
        redirect = LbListenerDefaultAction(
            type="redirect",
            redirect=LbListenerDefaultActionRedirect(
                port="443", protocol="HTTPS", status_code="HTTP_301"
            ),
        )
        self.listeners[80] = LbListener(
            scope,
            "http",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_action=[redirect] if self.https else forward,
        )
