"""Directories that become `TerraformAsset`s: Lambda code and the ENI resolver.

cdktf hashes every file of an asset directory, so anything that is not source would change the
hash, and with it `source_code_hash` (a "new" function deployed for nothing) or the resolver's
path. Staging copies only what ships: never bytecode that Python writes while the tests or a
person run the code, never dot-files (editor swap files, `.DS_Store`, `.pytest_cache`).

A function's directory is zipped here (`archive_directory`), not by cdktf: cdktf's `ARCHIVE`
asset starts a separate Node.js process for every archive, 1.7 s of a 5 s `make synth` for the
shipped config's 13 (a CPU profile of the jsii kernel, `node --cpu-prof`). The asset keeps the
path and hash cdktf would have given it, so the synthesized JSON is the same.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Never part of a package: bytecode caches and hidden files.
EXCLUDED_PATTERNS: tuple[str, ...] = ("__pycache__", "*.pyc", "*.pyo", ".*")


def stage_directory(
    name: str, source: Path | None = None, shared_modules: Sequence[str] = ()
) -> Path:
    """A temporary copy of `source` without EXCLUDED_PATTERNS, plus `shared_modules`
    (repository-relative files, e.g. `staticip/enis.py`) under the same relative paths.

    The asset hash covers file contents in name order only (`archive_directory`), so the
    temporary path never shows up as a change.
    """
    staging = _temporary_directory(name)
    if source is not None:
        shutil.copytree(
            source, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*EXCLUDED_PATTERNS)
        )
    for module in shared_modules:
        target = staging / module
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / module, target)
    return staging


#: The file name cdktf gives an `ARCHIVE` asset: the asset path stays what it was.
ARCHIVE_NAME = "archive.zip"
#: Every member's time (the earliest a zip can hold): the archive's bytes depend only on the
#: names, modes and contents of what it holds, never on when or where it was built.
ARCHIVE_TIME = (1980, 1, 1, 0, 0, 0)
#: The MS-DOS attribute bits cdktf's archiver sets besides the Unix mode.
MSDOS_DIRECTORY, MSDOS_ARCHIVE = 0x10, 0x20


@dataclass(frozen=True)
class Archive:
    """A zipped directory and the asset hash cdktf computes for that directory."""

    path: Path
    asset_hash: str


def archive_directory(source: Path) -> Archive:
    """`source` zipped (deflate level 9, as cdktf's archiver) into a temporary `archive.zip`
    that lives until the process exits, with the hash cdktf's `hashPath` gives `source`
    (`lib/private/fs.js`): the MD5 of every file's contents, depth first in byte order of the
    names (Node's `readdirSync` sorts), in upper-case hex; names and modes are not part of it.
    One walk, each file read once, serves both."""
    target = _temporary_directory("archive") / ARCHIVE_NAME
    digest = hashlib.md5(usedforsecurity=False)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in _walk(source):
            name = path.relative_to(source).as_posix()
            if path.is_dir():
                member = zipfile.ZipInfo(f"{name}/", ARCHIVE_TIME)
                member.external_attr = (stat.S_IFDIR | 0o755) << 16 | MSDOS_DIRECTORY
                archive.writestr(member, b"")
                continue
            # Only the executable bit survives: a bootstrap of a custom runtime needs it, and
            # the umask of whoever cloned the repository must not change the bytes.
            executable = os.stat(path).st_mode & stat.S_IXUSR
            member = zipfile.ZipInfo(name, ARCHIVE_TIME)
            mode = stat.S_IFREG | (0o755 if executable else 0o644)
            member.external_attr = mode << 16 | MSDOS_ARCHIVE
            member.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            digest.update(data)
            archive.writestr(member, data, compresslevel=9)
    return Archive(target, digest.hexdigest().upper())


def _walk(directory: Path) -> Iterator[Path]:
    """Every directory and file under `directory`, depth first, each level in byte order;
    symbolic links followed, as `statSync` does; anything neither file nor directory skipped."""
    for name in sorted(os.listdir(directory), key=os.fsencode):
        path = directory / name
        if path.is_dir():
            yield path
            yield from _walk(path)
        elif path.is_file():
            yield path


def _temporary_directory(name: str) -> Path:
    """A new directory that is removed when the process exits: `TerraformAsset` copies what
    it points at when the app synthesizes, after the construct that asked for it returned."""
    directory = Path(tempfile.mkdtemp(prefix=f"staticip-{name}-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory
