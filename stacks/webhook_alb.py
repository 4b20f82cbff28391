"""The webhook's ALB: security group, load balancer, Lambda target groups and listeners.

Shared by the ingress modes: Global Accelerator puts it on the internet, nlb-eip keeps it
internal behind a Network Load Balancer. Its target is the built-in webhook, or the user's
declared functions through one listener rule per route (`routes` in staticip.toml).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleActionFixedResponse,
    LbListenerRuleCondition,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.lb_target_group_attachment import LbTargetGroupAttachment
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

from staticip.function_config import HEALTH_RULE_PRIORITY
from staticip.names import HEALTH_PATH

#: TLS 1.2 and 1.3 only (AWS's recommended policy for new listeners).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTH_CHECK_PATH = HEALTH_PATH
#: AWS's limit on load balancer and target group names.
LB_NAME_MAX = 32
#: Everyone may connect: what the ALB allows when `ingress_allowed_cidrs` is not set.
ANYWHERE = "0.0.0.0/0"


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
    """Where the ALB accepts connections from, on its listener ports only: `cidrs_ipv4` or
    `security_group_id`, not both."""

    via: str
    """Names the sender in each rule's description: "Webhooks via <via> on <port>"."""
    cidrs_ipv4: Sequence[str] = ()
    """For a sender that keeps the vendors' own addresses on the packets (Global Accelerator
    preserves client IPs): the vendors' CIDRs, or the internet (`ANYWHERE`)."""
    security_group_id: str | None = None
    """For a sender with a security group of its own (the NLB): only traffic from it."""

    def __post_init__(self) -> None:
        if bool(self.cidrs_ipv4) == (self.security_group_id is not None):
            raise ValueError(
                f"AlbInbound via {self.via}: give cidrs_ipv4 or security_group_id, not both"
            )


def cidr_rule_id(prefix: str, port: int, cidr: str) -> str:
    """The construct ID of the inbound rule for `cidr` on `port`: `<prefix>-<port>` for the
    internet (the ID such rules always had, so open listeners keep their rules), else
    `<prefix>-<port>-<cidr as a-b-c-d-n>`: keyed by the CIDR, never by its list position."""
    if cidr == ANYWHERE:
        return f"{prefix}-{port}"
    return f"{prefix}-{port}-{re.sub(r'[./]', '-', cidr)}"


@dataclass(frozen=True)
class AlbRoute:
    """One listener rule: requests whose path matches `path_pattern` go to `function`."""

    path_pattern: str
    priority: int
    function: LambdaFunction

    @property
    def key(self) -> str:
        """Names the route's resources: a readable slug of the pattern and a hash of it, so
        adding, removing or reordering other routes never renames (replaces) this one's."""
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.path_pattern).strip("-")[:24] or "root"
        return f"{slug}-{zlib.crc32(self.path_pattern.encode()):08x}"


@dataclass(frozen=True)
class WebhookAlbProps:
    """The ALB in front of the webhook function."""

    name: str
    """Names the security group, ALB and target group (cut to AWS's 32 characters)."""
    vpc_id: str
    subnet_ids: Sequence[str]
    """At least two AZs: an ALB needs them."""
    function: LambdaFunction | None
    """The webhook, the target of every path; the target group invokes it through the Lambda
    API, so it needs no VPC. None when `routes` are given."""
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
    routes: Sequence[AlbRoute] = ()
    """Instead of `function`: one rule per path pattern; other paths get a fixed 404, and the
    health check path a fixed 200 (an NLB in front checks it)."""

    def __post_init__(self) -> None:
        if (self.function is None) == (not self.routes):
            raise ValueError(f"WebhookAlb {self.name}: give function or routes, not both")


