"""The nlb-eip ingress mode: an internet-facing Network Load Balancer holding one of the
environment's allow-listed Elastic IPs in each AZ (`subnet_mapping { subnet_id, allocation_id
}`), TCP listeners on 80 (and 443 with a certificate) forwarding to `alb`-type target groups
whose one target is an internal ALB, whose `lambda` target group holds the webhook function.

Here: the mode's declaration (`NlbEip`) and its config key; `checks.py` holds what
`staticip doctor` checks (`check_nlb_ingress`) and `rules.py` the `staticip review` rule over a
plan (`nlb_findings`); `staticip.ips` reads its addresses; the construct is
`stacks/nlb_eip_ingress.py`, built by `stacks/modes.py`. Not the `staticip.modes` registry,
which imports this package on first use.

Facts the checks and rules rely on:

- AWS cannot change an NLB's Elastic IPs once it exists (Network Load Balancer user guide,
  "network-load-balancers.html"); SetSubnets on an NLB must repeat every enabled subnet with
  its configuration, so subnets can only be added.
- The AWS provider (hashicorp/terraform-provider-aws, internal/service/elbv2/load_balancer.go,
  `customizeDiffLoadBalancerNLB`) therefore forces a replacement of a `network` `aws_lb` when
  its `subnet_mapping` set, wholly known at plan time, loses a mapping or changes one (a
  different `allocation_id` or `subnet_id` is a different set element); mappings added while
  the old ones stay are done in place. The same goes for `subnets`, and for `security_groups`
  going from none to some or from some to none. `internal`, `load_balancer_type` and `name`
  are ForceNew in the schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from staticip.config_reader import allocation_ids, reuse_with_pool_problem
from staticip.modes.base import ALB_KEYS, IngressMode

if TYPE_CHECKING:
    from staticip.config import EnvironmentConfig
    from staticip.config_reader import TableReader

#: The mode's own config key (`NlbEip.options` reads it into `mode_options`).
REUSE_KEY = "ingress_reuse_eip_allocation_ids"


def ingress_azs(env: EnvironmentConfig) -> tuple[str, ...]:
    """The AZs holding an ingress EIP: every AZ of the environment, sorted by name."""
    return tuple(sorted(env.azs))


def reused(env: EnvironmentConfig) -> Mapping[str, str]:
    """AZ name -> the existing allocation the NLB uses there instead of a new EIP."""
    return env.mode_options.get(REUSE_KEY, {})


class NlbEip(IngressMode):
    """Our Elastic IPs, one per AZ, on an internet-facing NLB in front of an internal ALB.
    Unlike Global Accelerator's two addresses, the EIPs outlive the load balancer: they are
    protected like the egress EIPs and can be reused in another environment or account."""

    name = "nlb-eip"
    summary = "your own Elastic IPs (one per AZ) on an NLB in front of an internal ALB"
    keys = {
        **ALB_KEYS,
        REUSE_KEY: "AZ name -> existing `eipalloc-...` for the NLB instead of a new EIP",
    }
    min_azs = 2
    min_azs_reason = "an ALB needs subnets in at least 2 AZs; use 2 or more"
    takes_ipam_pool = True

    def options(self, r: TableReader, azs: tuple[str, ...]) -> dict[str, Any]:
        return {REUSE_KEY: allocation_ids(r, REUSE_KEY, azs)}

    def validate(self, env: EnvironmentConfig, r: TableReader) -> None:
        shared = set(reused(env).values()) & set(env.reuse_eip_allocation_ids.values())
        if shared:
            raise r.fail(
                REUSE_KEY,
                f"{', '.join(sorted(shared))} is also in reuse_eip_allocation_ids; an address "
                "is either the function's egress IP or the webhook's ingress IP, not both",
            )
        if env.ipam_pool_id and reused(env):
            az = min(reused(env))
            raise r.fail(f"{REUSE_KEY}.{az}", reuse_with_pool_problem(REUSE_KEY, az))

    def services(self, env: EnvironmentConfig) -> Sequence[str]:
        return ("elbv2",)
