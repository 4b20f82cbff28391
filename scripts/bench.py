"""`make bench`: the bare provider import, each stage of `.ci/run` (`make install` into a new
virtualenv, `make synth` with its inputs changed and with nothing changed, `make test`, `make
e2e`, `make lint`, `make scan`), `.ci/run` itself and a `terraform plan` of the dev stack against
moto, timed side by side.

Each is run `--runs` times (default 3) in rounds, one of each per round, so that a change in the
machine's load during the run falls on all alike; the medians are compared with the bare
`python -c "import cdktf_cdktf_provider_aws.vpc"` (the package's own eager `__init__`, which the
stacks skip), against the goals of issue #22: synth with its inputs changed <= 0.30x, with
nothing changed <= 0.05x, `make test` <= 2.5x, and `.ci/run` <= 300 s (on this tree, whose
installs are done; `.ci/run` runs `make e2e` beside the other stages, so its time is not their
sum). `make install` builds a new virtualenv in a temporary folder (`VENV=`), as on a fresh
clone; the tree's own `.venv` is left as it is.
"Inputs changed" is `make synth` with STATICIP_FORCE_SYNTH=1: everything is synthesized again,
as after an edit. Wall-clock seconds from time.monotonic around each subprocess (around the
`terraform plan` alone for the plan: the stack is synthesized, patched for moto and initialised
before the rounds). Exit 1 when a command fails, or with --check when a goal is missed.

`--make-arg` passes arguments to every `make` (e.g. `-o .venv/.installed-stamp` to time a tree
without installing it; .ci/run gets them through MAKEFLAGS); `--skip` leaves commands out by
label prefix (e.g. `--skip .ci/run`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The environment every command runs in: as the bench was started (the in-process moto server
#: sets variables of its own, which would otherwise reach, and slow down, the commands).
ENVIRONMENT = dict(os.environ)
#: Issue #22's goal for `.ci/run` on a fresh clone, installs included. The bench runs it on
#: this tree, installed, so its install steps find nothing to do.
CI_GOAL_SECONDS = 300.0


@dataclass(frozen=True)
class Command:
    label: str
    argv: list[str] = field(default_factory=list)
    goal: float | None = None
    """Most the median may be, as a multiple of the bare import's median; None: no goal."""
    env: dict[str, str] = field(default_factory=dict)
    seconds_goal: float | None = None
    """Most the median may be, in seconds; None: no such goal."""
    timed: Callable[[], float] | None = None
    """Runs the command and returns the seconds to count, instead of `argv`."""


def fresh_install(make: Sequence[str]) -> Callable[[], float]:
    """`make install` into a new virtualenv in a temporary folder, removed afterwards."""

    def timed() -> float:
        with tempfile.TemporaryDirectory(prefix="staticip-bench-venv-") as scratch:
            return run_once(Command("make install", [*make, "install", f"VENV={scratch}/venv"]))

    return timed


def commands(python: str, make_args: Sequence[str], plan: Callable[[], float]) -> list[Command]:
    make = ["make", "--no-print-directory", *make_args]
    listed = [
        Command(
            "bare import (eager __init__)", [python, "-c", "import cdktf_cdktf_provider_aws.vpc"]
        ),
        Command("make install (new venv)", timed=fresh_install(make)),
        Command(
            "make synth (inputs changed)",
            [*make, "synth"],
            0.30,
            env={"STATICIP_FORCE_SYNTH": "1"},
        ),
        Command("make synth (nothing changed)", [*make, "synth"], 0.05),
        Command("make test", [*make, "test"], 2.5),
        Command("make e2e", [*make, "e2e"]),
        Command("make lint", [*make, "lint"]),
        Command("make scan", [*make, "scan"]),
        Command(
            ".ci/run (installed)",
            ["bash", str(REPO / ".ci" / "run")],
            env={"MAKEFLAGS": shlex.join(make_args)} if make_args else {},
            seconds_goal=CI_GOAL_SECONDS,
        ),
        Command("terraform plan dev (moto)", timed=plan),
    ]
    return listed


