"""The environments file (`staticip.toml`): parse, validate and default it.

Plain Python with no CDKTF import, so the CLI can read environments without paying for the
provider bindings. Every validation failure is a `ConfigError` whose message is one line naming
the file, the environment and the key, and saying what to write instead (`config_reader`). The
function tables and routes are parsed in `function_config`.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from staticip import modes
from staticip.config_reader import (
    LOG_RETENTION_DAYS,
    ConfigError,
    TableReader,
    allocation_ids,
    reuse_with_pool_problem,
    toml_type,
)
from staticip.function_config import (
    DeclaredFunction,
    FunctionConfig,
    Route,
    parse_allowed_cidrs,
    parse_function,
    parse_functions,
    parse_routes,
)
from staticip.modes import EgressMode, IngressMode, Mode
from staticip.names import (
    ENVIRONMENT_TAG,
    PROJECT_TAG,
    canary_function_name,
    egress_probe_function_name,
    guard_function_name,
    resource_prefix,
    webhook_function_name,
)
from staticip.schedule import DEFAULT_SCHEDULE, is_schedule

# Re-exported: the CLI, the stacks and the tests read them from here.
__all__ = [
    "LOG_RETENTION_DAYS",
    "Config",
    "ConfigError",
    "DeclaredFunction",
    "EnvironmentConfig",
    "FunctionConfig",
    "Route",
    "TableReader",
    "load_config",
]

DEFAULT_CONFIG_FILE = "staticip.toml"
DEFAULT_PROJECT = "staticip"
DEFAULT_REGION = "us-east-1"
DEFAULT_AZ_COUNT = 2

# Subnets are carved from the VPC CIDR with 4 extra prefix bits: 16 slots, public subnets take
# slot k and private ones slot 8 + k, where k is the AZ letter (a = 0). Deriving the slot from the
# AZ *name* rather than its position in a list keeps every subnet, and the NAT Gateway and
# Hyperplane ENI inside it, where it is when AZs are added or reordered.
SUBNET_NEWBITS = 4
PRIVATE_SLOT_OFFSET = 8
MAX_AZ_LETTER = "h"
# A /24 VPC gives /28 subnets, the smallest AWS allows.
MAX_VPC_PREFIX = 24
# Inbound rules per security group (VPC quota, default).
MAX_SECURITY_GROUP_RULES = 60

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
# IPAM pool IDs are `ipam-pool-` and 17 lowercase hex digits (e.g. ipam-pool-0533048da7d823723
# in the AWS CLI's IPAM examples); unlike allocation IDs, no 8-digit legacy form exists.
_IPAM_POOL_ID = re.compile(r"ipam-pool-[0-9a-f]{17}")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
# ASCII classes and fullmatch: `\d` and `\w` accept non-ASCII digits and letters, and `$`
# accepts a trailing newline, none of which AWS does.
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# IAM role ARN: partition (aws, aws-cn, aws-us-gov, ...), account, optional path, role name.
_ROLE_ARN = re.compile(r"arn:aws[-a-z]*:iam::([0-9]{12}):role/[A-Za-z0-9_+=,.@/-]{1,512}")


@dataclass(frozen=True)
class BackendConfig:
    """Where Terraform keeps state. Local file unless `bucket` is set."""

    bucket: str | None = None
    """S3 bucket; with it, state goes to S3 with Terraform's native lockfile (no DynamoDB)."""
    key: str | None = None
    """Object key; defaults to `staticip/<environment>/terraform.tfstate`."""
    region: str | None = None
    """Bucket region; defaults to the environment's region."""


@dataclass(frozen=True)
class EniGuardConfig:
    """The ENI guard of an eni-eip environment (see stacks/eni_guard.py)."""

    enabled: bool = True
    """On by default with `eni-eip`: re-attaches the EIPs when Lambda replaces its ENIs."""
    schedule: str = DEFAULT_SCHEDULE
    """EventBridge schedule of the periodic check, besides the CreateNetworkInterface event."""
    alarm_topic_arn: str | None = None
    """SNS topic for the alarm on ENIs left without an EIP; default: alarm without action."""
    reserved_concurrency: bool = False
    """Reserve one concurrent execution for the guard. Off by default: Lambda keeps 100 of the
    account's concurrency unreserved, so the reservation fails to deploy in accounts whose
    limit is below 101; a lock table keeps the guard's runs one at a time either way."""


