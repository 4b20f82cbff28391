"""Lambda Hyperplane ENIs: find them, pick one per subnet, report on them.

Lambda creates one Hyperplane ENI per (subnet, security-group set) and shares it between every
function with that pair. To give a function a static egress IP in a public subnet, Terraform
attaches one Elastic IP per subnet to that ENI, so it needs ``{subnet_id: eni_id}`` after the
function is deployed; :func:`resolve_enis` produces it, waiting while the function is Pending.

The matching rules live in :func:`match_lambda_enis` only; the CLI, ``doctor`` and the ENI-guard
Lambda reuse them through :func:`find_lambda_enis`.

Run as ``python -m staticip.enis`` this module speaks the protocol of Terraform's ``external``
data source: see :func:`external_main`.
"""

from __future__ import annotations

import datetime
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from staticip import aws

LAMBDA_INTERFACE_TYPE = "lambda"
IN_USE = "in-use"
INITIAL_POLL_DELAY = 2.0
MAX_POLL_DELAY = 20.0
DEFAULT_TIMEOUT_SECONDS = 300.0


class EniInputError(ValueError):
    """The request cannot be answered as asked: bad IDs, unknown function, function not in a VPC."""


class EniTimeoutError(Exception):
    """Lambda had not created an ENI in every subnet when the wait ran out."""


class FunctionStateError(Exception):
    """The function is in a state in which waiting brings no ENIs (Inactive, Failed)."""


@dataclass(frozen=True)
class HyperplaneEni:
    """One Lambda Hyperplane ENI, reduced to the facts the static-IP tooling uses."""

    eni_id: str
    subnet_id: str
    availability_zone: str
    status: str
    security_group_ids: frozenset[str]
    public_ip: str | None
    allocation_id: str | None
    attach_time: datetime.datetime | None
    description: str

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> HyperplaneEni:
        """Build from one ``NetworkInterfaces`` item of a DescribeNetworkInterfaces response."""
        association = raw.get("Association") or {}
        attachment = raw.get("Attachment") or {}
        return cls(
            eni_id=raw["NetworkInterfaceId"],
            subnet_id=raw["SubnetId"],
            availability_zone=raw.get("AvailabilityZone", ""),
            status=raw.get("Status", ""),
            security_group_ids=_group_ids(raw),
            public_ip=association.get("PublicIp"),
            allocation_id=association.get("AllocationId"),
            attach_time=_parse_time(attachment.get("AttachTime")),
            description=raw.get("Description", ""),
        )


def match_lambda_enis(
    interfaces: Iterable[Mapping[str, Any]],
    subnet_ids: Sequence[str],
    security_group_ids: Iterable[str],
) -> dict[str, list[HyperplaneEni]]:
    """Keep the Hyperplane ENIs that serve functions with exactly this subnet + SG set.

    ``interfaces`` are raw DescribeNetworkInterfaces items. An ENI matches when its interface
    type is ``lambda`` (EC2 instances' ENIs can carry the same groups) and its security-group set
    EQUALS ``security_group_ids``: an ENI with a superset belongs to other functions. The ENI
    description names only the function that happened to create it, so it is never used.
    Returns every subnet in ``subnet_ids`` as a key, with its matches sorted by ENI id.
    """
    wanted = frozenset(security_group_ids)
    found: dict[str, list[HyperplaneEni]] = {subnet: [] for subnet in _unique(subnet_ids)}
    for raw in interfaces:
        if raw.get("InterfaceType") != LAMBDA_INTERFACE_TYPE:
            continue
        if raw.get("SubnetId") not in found or _group_ids(raw) != wanted:
            continue
        found[raw["SubnetId"]].append(HyperplaneEni.from_api(raw))
    for enis in found.values():
        enis.sort(key=lambda eni: eni.eni_id)
    return found


