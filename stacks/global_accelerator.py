"""Static ingress IPs: Global Accelerator -> internet-facing ALB (`webhook_alb.py`) -> Lambda."""

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
from constructs import Construct

from stacks.webhook_alb import (
    ANYWHERE,
    AlbInbound,
    AlbRoute,
    WebhookAlb,
    WebhookAlbProps,
    lb_name,
)


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
    function: LambdaFunction | None
    """The webhook; None when `routes` are given."""
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
    routes: Sequence[AlbRoute] = ()
    """The ALB's rules to declared functions, instead of `function`."""
    allowed_cidrs: Sequence[str] = (ANYWHERE,)
    """The only sources that reach the listeners. Default: the internet."""


class GlobalAcceleratorIngress(Construct):
    """`ip_addresses` holds the two static anycast IPs vendors send webhooks to."""

    def __init__(self, scope: Construct, id_: str, props: GlobalAcceleratorProps) -> None:
        super().__init__(scope, id_)
        short = lb_name(props.name)
        self.webhook_alb = WebhookAlb(
            self,
            WebhookAlbProps(
                name=props.name,
                vpc_id=props.vpc_id,
                subnet_ids=props.public_subnet_ids,
                function=props.function,
                routes=props.routes,
                # Global Accelerator preserves client IPs, so the vendors' own addresses arrive
                # at the ALB: its rules name them (or the internet), on the listener ports only.
                inbound=AlbInbound(via="Global Accelerator", cidrs_ipv4=props.allowed_cidrs),
                internal=False,
                certificate_arn=props.certificate_arn,
                deletion_protection=props.deletion_protection,
                access_logs_bucket=props.access_logs_bucket,
            ),
        )
        self.security_group = self.webhook_alb.security_group
        self.alb = self.webhook_alb.alb
        self.target_group = self.webhook_alb.target_group
        ports = self.webhook_alb.ports

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
