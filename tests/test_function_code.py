"""A declared function's code made ready to archive (`stacks/function_code.py`).

No network: pip installs only from wheels each test writes itself (`PIP_NO_INDEX`,
`PIP_FIND_LINKS`), into a cache under the test's own directory (`STATICIP_CACHE_DIR`).
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from stacks import function_code
from staticip.config import ConfigError, DeclaredFunction


def make_wheel(
    directory: Path, name: str, tag: str = "py3-none-any", console_script: bool = False
) -> Path:
    """A minimal wheel of `name` 1.0 holding the module `<name>.py`."""
    files = {f"{name}.py": "VALUE = 'from the wheel'\n\ndef main():\n    return 0\n"}
    info = f"{name}-1.0.dist-info"
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    files[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"
    )
    if console_script:
        files[f"{info}/entry_points.txt"] = f"[console_scripts]\n{name}-cli = {name}:main\n"
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{name}-1.0-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv(function_code.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    return wheels


def source(tmp_path: Path, requirements: str | None) -> Path:
    directory = tmp_path / "src"
    directory.mkdir(exist_ok=True)
    (directory / "app.py").write_text("import vendorlib\n\ndef handler(e, c):\n    return 1\n")
    (directory / ".swp").write_text("editor")
    if requirements is not None:
        (directory / "requirements.txt").write_text(requirements)
    return directory


def declared(code: Path, **settings: str) -> DeclaredFunction:
    return DeclaredFunction(
        name="acme-dev-pay", key="pay", source=code, handler="app.handler", **settings
    )


def files_of(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_requirements_land_in_the_package_without_the_machines_traces(tmp_path, index) -> None:
    make_wheel(index, "vendorlib", console_script=True)
    fn = declared(source(tmp_path, "vendorlib==1.0\n"))

    staged = function_code.prepare_code(tmp_path / "staticip.toml", "dev", fn)

    files = files_of(staged)
    assert files["app.py"].startswith(b"import vendorlib")
    assert files["vendorlib.py"].startswith(b"VALUE")
    assert "vendorlib-1.0.dist-info/METADATA" in files
    # pip's bookkeeping and the console script's shebang name this machine: none of it ships.
    assert not any(name.startswith("bin/") for name in files)
    assert not any(name.endswith(("/RECORD", "/INSTALLER", "/REQUESTED")) for name in files)
    assert not any(sys.executable.encode() in body for body in files.values())
    assert ".swp" not in files and "__pycache__" not in " ".join(files)


def test_a_repeated_synth_reuses_the_install(tmp_path, index, monkeypatch) -> None:
    make_wheel(index, "vendorlib")
    fn = declared(source(tmp_path, "vendorlib==1.0\n"))
    first = files_of(function_code.prepare_code(tmp_path / "staticip.toml", "dev", fn))

    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip ran again for requirements already installed")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert files_of(function_code.prepare_code(tmp_path / "staticip.toml", "dev", fn)) == first


def test_two_machines_archive_the_same_files(tmp_path, index, monkeypatch) -> None:
    """Two caches, two copies of the source in different places: the same package content,
    which is all cdktf's asset hash covers (file contents and relative names)."""
    make_wheel(index, "vendorlib", console_script=True)
    packages = []
    for machine in ("one", "two"):
        root = tmp_path / machine
        root.mkdir()
        monkeypatch.setenv(function_code.CACHE_DIR_VARIABLE, str(root / "cache"))
        fn = declared(source(root, "vendorlib==1.0\n"))
        packages.append(files_of(function_code.prepare_code(root / "staticip.toml", "dev", fn)))
    assert packages[0] == packages[1]


def test_a_new_requirement_installs_again(tmp_path, index) -> None:
    make_wheel(index, "vendorlib")
    make_wheel(index, "otherlib")
    code = source(tmp_path, "vendorlib==1.0\n")
    function_code.prepare_code(tmp_path / "x.toml", "dev", declared(code))
    (code / "requirements.txt").write_text("vendorlib==1.0\notherlib==1.0\n")
    files = files_of(function_code.prepare_code(tmp_path / "x.toml", "dev", declared(code)))
    assert "otherlib.py" in files


def test_wheels_are_chosen_for_lambdas_architecture_not_this_machines(tmp_path, index) -> None:
    # A binary wheel for x86_64 Linux only: fine for an x86_64 function, refused for arm64,
    # whatever this machine runs on.
    make_wheel(index, "vendorlib", tag="cp312-cp312-manylinux2014_x86_64")
    code = source(tmp_path, "vendorlib==1.0\n")
    staged = function_code.prepare_code(tmp_path / "x.toml", "dev", declared(code))
    assert "vendorlib.py" in files_of(staged)
    with pytest.raises(ConfigError) as raised:
        function_code.prepare_code(tmp_path / "x.toml", "dev", declared(code, architecture="arm64"))
    message = str(raised.value)
    assert "functions.pay.source" in message and "python3.12 arm64" in message
    assert "manylinux" in message


def test_platform_tags_follow_the_runtimes_amazon_linux() -> None:
    assert function_code.pip_platforms("python3.12", "arm64")[0] == "manylinux_2_34_aarch64"
    # python3.10 and 3.11 run on Amazon Linux 2 (glibc 2.26): no 2_28 or 2_34 wheels.
    assert function_code.pip_platforms("python3.11", "x86_64") == (
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
    )


def test_a_node_source_is_packaged_as_it_is(tmp_path, index) -> None:
    code = tmp_path / "node"
    code.mkdir()
    (code / "handler.js").write_text("exports.handler = async () => 1;\n")
    (code / "requirements.txt").write_text("vendorlib==1.0\n")  # not Python: not installed
    fn = DeclaredFunction(name="n", key="n", source=code, runtime="nodejs22.x")
    assert files_of(function_code.prepare_code(tmp_path / "x.toml", "dev", fn)) == files_of(code)


def test_a_package_zip_is_deployed_as_built(tmp_path) -> None:
    package = tmp_path / "pay.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("handler.py", "def handler(e, c): return 1\n")
    fn = DeclaredFunction(name="p", key="p", package=package)
    assert function_code.prepare_code(tmp_path / "x.toml", "dev", fn) == package