def find_lambda_enis(
    ec2: BaseClient, subnet_ids: Sequence[str], security_group_ids: Sequence[str]
) -> dict[str, list[HyperplaneEni]]:
    """List the Hyperplane ENIs of functions with this subnet + security-group set.

    One paginated DescribeNetworkInterfaces call covers all subnets. The server-side filters only
    narrow the listing (``group-id`` matches ANY of the groups); :func:`match_lambda_enis`
    decides. Every subnet is a key of the result, with an empty list when it has no ENI yet.
    Raises :class:`EniInputError` for empty or malformed IDs, botocore errors for AWS failures.
    """
    subnets = _checked_ids(subnet_ids, "subnet-", "subnet IDs")
    groups = _checked_ids(security_group_ids, "sg-", "security group IDs")
    interfaces = _describe_interfaces(
        ec2,
        [
            {"Name": "interface-type", "Values": [LAMBDA_INTERFACE_TYPE]},
            {"Name": "subnet-id", "Values": subnets},
            {"Name": "group-id", "Values": sorted(groups)},
        ],
    )
    return match_lambda_enis(interfaces, subnets, groups)


def choose_eni(
    candidates: Sequence[HyperplaneEni], allocation_ids: Iterable[str] | None = None
) -> tuple[HyperplaneEni, list[HyperplaneEni]]:
    """Pick the ENI of one subnet that should hold the static IP; return it and the rest.

    Several ENIs share one subnet when Lambda spills past 65,000 connections or is replacing an
    ENI. Preference, so repeated runs agree: an ``in-use`` ENI over a detached one (a detached
    ENI is being deleted and carries no traffic); then one already holding an Elastic IP (one of
    ``allocation_ids`` when given, any EIP otherwise), so Terraform does not move the address;
    then the oldest attachment; then the lowest ENI id.
    """
    if not candidates:
        raise ValueError("choose_eni needs at least one candidate")
    ours = frozenset(allocation_ids or ())

    def holds_eip(eni: HyperplaneEni) -> bool:
        return eni.allocation_id is not None and (not ours or eni.allocation_id in ours)

    def preference(eni: HyperplaneEni) -> tuple[bool, bool, float, str]:
        attached = eni.attach_time.timestamp() if eni.attach_time else math.inf
        return (eni.status != IN_USE, not holds_eip(eni), attached, eni.eni_id)

    ranked = sorted(candidates, key=preference)
    return ranked[0], ranked[1:]


def check_function_state(
    lambda_client: BaseClient, function_name: str, environment: str | None = None
) -> str:
    """Return the function's ``State`` (``Active`` or ``Pending``), one GetFunctionConfiguration.

    Raises :class:`FunctionStateError` when waiting for ENIs cannot help: ``Inactive`` (Lambda
    reclaimed the ENIs after about 14 days without invocations; only an invocation brings new
    ones) or ``Failed`` (creating them failed); the message names the state, Lambda's reason and
    the fix. Raises :class:`EniInputError` when the function does not exist.
    """
    return check_functions_state(lambda_client, [function_name], environment)


