"""`staticip verify <environment>`: does egress really leave from the allow-listed IPs?

Invokes the environment's egress probe (`lambda_src/egress_probe`) several times at once and
compares the public IPs it reports with the environment's allow-listed EIPs. Invocations run
concurrently because Lambda reuses a warm execution environment for calls in sequence, which
would keep them all in one AZ; concurrent calls need several environments, which Lambda
spreads over the function's subnets.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError, ProfileNotFound

from staticip import aws
from staticip.config import ConfigError, EnvironmentConfig, load_config
from staticip.eips import AllowListedEip, find_allow_listed_eips
from staticip.result import EXIT_OK, EXIT_PROBLEM, CommandResult, usage_error
from staticip.table import render_table

DEFAULT_INVOCATIONS = 10
MAX_INVOCATIONS = 1000
# Lambda answers a timed-out invocation with this in errorMessage ("Task timed out after ...").
_TIMED_OUT = "timed out"


@dataclass(frozen=True)
class ProbeAnswer:
    """What one invocation reported: an IP, or why there is none."""

    ip: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class SeenIp:
    ip: str
    az: str | None
    allow_listed: bool
    seen: int
    allocation_id: str | None = None


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of one verify run; `ok` is False when any problem was found."""

    environment: str
    function: str
    region: str | None
    invocations: int
    ips: list[SeenIp]
    """Allow-listed IPs (seen or not) first, by AZ, then the unexpected ones."""
    errors: dict[str, int]
    """Error message -> how many invocations ended with it."""
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    covers: list[str] = field(default_factory=list)
    """The declared functions with the probe's subnets and security group: they share its
    Hyperplane ENIs or NAT, so the answer speaks for them too."""

    @property
    def ok(self) -> bool:
        return not self.problems


# --- invoking the probe -------------------------------------------------------------------------


def probe_client(
    region: str | None,
    profile: str | None,
    function_timeout: int,
    pool_size: int,
    role_arn: str | None = None,
) -> BaseClient:
    """A Lambda client for probe invocations.

    Not `aws.client`: its 60 s read timeout is shorter than a function may run (up to 900 s),
    and a read timeout there would be retried up to 10 times, invoking again each time. This one
    waits for the function's own timeout and keeps one connection per concurrent call.
    """
    session = aws.session(region, profile, role_arn)
    config = BotoConfig(
        read_timeout=function_timeout + 15,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=max(pool_size, 10),
    )
    return session.client("lambda", config=config)


def invoke_probe(lambda_client: BaseClient, function_name: str) -> ProbeAnswer:
    """Invoke the probe once, synchronously; never raises for AWS or probe failures."""
    try:
        response = lambda_client.invoke(
            FunctionName=function_name, InvocationType="RequestResponse", Payload=b"{}"
        )
        body = response["Payload"].read()
    except (ClientError, BotoCoreError) as exc:
        return ProbeAnswer(error=aws.explain(exc))
    try:
        answer = json.loads(body or b"null")
    except ValueError:
        answer = None
    if response.get("FunctionError"):
        # Unhandled errors (including Lambda's own timeout) come back as errorType/errorMessage.
        if isinstance(answer, dict):
            kind = answer.get("errorType", response["FunctionError"])
            return ProbeAnswer(error=f"{kind}: {answer.get('errorMessage', '')}".strip(": "))
        return ProbeAnswer(error=f"function error ({response['FunctionError']})")
    if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
        return ProbeAnswer(error=f"unexpected probe answer: {_clip(body)}")
    if not answer["ok"]:
        return ProbeAnswer(error=f"probe failed: {answer.get('error') or 'no reason given'}")
    ip = answer.get("ip")
    try:
        ipaddress.ip_address(ip)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ProbeAnswer(error=f"probe answered with something that is not an IP: {ip!r}")
    return ProbeAnswer(ip=str(ip))


