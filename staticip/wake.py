"""`staticip wake <environment>`: bring an idle eni-eip environment's functions back to `Active`.

After about 14 days without invocations Lambda marks a VPC function `Inactive`; once no function
that shares a Hyperplane ENI is active, Lambda reclaims the ENI. Nothing brings them back but an
invocation: it fails, the function goes `Pending` while Lambda creates new ENIs, then `Active`.
Until then the ENI lookup of the dev stack has nothing to resolve, so plans fail (at once,
naming this command). The new ENIs carry no Elastic IP: the ENI guard (or the next
`cdktf deploy`) puts the EIPs on them. The command wakes every function of the environment (the
probe and the declared ones) that is Inactive: each would fail its next invocation otherwise.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
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
    """:func:`wake_functions` for one function."""
    (report,) = wake_functions(
        lambda_client,
        [function_name],
        timeout_seconds=timeout_seconds,
        sleep=sleep,
        clock=clock,
        progress=progress,
    )
    return report


def wake_functions(
    lambda_client: BaseClient,
    function_names: Sequence[str],
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], object] | None = None,
) -> list[WakeReport]:
    """Invoke each `Inactive` function once, then wait until every one is `Active`.

    `Active` functions are left alone; `Pending` ones are only waited for. The invocations are
    expected to fail while Lambda rebuilds the ENIs, so their errors are not ours to report.
    `progress` (default: stderr) gets one line per poll. Raises :class:`WakeError` when a
    function ends `Failed` or not all are `Active` within `timeout_seconds`, botocore errors
    when AWS fails.
    """
    say = progress if progress is not None else _to_stderr
    started = clock()
    before = {name: _state(lambda_client, name) for name in dict.fromkeys(function_names)}
    invoked = set()
    for name, state in before.items():
        if state != "Inactive":
            continue
        say(f"{name} is Inactive: invoking it once so Lambda recreates its ENIs")
        try:
            lambda_client.invoke(FunctionName=name, Payload=b"{}")
        except ClientError as exc:
            # Expected: Lambda fails invocations of an Inactive function while it goes Pending.
            say(f"the invocation failed as expected while Lambda rebuilds: {aws.explain(exc)}")
        invoked.add(name)
    states = {
        name: _state(lambda_client, name) if name in invoked else state
        for name, state in before.items()
    }
    while True:
        failed = [name for name, state in states.items() if state == "Failed"]
        if failed:
            raise WakeError(
                f"{', '.join(failed)} is Failed: Lambda could not create its ENIs; "
                f"see `staticip doctor` and the function's StateReason"
            )
        waiting = {name: state for name, state in states.items() if state != "Active"}
        if not waiting:
            break
        elapsed = clock() - started
        listed = ", ".join(f"{name} is {state}" for name, state in waiting.items())
        if elapsed >= timeout_seconds:
            raise WakeError(
                f"{listed} after {elapsed:.0f} s (still {'/'.join(set(waiting.values()))}): run "
                "the command again, or look at the function's StateReason"
            )
        say(f"{listed} ({elapsed:.0f} s): waiting for Active")
        sleep(POLL_SECONDS)
        states |= {name: _state(lambda_client, name) for name in waiting}
    seconds = round(clock() - started, 1)
    return [
        WakeReport(name, before[name], states[name], name in invoked, seconds) for name in before
    ]


def run_wake(
    config_path: str | Path,
    environment: str,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    region: str | None = None,
    profile: str | None = None,
) -> CommandResult:
    """`staticip wake ENV`: exit 0 when every function of the environment is Active, 1 when one
    did not become Active (or AWS failed), 2 for an unknown environment or one without a VPC
    function to wake."""
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
        lambda_client = aws.client(
            "lambda", region or env.region, profile or env.profile, env.assume_role_arn
        )
        reports = wake_functions(
            lambda_client, env.egress_function_names, timeout_seconds=timeout_seconds
        )
    except (NoRegionError, ProfileNotFound) as exc:
        return usage_error(aws.explain(exc))
    except (WakeError, ClientError, BotoCoreError, aws.AwsError) as exc:
        detail = str(exc) if isinstance(exc, WakeError) else aws.explain(exc)
        text = f"wake {env.name}: {detail}"
        return CommandResult(EXIT_PROBLEM, text, {"error": text})
    woken = [r for r in reports if r.state_before != "Active"]
    if not woken:
        text = f"{', '.join(r.function for r in reports)}: already Active, nothing to wake"
    else:
        text = "\n".join(
            f"{r.function} is Active after {r.seconds:g} s (was {r.state_before})." for r in woken
        ) + (
            "\nNew ENIs have no Elastic IP until the ENI guard moves them (within its "
            f"schedule) or `cdktf deploy {env.name}` does; `staticip doctor {env.name}` shows it."
        )
    return CommandResult(
        EXIT_OK, text, {"environment": env.name, "functions": [asdict(r) for r in reports]}
    )


def _state(lambda_client: BaseClient, function_name: str) -> str:
    config = lambda_client.get_function_configuration(FunctionName=function_name)
    return config.get("State") or "Active"


def _to_stderr(message: str) -> None:
    print(f"staticip wake: {message}", file=sys.stderr, flush=True)
