"""`staticip wake <environment>`: bring an idle eni-eip function back to `Active`.

After about 14 days without invocations Lambda marks a VPC function `Inactive` and reclaims its
Hyperplane ENIs. Nothing brings them back but an invocation: it fails, the function goes
`Pending` while Lambda creates new ENIs, then `Active`. Until then the ENI lookup of the dev
stack has nothing to resolve, so plans fail (at once, naming this command). The new ENIs carry
no Elastic IP: the ENI guard (or the next `cdktf deploy`) puts the EIPs on them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError, ProfileNotFound

from staticip import aws
from staticip.config import ConfigError, load_config
from staticip.result import EXIT_OK, EXIT_PROBLEM, CommandResult, usage_error

DEFAULT_TIMEOUT_SECONDS = 300.0
POLL_SECONDS = 5.0


class WakeError(Exception):
    """The function did not become Active: Failed, or still Pending when the time ran out."""


@dataclass(frozen=True)
class WakeReport:
    function: str
    state_before: str
    state_after: str
    invoked: bool
    seconds: float


def wake_function(
    lambda_client: BaseClient,
    function_name: str,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], object] | None = None,
) -> WakeReport:
    """Invoke an `Inactive` function once and wait until it is `Active`.

    An `Active` function is left alone; a `Pending` one is only waited for. The invocation is
    expected to fail while Lambda rebuilds the ENIs, so its error is not ours to report.
    `progress` (default: stderr) gets one line per poll. Raises :class:`WakeError` when the
    function ends `Failed` or is not `Active` within `timeout_seconds`, botocore errors when
    AWS fails.
    """
    say = progress if progress is not None else _to_stderr
    started = clock()
    before = _state(lambda_client, function_name)
    invoked = False
    if before == "Inactive":
        say(f"{function_name} is Inactive: invoking it once so Lambda recreates its ENIs")
        try:
            lambda_client.invoke(FunctionName=function_name, Payload=b"{}")
        except ClientError as exc:
            # Expected: Lambda fails invocations of an Inactive function while it goes Pending.
            say(f"the invocation failed as expected while Lambda rebuilds: {aws.explain(exc)}")
        invoked = True
    state = before if before != "Inactive" else _state(lambda_client, function_name)
    while state != "Active":
        if state == "Failed":
            raise WakeError(
                f"{function_name} is Failed: Lambda could not create its ENIs; "
                f"see `staticip doctor` and the function's StateReason"
            )
        elapsed = clock() - started
        if elapsed >= timeout_seconds:
            raise WakeError(
                f"{function_name} is still {state} after {elapsed:.0f} s: run the command "
                "again, or look at the function's StateReason"
            )
        say(f"{function_name} is {state} ({elapsed:.0f} s): waiting for Active")
        sleep(POLL_SECONDS)
        state = _state(lambda_client, function_name)
    return WakeReport(function_name, before, state, invoked, round(clock() - started, 1))


def run_wake(
    config_path: str | Path,
    environment: str,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    region: str | None = None,
    profile: str | None = None,
) -> CommandResult:
    """`staticip wake ENV`: exit 0 when the function is Active, 1 when it did not become Active
    (or AWS failed), 2 for an unknown environment or one without a VPC function to wake."""
    if not timeout_seconds > 0:
        return usage_error(f"--timeout must be a number of seconds > 0, got {timeout_seconds}")
    try:
        env = load_config(config_path).environment(environment)
    except ConfigError as exc:
        return usage_error(str(exc))
    if env.egress != "eni-eip":
        return usage_error(
            f"environment '{env.name}' has egress '{env.egress}': only eni-eip functions lose "
            "their static IPs when idle, so there is nothing to wake"
        )
    try:
        lambda_client = aws.client("lambda", region or env.region, profile)
        report = wake_function(lambda_client, env.function.name, timeout_seconds=timeout_seconds)
    except (NoRegionError, ProfileNotFound) as exc:
        return usage_error(aws.explain(exc))
    except (WakeError, ClientError, BotoCoreError, aws.AwsError) as exc:
        detail = str(exc) if isinstance(exc, WakeError) else aws.explain(exc)
        text = f"wake {env.name}: {detail}"
        return CommandResult(EXIT_PROBLEM, text, {"error": text})
    if report.state_before == "Active":
        text = f"{report.function} is already Active: nothing to wake"
    else:
        text = (
            f"{report.function} is Active after {report.seconds:g} s (was {report.state_before})."
            " Its new ENIs have no Elastic IP until the ENI guard moves them (within its "
            f"schedule) or `cdktf deploy {env.name}` does; `staticip doctor {env.name}` shows it."
        )
    return CommandResult(EXIT_OK, text, asdict(report))


def _state(lambda_client: BaseClient, function_name: str) -> str:
    config = lambda_client.get_function_configuration(FunctionName=function_name)
    return config.get("State") or "Active"


def _to_stderr(message: str) -> None:
    print(f"staticip wake: {message}", file=sys.stderr, flush=True)
