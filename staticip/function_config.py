"""The function tables of an environment: `[function]` (the built-in egress probe or webhook),
`[functions.<key>]` (the user's own functions, any number) and `routes` (ALB path patterns ->
those functions).

Pure parsing, like the rest of the configuration: nothing here reads the disk. That a declared
function's `source` directory or `package` zip exists and holds its handler is checked when
synthesizing (`stacks/function_code.py`), since `staticip doctor` and the other commands read
this file on machines that may never have built the package.
"""

from __future__ import annotations

import ipaddress
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from staticip.config_reader import TableReader, toml_type

#: Lambda zip runtimes a declared function may use: AWS's supported Python and Node.js
#: runtimes (Lambda developer guide, "Lambda runtimes"; every one is in botocore's `Runtime`
#: enum, which a test checks). Deprecated ones are refused: Lambda blocks creating them.
PYTHON_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
NODEJS_RUNTIMES = ("nodejs20.x", "nodejs22.x", "nodejs24.x")
RUNTIMES = PYTHON_RUNTIMES + NODEJS_RUNTIMES
ARCHITECTURES = ("x86_64", "arm64")
DEFAULT_RUNTIME = "python3.12"
DEFAULT_ARCHITECTURE = "x86_64"
DEFAULT_HANDLER = "handler.handler"
#: Lambda's limit on function names.
MAX_FUNCTION_NAME = 64
#: IAM attaches at most 10 managed policies to a role by default; staticip attaches two
#: (basic execution, VPC access), which leaves the rest to `policy_arns`.
MAX_POLICY_ARNS = 8
#: An ALB takes 100 rules besides its listeners' defaults; one answers the health check.
MAX_ROUTES = 99
#: The health-check rule comes last, so a route that matches the path too wins.
HEALTH_RULE_PRIORITY = 50_000
#: Derived route priorities: a tier per literal-prefix length (longer first), 1,000 slots each.
_ROUTE_TIERS = 49
_ROUTE_SLOTS = 1_000
MAX_ROUTE_PRIORITY = HEALTH_RULE_PRIORITY - 1

_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FUNCTION_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+$")
_POLICY_ARN = re.compile(
    r"arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,128}"
)
_HANDLER = re.compile(r"(?P<module>[A-Za-z0-9_./-]+)\.(?P<function>[A-Za-z_$][A-Za-z0-9_$]*)")
_ENV_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")
_BUILT_IN_POLICY_NAMES = ("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole")
#: What an ALB path pattern may hold (ELB docs, "Path conditions"), at most 128 characters.
_PATH_PATTERN = re.compile(r"/[A-Za-z0-9_\-.$/~\"'@:+&*?]{0,127}")
#: Lambda refuses these as environment variables: the runtime sets them.
RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


@dataclass(frozen=True)
class FunctionConfig:
    """The settings every function takes; `[function]` holds the built-in one's."""

    name: str
    """Function name; the built-in one defaults to `<project>-<environment>-egress-probe` (or
    `-webhook`), a declared one to `<project>-<environment>-<key>`."""
    memory_mb: int = 256
    """Memory in MB (128-10240); the probe needs little."""
    timeout_seconds: int = 30
    """Invocation timeout (1-900 s); the ALB gives up on a target after its own timeout."""
    log_retention_days: int = 30
    """CloudWatch Logs retention; one of the values Lambda accepts."""
    tracing: str = "PassThrough"
    """X-Ray: `PassThrough` (no traces unless the caller samples) or `Active`."""
    reserved_concurrency: int | None = None
    """Reserved concurrent executions; default none (the account's shared pool)."""
    kms_key_arn: str | None = None
    """KMS key for the function's environment variables; default the AWS-managed key."""


