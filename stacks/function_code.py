"""The code of the user's declared functions: checked on disk, and made ready to archive.

`check_code` runs before synthesis, before the provider bindings load: the `source` directory
or `package` zip exists and holds the handler's module, and a Python source's
`requirements.txt` is installed (into the cache, where the stack finds it). `prepare_code` gives
the stack what to archive: the zip as it is, or a staged copy of the source directory over its
requirements, installed for Lambda's platform: the function's runtime and architecture,
manylinux wheels (or pure-Python ones), never the synthesizing machine's. Installs are cached
by the requirements' content, runtime and architecture, so a repeated synth does not reinstall;
what goes into the package is only what pip installed, minus what names the installing machine
(console-script shebangs, pip's RECORD and INSTALLER files), so two machines archive the same
files and the asset hash is the same.

Every failure is a `ConfigError` naming file, environment, function and key (exit 2 from
`make synth`, with `cdktf.out` untouched). No CDKTF import: `make synth` runs `check_code`
before it loads the provider bindings.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from stacks.packaging import EXCLUDED_PATTERNS, stage_directory
from staticip.config import Config, DeclaredFunction, TableReader

REQUIREMENTS = "requirements.txt"
CACHE_DIR_VARIABLE = "STATICIP_CACHE_DIR"
#: Bumped when what an install puts into the cache changes, so old entries are not reused.
_CACHE_LAYOUT = "1"
_NODE_EXTENSIONS = (".js", ".mjs", ".cjs")
#: pip's bookkeeping and console scripts: they name the installing machine (paths, pip's
#: version) and are never imported on Lambda.
_INSTALL_LEFTOVERS = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")
PIP_TIMEOUT_SECONDS = 600


def _reader(config_path: Path, environment: str, fn: DeclaredFunction) -> TableReader:
    return TableReader(config_path, environment, {}, f"functions.{fn.key}.")


def handler_files(fn: DeclaredFunction) -> tuple[str, ...]:
    """The paths (relative to the code root, `/`-separated) one of which must exist for the
    handler's module: `app.handler` -> `app.py` or `app/__init__.py` (Python), `app.js`,
    `app.mjs` or `app.cjs` (Node.js, whose module part may hold a path)."""
    module = fn.handler.rsplit(".", 1)[0]
    if fn.is_python:
        base = module.replace(".", "/")
        return (f"{base}.py", f"{base}/__init__.py")
    return tuple(f"{module}{ext}" for ext in _NODE_EXTENSIONS)


def check_code(config: Config) -> None:
    """Every declared function's code exists and holds its handler, and its requirements are
    installed in the cache; raises ConfigError."""
    for env in config.environments:
        for fn in env.functions:
            _check_one(config.path, env.name, fn)
            if fn.source is not None:
                install_requirements(config.path, env.name, fn)


def _check_one(config_path: Path, environment: str, fn: DeclaredFunction) -> None:
    r = _reader(config_path, environment, fn)
    wanted = handler_files(fn)
    if fn.package is not None:
        if not fn.package.is_file():
            raise r.fail("package", f"{fn.package} not found; build it first, or fix the path")
        if not zipfile.is_zipfile(fn.package):
            raise r.fail("package", f"{fn.package} is not a zip file")
        with zipfile.ZipFile(fn.package) as archive:
            names = set(archive.namelist())
        if not names & set(wanted):
            raise r.fail(
                "handler",
                f"'{fn.handler}' needs {' or '.join(wanted)} at the root of {fn.package}",
            )
        return
    assert fn.source is not None
    if not fn.source.is_dir():
        raise r.fail(
            "source", f"directory {fn.source} not found (paths are relative to {config_path})"
        )
    if not any((fn.source / name).is_file() for name in wanted):
        raise r.fail("handler", f"'{fn.handler}' needs {' or '.join(wanted)} in {fn.source}")


def cache_dir() -> Path:
    """Where installed requirements are kept: `$STATICIP_CACHE_DIR`, else
    `$XDG_CACHE_HOME/staticip`, else `~/.cache/staticip`."""
    if os.environ.get(CACHE_DIR_VARIABLE):
        return Path(os.environ[CACHE_DIR_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "staticip"


def pip_platforms(runtime: str, architecture: str) -> tuple[str, ...]:
    """The wheel platform tags Lambda's Linux takes for `runtime` on `architecture`: python3.12
    and later run on Amazon Linux 2023 (glibc 2.34), older ones on Amazon Linux 2 (glibc 2.26);
    pure-Python wheels fit any platform."""
    machine = "aarch64" if architecture == "arm64" else "x86_64"
    minor = int(runtime.removeprefix("python3."))
    glibc = ("2_34", "2_28", "2_17") if minor >= 12 else ("2_17",)
    return (*(f"manylinux_{version}_{machine}" for version in glibc), f"manylinux2014_{machine}")


def requirements_key(requirements: bytes, runtime: str, architecture: str) -> str:
    digest = hashlib.sha256()
    for part in (_CACHE_LAYOUT.encode(), runtime.encode(), architecture.encode(), requirements):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:32]


def install_requirements(
    config_path: Path, environment: str, fn: DeclaredFunction, cache: Path | None = None
) -> Path | None:
    """The directory holding `fn`'s requirements installed for Lambda (from the cache when the
    same requirements were installed before), or None when the source has none."""
    assert fn.source is not None
    requirements = fn.source / REQUIREMENTS
    if not fn.is_python or not requirements.is_file():
        return None
    root = cache or cache_dir()
    key = requirements_key(requirements.read_bytes(), fn.runtime, fn.architecture)
    target = root / "requirements" / key
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    version = fn.runtime.removeprefix("python")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(work / "site"),
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--only-binary=:all:",
        *(arg for tag in pip_platforms(fn.runtime, fn.architecture) for arg in ("--platform", tag)),
        "--requirement",
        REQUIREMENTS,
    ]
    try:
        done = subprocess.run(
            command,
            cwd=fn.source,
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(work, ignore_errors=True)
        raise _reader(config_path, environment, fn).fail(
            "source", f"installing {REQUIREMENTS} took over {PIP_TIMEOUT_SECONDS} s; try again"
        ) from None
    if done.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR")] or lines[-1:]
        why = errors[-1] if errors else f"pip exited {done.returncode}"
        raise _reader(config_path, environment, fn).fail(
            "source",
            f"{fn.source / REQUIREMENTS} could not be installed for {fn.runtime} "
            f"{fn.architecture} ({' '.join(why.split())}): Lambda needs manylinux or "
            "pure-Python wheels of every requirement; pin versions that publish them",
        )
    _drop_install_leftovers(work / "site")
    # Renamed into place in one step: a synth that fails half way leaves no half cache entry.
    try:
        (work / "site").rename(target)
    except OSError:
        if not target.is_dir():
            raise
    shutil.rmtree(work, ignore_errors=True)
    return target


def _drop_install_leftovers(site: Path) -> None:
    shutil.rmtree(site / "bin", ignore_errors=True)
    for info in site.glob("*.dist-info"):
        for name in _INSTALL_LEFTOVERS:
            (info / name).unlink(missing_ok=True)


def prepare_code(config_path: Path, environment: str, fn: DeclaredFunction) -> Path:
    """What the stack archives for `fn`: its `package` zip, or a staged directory of its source
    (without bytecode and dot-files) over its installed requirements."""
    if fn.package is not None:
        return fn.package
    assert fn.source is not None
    installed = install_requirements(config_path, environment, fn)
    staging = stage_directory(f"fn-{fn.key}")
    if installed is not None:
        # As pip wrote it: wheels may carry dot-directories of shared libraries (`.libs`).
        shutil.copytree(installed, staging, dirs_exist_ok=True)
    # The user's own files win over a requirement's of the same name.
    shutil.copytree(
        fn.source, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*EXCLUDED_PATTERNS)
    )
    return staging
