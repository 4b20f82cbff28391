"""Directories that become `TerraformAsset`s: Lambda code and the ENI resolver.

cdktf hashes every file of an asset directory, so anything that is not source would change the
hash, and with it `source_code_hash` (a "new" function deployed for nothing) or the resolver's
path. Staging copies only what ships: never bytecode that Python writes while the tests or a
person run the code, never dot-files (editor swap files, `.DS_Store`, `.pytest_cache`).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Never part of a package: bytecode caches and hidden files.
EXCLUDED_PATTERNS: tuple[str, ...] = ("__pycache__", "*.pyc", "*.pyo", ".*")


def stage_directory(
    name: str, source: Path | None = None, shared_modules: Sequence[str] = ()
) -> Path:
    """A temporary copy of `source` without EXCLUDED_PATTERNS, plus `shared_modules`
    (repository-relative files, e.g. `staticip/enis.py`) under the same relative paths.

    The directory lives until the process exits: `TerraformAsset` copies it when the app
    synthesizes, later than the construct that asked for it returns. The asset hash covers
    file contents and relative names only, so the temporary path never shows up as a change.
    """
    staging = Path(tempfile.mkdtemp(prefix=f"staticip-{name}-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    if source is not None:
        shutil.copytree(
            source, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*EXCLUDED_PATTERNS)
        )
    for module in shared_modules:
        target = staging / module
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / module, target)
    # Directories made here take the repository's times, as copytree gives those it copies:
    # the archive's bytes then do not depend on when synthesis ran.
    for module in shared_modules:
        for parent in Path(module).parents[:-1]:
            shutil.copystat(REPO / parent, staging / parent)
    return staging
