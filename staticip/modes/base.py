"""What an egress or ingress mode declares, in one object per mode.

A mode is one way of getting static IPs (AWS CDK's `NatProvider` is the model): it names the
config keys it takes and checks them, says which AZs carry its allow-listed EIPs, prices what
it builds and gives its line in `staticip cost`. Config, the environment stack, `cost`,
`doctor`, `review` and `ips` look modes up in `staticip.modes` (the registry) instead of
comparing strings, so a mode that is not registered is an error there, never a fallthrough
into another mode's branch.

Declarations are the layer under both the constructs and the operations, so they import
neither: what a mode builds is `stacks/modes.py`'s, keyed by the mode's label, and what
`doctor` checks and `review` flags are the `checks` and `rules` modules next to the
declaration, found by label the same way. Nor do they import `staticip.config`, which imports
the registry: its types appear in annotations only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from staticip.cost_items import LineItem, Option
from staticip.names import EGRESS, INGRESS, PRIVATE_TIER

if TYPE_CHECKING:
    from staticip.config import EnvironmentConfig
    from staticip.config_reader import TableReader
    from staticip.prices import Prices


PriceRule = Callable[[Mapping[str, Any], "Prices"], list[LineItem]]

#: The keys of an ingress mode with an ALB in front of the webhook.
ALB_KEYS: Mapping[str, str] = {
    "certificate_arn": "ACM certificate: HTTPS on 443 (TLS on the ALB), HTTP redirects",
    "alb_deletion_protection": "ALB deletion protection (default on, off for `dev`)",
    "alb_access_logs_bucket": "S3 bucket for ALB access logs (default off)",
    "routes": "ALB path patterns -> declared functions (default: the built-in webhook)",
    "ingress_allowed_cidrs": "the only sources that reach the listeners (default: open)",
}


class Mode:
    """The part every mode declares. Subclasses set the class attributes and override what
    they need; the defaults are those of a mode with no keys and nothing of its own to price."""

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
    what this mode builds that no other mode does; a stack does not say which mode built it,
    so every registered mode's rules run over every stack."""

    @property
    def label(self) -> str:
        """The key its builder (`stacks/modes.py`), doctor checks and review rules are
        registered under: `name`, and for an egress layout `name variant`."""
        return self.name

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


class IngressMode(Mode):
    direction = INGRESS
