"""The synthesized stacks as checkov can read them: `make scan`'s input.

checkov 3.3.30's Terraform JSON parser reads every top-level block type as a labelled one, so
an unlabelled `removed` block (`stacks/retained_ips.py`) makes it drop the whole file as a
parsing error and scan nothing else in it. `removed` blocks hold addresses and a lifecycle,
nothing checkov checks: the copy leaves them out and keeps every other byte of the stack.
`make scan` also sets CKV_PARSE_ERROR_FAIL, so any file checkov cannot read fails the scan
rather than passing it unscanned.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

#: Top-level block types checkov cannot parse.
UNREADABLE_BLOCKS = ("removed",)
STACK_FILE = "cdk.tf.json"


def copy_for_scan(stacks: Path, target: Path) -> list[Path]:
    """Copy each `<stacks>/<name>/cdk.tf.json` to `<target>/<name>/`, without the blocks in
    UNREADABLE_BLOCKS; `target` is emptied first. Returns the files written."""
    shutil.rmtree(target, ignore_errors=True)
    written = []
    for source in sorted(stacks.glob(f"*/{STACK_FILE}")):
        stack = json.loads(source.read_text())
        for block in UNREADABLE_BLOCKS:
            stack.pop(block, None)
        destination = target / source.parent.name / STACK_FILE
        destination.parent.mkdir(parents=True)
        destination.write_text(json.dumps(stack, indent=2))
        written.append(destination)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m staticip.scan_input STACKS_DIR TARGET_DIR", file=sys.stderr)
        return 2
    stacks, target = Path(args[0]), Path(args[1])
    if not copy_for_scan(stacks, target):
        print(f"{stacks}: no */{STACK_FILE} to scan; run `make synth` first", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