class WebhookAlb:
    """Adds the ALB's resources to `scope` under fixed construct IDs (`alb-sg`, `alb`,
    `target-group`, `alb-invoke`, `target`, `alb-in-<port>`, `http`, `https`).

    Not a construct of its own on purpose: construct IDs make the Terraform addresses, and the
    Global Accelerator environments were deployed with these resources directly under their
    ingress construct. A nested scope would rename them, and Terraform would replace the ALB.
    With routes, each route's resources are `route-<key>-target-group`, `-invoke`, `-target`
    and `-rule` (`AlbRoute.key`), plus `health-rule`.

    `ports` are the listener ports (80, and 443 with a certificate), `listeners` the listener
    on each, `https` whether there is a certificate, `target_groups` the Lambda target group of
    the webhook (`webhook`) or of each route (by `AlbRoute.key`).
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
            sources: Sequence[str | None] = props.inbound.cidrs_ipv4 or [None]
            for cidr in sources:
                VpcSecurityGroupIngressRule(
                    scope,
                    cidr_rule_id("alb-in", port, cidr) if cidr else f"alb-in-{port}",
                    security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    referenced_security_group_id=props.inbound.security_group_id,
                    description=f"Webhooks via {props.inbound.via} on {port}"
                    + (f" from {cidr}" if cidr and cidr != ANYWHERE else ""),
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

        self.target_groups: dict[str, LbTargetGroup] = {}
        if props.function is not None:
            self.target_groups["webhook"] = self._lambda_target(
                scope,
                "",
                short,
                props.function,
                "AllowInvokeFromAlb",
                LbTargetGroupHealthCheck(
                    enabled=True, path=HEALTH_CHECK_PATH, matcher="200", interval=35, timeout=30
                ),
            )
        for route in props.routes:
            self.target_groups[route.key] = self._lambda_target(
                scope,
                f"route-{route.key}-",
                lb_name(props.name, f"-{route.key[-8:]}"),
                route.function,
                f"AllowInvokeFromAlb-{route.key[-8:]}",
                # Off (Lambda target groups' default): a health check would invoke the user's
                # function every interval with an event it may not expect.
                LbTargetGroupHealthCheck(enabled=False),
            )
        self.target_group = self.target_groups.get("webhook")

        if self.target_group is not None:
            forward = [
                LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)
            ]
        else:
            forward = [
                LbListenerDefaultAction(
                    type="fixed-response",
                    fixed_response=LbListenerDefaultActionFixedResponse(
                        content_type="application/json",
                        message_body='{"error": "no route for this path"}',
                        status_code="404",
                    ),
                )
            ]
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

        if props.routes:
            self._route_rules(scope, props.routes)

    def _lambda_target(
        self,
        scope: Construct,
        prefix: str,
        name: str,
        function: LambdaFunction,
        statement_id: str,
        health_check: LbTargetGroupHealthCheck,
    ) -> LbTargetGroup:
        """A Lambda target group, the permission for it to invoke `function`, and the
        attachment (after the permission: ELB invokes the function when it registers)."""
        target_group = LbTargetGroup(
            scope,
            f"{prefix}target-group",
            name=name,
            target_type="lambda",
            health_check=health_check,
        )
        permission = LambdaPermission(
            scope,
            f"{prefix}alb-invoke" if not prefix else f"{prefix}invoke",
            statement_id=statement_id,
            action="lambda:InvokeFunction",
            function_name=function.function_name,
            principal="elasticloadbalancing.amazonaws.com",
            source_arn=target_group.arn,
        )
        LbTargetGroupAttachment(
            scope,
            f"{prefix}target",
            target_group_arn=target_group.arn,
            target_id=function.arn,
            depends_on=[permission],
        )
        return target_group

    def _route_rules(self, scope: Construct, routes: Sequence[AlbRoute]) -> None:
        """One rule per route on the listener that forwards (443 with a certificate, else 80),
        and the health check path's fixed 200 after every route."""
        listener = self.listeners[443 if self.https else 80]
        for route in routes:
            LbListenerRule(
                scope,
                f"route-{route.key}-rule",
                listener_arn=listener.arn,
                priority=route.priority,
                action=[
                    LbListenerRuleAction(
                        type="forward", target_group_arn=self.target_groups[route.key].arn
                    )
                ],
                condition=[
                    LbListenerRuleCondition(
                        path_pattern=LbListenerRuleConditionPathPattern(values=[route.path_pattern])
                    )
                ],
            )
        LbListenerRule(
            scope,
            "health-rule",
            listener_arn=listener.arn,
            priority=HEALTH_RULE_PRIORITY,
            action=[
                LbListenerRuleAction(
                    type="fixed-response",
                    fixed_response=LbListenerRuleActionFixedResponse(
                        content_type="application/json",
                        message_body='{"status": "healthy"}',
                        status_code="200",
                    ),
                )
            ],
            condition=[
                LbListenerRuleCondition(
                    path_pattern=LbListenerRuleConditionPathPattern(values=[HEALTH_CHECK_PATH])
                )
            ],
        )