@dataclass(frozen=True, kw_only=True)
class DeclaredFunction(FunctionConfig):
    """One of the user's own functions (`[environments.<env>.functions.<key>]`): in the
    environment's function subnets with its one function security group, so it egresses from
    the allow-listed IPs."""

    key: str
    """The table's key: names the function by default and is what `routes` point at."""
    source: Path | None = None
    """Directory of the code, relative to staticip.toml; exactly one of `source`, `package`."""
    package: Path | None = None
    """A zip your own build made, relative to staticip.toml, instead of `source`."""
    handler: str = DEFAULT_HANDLER
    """`<module>.<function>`: for Python the module is a file (or package) in the code root."""
    runtime: str = DEFAULT_RUNTIME
    """A Lambda zip runtime: python3.10 to python3.14, nodejs20.x, nodejs22.x or nodejs24.x."""
    architecture: str = DEFAULT_ARCHITECTURE
    """`x86_64` or `arm64`; Python requirements are installed for it."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Environment variables."""
    policy_arns: tuple[str, ...] = ()
    """Managed policies for the function's role, besides basic execution and VPC access."""

    @property
    def is_python(self) -> bool:
        return self.runtime in PYTHON_RUNTIMES


@dataclass(frozen=True)
class Route:
    """One ALB listener rule: requests whose path matches `path_pattern` go to `function`."""

    path_pattern: str
    function: str
    """A key of the environment's `[functions]`."""
    priority: int
    """The rule's ALB priority (lower is evaluated first): given, or `derived_priority`."""


#: The keys of `[function]` and of each `[functions.<key>]` table.
FUNCTION_KEYS = frozenset(f.name for f in fields(FunctionConfig))
DECLARED_FUNCTION_KEYS = frozenset(f.name for f in fields(DeclaredFunction)) - {"key"}
_ROUTE_TABLE_KEYS = frozenset({"function", "priority"})


def parse_function_settings(fr: TableReader, default_name: str) -> dict[str, Any]:
    """The `FunctionConfig` fields of one function table, checked."""
    name = fr.get("name", str, default_name)
    if not _FUNCTION_NAME.fullmatch(name):
        # A default name built from a long project, environment and key gets the fix too.
        fix = "" if "name" in fr.table else "; set a shorter `name`"
        raise fr.fail(
            "name",
            f"'{name}' is not a Lambda function name (1-{MAX_FUNCTION_NAME} of A-Z a-z 0-9 _ -)"
            + fix,
        )
    kms_key_arn = fr.get("kms_key_arn", str)
    if kms_key_arn is not None and not _KMS_ARN.match(kms_key_arn):
        raise fr.fail(
            "kms_key_arn", "expected a KMS key ARN 'arn:aws:kms:<region>:<account>:key/<id>'"
        )
    reserved = fr.get("reserved_concurrency", int)
    if reserved is not None:
        reserved = fr.int_in("reserved_concurrency", 1, 10000, reserved)
    return {
        "name": name,
        "memory_mb": fr.int_in("memory_mb", 128, 10240, FunctionConfig.memory_mb),
        "timeout_seconds": fr.int_in("timeout_seconds", 1, 900, FunctionConfig.timeout_seconds),
        "log_retention_days": fr.retention("log_retention_days", FunctionConfig.log_retention_days),
        "tracing": fr.choice("tracing", ("PassThrough", "Active"), FunctionConfig.tracing),
        "reserved_concurrency": reserved,
        "kms_key_arn": kms_key_arn,
    }


def parse_function(fr: TableReader, default_name: str) -> FunctionConfig:
    """`[function]`: the built-in function's settings."""
    fr.check_keys(FUNCTION_KEYS)
    return FunctionConfig(**parse_function_settings(fr, default_name))


def parse_functions(
    r: TableReader, base_dir: Path, name_prefix: str
) -> tuple[DeclaredFunction, ...]:
    """`[functions.<key>]`, sorted by key; `source` and `package` are relative to `base_dir`
    (staticip.toml's directory); names default to `<name_prefix>-<key>`."""
    table = r.get("functions", dict, {})
    declared = []
    for key in sorted(table):
        if not isinstance(table[key], dict):
            raise r.fail(f"functions.{key}", f"expected a table, got {toml_type(table[key])}")
        if not _FUNCTION_KEY.fullmatch(key):
            raise r.fail(
                f"functions.{key}",
                "function keys are letters, digits, '_' and '-', starting with a letter",
            )
        declared.append(_parse_declared(r.sub("functions").sub(key), key, base_dir, name_prefix))
    return tuple(declared)


