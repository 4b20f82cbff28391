"""Function packages hold source only: bytecode and dot-files never change the asset hash.

A `__pycache__/` written while the tests import a handler (or a person runs it) used to change
`source_code_hash`, so the next plan deployed a "new" function with the same code."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest

from stacks import function as function_module
from stacks.packaging import EXCLUDED_PATTERNS, stage_directory

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
