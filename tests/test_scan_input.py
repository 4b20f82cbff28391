"""`make scan`'s input (staticip/scan_input.py): the stacks without what checkov cannot parse."""

from __future__ import annotations

import json
from pathlib import Path

from staticip.scan_input import STACK_FILE, copy_for_scan, main


def test_the_copy_drops_removed_blocks_and_keeps_everything_else(shipped, tmp_path: Path):
    stacks = shipped.outdir / "stacks"
    written = copy_for_scan(stacks, tmp_path / "scan")
    assert sorted(p.parent.name for p in written) == sorted(
        e.name for e in shipped.config.environments
    )
    for path in written:
        original = json.loads((stacks / path.parent.name / STACK_FILE).read_text())
        assert "removed" in original  # protect_ips is on in every shipped environment
        copied = json.loads(path.read_text())
        assert "removed" not in copied
        assert copied == {k: v for k, v in original.items() if k != "removed"}


def test_nothing_to_scan_is_an_error(tmp_path: Path, capsys):
    assert main([str(tmp_path), str(tmp_path / "out")]) == 2
    assert "run `make synth` first" in capsys.readouterr().err