def _parse_declared(
    fr: TableReader, key: str, base_dir: Path, name_prefix: str
) -> DeclaredFunction:
    fr.check_keys(DECLARED_FUNCTION_KEYS)
    settings = parse_function_settings(fr, f"{name_prefix}-{key}")
    source, package = fr.get("source", str), fr.get("package", str)
    if source is not None and package is not None:
        raise fr.fail("package", "give either source (a directory) or package (a zip), not both")
    if source is None and package is None:
        raise fr.fail(
            "source",
            "missing; give the code's directory (or `package`, a zip), relative to "
            "the environments file",
        )
    for what, text in (("source", source), ("package", package)):
        if text is not None and (not text.strip() or Path(text).is_absolute()):
            raise fr.fail(what, f"'{text}' must be a path relative to the environments file")
    if package is not None and not package.endswith(".zip"):
        raise fr.fail("package", f"'{package}' is not a .zip file; Lambda takes zip packages")
    runtime = fr.get("runtime", str, DEFAULT_RUNTIME)
    if runtime not in RUNTIMES:
        raise fr.fail(
            "runtime",
            f"'{runtime}' is not a supported Lambda zip runtime; use one of {', '.join(RUNTIMES)}",
        )
    handler = fr.get("handler", str, DEFAULT_HANDLER)
    if not _HANDLER.fullmatch(handler):
        raise fr.fail("handler", f"'{handler}' is not '<module>.<function>' (e.g. 'app.handler')")
    environment = fr.get("environment", dict, {})
    for name, value in environment.items():
        if not _ENV_KEY.fullmatch(name) or name in RESERVED_ENVIRONMENT:
            raise fr.fail(
                f"environment.{name}",
                "not a usable environment variable name (letters, digits and '_', starting "
                "with a letter; not one the Lambda runtime reserves)",
            )
        if not isinstance(value, str):
            raise fr.fail(
                f"environment.{name}", f"expected a string, got {toml_type(value)}; quote it"
            )
    policies = fr.get("policy_arns", list, [])
    for arn in policies:
        if not isinstance(arn, str) or not _POLICY_ARN.fullmatch(arn):
            raise fr.fail(
                "policy_arns",
                f"{arn!r} is not an IAM managed policy ARN "
                "'arn:aws:iam::<account or aws>:policy/<name>'",
            )
    # The role's attachments are named by the policy's name, as staticip's own two are.
    names = [arn.rsplit("/", 1)[-1] for arn in policies]
    if len(set(names)) != len(names) or set(names) & set(_BUILT_IN_POLICY_NAMES):
        raise fr.fail(
            "policy_arns",
            "lists a policy twice, or two policies of the same name, or one of "
            f"the two staticip attaches ({', '.join(_BUILT_IN_POLICY_NAMES)})",
        )
    if len(policies) > MAX_POLICY_ARNS:
        raise fr.fail(
            "policy_arns",
            f"{len(policies)} policies; a role holds at most {MAX_POLICY_ARNS + 2} managed "
            f"policies by default and staticip attaches 2: merge them into at most "
            f"{MAX_POLICY_ARNS}",
        )
    return DeclaredFunction(
        **settings,
        key=key,
        source=base_dir / source if source is not None else None,
        package=base_dir / package if package is not None else None,
        handler=handler,
        runtime=runtime,
        architecture=fr.choice("architecture", ARCHITECTURES, DEFAULT_ARCHITECTURE),
        environment=dict(environment),
        policy_arns=tuple(policies),
    )