def invoke_many(
    lambda_client: BaseClient,
    function_name: str,
    count: int,
    concurrency: int | None = None,
    invoke: Callable[[BaseClient, str], ProbeAnswer] = invoke_probe,
) -> list[ProbeAnswer]:
    """Invoke the probe `count` times, `concurrency` (default: all) at a time."""
    workers = max(1, min(count, concurrency or count))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:
        return list(pool.map(lambda _: invoke(lambda_client, function_name), range(count)))


# --- comparing ----------------------------------------------------------------------------------


def compare(
    env_name: str,
    function_name: str,
    region: str | None,
    allow_listed: Sequence[AllowListedEip],
    answers: Sequence[ProbeAnswer],
) -> VerifyReport:
    """Judge the answers against the allow-list."""
    seen = Counter(a.ip for a in answers if a.ip)
    errors = Counter(a.error for a in answers if a.error)
    listed_ips = {eip.public_ip for eip in allow_listed}
    ips = [
        SeenIp(eip.public_ip, eip.az, True, seen.get(eip.public_ip, 0), eip.allocation_id)
        for eip in allow_listed
    ]
    unexpected = sorted(ip for ip in seen if ip not in listed_ips)
    ips += [SeenIp(ip, None, False, seen[ip]) for ip in unexpected]

    problems, warnings = [], []
    if not allow_listed:
        problems.append(
            f"no allow-listed EIPs found for environment '{env_name}' (tags environment, project, "
            f"staticip:allow-listed=true) in {region or 'the region'}: deploy it "
            f"(`cdktf deploy {env_name}`) or check --region/--profile"
        )
    if unexpected:
        problems.append(
            f"{sum(seen[ip] for ip in unexpected)} of {len(answers)} invocations left from IPs "
            f"that are not allow-listed: {', '.join(unexpected)}; run `staticip doctor {env_name}`"
        )
    if errors:
        hint = (
            " (a timeout is the typical symptom of a Lambda ENI without an EIP)"
            if any(_TIMED_OUT in e.lower() for e in errors)
            else ""
        )
        problems.append(
            f"{sum(errors.values())} of {len(answers)} invocations failed{hint}: "
            f"run `staticip doctor {env_name}`"
        )
    unseen = [eip for eip in allow_listed if not seen.get(eip.public_ip)]
    if unseen and allow_listed and not problems:
        warnings.append(
            "not seen: "
            + ", ".join(f"{eip.public_ip} ({eip.az or 'AZ unknown'})" for eip in unseen)
            + "; Lambda ran every invocation elsewhere, raise --count to reach every AZ"
        )
    return VerifyReport(
        environment=env_name,
        function=function_name,
        region=region,
        invocations=len(answers),
        ips=ips,
        errors=dict(errors.most_common()),
        problems=problems,
        warnings=warnings,
    )


def verify_environment(
    ec2: BaseClient,
    lambda_client: BaseClient,
    project: str,
    env: EnvironmentConfig,
    count: int = DEFAULT_INVOCATIONS,
    concurrency: int | None = None,
) -> VerifyReport:
    """Look up the allow-list, invoke the probe `count` times and compare; then say which
    declared functions the answer covers (one GetFunctionConfiguration each)."""
    allow_listed = find_allow_listed_eips(ec2, project, env.name, env.reuse_eip_allocation_ids)
    answers = invoke_many(lambda_client, env.function.name, count, concurrency)
    report = compare(env.name, env.function.name, ec2.meta.region_name, allow_listed, answers)
    probe = _network(lambda_client, env.function.name)
    covers, warnings = [], list(report.warnings)
    for fn in env.functions:
        if probe is not None and _network(lambda_client, fn.name) == probe:
            covers.append(fn.name)
        else:
            warnings.append(
                f"{fn.name} is not in the probe's subnets with its security group, so this "
                f"answer does not speak for it: run `staticip functions {env.name}`"
            )
    return replace(report, covers=covers, warnings=warnings)