def check_functions_state(
    lambda_client: BaseClient, function_names: Sequence[str], environment: str | None = None
) -> str:
    """The state that decides whether ENIs of functions sharing one subnet + security-group set
    can come: ``Active`` when any of them is Active (its ENIs are there, or Lambda is making
    them), else ``Pending`` when any is Pending; one GetFunctionConfiguration per function.

    Lambda keeps a shared ENI while any function that uses it is Active, so an idle probe next
    to a busy function is no reason to fail. Raises :class:`FunctionStateError` when none is
    Active or Pending (each Inactive or Failed: waiting cannot help), naming each function's
    state, Lambda's reason and the fix; :class:`EniInputError` when none of them exists. A
    function that does not exist (yet, or any more) is passed over while another one does.
    """
    names = _unique(function_names)
    if not names:
        raise EniInputError("no function names given")
    states: dict[str, tuple[str, str]] = {}
    missing = []
    for name in names:
        try:
            config = _function_configuration(
                lambda_client,
                name,
                "it was deleted outside Terraform; deploy recreates it (to destroy the "
                "environment instead, see docs/destroying.md)",
            )
        except EniInputError:
            if len(names) == 1:
                raise
            missing.append(name)
            continue
        reason = ": ".join(
            str(config[key]) for key in ("StateReasonCode", "StateReason") if config.get(key)
        )
        states[name] = (config.get("State") or "Active", reason)
    if not states:
        raise EniInputError(
            f"none of the Lambda functions {', '.join(missing)} exists in "
            f"{_region(lambda_client)}: they were deleted outside Terraform; deploy recreates "
            "them (to destroy the environment instead, see docs/destroying.md)"
        )
    seen = {state for state, _ in states.values()}
    for usable in ("Active", "Pending"):
        if usable in seen:
            return usable
    wake = f"`staticip wake {environment}`" if environment else "`staticip wake <env>`"
    if len(states) == 1:
        ((name, (state, reason)),) = states.items()
        because = f" ({reason})" if reason else ""
        if state == "Inactive":
            raise FunctionStateError(
                f"Lambda function {name} is Inactive{because}: Lambda reclaimed its ENIs "
                f"after about 14 days without invocations and makes new ones only when it is "
                f"invoked; run {wake} (or invoke it once), then plan again"
            )
        raise FunctionStateError(
            f"Lambda function {name} is {state}{because}: Lambda could not create its "
            "ENIs; fix the cause (free IP addresses in the subnets, the ENI quota, the role's "
            "VPC permissions), deploy again, then plan"
        )
    listed = ", ".join(
        f"{name} {state}" + (f" ({reason})" if reason else "")
        for name, (state, reason) in states.items()
    )
    fixes = []
    if "Inactive" in seen:
        fixes.append(
            f"Lambda reclaimed the shared ENIs after about 14 days without invocations: run "
            f"{wake} (or invoke one of them), then plan again"
        )
    if seen - {"Inactive"}:
        fixes.append(
            "Lambda could not create ENIs for the Failed ones: fix the cause named, deploy "
            "again, then plan"
        )
    raise FunctionStateError(
        f"none of the functions that share the ENIs is Active ({listed}): " + "; ".join(fixes)
    )


def resolve_enis(
    ec2: BaseClient,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    *,
    function_names: Sequence[str] = (),
    lambda_client: BaseClient | None = None,
    environment: str | None = None,
    allocation_ids: Iterable[str] | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    warn: Callable[[str], object] | None = None,
) -> dict[str, str]:
    """Return ``{subnet_id: eni_id}``, one Hyperplane ENI per subnet, waiting for Lambda.

    Polls :func:`find_lambda_enis` with exponential backoff (2 s doubling, capped at 20 s) until
    every subnet has an ENI or ``timeout_seconds`` have passed, then raises
    :class:`EniTimeoutError` naming each subnet still missing one and what it holds instead.
    Where a subnet has several, :func:`choose_eni` picks one and ``warn`` (default: stderr) is
    told about the others, which get no static IP.

    With ``function_names`` (every function with this subnet + security-group set) and
    ``lambda_client`` their states are read first and before every further poll
    (:func:`check_functions_state`): when none is ``Active`` or ``Pending`` the resolver raises
    :class:`FunctionStateError` at once instead of waiting out the timeout, while one that is
    ``Pending`` is waited for. ``environment`` only names the environment in that message.
    """
    subnets = _checked_ids(subnet_ids, "subnet-", "subnet IDs")
    groups = _checked_ids(security_group_ids, "sg-", "security group IDs")
    if not (math.isfinite(timeout_seconds) and timeout_seconds > 0):
        raise EniInputError(f"timeout must be a positive number of seconds, got {timeout_seconds}")
    report = warn if warn is not None else _warn_to_stderr
    deadline = clock() + timeout_seconds
    delay = INITIAL_POLL_DELAY
    while True:
        if lambda_client is not None and function_names:
            check_functions_state(lambda_client, function_names, environment)
        found = find_lambda_enis(ec2, subnets, groups)
        missing = [subnet for subnet in subnets if not found[subnet]]
        if not missing:
            break
        remaining = deadline - clock()
        if remaining <= 0:
            raise EniTimeoutError(
                _timeout_message(ec2, missing, groups, function_names, timeout_seconds)
            )
        sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_POLL_DELAY)

    chosen: dict[str, str] = {}
    for subnet in subnets:
        eni, others = choose_eni(found[subnet], allocation_ids)
        chosen[subnet] = eni.eni_id
        for other in others:
            report(
                f"{subnet}: {other.eni_id} also serves {_label(function_names)} "
                f"(status {other.status or 'unknown'}) but gets no static IP; "
                f"the static IP goes to {eni.eni_id}"
            )
    return chosen


