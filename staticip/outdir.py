"""Write a directory all at once: build it beside the target, then swap it in."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def replace_directory(target: Path, build: Callable[[Path], None]) -> None:
    """Run `build(tmp)` on a fresh sibling directory and, only if it returns, put `tmp` where
    `target` was. If `build` raises, `target` is left exactly as it was and `tmp` is removed,
    so a failed synth never leaves a half-written `cdktf.out`."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.new-{os.getpid()}"
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    for leftover in (tmp, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # Two renames on one filesystem: readers see the old tree or the new one, never a mix.
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)