def _network(lambda_client: BaseClient, name: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """A function's (subnets, security groups), None when it does not exist."""
    try:
        vpc = lambda_client.get_function_configuration(FunctionName=name).get("VpcConfig") or {}
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    return frozenset(vpc.get("SubnetIds") or []), frozenset(vpc.get("SecurityGroupIds") or [])


# --- the command --------------------------------------------------------------------------------


def run_verify(
    config_path: str | Path,
    environment: str,
    *,
    count: int = DEFAULT_INVOCATIONS,
    concurrency: int | None = None,
    region: str | None = None,
    profile: str | None = None,
) -> CommandResult:
    """`staticip verify <environment> [--count N] [--concurrency N] [--region R] [--profile P]`.

    Region and profile default to the environment's, and its `assume_role_arn` is assumed.
    Exit 0 when every invocation answered from an allow-listed IP, 1 when one did not, failed
    or timed out (or AWS failed), 2 for an unknown environment, an environment without egress,
    a bad count, a missing region/profile or credentials of another account than `account_id`.
    """
    if not 1 <= count <= MAX_INVOCATIONS:
        return usage_error(f"--count must be 1 to {MAX_INVOCATIONS}, got {count}")
    if concurrency is not None and concurrency < 1:
        return usage_error(f"--concurrency must be at least 1, got {concurrency}")
    try:
        config = load_config(config_path)
        env = config.environment(environment)
    except ConfigError as exc:
        return usage_error(str(exc))
    if env.egress_mode is None:
        return usage_error(
            f"environment '{env.name}' has no egress (egress = 'none'): nothing to verify"
        )
    if not env.probe:
        return usage_error(
            f"environment '{env.name}' has probe = false: there is no probe to invoke; set it "
            f"back to true, or check its functions with `staticip functions {env.name}`"
        )
    region = region or env.region
    profile, role = profile or env.profile, env.assume_role_arn
    try:
        if env.account_id:
            aws.check_account(aws.client("sts", region, profile, role), env.account_id, env.name)
        ec2 = aws.client("ec2", region, profile, role)
        workers = min(count, concurrency or count)
        lambda_client = probe_client(region, profile, env.function.timeout_seconds, workers, role)
        report = verify_environment(ec2, lambda_client, config.project, env, count, concurrency)
    except (NoRegionError, ProfileNotFound, aws.WrongAccountError) as exc:
        return usage_error(aws.explain(exc))
    except (ClientError, BotoCoreError, aws.AwsError) as exc:
        message = f"verify {env.name}: {aws.explain(exc)}"
        return CommandResult(EXIT_PROBLEM, message, {"error": message})
    return CommandResult(
        EXIT_OK if report.ok else EXIT_PROBLEM, render_verify(report), report_json(report)
    )


def report_json(report: VerifyReport) -> dict[str, Any]:
    """The report as plain JSON types."""
    return asdict(report) | {"ok": report.ok}


def render_verify(report: VerifyReport) -> str:
    """Tables of the IPs seen and the errors, then the verdict."""
    parts = [
        f"verify {report.environment}: {report.invocations} invocations of {report.function}"
        f" in {report.region}",
        render_table(
            ["IP", "AZ", "ALLOW-LISTED", "SEEN"],
            [(s.ip, s.az, "yes" if s.allow_listed else "NO", s.seen) for s in report.ips],
        ),
    ]
    if report.errors:
        parts.append(render_table(["ERROR", "COUNT"], list(report.errors.items())))
    verdict = [f"problem: {p}" for p in report.problems] + [
        f"warning: {w}" for w in report.warnings
    ]
    if report.ok:
        verdict.append("OK: every invocation left from an allow-listed IP")
    if report.covers:
        verdict.append(
            "the same holds for " + ", ".join(report.covers) + " (same subnets and security "
            "group, so the same ENIs or NAT)"
        )
    parts.append("\n".join(verdict))
    return "\n\n".join(parts)


def _clip(body: bytes, limit: int = 120) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return (text[:limit] + "...") if len(text) > limit else (text or "(empty)")
