"""`make synth`: validate the config, synthesize every environment in one process, swap the
result into `cdktf.out` and print a summary table."""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import astuple, fields
from pathlib import Path

from staticip.config import DEFAULT_CONFIG_FILE, ConfigError, load_config
from staticip.outdir import replace_directory
from staticip.prices import PricesError, load_prices
from staticip.summary import StackSummary, summarize
from staticip.table import render_table


def synthesize(config_path: Path, outdir: Path) -> list[StackSummary]:
    """Synthesize every environment of `config_path` into `outdir`; raises ConfigError or
    PricesError (and writes nothing) when the config or the price table is invalid."""
    config = load_config(config_path)
    prices = load_prices()
    # Imported here: importing `stacks` installs the lazy provider bindings, which may refuse
    # their switch (a ConfigError, reported like any other). `check_code` loads no bindings,
    # so errors in the config or a function's code come back in well under a second.
    from stacks.function_code import check_code

    check_code(config)
    from stacks.app import build_app

    replace_directory(outdir, lambda tmp: build_app(config, str(tmp)).synth())
    return summarize(config, outdir, prices)


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
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        rows = synthesize(args.config, args.outdir)
    except (ConfigError, PricesError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    headers = [f.name.replace("_", " ") for f in fields(StackSummary)]
    cells = [[f"{v:.2f}" if isinstance(v, float) else v for v in astuple(r)] for r in rows]
    print(render_table(headers, cells))
    print(
        f"synthesized {len(rows)} stack(s) into {args.outdir}/stacks in "
        f"{time.monotonic() - started:.1f} s"
    )
    return 0
