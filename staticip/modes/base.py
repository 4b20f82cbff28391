"""What an egress or ingress mode declares, in one object per mode.

A mode is one way of getting static IPs (AWS CDK's `NatProvider` is the model): it names the
config keys it takes and checks them, says which construct builds it, how it shows up in
`staticip cost`, what `staticip doctor` checks and which `staticip review` rules guard it. The
environment stack, `cost`, `doctor` and `review` look modes up in `staticip.modes` (the
registry) instead of comparing strings, so a mode that is not registered is an error there,
never a fallthrough into another mode's branch.

No CDKTF import here or in any declaration at module level: the CLI reads declarations
without paying for the provider bindings. `build` imports its construct when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from staticip.names import EGRESS, INGRESS, PRIVATE_TIER

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from stacks.mode_context import EgressContext, IngressContext
    from staticip.config import EnvironmentConfig, TableReader
    from staticip.cost import LineItem
    from staticip.findings import Finding
    from staticip.ips import IpsReport
    from staticip.prices import Prices
    from staticip.review.model import Finding as ReviewFinding
    from staticip.review.plans import PlanView


ReviewRule = Callable[["PlanView"], "list[ReviewFinding]"]
PriceRule = Callable[[Mapping[str, Any], "Prices"], "list[LineItem]"]

#: The keys of an ingress mode with an ALB in front of the webhook.
ALB_KEYS: Mapping[str, str] = {
    "certificate_arn": "ACM certificate: HTTPS on 443 (TLS on the ALB), HTTP redirects",
    "alb_deletion_protection": "ALB deletion protection (default on, off for `dev`)",
    "alb_access_logs_bucket": "S3 bucket for ALB access logs (default off)",
    "routes": "ALB path patterns -> declared functions (default: the built-in webhook)",
    "ingress_allowed_cidrs": "the only sources that reach the listeners (default: open)",
}


@dataclass(frozen=True)
class Option:
    """One way to get static egress IPs, as a cost line: `fixed_monthly + per_gb * x`."""

    name: str
    fixed_monthly: float
    per_gb: float
    description: str = ""

    def at(self, gb_per_month: float) -> float:
        """Monthly cost at `gb_per_month` GB of traffic."""
        return self.fixed_monthly + self.per_gb * gb_per_month


@dataclass(frozen=True)
class DoctorContext:
    """What a mode's doctor checks get: the AWS clients the mode asked for (`services`, by
    service name), and the facts the shared egress checks already gathered."""

    project: str
    env: EnvironmentConfig
    clients: Mapping[str, BaseClient]
    facts: dict[str, Any] = field(default_factory=dict)
    """Egress only: `eips` (the allow-listed EIPs found), `function` (`FunctionFacts`),
    `subnet_az` (function subnet ID -> AZ)."""


@dataclass(frozen=True)
class DoctorCheck:
    """One named doctor check; `run` raising a botocore error becomes an error finding under
    `name`, so the other checks still run."""

    name: str
    run: Callable[[DoctorContext], list[Finding]]
    needs: Sequence[str] = ("ec2",)
    """The services whose clients `run` uses (from `DoctorContext.clients`)."""


class Mode:
    """The part every mode declares. Subclasses set the class attributes and override what
    they need; the defaults are those of a mode with no keys, no checks and no rules."""

    name: str = ""
    """The value of `egress = ...` or `ingress = ...` in staticip.toml."""
    direction: str = ""
    summary: str = ""
    """One line for README tables and `--help`."""
    keys: Mapping[str, str] = {}
    """Environment keys this mode takes besides the common ones, key -> what it sets. A key
    set in an environment whose modes do not take it is a config error naming the modes that
    do."""
    min_azs: int = 1
    min_azs_reason: str = ""
    takes_ipam_pool: bool = False
    """The mode allocates allow-listed EIPs of its own, so `ipam_pool_id` can draw them from
    an IPAM pool; a mode whose addresses are AWS's (Global Accelerator) cannot."""
    price_rules: Sequence[PriceRule] = ()
    """Line items for `cost` and `review` from a stack's `resource` table (by type), for
    what this mode builds that no other mode does; as with `review_rules`, every registered
    mode's run over every stack."""
    review_rules: Sequence[ReviewRule] = ()
    """Rules over a `terraform show -json` plan. A plan does not say which mode produced it
    (and a mode change plans both), so `review` runs every registered mode's rules."""

    def options(self, r: TableReader, azs: tuple[str, ...]) -> dict[str, Any]:
        """Read and check the keys of `keys` that `config` does not parse itself, for
        `EnvironmentConfig.mode_options`; `r.fail(key, problem)` makes the one-line error
        naming file, environment and key. `azs` are the environment's AZs."""
        return {}

    def validate(self, env: EnvironmentConfig, r: TableReader) -> None:
        """Checks across keys once the environment is parsed; raise `r.fail(key, problem)`."""

    def services(self, env: EnvironmentConfig) -> Sequence[str]:
        """AWS services (boto3 names) `doctor` needs a client for besides `ec2` and `lambda`;
        `globalaccelerator` is created in us-west-2, the others in the environment's region."""
        return ()

    def doctor_checks(self, env: EnvironmentConfig) -> Sequence[DoctorCheck]:
        """The mode's checks, in order; they share `DoctorContext.facts`."""
        return ()

    def __repr__(self) -> str:
        return f"<{self.direction} mode {self.name}>"