@dataclass(frozen=True)
class EnvironmentConfig:
    """One environment, synthesized as the CDKTF stack of the same name."""

    name: str
    region: str
    """AWS region of the environment."""
    vpc_cidr: str
    """IPv4 CIDR of the VPC, /16 to /24; must not overlap another environment's (so they can
    be peered)."""
    azs: tuple[str, ...]
    """Explicit AZ names instead of `az_count`, e.g. `["us-west-1b", "us-west-1c"]`; subnets,
    EIPs and NATs are keyed by AZ name, so adding or reordering AZs replaces none of them."""
    function: FunctionConfig
    """`[function]`: the built-in function's settings (the egress probe, else the webhook)."""
    egress: str = "none"
    """The egress mode: `eni-eip`, `nat-gateway`, `nat-instance`, or `none` (one of egress and
    ingress must be set)."""
    ingress: str = "none"
    """The ingress mode: `global-accelerator`, `nlb-eip`, or `none`."""
    nat: str = "per-az"
    """The NAT layout. With `nat-gateway`: `per-az` (one NAT per AZ, ~$32.85/month each),
    `single` (one NAT for all AZs, in the alphabetically first), or `regional` (one regional NAT
    Gateway in manual mode with one allow-listed EIP per AZ; needs hashicorp/aws >= 6.24.0);
    `auto` modes are refused, since AWS adds addresses of its own under load. With
    `nat-instance`: `per-az` or `single`."""
    mode_options: Mapping[str, Any] = field(default_factory=dict)
    """Keys a mode declares and validates itself (`Mode.options`), by key."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags on every resource; `environment` and `project` are always set (and refused
    here)."""
    backend: BackendConfig = field(default_factory=BackendConfig)
    """Where Terraform keeps state (`[backend]`)."""
    protect_ips: bool = True
    """`prevent_destroy` on every allow-listed IP, and an EIP that leaves the configuration is
    forgotten by Terraform instead of released; set false only to destroy on purpose."""
    reuse_eip_allocation_ids: Mapping[str, str] = field(default_factory=dict)
    """AZ name -> existing EIP allocation ID to use instead of creating one."""
    certificate_arn: str | None = None
    """ACM certificate for the ingress ALB; with it, HTTPS on 443 and HTTP redirects."""
    alb_deletion_protection: bool | None = None
    """ALB deletion protection; defaults to on for every environment not named `dev`."""
    alb_access_logs_bucket: str | None = None
    """S3 bucket (yours, with the ELB log-delivery policy) for ALB access logs; default off."""
    flow_logs_retention_days: int | None = None
    """VPC flow logs to CloudWatch Logs with this retention; default off (cost per GB)."""
    eni_guard: EniGuardConfig = field(default_factory=lambda: EniGuardConfig(enabled=False))
    """The ENI guard of an `eni-eip` environment (`[eni_guard]`)."""
    prefix_list: bool = True
    """A managed prefix list of the allow-listed /32s per direction (no charge); false: none."""
    account_id: str | None = None
    """The AWS account the environment lives in: the providers' `allowed_account_ids`, and
    the account `staticip` commands insist their credentials are for."""
    assume_role_arn: str | None = None
    """IAM role the providers, the ENI resolver and `staticip` commands assume for this
    environment; default: use the credentials as they are."""
    profile: str | None = None
    """AWS shared-config profile for this environment (providers, resolver, commands)."""
    functions: tuple[DeclaredFunction, ...] = ()
    """`[functions.<key>]`: the user's own functions, sorted by key. With egress they sit in
    the function subnets with the one function security group, behind the static IPs."""
    probe: bool = True
    """With egress: deploy the egress probe that `staticip verify` invokes. Default on."""
    ssm_parameters: bool = True
    """With egress: SSM parameters under `/<project>/<environment>/` with what a function
    deployed by another tool needs to sit behind the static IPs. Default on."""
    routes: tuple[Route, ...] = ()
    """With ingress: ALB path patterns -> declared functions, by priority; none: the built-in
    webhook answers every path."""
    ingress_allowed_cidrs: tuple[str, ...] = ()
    """With ingress: the only sources that reach the listeners; default open to all."""
    canary: str | None = None
    """With egress: the EventBridge schedule (`rate(...)` or `cron(...)`) of the egress canary,
    which checks in every AZ that its traffic leaves from its allow-listed IP; `false` turns
    it off. None without egress or with it off."""
    alarm_topic_arn: str | None = None
    """SNS topic for the environment's alarms: the canary's, and the ENI guard's unless
    `eni_guard.alarm_topic_arn` names another. Default: alarms without action."""
    ipam_pool_id: str | None = None
    """IPAM pool (Amazon-provided contiguous public IPv4) the created allow-listed EIPs of
    both directions are allocated from (egress modes, `nlb-eip`); default: none."""

    def canary_function_names(self, project: str) -> tuple[str, ...]:
        """The egress canary's functions, one per AZ by name; () without a canary."""
        if self.canary is None:
            return ()
        return tuple(canary_function_name(project, self.name, az) for az in sorted(self.azs))

    @property
    def egress_function_names(self) -> tuple[str, ...]:
        """The functions in the function subnets behind the egress IPs: the probe first (the
        ENI lookups' anchor when it is on), then the declared ones by key; () without egress."""
        if self.egress_mode is None:
            return ()
        probe = (self.function.name,) if self.probe else ()
        return probe + tuple(fn.name for fn in self.functions)

    @property
    def has_webhook(self) -> bool:
        """The built-in webhook is deployed: an ingress mode without `routes`."""
        return self.ingress_mode is not None and not self.routes

    def webhook_name(self, project: str) -> str:
        """The webhook's name: `function.name`, unless that is the egress probe's."""
        if self.egress_mode is not None:
            return webhook_function_name(project, self.name)
        return self.function.name

    def deployed_function_names(self, project: str) -> tuple[str, ...]:
        """Every Lambda function the environment's stack deploys: the probe or webhook, the
        ENI guard, the declared functions."""
        names = list(self.egress_function_names)
        if self.has_webhook:
            names.append(self.webhook_name(project))
        if self.eni_guard.enabled:
            names.append(guard_function_name(project, self.name))
        names += self.canary_function_names(project)
        if self.egress_mode is None:
            names += [fn.name for fn in self.functions]
        return tuple(names)

    @property
    def single_nat_az(self) -> str:
        """The AZ that holds the NAT Gateway in `single` mode: the alphabetically first one,
        so reordering `azs` never moves it."""
        return min(self.azs)

    @property
    def egress_mode(self) -> EgressMode | None:
        """The egress declaration (`staticip.modes`), None without egress."""
        return modes.egress_mode(self.egress, self.nat)

    @property
    def ingress_mode(self) -> IngressMode | None:
        return modes.ingress_mode(self.ingress)

    @property
    def selected_modes(self) -> tuple[Mode, ...]:
        return tuple(m for m in (self.egress_mode, self.ingress_mode) if m is not None)

    @property
    def static_ip_azs(self) -> tuple[str, ...]:
        """AZs that carry an allow-listed egress EIP, sorted by name."""
        mode = self.egress_mode
        return mode.static_ip_azs(self) if mode else ()

    @property
    def needs_private_subnets(self) -> bool:
        mode = self.egress_mode
        return mode is not None and mode.subnet_tier == "private"

    @property
    def deletion_protection(self) -> bool:
        if self.alb_deletion_protection is None:
            return self.name != "dev"
        return self.alb_deletion_protection

    def subnet_cidr(self, az: str, private: bool = False) -> str:
        """The subnet CIDR for `az`, derived from the AZ letter (see SUBNET_NEWBITS)."""
        slot = ord(az[-1]) - ord("a") + (PRIVATE_SLOT_OFFSET if private else 0)
        net = ipaddress.ip_network(self.vpc_cidr)
        return str(list(net.subnets(new_prefix=net.prefixlen + SUBNET_NEWBITS))[slot])


