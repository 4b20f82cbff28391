"""The harness `make e2e` runs in parallel (tests/tfharness.py): one plugin cache filled once
for every process, no second `init` of a work directory whose providers, backend and
arguments are unchanged, and a Lambda ENI stand-in that other moto requests cannot break."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aws_fixtures import create_function
from eni_fixtures import create_lambda_eni, moto_eni
from tfharness import (
    DEFAULT_PLUGIN_DIR,
    INIT_MARKER,
    Terraform,
    fill_plugin_cache,
    init_key,
    lambda_creates_enis,
    longest_paired_with_shortest,
    mirrored_aws_version,
    missing_tools,
)
from xdist.scheduler.loadgroup import LoadGroupScheduling


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


def test_an_eni_added_by_another_request_mid_walk_does_not_fail_the_create(aws):
    """moto answers each request in a thread of its own: while CreateFunction's stand-in walks
    the ENIs, a NAT Gateway's or NAT instance's ENI may be added. That must not fail the
    create, which has already made the function (the SDK would send it again, and the
    provider retry the conflict for minutes). Here reading another function's ENI adds one,
    at the point another thread could, so the interleaving is certain."""
    ec2, lambda_client, iam = aws
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    theirs = ec2.create_security_group(GroupName="them", Description="them", VpcId=vpc)
    their_eni = moto_eni(create_lambda_eni(ec2, subnet, [theirs["GroupId"]], "theirs"))
    added: list[str] = []

    class AddsAnEniWhenRead(list[Any]):
        def __iter__(self) -> Iterator[Any]:
            if not added:
                nat = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]
                added.append(nat["NetworkInterfaceId"])
            return super().__iter__()

    # moto keeps an ENI's groups in `_group_set`; `group_set` is a read-only view of it.
    their_eni._group_set = AddsAnEniWhenRead(their_eni._group_set)
    undo = lambda_creates_enis()
    try:
        create_function(lambda_client, iam, "fn", [subnet], [group])
    finally:
        undo()

    assert added, "the walk never read the other function's ENI"
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet]}])
    ours = [
        e
        for e in enis["NetworkInterfaces"]
        if e["InterfaceType"] == "lambda" and [g["GroupId"] for g in e["Groups"]] == [group]
    ]
    assert len(ours) == 1
    assert [f["FunctionName"] for f in lambda_client.list_functions()["Functions"]] == ["fn"]


class Worker:
    """What pytest-xdist's scheduler sees of a worker: the tests it was sent."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent += indexes

    def shutdown(self) -> None:
        self.shutting_down = True


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_each_of_the_longest_tests_starts_beside_a_short_one(workers):
    """xdist's `loadgroup` scheduler, as `make e2e` runs it, given the order the suite gives
    it: each worker is sent one of the `workers` longest tests first, and the longest one is
    sent the shortest of the next `workers` with it."""
    longest_first = [f"test_{rank}" for rank in range(3 * workers)]
    ordered = longest_paired_with_shortest(longest_first, workers)
    collection = [f"tests/test_e2e.py::{name}" for name in ordered]
    config = SimpleNamespace(
        getvalue=lambda name: [f"{workers}*popen"], option=SimpleNamespace(loadscopereorder=False)
    )
    scheduler = LoadGroupScheduling(config)
    nodes = [Worker(f"gw{i}") for i in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
    for node in nodes:
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()

    sent = [[longest_first.index(ordered[i]) for i in node.sent] for node in nodes]
    assert [len(ranks) for ranks in sent] == [2] * workers
    assert sorted(ranks[0] for ranks in sent) == list(range(workers))
    (with_longest,) = [ranks for ranks in sent if ranks[0] == 0]
    assert with_longest[1] == 2 * workers - 1
