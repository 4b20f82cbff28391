"""The harness `make e2e` runs in parallel (tests/tfharness.py): one plugin cache filled once
for every process, and no second `init` of a work directory whose providers, backend and
arguments are unchanged."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from tfharness import (
    DEFAULT_PLUGIN_DIR,
    INIT_MARKER,
    Terraform,
    fill_plugin_cache,
    init_key,
    mirrored_aws_version,
    missing_tools,
)


def write_config(workdir: Path, backend: dict | None = None) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    terraform: dict = {
        "required_providers": {
            "aws": {"source": "hashicorp/aws", "version": mirrored_aws_version(DEFAULT_PLUGIN_DIR)}
        }
    }
    if backend is not None:
        terraform["backend"] = backend
    config = {"terraform": terraform, "resource": {"terraform_data": {"a": {"input": 1}}}}
    (workdir / "cdk.tf.json").write_text(json.dumps(config))


def test_the_init_key_ignores_resources_but_not_providers_backend_or_arguments(tmp_path):
    write_config(tmp_path)
    key = init_key(tmp_path, ["-backend=false"])
    config = json.loads((tmp_path / "cdk.tf.json").read_text())
    config["resource"]["terraform_data"]["b"] = {"input": 2}
    (tmp_path / "cdk.tf.json").write_text(json.dumps(config))
    assert init_key(tmp_path, ["-backend=false"]) == key
    assert init_key(tmp_path, []) != key
    config["terraform"]["backend"] = {"local": {"path": "x.tfstate"}}
    (tmp_path / "cdk.tf.json").write_text(json.dumps(config))
    assert init_key(tmp_path, ["-backend=false"]) != key
    (tmp_path / "extra.tf").write_text('module "m" { source = "./m" }\n')
    assert init_key(tmp_path, []) != init_key(tmp_path / "nowhere", [])


@pytest.fixture
def terraform_binary() -> str:
    reason = missing_tools()
    if reason:
        pytest.skip(reason)
    return shutil.which("terraform") or "terraform"


@pytest.mark.terraform
def test_a_second_init_of_the_same_configuration_is_skipped(terraform_binary, tmp_path):
    work = tmp_path / "work"
    write_config(work, {"local": {"path": "terraform.tfstate"}})
    tf = Terraform(terraform_binary, work, DEFAULT_PLUGIN_DIR, plugin_cache=tmp_path / "cache")
    assert tf.init() is True
    assert (work / ".terraform" / INIT_MARKER).is_file()
    assert tf.init() is False
    # Another backend path: Terraform must initialise again (it would refuse to plan).
    write_config(work, {"local": {"path": "other.tfstate"}})
    assert tf.init("-migrate-state", "-force-copy") is True
    assert len([h for h in tf.history if h.startswith("terraform init")]) == 2


@pytest.mark.terraform
def test_concurrent_inits_fill_the_cache_once_and_link_to_it(terraform_binary, tmp_path):
    cache = tmp_path / "cache"
    works = [tmp_path / f"work-{i}" for i in range(3)]
    errors: list[BaseException] = []

    def init(work: Path) -> None:
        try:
            write_config(work)
            Terraform(terraform_binary, work, DEFAULT_PLUGIN_DIR, plugin_cache=cache).init()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=init, args=(w,)) for w in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    filled = json.loads((cache / ".filled").read_text())
    assert "hashicorp/aws" in filled
    version = mirrored_aws_version(DEFAULT_PLUGIN_DIR)
    for work in works:
        installed = work / ".terraform/providers/registry.terraform.io/hashicorp/aws" / version
        (platform,) = installed.iterdir()
        assert str(platform.readlink()).startswith(str(cache))
    # Filled already: nothing runs, nothing is written.
    before = sorted(p.name for p in tmp_path.iterdir())
    fill_plugin_cache(terraform_binary, DEFAULT_PLUGIN_DIR, cache)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
