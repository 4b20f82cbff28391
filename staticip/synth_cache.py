"""The no-op synth: reuse `cdktf.out` when nothing synthesis reads has changed.

A successful synth writes MANIFEST into its output directory, in the same swap as the stacks:
a content hash (SHA-256) of each input synthesis reads, the hash of every file it wrote, and
the summary table it printed. The next `make synth` (or `cdktf synth|deploy|diff`, which runs
`main.py`) hashes the inputs again and, when every one matches and every file the manifest lists
is there with its hash (and nothing else is, but Terraform's own working files), prints the
recorded table instead of synthesizing. Content hashes only: a touched file whose bytes are the
same is not a change; any changed byte is.

The inputs: the config file, the price table, `stacks/`, `staticip/`, `lambda_src/`, `main.py`,
`requirements.lock`, each declared function's `source` directory (its `requirements.txt`
included) or `package` zip, the environment variables that change what is synthesized
(RELEVANT_VARIABLES, and any `CDKTF_*` the cdktf CLI hands the app but its outdir), the
interpreter, and the config's and working directory's paths.

Only the standard library is imported here, never cdktf, the provider bindings or the config
parser: the check costs a few tens of milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
#: In the output directory, beside cdktf's own manifest.json.
MANIFEST = "staticip-synth.json"
#: Bumped when what the manifest records, or how, changes: an old manifest is then not reused.
MANIFEST_VERSION = 1
#: Trees and files of the repository that synthesis reads (label -> path under the root).
SOURCE_TREES = {"stacks/": "stacks", "staticip/": "staticip", "lambda_src/": "lambda_src"}
SOURCE_FILES = {
    "price table": "staticip/prices.toml",
    "lock file": "requirements.lock",
    "main.py": "main.py",
}
#: Never read by synthesis (the same patterns `stacks.packaging` leaves out of every package):
#: bytecode Python writes while it runs, dot-files (editor swap files, `.DS_Store`).
IGNORED = ("__pycache__", "*.pyc", "*.pyo", ".*")
#: Environment variables that change what is synthesized. `CDKTF_OUTDIR` only says where.
RELEVANT_VARIABLES = ("STATICIP_EAGER_PROVIDER",)
CDKTF_PREFIX = "CDKTF_"
NOT_RELEVANT = ("CDKTF_OUTDIR", "CDKTF_LOG_LEVEL", "CDKTF_DISABLE_LOGGING")
#: What Terraform (or `cdktf deploy`) leaves in a stack directory it ran in: not synthesis
#: output, never a reason to synthesize again. Checked against each path component.
TERRAFORM_LEFTOVERS = (
    ".terraform",
    ".terraform.lock.hcl",
    "*.tfstate",
    "*.tfstate.backup",
    ".terraform.tfstate.lock.info",
    "*.tfplan",
)


def _ignored(name: str, patterns: Sequence[str] = IGNORED) -> bool:
    return any(fnmatch(name, pattern) for pattern in patterns)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_files(root: Path, ignore: Sequence[str] = IGNORED, follow: bool = False) -> list[Path]:
    """Every file under `root`, sorted, without `ignore`d names at any depth; `follow`: into
    symlinked directories too (synthesis copies what they hold)."""
    found = []
    for directory, dirs, files in os.walk(root, followlinks=follow):
        dirs[:] = sorted(d for d in dirs if not _ignored(d, ignore))
        found += [Path(directory) / f for f in sorted(files) if not _ignored(f, ignore)]
    return found


def tree_digest(root: Path) -> str:
    """One hash over the relative names and contents of every file under `root`; a missing
    root hashes as such, so creating it is a change."""
    if not root.exists():
        return "missing"
    if root.is_file():
        return file_digest(root)
    h = hashlib.sha256()
    for path in tree_files(root, follow=True):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(file_digest(path).encode() + b"\n")
    return h.hexdigest()


def relevant_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in sorted(environ.items())
        if k in RELEVANT_VARIABLES or (k.startswith(CDKTF_PREFIX) and k not in NOT_RELEVANT)
    }


def input_digests(
    config_path: Path,
    function_code: Iterable[Path],
    environ: Mapping[str, str],
    root: Path = REPO,
) -> dict[str, str]:
    """Label -> content hash of each input synthesis reads (see the module's docstring).
    `function_code`: each declared function's `source` directory or `package` zip."""
    config_path = Path(config_path)
    digests = {
        "manifest version": str(MANIFEST_VERSION),
        "config": f"{config_path.resolve()}:{tree_digest(config_path)}",
    }
    for label, relative in SOURCE_FILES.items():
        digests[label] = tree_digest(root / relative)
    for label, relative in SOURCE_TREES.items():
        digests[label] = tree_digest(root / relative)
    for code in sorted({Path(p).resolve() for p in function_code}):
        digests[f"function code {code}"] = tree_digest(code)
    env = json.dumps(relevant_environment(environ), sort_keys=True)
    digests["environment"] = hashlib.sha256(env.encode()).hexdigest()
    digests["interpreter"] = f"{sys.executable} {sys.version}"
    digests["working directory"] = os.getcwd()
    return digests


def output_digests(outdir: Path) -> dict[str, str]:
    """Relative path -> content hash of every file synthesis wrote under `outdir` (not the
    manifest, not Terraform's working files)."""
    return {
        path.relative_to(outdir).as_posix(): file_digest(path)
        for path in tree_files(outdir, TERRAFORM_LEFTOVERS)
        if path.relative_to(outdir).as_posix() != MANIFEST
    }


@dataclass(frozen=True)
class Recorded:
    """What a reusable manifest says of the output it sits in."""

    headers: list[str]
    cells: list[list[Any]]
    stacks: int


def write_manifest(
    outdir: Path,
    inputs: Mapping[str, str],
    function_code: Iterable[Path],
    headers: Sequence[str],
    cells: Sequence[Sequence[Any]],
) -> None:
    """Record `inputs`, the files now under `outdir` and the summary table, atomically (a
    temporary file renamed over the manifest)."""
    manifest = {
        "version": MANIFEST_VERSION,
        "inputs": dict(inputs),
        "function_code": sorted({str(Path(p).resolve()) for p in function_code}),
        "outputs": output_digests(outdir),
        "summary": {"headers": list(headers), "cells": [list(row) for row in cells]},
    }
    tmp = outdir / f".{MANIFEST}.{os.getpid()}"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, outdir / MANIFEST)


