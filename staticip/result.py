"""What the `cost`, `verify` and `doctor` entry functions hand back to the CLI layer."""

from __future__ import annotations

from typing import Any, NamedTuple

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2


class CommandResult(NamedTuple):
    """`text` is the human report (tables), `data` the same facts for `--json`; on a usage
    error `text` is the one-line message for stderr and `data` holds it as `{"error": ...}`."""

    exit_code: int
    text: str
    data: dict[str, Any]


def usage_error(message: str) -> CommandResult:
    """A usage or input error: exit 2 with a one-line message."""
    line = " ".join(message.split())
    return CommandResult(EXIT_USAGE, line, {"error": line})