def describe_function_enis(
    lambda_client: BaseClient, ec2: BaseClient, function_name: str
) -> list[dict[str, Any]]:
    """Describe the Hyperplane ENIs behind one function, one dict per (subnet, ENI).

    Keys: ``subnet_id``, ``availability_zone``, ``eni_id``, ``status``, ``public_ip``,
    ``allocation_id``, ``security_group_ids`` (sorted), ``shared_by`` (sorted names of the
    functions in the region with the same subnet and security-group set, this one included). A
    subnet without an ENI yields one dict whose ENI fields are None. Raises
    :class:`EniInputError` when the function does not exist or is not attached to a VPC.
    """
    config = _function_configuration(lambda_client, function_name, "check the name and --region")
    name = config.get("FunctionName", function_name)
    vpc_config = config.get("VpcConfig") or {}
    subnets = _unique(vpc_config.get("SubnetIds") or [])
    groups = sorted(set(vpc_config.get("SecurityGroupIds") or []))
    if not subnets or not groups:
        raise EniInputError(
            f"Lambda function {name!r} is not attached to a VPC, so it has no Hyperplane ENIs"
        )
    found = find_lambda_enis(ec2, subnets, groups)
    sharing = _functions_sharing(lambda_client, subnets, frozenset(groups))
    rows: list[dict[str, Any]] = []
    for subnet in subnets:
        base = {"subnet_id": subnet, "security_group_ids": groups, "shared_by": sharing[subnet]}
        if not found[subnet]:
            rows.append(base | dict.fromkeys(_ENI_FIELDS))
        for eni in found[subnet]:
            rows.append(base | {field: getattr(eni, field) for field in _ENI_FIELDS})
    return rows