class EgressMode(Mode):
    direction = EGRESS
    # Every egress mode allow-lists EIPs of its own (`stacks.elastic_ips`).
    takes_ipam_pool = True
    variant_key: str | None = None
    """A key choosing between modes of the same name (`nat` for nat-gateway)."""
    variant: str | None = None
    """This mode's value of `variant_key`."""
    rejected_variants: Mapping[str, str] = {}
    """Values of `variant_key` refused on purpose -> why (the error says it)."""
    subnet_tier: str = PRIVATE_TIER
    """`public` or `private`: where the function's subnets are."""

    @property
    def label(self) -> str:
        """`name`, or `name variant` when the name has variants ("nat-gateway per-az")."""
        return f"{self.name} {self.variant}" if self.variant else self.name

    def static_ip_azs(self, env: EnvironmentConfig) -> tuple[str, ...]:
        """AZs that carry an allow-listed egress EIP, sorted by name. Default: every AZ."""
        return tuple(sorted(env.azs))

    def egress_ip_az(self, env: EnvironmentConfig, az: str) -> str:
        """The AZ whose allow-listed EIP traffic from `az`'s function subnet leaves from: its
        own where every AZ has one, else the one AZ that has (`single` layouts)."""
        azs = self.static_ip_azs(env)
        return az if az in azs else azs[0]

    def cost_option(self, az_count: int, prices: Prices) -> Option | None:
        """This mode's line in `cost`'s egress alternatives for `az_count` AZs, or None."""
        return None

    def cost_option_name(self, env: EnvironmentConfig) -> str:
        """The alternatives line `env` uses (a layout may cost like another in one AZ)."""
        return self.label

    def build(self, ctx: EgressContext) -> None:
        """Add the mode's constructs to the stack (imports them here, not at module level)."""
        raise NotImplementedError


class IngressMode(Mode):
    direction = INGRESS

    def ips_from_aws(
        self,
        report: IpsReport,
        clients: Mapping[str, BaseClient],
        project: str,
        env: EnvironmentConfig,
    ) -> None:
        """`staticip ips`: add the mode's static IPs as found in AWS to `report`, and a
        problem for each one missing or not in use. `clients` has `ec2` and the mode's
        `services` among `globalaccelerator`."""
        raise NotImplementedError

    def ips_from_outputs(
        self, report: IpsReport, values: Mapping[str, Any], env: EnvironmentConfig
    ) -> None:
        """`staticip ips --from-outputs`: the same from Terraform's output values."""
        raise NotImplementedError

    def build(self, ctx: IngressContext) -> Mapping[str, str]:
        """Add the mode's constructs and its outputs (`ingress_ips` first) to the stack;
        return the static IPs as label -> address for the ingress prefix list."""
        raise NotImplementedError
