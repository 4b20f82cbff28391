"""Static ingress IPs: Global Accelerator -> internet-facing ALB -> Lambda target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.globalaccelerator_accelerator import GlobalacceleratorAccelerator
from cdktf_cdktf_provider_aws.globalaccelerator_endpoint_group import (
    GlobalacceleratorEndpointGroup,
    GlobalacceleratorEndpointGroupEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.globalaccelerator_listener import (
    GlobalacceleratorListener,
    GlobalacceleratorListenerPortRange,
)
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

#: TLS 1.2 and 1.3 only (AWS's recommended policy for new listeners).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTH_CHECK_PATH = "/health"


@dataclass(frozen=True)
class GlobalAcceleratorProps:
    """The ALB, its Lambda target and the accelerator in front."""

    name: str
    """Names the ALB, target group and accelerator (truncated to AWS's 32-character limit)."""
    region: str
    """Region of the ALB (the endpoint group's region)."""
    vpc_id: str
    public_subnet_ids: Sequence[str]
    """At least two AZs: an ALB needs them."""
    function: LambdaFunction
    ga_provider: TerraformProvider
    """An AWS provider in us-west-2 for the accelerator, listener and endpoint group."""
    certificate_arn: str | None = None
    """With it: HTTPS on 443 (TLS 1.2+), HTTP 80 redirects; without it: HTTP 80 only."""
    deletion_protection: bool = True
    """ALB deletion protection. Default on; the stack turns it off for `dev`."""
    access_logs_bucket: str | None = None
    """S3 bucket for ALB access logs (its policy must let ELB log delivery write). Default off."""
    protect: bool = True
    """`prevent_destroy` on the accelerator: replacing it changes the two ingress IPs."""


class GlobalAcceleratorIngress(Construct):
    """`ip_addresses` holds the two static anycast IPs vendors send webhooks to."""

    def __init__(self, scope: Construct, id_: str, props: GlobalAcceleratorProps) -> None:
        super().__init__(scope, id_)
        short = props.name[:32].rstrip("-")
        https = props.certificate_arn is not None
        ports = [80, 443] if https else [80]

        self.security_group = SecurityGroup(
            self,
            "alb-sg",
            name=f"{props.name}-alb",
            vpc_id=props.vpc_id,
            description=f"{props.name}: public webhook ALB, inbound on {ports} only",
            tags={"Name": f"{props.name}-alb"},
        )
        for port in ports:
            # Global Accelerator preserves client IPs, so the vendors' own addresses arrive
            # here: the rule has to be open to the internet, on the listener ports only.
            VpcSecurityGroupIngressRule(
                self,
                f"alb-in-{port}",
                security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4="0.0.0.0/0",
                description=f"Webhooks via Global Accelerator on {port}",
            )

        self.alb = Lb(
            self,
            "alb",
            name=short,
            load_balancer_type="application",
            internal=False,
            security_groups=[self.security_group.id],
            subnets=list(props.public_subnet_ids),
            drop_invalid_header_fields=True,
            enable_deletion_protection=props.deletion_protection,
            access_logs=LbAccessLogs(
                bucket=props.access_logs_bucket, enabled=True, prefix=props.name
            )
            if props.access_logs_bucket
            else None,
        )

        self.target_group = LbTargetGroup(
            self,
            "target-group",
            name=short,
            target_type="lambda",
            health_check=LbTargetGroupHealthCheck(
                enabled=True, path=HEALTH_CHECK_PATH, matcher="200", interval=35, timeout=30
            ),
        )
        permission = LambdaPermission(
            self,
            "alb-invoke",
            statement_id="AllowInvokeFromAlb",
            action="lambda:InvokeFunction",
            function_name=props.function.function_name,
            principal="elasticloadbalancing.amazonaws.com",
            source_arn=self.target_group.arn,
        )
        LbTargetGroupAttachment(
            self,
            "target",
            target_group_arn=self.target_group.arn,
            target_id=props.function.arn,
            depends_on=[permission],
        )

        forward = [LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)]
        if https:
            LbListener(
                self,
                "https",
                load_balancer_arn=self.alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=props.certificate_arn,
                default_action=forward,
            )
            LbListener(
                self,
                "http",
                load_balancer_arn=self.alb.arn,
                port=80,
                protocol="HTTP",
                default_action=[
                    LbListenerDefaultAction(
                        type="redirect",
                        redirect=LbListenerDefaultActionRedirect(
                            port="443", protocol="HTTPS", status_code="HTTP_301"
                        ),
                    )
                ],
            )
        else:
            LbListener(
                self,
                "http",
                load_balancer_arn=self.alb.arn,
                port=80,
                protocol="HTTP",
                default_action=forward,
            )

        self.accelerator = GlobalacceleratorAccelerator(
            self,
            "accelerator",
            provider=props.ga_provider,
            name=short,
            ip_address_type="IPV4",
            enabled=True,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.protect),
        )
        self.listener = GlobalacceleratorListener(
            self,
            "ga-listener",
            provider=props.ga_provider,
            accelerator_arn=self.accelerator.id,
            protocol="TCP",
            client_affinity="NONE",
            port_range=[GlobalacceleratorListenerPortRange(from_port=p, to_port=p) for p in ports],
        )
        GlobalacceleratorEndpointGroup(
            self,
            "ga-endpoints",
            provider=props.ga_provider,
            listener_arn=self.listener.id,
            endpoint_group_region=props.region,
            endpoint_configuration=[
                GlobalacceleratorEndpointGroupEndpointConfiguration(
                    endpoint_id=self.alb.arn, weight=100, client_ip_preservation_enabled=True
                )
            ],
        )
        self.ip_addresses = self.accelerator.ip_sets.get(0).ip_addresses
