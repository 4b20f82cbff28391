"""Function packages hold source only: bytecode and dot-files never change the asset hash.

A `__pycache__/` written while the tests import a handler (or a person runs it) used to change
`source_code_hash`, so the next plan deployed a "new" function with the same code."""

from __future__ import annotations

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
        stack, "probe", function_module.FunctionProps(name="probe", source="egress_probe")
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
