"""Function packages hold source only: bytecode and dot-files never change the asset hash.

A `__pycache__/` written while the tests import a handler (or a person runs it) used to change
`source_code_hash`, so the next plan deployed a "new" function with the same code."""

from __future__ import annotations

import ast
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from stacks import function as function_module
from stacks.packaging import ARCHIVE_NAME, EXCLUDED_PATTERNS, archive_directory, stage_directory

REPO = Path(__file__).resolve().parent.parent


def synthesized_hash(lambda_src: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    monkeypatch.setattr(function_module, "LAMBDA_SRC", lambda_src)
    stack = TerraformStack(Testing.app(), "packaging")
    AwsProvider(stack, "aws", region="us-east-1")
    function_module.Function(
        stack,
        "probe",
        function_module.FunctionProps(
            name="probe", code=function_module.builtin_code("egress_probe")
        ),
    )
    (body,) = json.loads(Testing.synth(stack))["resource"]["aws_lambda_function"].values()
    return body["source_code_hash"]


def test_bytecode_and_dot_files_do_not_change_the_hash(tmp_path, monkeypatch):
    clean = tmp_path / "clean"
    shutil.copytree(REPO / "lambda_src" / "egress_probe", clean / "egress_probe")
    dirty = tmp_path / "dirty"
    shutil.copytree(clean, dirty)
    probe = dirty / "egress_probe"
    (probe / "__pycache__").mkdir(exist_ok=True)
    (probe / "__pycache__" / "handler.cpython-312.pyc").write_bytes(b"\x00bytecode")
    (probe / "stray.pyc").write_bytes(b"\x00")
    (probe / ".handler.py.swp").write_text("editor state")
    (probe / ".pytest_cache").mkdir()

    assert synthesized_hash(clean, monkeypatch) == synthesized_hash(dirty, monkeypatch)


def test_a_source_change_does_change_the_hash(tmp_path, monkeypatch):
    # The other side of the rule: the hash is not blind.
    before = tmp_path / "before"
    shutil.copytree(REPO / "lambda_src" / "egress_probe", before / "egress_probe")
    after = tmp_path / "after"
    shutil.copytree(before, after)
    handler = after / "egress_probe" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")

    assert synthesized_hash(before, monkeypatch) != synthesized_hash(after, monkeypatch)


def test_staging_keeps_source_and_shared_modules_only(tmp_path):
    source = tmp_path / "fn"
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "handler.py").write_text("x = 1\n")
    (source / "pkg" / "mod.py").write_text("y = 2\n")
    (source / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\x00")
    (source / ".env").write_text("SECRET=1\n")

    staged = stage_directory("fn", source, ["staticip/enis.py"])

    files = sorted(str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file())
    assert files == ["handler.py", "pkg/mod.py", "staticip/enis.py"]
    assert "__pycache__" in EXCLUDED_PATTERNS


def awkward_tree(root: Path) -> Path:
    """Names whose order differs by case, by punctuation and by nesting, a non-ASCII name, an
    empty file, an empty directory and an executable."""
    for relative, text in {
        "b.py": "b",
        "B.py": "upper",
        "a/z.py": "nested",
        "a-b.py": "dash",
        "a.b/c.py": "dot",
        "ü.txt": "umlaut",
        "empty.txt": "",
        "bootstrap": "#!/bin/sh\n",
    }.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "empty-dir").mkdir()
    (root / "bootstrap").chmod(0o755)
    return root


def test_archives_keep_the_hash_and_file_name_cdktf_gives_the_directory(tmp_path):
    # The JSON stays what cdktf's own ARCHIVE asset synthesized: same hash (so the same
    # `source_code_hash`, no "new" function) and the same file name in the asset path.
    from cdktf import AssetType, TerraformAsset, TerraformStack, Testing

    source = awkward_tree(tmp_path / "fn")
    stack = TerraformStack(Testing.app(), "hashes")
    cdktf_asset = TerraformAsset(stack, "cdktf", path=str(source), type=AssetType.ARCHIVE)

    archive = archive_directory(source)

    assert archive.asset_hash == cdktf_asset.asset_hash
    assert archive.path.name == ARCHIVE_NAME == cdktf_asset.file_name


def test_the_hash_follows_contents_and_their_order_not_names(tmp_path):
    # cdktf's rule, kept: a rename that keeps the order keeps the hash, one that moves a file
    # past another changes it, as does any edit.
    one = awkward_tree(tmp_path / "one")
    variants = {}
    for variant, (old, new) in {"same-order": ("b.py", "b2.py"), "moved": ("b.py", "c.py")}.items():
        variants[variant] = tmp_path / variant
        shutil.copytree(one, variants[variant])
        (variants[variant] / old).rename(variants[variant] / new)
    edited = tmp_path / "edited"
    shutil.copytree(one, edited)
    (edited / "a" / "z.py").write_text("nested, edited")

    original = archive_directory(one).asset_hash
    assert archive_directory(variants["same-order"]).asset_hash == original
    assert archive_directory(variants["moved"]).asset_hash != original
    assert archive_directory(edited).asset_hash != original


def test_an_archive_holds_every_file_and_directory_with_its_mode(tmp_path):
    source = awkward_tree(tmp_path / "fn")

    with zipfile.ZipFile(archive_directory(source).path) as archive:
        members = {m.filename: m for m in archive.infolist()}
        files = {name: archive.read(name) for name in members if not name.endswith("/")}

    on_disk = {p.relative_to(source).as_posix(): p for p in source.rglob("*")}
    assert set(members) == {n + "/" if p.is_dir() else n for n, p in on_disk.items()}
    assert files == {n: p.read_bytes() for n, p in on_disk.items() if p.is_file()}
    assert members["bootstrap"].external_attr >> 16 & 0o777 == 0o755
    assert members["b.py"].external_attr >> 16 & 0o777 == 0o644


def test_an_archive_is_the_same_bytes_whenever_and_wherever_it_is_built(tmp_path):
    first = awkward_tree(tmp_path / "first")
    second = tmp_path / "second"
    shutil.copytree(first, second)
    for path in second.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    (second / "b.py").chmod(0o600)  # another umask: only the executable bit is kept

    assert archive_directory(first).path.read_bytes() == archive_directory(second).path.read_bytes()


def _repository_imports(path: Path) -> set[str]:
    """The repository files a module imports (`staticip/x.py`, and each package's
    `__init__.py`), read from its import statements."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from staticip import aws` imports a module; `from staticip.aws import x` a name.
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for module in modules:
            parts = module.split(".")
            if parts[0] not in ("staticip", "stacks"):
                continue
            for i in range(1, len(parts) + 1):
                package = REPO.joinpath(*parts[:i])
                if package.is_dir():
                    found.add(f"{'/'.join(parts[:i])}/__init__.py")
                elif package.with_suffix(".py").is_file():
                    found.add(f"{'/'.join(parts[:i])}.py")
    return found


@pytest.mark.parametrize(
    "source", sorted(p.parent.name for p in (REPO / "lambda_src").glob("*/handler.py"))
)
def test_a_package_holds_every_repository_module_its_handler_imports(source):
    # A handler importing a module its package lacks deploys fine and fails on every invocation.
    packaged = set(function_module.PACKAGED_MODULES.get(source, ()))
    needed, todo = set(), [REPO / "lambda_src" / source / "handler.py"]
    while todo:
        for module in _repository_imports(todo.pop()) - needed:
            needed.add(module)
            todo.append(REPO / module)
    assert needed <= packaged, f"{source} imports {sorted(needed - packaged)} unpackaged"
    assert not any(m.startswith("stacks/") for m in needed), "a Lambda must not import cdktf code"