def derived_priority(path_pattern: str) -> int:
    """A route's ALB priority from its pattern alone, so adding, removing or reordering other
    routes never changes it: the longer the literal part before the first wildcard, the lower
    (earlier) the tier, so `/stripe/refunds/*` is tried before `/stripe/*`; within a tier a
    hash of the pattern picks one of 1,000 slots."""
    literal = len(re.split(r"[*?]", path_pattern, maxsplit=1)[0])
    tier = _ROUTE_TIERS - 1 - min(literal, _ROUTE_TIERS - 1)
    return tier * _ROUTE_SLOTS + zlib.crc32(path_pattern.encode()) % _ROUTE_SLOTS + 1


def parse_routes(r: TableReader, functions: Sequence[DeclaredFunction]) -> tuple[Route, ...]:
    """`routes`: path pattern -> a key of `[functions]`, or `{ function = ..., priority = N }`
    to set the rule's priority yourself. Sorted by priority."""
    table = r.get("routes", dict, {})
    keys = {fn.key for fn in functions}
    if len(table) > MAX_ROUTES:
        raise r.fail(
            "routes",
            f"{len(table)} routes; an ALB takes {MAX_ROUTES + 1} rules and staticip uses one "
            f"for the health check: at most {MAX_ROUTES}",
        )
    routes: list[Route] = []
    for pattern, value in table.items():
        where = f"routes.{pattern}"
        if not _PATH_PATTERN.fullmatch(pattern):
            raise r.fail(
                where,
                "not an ALB path pattern: start with '/', at most 128 of A-Z a-z 0-9 "
                "_ - . $ / ~ \" ' @ : + & and the wildcards * and ?",
            )
        if isinstance(value, dict):
            rr = r.sub("routes").sub(pattern)
            rr.check_keys(_ROUTE_TABLE_KEYS)
            target = rr.get("function", str)
            if target is None:
                raise rr.fail("function", "missing; name a key of [functions]")
            priority = rr.int_in("priority", 1, MAX_ROUTE_PRIORITY, derived_priority(pattern))
        elif isinstance(value, str):
            target, priority = value, derived_priority(pattern)
        else:
            raise r.fail(
                where, f"expected a function key (a string) or a table, got {toml_type(value)}"
            )
        if target not in keys:
            known = ", ".join(sorted(keys)) or "none declared"
            raise r.fail(
                where,
                f"'{target}' is not a function of this environment ([functions]: {known}); "
                "declare it or fix the name",
            )
        clash = next((route for route in routes if route.priority == priority), None)
        if clash is not None:
            raise r.fail(
                where,
                f"ALB priority {priority} is also that of route '{clash.path_pattern}'; give "
                f'one of them its own: "{pattern}" = {{ function = "{target}", priority = N }}',
            )
        routes.append(Route(pattern, target, priority))
    return tuple(sorted(routes, key=lambda route: route.priority))


def parse_allowed_cidrs(r: TableReader, key: str, max_count: int) -> tuple[str, ...]:
    """A list of IPv4 CIDRs (network addresses), each once, at most `max_count`."""
    cidrs = r.get(key, list, [])
    if not cidrs and key in r.table:
        raise r.fail(key, "empty; list the vendor's sender CIDRs, or remove the key (open)")
    for text in cidrs:
        if not isinstance(text, str):
            raise r.fail(key, f"expected CIDR strings, got {toml_type(text)}")
        try:
            ipaddress.IPv4Network(text)
        except ValueError as exc:
            raise r.fail(key, f"'{text}' is not an IPv4 CIDR like '192.0.2.0/24' ({exc})") from None
    normal = [str(ipaddress.IPv4Network(text)) for text in cidrs]
    if len(set(normal)) != len(normal):
        raise r.fail(key, "lists a CIDR twice")
    if len(normal) > max_count:
        raise r.fail(
            key,
            f"{len(normal)} CIDRs; a security group takes 60 inbound rules by default, one per "
            f"CIDR and port: at most {max_count} here",
        )
    return tuple(normal)