def check(
    outdir: Path, config_path: Path, environ: Mapping[str, str], root: Path = REPO
) -> Recorded | str:
    """The recorded summary when `outdir` can be reused as it is, else why not (one phrase)."""
    try:
        manifest = json.loads((outdir / MANIFEST).read_text())
        if manifest.get("version") != MANIFEST_VERSION:
            return "its manifest is of another version"
        recorded_inputs = manifest["inputs"]
        function_code = [Path(p) for p in manifest["function_code"]]
        outputs = manifest["outputs"]
        summary = manifest["summary"]
    except FileNotFoundError:
        return f"{outdir} has no manifest of a finished synth"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "its manifest is unreadable"
    # The config decides which function code is read: while it is unchanged, the list the
    # manifest recorded is the list synthesis would read now.
    inputs = input_digests(config_path, function_code, environ, root)
    changed = [label for label in inputs if recorded_inputs.get(label) != inputs[label]]
    changed += [label for label in recorded_inputs if label not in inputs]
    if changed:
        return f"changed: {', '.join(changed)}"
    try:
        found = output_digests(outdir)
    except OSError:
        return f"{outdir} is unreadable"
    if found != outputs:
        return f"{outdir} differs from what the last synth wrote"
    if not any(name.startswith("stacks/") for name in outputs):
        return f"{outdir} holds no stacks"
    return Recorded(summary["headers"], summary["cells"], len(summary["cells"]))
