"""`make synth`: validate the config, synthesize every environment in one process, swap the
result into `cdktf.out` and print a summary table. When nothing synthesis reads has changed
since the synth that wrote `cdktf.out` (staticip/synth_cache.py), it is reused as it is."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from staticip import synth_cache

if TYPE_CHECKING:
    from staticip.summary import StackSummary

# The config module's DEFAULT_CONFIG_FILE, without importing it (and what it imports) here:
# the no-op path must stay light. tests/test_synth_cache.py checks they agree.
DEFAULT_CONFIG_FILE = "staticip.toml"
#: Set (to anything but "" or "0") to synthesize even when `cdktf.out` is up to date.
FORCE_VARIABLE = "STATICIP_FORCE_SYNTH"


def synthesize(config_path: Path, outdir: Path) -> list[StackSummary]:
    """Synthesize every environment of `config_path` into `outdir`; raises ConfigError or
    PricesError (and writes nothing) when the config or the price table is invalid. The
    output carries the manifest that lets the next `main()` reuse it."""
    from staticip.config import load_config
    from staticip.outdir import replace_directory
    from staticip.prices import load_prices
    from staticip.summary import summarize

    config = load_config(config_path)
    code = [p for env in config.environments for fn in env.functions for p in _code_of(fn)]
    # Hashed before anything is read: an input edited during the synth then no longer matches
    # the manifest, and the next run synthesizes again.
    inputs = synth_cache.input_digests(config_path, code, os.environ)
    prices = load_prices()
    # Imported here: importing `stacks` installs the lazy provider bindings, which may refuse
    # their switch (a ConfigError, reported like any other). `check_code` loads no bindings,
    # so errors in the config or a function's code come back in well under a second.
    from stacks.function_code import check_code

    check_code(config)
    from stacks.app import build_app

    rows: list[StackSummary] = []

    def build(tmp: Path) -> None:
        build_app(config, str(tmp)).synth()
        rows.extend(summarize(config, tmp, prices))
        headers, cells = summary_table(rows)
        synth_cache.write_manifest(tmp, inputs, code, headers, cells)

    replace_directory(outdir, build)
    return rows


def _code_of(fn: Any) -> list[Path]:
    return [p for p in (fn.source, fn.package) if p is not None]


def summary_table(rows: Sequence[StackSummary]) -> tuple[list[str], list[list[Any]]]:
    from dataclasses import astuple, fields

    from staticip.summary import StackSummary

    headers = [f.name.replace("_", " ") for f in fields(StackSummary)]
    cells = [[f"{v:.2f}" if isinstance(v, float) else v for v in astuple(r)] for r in rows]
    return headers, cells


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="main.py", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(DEFAULT_CONFIG_FILE),
        help=f"environments file (default: {DEFAULT_CONFIG_FILE})",
    )
    # The cdktf CLI tells the app where to write through CDKTF_OUTDIR.
    parser.add_argument(
        "--outdir", type=Path, default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    )
    parser.add_argument(
        "--force",
        action="store_true",
        default=os.environ.get(FORCE_VARIABLE, "") not in ("", "0"),
        help=f"synthesize even when the output is up to date (or set {FORCE_VARIABLE}=1)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    from staticip.table import render_table

    why = f"--force or {FORCE_VARIABLE}"
    if not args.force:
        recorded = synth_cache.check(args.outdir, args.config, os.environ)
        if isinstance(recorded, str):
            why = recorded
        else:
            print(render_table(recorded.headers, recorded.cells))
            print(
                f"{args.outdir} is up to date (inputs unchanged): reused {recorded.stacks} "
                f"stack(s) in {time.monotonic() - started:.2f} s"
            )
            return 0
    from staticip.config import ConfigError
    from staticip.prices import PricesError

    try:
        rows = synthesize(args.config, args.outdir)
    except (ConfigError, PricesError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render_table(*summary_table(rows)))
    print(
        f"synthesized {len(rows)} stack(s) into {args.outdir}/stacks in "
        f"{time.monotonic() - started:.1f} s ({why})"
    )
    return 0