@dataclass(frozen=True)
class Config:
    """The whole file: a project name and its environments, in file order."""

    path: Path
    project: str
    environments: tuple[EnvironmentConfig, ...]

    def environment(self, name: str) -> EnvironmentConfig:
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(e.name for e in self.environments)
        raise ConfigError(f"{self.path}: no environment named '{name}' (known: {known})")


def _keys(cls: type) -> frozenset[str]:
    """A table's keys are its dataclass's fields: declared once, with their defaults."""
    return frozenset(f.name for f in fields(cls))


_TOP_KEYS = {"project", "environments"}


def environment_keys() -> frozenset[str]:
    """The keys of an environment table: the fields of EnvironmentConfig (but its name, which
    is the table's, and what modes parse), `az_count` (which sets `azs`), and every registered
    mode's keys."""
    common = (_keys(EnvironmentConfig) - {"name", "mode_options"}) | {"az_count"}
    return common | frozenset(modes.mode_keys())


#: Keys whose default the parser derives rather than takes from their field, as the
#: configuration reference (`staticip.config_reference`) shows it.
DERIVED_DEFAULTS: Mapping[str, str] = {
    "region": f'"{DEFAULT_REGION}"',
    "vpc_cidr": "required",
    "azs": "the region's first `az_count` AZs",
    "az_count": str(DEFAULT_AZ_COUNT),
    "alb_deletion_protection": "true, except in an environment named `dev`",
    "canary": f'"{DEFAULT_SCHEDULE}" with egress',
    "eni_guard.enabled": "true with `eni-eip`",
    "eni_guard.alarm_topic_arn": "the environment's `alarm_topic_arn`",
    "function.name": "`<project>-<environment>-egress-probe` (or `-webhook` without egress)",
    "functions.name": "`<project>-<environment>-<key>`",
    "functions.source": "one of `source` and `package` is required",
    "backend.key": "`staticip/<environment>/terraform.tfstate`",
    "backend.region": "the environment's region",
}
#: Keys whose TOML type is not their field's Python type.
KEY_TYPES: Mapping[str, str] = {
    "canary": "string or false",
    "functions": "table of tables",
    "routes": "table: pattern -> key, or {function, priority}",
    "functions.source": "string (path)",
    "functions.package": "string (path)",
}
#: Keys that are not fields of their table's dataclass: what they mean.
OTHER_KEYS: Mapping[str, tuple[str, str]] = {
    "az_count": ("integer", "How many AZs to use: the region's `a`, `b`, ...; or give `azs`."),
}