def run_once(command: Command) -> float:
    """Seconds the command took; raises SystemExit with its output's tail when it fails."""
    if command.timed is not None:
        return command.timed()
    started = time.monotonic()
    result = subprocess.run(
        command.argv,
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**ENVIRONMENT, **command.env},
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-2000:]
        raise SystemExit(f"error: {command.label} exited {result.returncode}:\n{tail}")
    return elapsed


class DevPlan:
    """`terraform plan` of `cdktf.out/stacks/dev` against moto, through tests/tfharness.py;
    set up at the first call (after the first `make synth`), torn down by close()."""

    def __init__(self) -> None:
        self.tf = None
        self.moto = None
        self.work: Path | None = None

    def __call__(self) -> float:
        if self.tf is None:
            self._set_up()
        started = time.monotonic()
        self.tf.run("plan", "-input=false", "-no-color", "-lock=false")
        return time.monotonic() - started

    def _set_up(self) -> None:
        sys.path.insert(0, str(REPO / "tests"))
        import tfharness as h

        reason = h.missing_tools()
        if reason:
            raise SystemExit(f"error: terraform plan dev (moto): {reason}")
        stack_dir = REPO / "cdktf.out" / "stacks" / "dev"
        stack = json.loads((stack_dir / "cdk.tf.json").read_text())
        self.moto = h.Moto()
        h.patch_for_moto(stack, self.moto.endpoint, h.mirrored_aws_version(h.DEFAULT_PLUGIN_DIR))
        if "external" in stack.get("data", {}):
            h.stand_in_eni_lookups(stack)
        self.work = Path(tempfile.mkdtemp(prefix="staticip-bench-plan-"))
        tf = h.Terraform(shutil.which("terraform") or "terraform", self.work, h.DEFAULT_PLUGIN_DIR)
        tf.write_stack(stack, stack_dir)
        tf.init()
        self.tf = tf

    def close(self) -> None:
        if self.moto is not None:
            self.moto.stop()
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--python", default=str(REPO / ".venv" / "bin" / "python"), help="interpreter to time"
    )
    parser.add_argument(
        "--make-arg", action="append", default=[], help="an argument for every make (repeat)"
    )
    parser.add_argument(
        "--skip", action="append", default=[], help="leave out commands whose label starts so"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    plan = DevPlan()
    cmds = [
        c
        for c in commands(args.python, args.make_arg, plan)
        if not any(c.label.startswith(s) for s in args.skip)
    ]
    times: dict[str, list[float]] = {c.label: [] for c in cmds}
    try:
        for round_number in range(1, args.runs + 1):
            for command in cmds:
                seconds = run_once(command)
                times[command.label].append(seconds)
                print(f"round {round_number}: {command.label}: {seconds:.1f} s", file=sys.stderr)
    finally:
        plan.close()

    base = statistics.median(times[cmds[0].label])
    print(
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}, median of {args.runs}"
    )
    print(f"{'command':<30} {'runs (s)':<22} {'median':>8} {'x import':>9}  goal")
    missed = []
    for index, command in enumerate(cmds):
        median = statistics.median(times[command.label])
        ratio = median / base
        runs = " ".join(f"{t:.2f}" if t < 10 else f"{t:.1f}" for t in times[command.label])
        goal = "(baseline)" if index == 0 else ""
        if command.goal is not None:
            ok = ratio <= command.goal
            goal = f"<= {command.goal}x {'met' if ok else 'MISSED'}"
        elif command.seconds_goal is not None:
            ok = median <= command.seconds_goal
            goal = f"<= {command.seconds_goal:.0f} s {'met' if ok else 'MISSED'}"
            goal += " (+ installs on a fresh clone)"
        else:
            ok = True
        if not ok:
            missed.append(command.label)
        shown = f"{median:>7.2f}s" if median < 10 else f"{median:>7.1f}s"
        print(f"{command.label:<30} {runs:<22} {shown} {ratio:>8.2f}x  {goal}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