def eni_problems(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """One message per subnet without an ENI and per ENI without a public IP."""
    problems = []
    for row in rows:
        if row.get("eni_id") is None:
            problems.append(
                f"{row['subnet_id']}: no Lambda ENI with security groups "
                f"{_fmt_ids(row.get('security_group_ids') or [])} "
                "(the function may be Pending, or Inactive after 14 idle days)"
            )
        elif not row.get("public_ip"):
            problems.append(
                f"{row['subnet_id']}: {row['eni_id']} has no public IP, so the function's "
                "traffic through it has no static IP"
            )
    return problems


_ENI_FIELDS = ("availability_zone", "eni_id", "status", "public_ip", "allocation_id")


def _function_configuration(
    lambda_client: BaseClient, function_name: str, fix: str
) -> dict[str, Any]:
    """GetFunctionConfiguration; a missing function is an :class:`EniInputError` naming `fix`."""
    try:
        return lambda_client.get_function_configuration(FunctionName=function_name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise EniInputError(
                f"Lambda function {function_name!r} not found in {_region(lambda_client)}: {fix}"
            ) from exc
        raise


def _functions_sharing(
    lambda_client: BaseClient, subnets: Sequence[str], groups: frozenset[str]
) -> dict[str, list[str]]:
    sharing: dict[str, list[str]] = {subnet: [] for subnet in subnets}
    for page in lambda_client.get_paginator("list_functions").paginate():
        for function in page.get("Functions", []):
            vpc_config = function.get("VpcConfig") or {}
            if frozenset(vpc_config.get("SecurityGroupIds") or []) != groups:
                continue
            for subnet in vpc_config.get("SubnetIds") or []:
                if subnet in sharing:
                    sharing[subnet].append(function["FunctionName"])
    return {subnet: sorted(names) for subnet, names in sharing.items()}


def _describe_interfaces(ec2: BaseClient, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    paginator = ec2.get_paginator("describe_network_interfaces")
    return [
        interface
        for page in paginator.paginate(Filters=filters)
        for interface in page.get("NetworkInterfaces", [])
    ]


def _timeout_message(
    ec2: BaseClient,
    missing: Sequence[str],
    groups: Sequence[str],
    function_names: Sequence[str],
    timeout_seconds: float,
) -> str:
    # A second, broader listing shows what IS in each subnet: usually the function was deployed
    # with other security groups, or its ENI is still being created.
    try:
        present = _describe_interfaces(ec2, [{"Name": "subnet-id", "Values": list(missing)}])
        listing_error = None
    except (ClientError, BotoCoreError) as exc:
        present, listing_error = [], aws.explain(exc)
    details = []
    for subnet in missing:
        if listing_error:
            seen = f"could not list its ENIs: {listing_error}"
        else:
            others = sorted(
                (raw for raw in present if raw.get("SubnetId") == subnet),
                key=lambda raw: raw["NetworkInterfaceId"],
            )
            seen = "found " + (
                ", ".join(
                    f"{raw['NetworkInterfaceId']} ({raw.get('InterfaceType', '?')}, "
                    f"groups {_fmt_ids(_group_ids(raw))})"
                    for raw in others
                )
                or "no ENIs"
            )
        details.append(f"{subnet}: no Lambda ENI with security groups {_fmt_ids(groups)}; {seen}")
    return (
        f"timed out after {timeout_seconds:g}s waiting for Lambda to create the ENIs of "
        f"{_label(function_names)}: " + " | ".join(details)
    )


def _label(function_names: Sequence[str]) -> str:
    if not function_names:
        return "the function"
    plural = "s" if len(function_names) > 1 else ""
    return f"function{plural} {', '.join(function_names)}"


def _fmt_ids(ids: Iterable[str]) -> str:
    return "[" + " ".join(sorted(ids)) + "]"


def _group_ids(raw: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(group["GroupId"] for group in raw.get("Groups") or [])


def _parse_time(value: object) -> datetime.datetime | None:
    # boto3 hands back datetimes; EventBridge events and JSON fixtures carry ISO strings.
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.datetime.fromisoformat(value)
    return None


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _checked_ids(ids: Iterable[str], prefix: str, what: str) -> list[str]:
    # A typo or a name where an ID belongs would otherwise match nothing and wait out the timeout.
    unique = _unique(ids)
    if not unique:
        raise EniInputError(f"no {what} given")
    bad = [item for item in unique if not (isinstance(item, str) and item.startswith(prefix))]
    if bad:
        raise EniInputError(f"{what} must start with {prefix!r}: {', '.join(map(str, bad))}")
    return unique


def _region(client: BaseClient) -> str:
    return client.meta.region_name or "the configured region"


def _warn_to_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


# --- Terraform `external` data source protocol -------------------------------------------------

_PROG = "staticip.enis"
_REQUIRED_KEYS = ("region", "subnet_ids", "security_group_ids")
_OPTIONAL_KEYS = (
    "function_names",
    "environment",
    "timeout_seconds",
    "allocation_ids",
    "profile",
    "assume_role_arn",
)


@dataclass(frozen=True)
class ExternalQuery:
    """The parsed query of the ``external`` data source."""

    region: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    function_names: tuple[str, ...] = ()
    """Every function with this subnet + security-group set, the anchor first."""
    environment: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    allocation_ids: tuple[str, ...] = ()
    profile: str | None = None
    assume_role_arn: str | None = None
    """Role in the environment's account to look the ENIs up with (`aws.client`'s role_arn)."""


def parse_query(text: str) -> ExternalQuery:
    """Parse the JSON query Terraform writes on stdin; raise :class:`EniInputError` if invalid.

    Terraform sends a flat object of strings. Lists are comma-separated; blank items are
    dropped. Unknown keys are rejected so a misspelt key fails loudly instead of being ignored.
    """
    try:
        query = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EniInputError(f"stdin is not valid JSON: {exc}") from exc
    if not isinstance(query, dict):
        raise EniInputError(f"stdin must be a JSON object, got {type(query).__name__}")
    unknown = sorted(set(query) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        raise EniInputError(
            f"unknown query key(s) {', '.join(unknown)}; "
            f"expected {', '.join(_REQUIRED_KEYS + _OPTIONAL_KEYS)}"
        )
    for key, value in query.items():
        if not isinstance(value, str):
            raise EniInputError(f"query key {key!r} must be a string, got {type(value).__name__}")
    for key in _REQUIRED_KEYS:
        if not query.get(key, "").strip():
            raise EniInputError(f"query key {key!r} is missing or empty")

    def items(key: str) -> tuple[str, ...]:
        return tuple(item for item in (p.strip() for p in query.get(key, "").split(",")) if item)

    subnets = items("subnet_ids")
    groups = items("security_group_ids")
    allocations = items("allocation_ids")
    for key, values, prefix in (
        ("subnet_ids", subnets, "subnet-"),
        ("security_group_ids", groups, "sg-"),
        ("allocation_ids", allocations, "eipalloc-"),
    ):
        if key != "allocation_ids" and not values:
            raise EniInputError(f"query key {key!r} lists no IDs")
        bad = [value for value in values if not value.startswith(prefix)]
        if bad:
            raise EniInputError(
                f"query key {key!r} must list IDs starting with {prefix!r}, got {', '.join(bad)}"
            )
    timeout_text = query.get("timeout_seconds", "").strip()
    timeout = DEFAULT_TIMEOUT_SECONDS
    if timeout_text:
        try:
            timeout = float(timeout_text)
        except ValueError:
            timeout = math.nan
        if not (math.isfinite(timeout) and timeout > 0):
            raise EniInputError(
                f"query key 'timeout_seconds' must be a number > 0, got {timeout_text!r}"
            )
    return ExternalQuery(
        region=query["region"].strip(),
        subnet_ids=subnets,
        security_group_ids=groups,
        function_names=items("function_names"),
        environment=query.get("environment", "").strip() or None,
        timeout_seconds=timeout,
        allocation_ids=allocations,
        profile=query.get("profile", "").strip() or None,
        assume_role_arn=query.get("assume_role_arn", "").strip() or None,
    )


def external_main(
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    *,
    make_client: Callable[..., BaseClient] = aws.client,
    sleep: Callable[[float], object] = time.sleep,
) -> int:
    """Run the ``external`` data source protocol; return the exit code.

    Reads one JSON query from ``stdin`` (see :func:`parse_query`), prints
    ``{"<subnet-id>": "<eni-id>", ...}`` on ``stdout`` and returns 0. On any failure prints one
    line prefixed ``staticip.enis:`` on ``stderr``, nothing on ``stdout``, and returns 1.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr

    def warn(message: str) -> None:
        print(f"{_PROG}: warning: {' '.join(message.split())}", file=stderr)

    try:
        query = parse_query(stdin.read())
        # The role only when there is one, so a three-argument `make_client` still fits.
        role = (query.assume_role_arn,) if query.assume_role_arn else ()
        ec2 = make_client("ec2", query.region, query.profile, *role)
        lambda_client = (
            make_client("lambda", query.region, query.profile, *role)
            if query.function_names
            else None
        )
        result = resolve_enis(
            ec2,
            query.subnet_ids,
            query.security_group_ids,
            function_names=query.function_names,
            lambda_client=lambda_client,
            environment=query.environment,
            allocation_ids=query.allocation_ids,
            timeout_seconds=query.timeout_seconds,
            sleep=sleep,
            warn=warn,
        )
    except (EniInputError, EniTimeoutError, FunctionStateError) as exc:
        return _fail(stderr, str(exc))
    except (ClientError, BotoCoreError, aws.AwsError) as exc:
        return _fail(stderr, aws.explain(exc))
    except Exception as exc:
        # Terraform shows only stderr, and the protocol promises one line: no traceback.
        return _fail(stderr, f"unexpected error: {aws.explain(exc)}")
    stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


def _fail(stderr: IO[str], message: str) -> int:
    print(f"{_PROG}: {' '.join(message.split())}", file=stderr)
    return 1


if __name__ == "__main__":
    sys.exit(external_main())
