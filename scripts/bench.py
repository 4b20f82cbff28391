"""`make bench`: the bare provider import, `make synth` and `make test`, timed side by side.

Each is run `--runs` times (default 3) in rounds, one of each per round, so that a change in the
machine's load during the run falls on all three alike; the medians are compared with the bare
`python -c "import cdktf_cdktf_provider_aws.vpc"` (the package's own eager `__init__`, which the
stacks skip), against the goals of issue #12: synth <= 0.35x, test <= 3.5x. Wall-clock seconds
from time.monotonic around each subprocess. Exit 1 when a command fails, or with --check when a
goal is missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Command:
    label: str
    argv: list[str]
    goal: float | None
    """Most the median may be, as a multiple of the bare import's median; None: the baseline."""


def commands(python: str) -> list[Command]:
    return [
        Command(
            "bare import (eager __init__)",
            [python, "-c", "import cdktf_cdktf_provider_aws.vpc"],
            None,
        ),
        Command("make synth", ["make", "--no-print-directory", "synth"], 0.35),
        Command("make test", ["make", "--no-print-directory", "test"], 3.5),
    ]


def run_once(command: Command) -> float:
    """Seconds the command took; raises SystemExit with its output's tail when it fails."""
    started = time.monotonic()
    result = subprocess.run(
        command.argv, cwd=REPO, capture_output=True, text=True, env=os.environ.copy()
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-2000:]
        raise SystemExit(f"error: {command.label} exited {result.returncode}:\n{tail}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench.py", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--python", default=str(REPO / ".venv" / "bin" / "python"), help="interpreter to time"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    cmds = commands(args.python)
    times: dict[str, list[float]] = {c.label: [] for c in cmds}
    for round_number in range(1, args.runs + 1):
        for command in cmds:
            seconds = run_once(command)
            times[command.label].append(seconds)
            print(f"round {round_number}: {command.label}: {seconds:.1f} s", file=sys.stderr)

    base = statistics.median(times[cmds[0].label])
    print(
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}, median of {args.runs}"
    )
    print(f"{'command':<30} {'runs (s)':<22} {'median':>8} {'x import':>9}  goal")
    missed = []
    for command in cmds:
        median = statistics.median(times[command.label])
        ratio = median / base
        runs = " ".join(f"{t:.1f}" for t in times[command.label])
        if command.goal is None:
            goal = "(baseline)"
        else:
            ok = ratio <= command.goal
            goal = f"<= {command.goal}x {'met' if ok else 'MISSED'}"
            if not ok:
                missed.append(command.label)
        print(f"{command.label:<30} {runs:<22} {median:>7.1f}s {ratio:>8.2f}x  {goal}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