_ENI_GUARD_KEYS = _keys(EniGuardConfig)
_BACKEND_KEYS = _keys(BackendConfig)


def load_config(path: str | Path = DEFAULT_CONFIG_FILE) -> Config:
    """Read and validate the environments file; raise `ConfigError` on the first problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; create it or pass --config") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        # A key written twice (a route's path pattern, a function's key) is a TOML error.
        twice = "; a key is given twice there" if "Cannot overwrite" in str(exc) else ""
        raise ConfigError(f"{path}: invalid TOML: {exc}{twice}") from None
    return parse_config(raw, path)


def parse_config(raw: Mapping[str, Any], path: Path) -> Config:
    """Validate an already-parsed TOML document (split out so property tests can feed it)."""
    top = TableReader(path, None, raw)
    top.check_keys(_TOP_KEYS)
    project = top.get("project", str, DEFAULT_PROJECT)
    if not _NAME.match(project):
        raise top.fail("project", f"'{project}' must be lowercase letters, digits and '-'")
    envs_table = top.get("environments", dict, {})
    if not envs_table:
        raise top.fail("environments", "no environments; add a table [environments.<name>]")
    envs = []
    for name, table in envs_table.items():
        if not isinstance(table, dict):
            raise top.fail(f"environments.{name}", f"expected a table, got {toml_type(table)}")
        if not _NAME.match(name):
            raise top.fail(
                f"environments.{name}",
                "environment names are lowercase letters, digits and '-', starting with a letter",
            )
        envs.append(_parse_environment(path, project, name, table))
    _check_across(path, project, envs)
    return Config(path=path, project=project, environments=tuple(envs))


def _parse_environment(
    path: Path, project: str, name: str, table: Mapping[str, Any]
) -> EnvironmentConfig:
    r = TableReader(path, name, table)
    r.check_keys(environment_keys())

    region = r.get("region", str, DEFAULT_REGION)
    if not _REGION.match(region):
        raise r.fail("region", f"'{region}' is not an AWS region name like 'us-east-1'")

    cidr_text = r.get("vpc_cidr", str)
    if cidr_text is None:
        raise r.fail("vpc_cidr", "missing; give the VPC an IPv4 CIDR such as '10.10.0.0/16'")
    try:
        cidr = ipaddress.IPv4Network(cidr_text)
    except ValueError as exc:
        raise r.fail("vpc_cidr", f"'{cidr_text}' is not an IPv4 network CIDR ({exc})") from None
    if not 16 <= cidr.prefixlen <= MAX_VPC_PREFIX:
        raise r.fail(
            "vpc_cidr", f"prefix /{cidr.prefixlen} is out of range; use /16 to /{MAX_VPC_PREFIX}"
        )

    egress = r.choice("egress", modes.egress_names(), EnvironmentConfig.egress)
    ingress = r.choice("ingress", modes.ingress_names(), EnvironmentConfig.ingress)
    if egress == modes.NONE and ingress == modes.NONE:
        raise r.fail(
            "egress",
            "environment has neither egress nor ingress; set egress = "
            f"{_quoted(modes.egress_names()[1:])}, or ingress = "
            f"{_quoted(modes.ingress_names()[1:])}",
        )
    egress_mode = _egress_variant(r, egress)
    ingress_mode = modes.ingress_mode(ingress)
    selected = tuple(m for m in (egress_mode, ingress_mode) if m is not None)
    _check_mode_keys(r, selected)
    nat = egress_mode.variant if egress_mode and egress_mode.variant else EnvironmentConfig.nat

    azs = _parse_azs(r, region)
    for mode in selected:
        if len(azs) < mode.min_azs:
            raise r.fail("az_count", mode.min_azs_reason)

    default_fn = (
        egress_probe_function_name(project, name)
        if egress_mode
        else webhook_function_name(project, name)
    )
    function = parse_function(r.sub("function"), default_fn)
    functions = parse_functions(r, path.parent, resource_prefix(project, name))

    tags = r.get("tags", dict, {})
    for key, value in tags.items():
        if not _TAG_KEY.match(key) or key.lower().startswith("aws:"):
            raise r.fail(f"tags.{key}", "not a valid tag key (1-128 characters, no 'aws:' prefix)")
        if not isinstance(value, str) or len(value) > 256:
            raise r.fail(f"tags.{key}", "tag values are strings of at most 256 characters")
    for reserved in (ENVIRONMENT_TAG, PROJECT_TAG):
        if reserved in tags:
            raise r.fail(f"tags.{reserved}", "set by staticip itself; remove it")

    br = r.sub("backend")
    br.check_keys(_BACKEND_KEYS)
    bucket = br.get("bucket", str)
    if bucket is not None and not _BUCKET.match(bucket):
        raise br.fail("bucket", f"'{bucket}' is not an S3 bucket name")
    for key in ("key", "region"):
        if key in br.table and bucket is None:
            raise br.fail(key, "only applies with an S3 bucket; set backend.bucket too")
    backend_region = br.get("region", str)
    if backend_region is not None and not _REGION.match(backend_region):
        raise br.fail("region", f"'{backend_region}' is not an AWS region name")
    backend = BackendConfig(bucket=bucket, key=br.get("key", str), region=backend_region)

    reuse = allocation_ids(r, "reuse_eip_allocation_ids", azs)
    for key in ("reuse_eip_allocation_ids", "probe", "ssm_parameters", "canary"):
        if key in r.table and egress == modes.NONE:
            raise r.fail(key, "only applies to an egress mode; remove it")
    ipam_pool_id = _parse_ipam_pool(r, selected, reuse)
    probe = r.get("probe", bool, EnvironmentConfig.probe)
    if egress != modes.NONE and not probe and not functions:
        raise r.fail(
            "probe",
            "false, and no [functions]: nothing would sit behind the egress IPs; declare a "
            "function or keep the probe",
        )

    certificate_arn = r.get("certificate_arn", str)
    if certificate_arn is not None and not _ACM_ARN.match(certificate_arn):
        raise r.fail(
            "certificate_arn",
            "expected an ACM certificate ARN 'arn:aws:acm:<region>:<account>:certificate/<id>'",
        )

    access_logs_bucket = r.get("alb_access_logs_bucket", str)
    if access_logs_bucket is not None and not _BUCKET.match(access_logs_bucket):
        raise r.fail("alb_access_logs_bucket", f"'{access_logs_bucket}' is not an S3 bucket name")
    flow_logs = r.retention("flow_logs_retention_days", None)
    alarm_topic_arn = _sns_topic(r, "alarm_topic_arn")
    eni_guard = _parse_eni_guard(
        r, "eni_guard" in (egress_mode.keys if egress_mode else {}), alarm_topic_arn
    )
    canary = _parse_canary(r) if egress != modes.NONE else None
    account_id, assume_role_arn, profile = _parse_account(r)
    mode_options: dict[str, Any] = {}
    for mode in selected:
        mode_options |= mode.options(r, azs)
    routes = parse_routes(r, functions)
    ports = 2 if certificate_arn is not None else 1
    allowed = parse_allowed_cidrs(r, "ingress_allowed_cidrs", MAX_SECURITY_GROUP_RULES // ports)

    env = EnvironmentConfig(
        name=name,
        region=region,
        vpc_cidr=str(cidr),
        azs=azs,
        egress=egress,
        ingress=ingress,
        nat=nat,
        function=function,
        tags=dict(tags),
        backend=backend,
        protect_ips=r.get("protect_ips", bool, EnvironmentConfig.protect_ips),
        reuse_eip_allocation_ids=dict(reuse),
        certificate_arn=certificate_arn,
        alb_deletion_protection=r.get("alb_deletion_protection", bool),
        alb_access_logs_bucket=access_logs_bucket,
        flow_logs_retention_days=flow_logs,
        eni_guard=eni_guard,
        prefix_list=r.get("prefix_list", bool, EnvironmentConfig.prefix_list),
        account_id=account_id,
        assume_role_arn=assume_role_arn,
        profile=profile,
        mode_options=mode_options,
        functions=functions,
        probe=probe,
        ssm_parameters=r.get("ssm_parameters", bool, EnvironmentConfig.ssm_parameters),
        routes=routes,
        ingress_allowed_cidrs=allowed,
        canary=canary,
        alarm_topic_arn=alarm_topic_arn,
        ipam_pool_id=ipam_pool_id,
    )
    names = env.deployed_function_names(project)
    for fn in functions:
        if names.count(fn.name) > 1:
            raise r.fail(
                f"functions.{fn.key}.name",
                f"'{fn.name}' is the name of another function of this environment; rename it",
            )
    for mode in selected:
        mode.validate(env, r)
    return env


def _parse_ipam_pool(
    r: TableReader, selected: Sequence[Mode], reuse: Mapping[str, str]
) -> str | None:
    """`ipam_pool_id`: for modes with EIPs of their own, well-formed, and not next to an
    adopted EIP (whose address no pool drew)."""
    pool = r.get("ipam_pool_id", str)
    if pool is None:
        return None
    if not any(mode.takes_ipam_pool for mode in selected):
        takers = [m.name for m in modes.ingress_modes() if m.takes_ipam_pool]
        raise r.fail(
            "ipam_pool_id",
            f"only applies with an egress mode or ingress = {_quoted(takers)} (the modes "
            "that allocate Elastic IPs); remove it",
        )
    if not _IPAM_POOL_ID.fullmatch(pool):
        raise r.fail(
            "ipam_pool_id",
            f"'{pool}' is not an IPAM pool ID; expected 'ipam-pool-' and 17 hex digits, "
            "like 'ipam-pool-0123456789abcdef0'",
        )
    if reuse:
        az = min(reuse)
        raise r.fail(
            f"reuse_eip_allocation_ids.{az}",
            reuse_with_pool_problem("reuse_eip_allocation_ids", az),
        )
    return pool


def _quoted(names: Sequence[str]) -> str:
    return " or ".join(f"'{name}'" for name in names)


def _egress_variant(r: TableReader, name: str) -> EgressMode | None:
    """The egress declaration `name` and its variant key (`nat`) select."""
    candidates = modes.variants(name)
    key = candidates[0].variant_key if candidates else None
    if key is None:
        return modes.egress_mode(name)
    value = r.table.get(key)
    for mode in candidates:
        reason = mode.rejected_variants.get(value) if isinstance(value, str) else None
        if reason:
            raise r.fail(key, f"'{value}' {reason}")
    choice = r.choice(key, tuple(str(m.variant) for m in candidates), str(candidates[0].variant))
    return modes.egress_mode(name, choice)


def _check_mode_keys(r: TableReader, selected: Sequence[Mode]) -> None:
    """A mode key set in an environment whose modes do not take it names the ones that do."""
    for key, takers in modes.mode_keys().items():
        if key not in r.table or any(m in selected for m in takers):
            continue
        by_direction: dict[str, list[str]] = {}
        for mode in takers:
            names = by_direction.setdefault(mode.direction, [])
            if mode.name not in names:
                names.append(mode.name)
        where = " or ".join(f"{d} = {_quoted(n)}" for d, n in by_direction.items())
        raise r.fail(key, f"only applies with {where}; remove it")


def _parse_account(r: TableReader) -> tuple[str | None, str | None, str | None]:
    """`account_id`, `assume_role_arn` and `profile`: which credentials reach the account."""
    account_id = r.table.get("account_id")
    if account_id is not None and not isinstance(account_id, str):
        # An unquoted number would lose leading zeros, so only a string is accepted.
        raise r.fail(
            "account_id", f"expected a string of 12 digits in quotes, got {toml_type(account_id)}"
        )
    if account_id is not None and not _ACCOUNT_ID.fullmatch(account_id):
        raise r.fail("account_id", f"'{account_id}' is not an AWS account ID (12 digits)")
    role = r.get("assume_role_arn", str)
    if role is not None:
        match = _ROLE_ARN.fullmatch(role)
        if not match:
            raise r.fail(
                "assume_role_arn",
                f"'{role}' is not an IAM role ARN 'arn:aws:iam::<12-digit account>:role/<name>'",
            )
        if account_id is not None and match.group(1) != account_id:
            raise r.fail(
                "assume_role_arn",
                f"the role is in account {match.group(1)} but account_id is {account_id}; "
                "use a role in the environment's account",
            )
    profile = r.get("profile", str)
    if profile is not None and (
        not profile.strip() or profile != profile.strip() or not profile.isprintable()
    ):
        raise r.fail("profile", "expected a profile name (non-empty, no surrounding spaces)")
    return account_id, role, profile


def _parse_eni_guard(
    r: TableReader, applies: bool, environment_topic: str | None
) -> EniGuardConfig:
    gr = r.sub("eni_guard")
    gr.check_keys(_ENI_GUARD_KEYS)
    schedule = gr.get("schedule", str, EniGuardConfig.schedule)
    if not is_schedule(schedule):
        raise gr.fail("schedule", f"'{schedule}' {_NOT_A_SCHEDULE}")
    topic = _sns_topic(gr, "alarm_topic_arn")
    return EniGuardConfig(
        enabled=gr.get("enabled", bool, applies),
        schedule=schedule,
        alarm_topic_arn=topic or environment_topic,
        reserved_concurrency=gr.get(
            "reserved_concurrency", bool, EniGuardConfig.reserved_concurrency
        ),
    )


_NOT_A_SCHEDULE = (
    "is not an EventBridge schedule; write 'rate(5 minutes)', 'rate(1 hour)' or 'cron(...)'"
)


def _sns_topic(r: TableReader, key: str) -> str | None:
    topic = r.get(key, str)
    if topic is not None and not _SNS_ARN.match(topic):
        raise r.fail(key, "expected an SNS topic ARN 'arn:aws:sns:<region>:<account>:<name>'")
    return topic


def _parse_canary(r: TableReader) -> str | None:
    """`canary`: a schedule, `true` for the default one, or `false` for none."""
    value = r.table.get("canary", True)
    if value is True:
        return DEFAULT_SCHEDULE
    if value is False:
        return None
    if not isinstance(value, str):
        raise r.fail(
            "canary",
            f"expected a schedule such as '{DEFAULT_SCHEDULE}', or false; got {toml_type(value)}",
        )
    if not is_schedule(value):
        raise r.fail("canary", f"'{value}' {_NOT_A_SCHEDULE}, or false to turn it off")
    return value


def _parse_azs(r: TableReader, region: str) -> tuple[str, ...]:
    max_azs = ord(MAX_AZ_LETTER) - ord("a") + 1
    if "azs" in r.table:
        if "az_count" in r.table:
            raise r.fail("az_count", "give either azs or az_count, not both")
        azs = r.get("azs", list)
        if not azs:
            raise r.fail("azs", "empty; list at least one AZ name")
        for az in azs:
            if not isinstance(az, str) or not re.fullmatch(
                re.escape(region) + f"[a-{MAX_AZ_LETTER}]", az
            ):
                raise r.fail(
                    "azs",
                    f"'{az}' is not an AZ of {region} "
                    f"(expected {region}a to {region}{MAX_AZ_LETTER})",
                )
        if len(set(azs)) != len(azs):
            raise r.fail("azs", "lists an AZ twice")
        return tuple(azs)
    count = r.int_in("az_count", 1, max_azs, DEFAULT_AZ_COUNT)
    return tuple(f"{region}{chr(ord('a') + i)}" for i in range(count))


def possible_azs(region: str) -> tuple[str, ...]:
    """Every AZ name an environment in `region` may list (`a` to MAX_AZ_LETTER)."""
    return tuple(f"{region}{chr(letter)}" for letter in range(ord("a"), ord(MAX_AZ_LETTER) + 1))


def _name_key(env: EnvironmentConfig, function_name: str) -> str:
    """The key that sets `function_name` in `env`'s table."""
    for fn in env.functions:
        if fn.name == function_name:
            return f"functions.{fn.key}.name"
    return "function.name"


def _check_across(path: Path, project: str, envs: list[EnvironmentConfig]) -> None:
    """Checks that involve two environments."""
    for i, env in enumerate(envs):
        for other in envs[:i]:
            # Overlapping VPCs can never be peered or joined to one transit gateway.
            if ipaddress.ip_network(env.vpc_cidr).overlaps(ipaddress.ip_network(other.vpc_cidr)):
                raise ConfigError(
                    f"{path}: environment '{env.name}', key 'vpc_cidr': {env.vpc_cidr} overlaps "
                    f"environment '{other.name}' ({other.vpc_cidr}); pick a disjoint range"
                )
            if env.region != other.region:
                continue
            theirs = set(other.deployed_function_names(project))
            for fn_name in env.deployed_function_names(project):
                if fn_name in theirs:
                    raise ConfigError(
                        f"{path}: environment '{env.name}', key '{_name_key(env, fn_name)}': "
                        f"'{fn_name}' is also used by environment '{other.name}' in "
                        f"{env.region}; function names are unique per region"
                    )
