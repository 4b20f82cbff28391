"""The harness `make e2e` runs in parallel (tests/tfharness.py): one plugin cache filled once
for every process, no second `init` of a work directory whose providers, backend and
arguments are unchanged, one AWS provider server per work directory for the commands that may
share it, and a Lambda ENI stand-in that other moto requests cannot break."""

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
    SHARED_PROVIDER_VARIABLE,
    Moto,
    Terraform,
    fill_plugin_cache,
    init_key,
    lambda_creates_enis,
    longest_paired_with_shortest,
    mirrored_aws_version,
    mirrored_providers,
    missing_tools,
    moto_provider_settings,
    shares_the_provider,
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


def test_the_mirror_lists_versions_by_number_not_by_name(tmp_path):
    for name, version in [("aws", "5.9.0"), ("aws", "5.100.0"), ("external", "2.3.5")]:
        (tmp_path / "registry.terraform.io" / "hashicorp" / name / version).mkdir(parents=True)
    assert mirrored_providers(tmp_path) == {
        "hashicorp/aws": ["5.9.0", "5.100.0"],
        "hashicorp/external": ["2.3.5"],
    }
    assert mirrored_aws_version(tmp_path) == "5.100.0"


def test_only_one_plain_aws_configuration_of_the_server_version_shares_the_server(tmp_path):
    version = "5.100.0"
    config: dict[str, Any] = {
        "terraform": {
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": version}}
        },
        "provider": {"aws": [{"region": "us-east-1"}]},
    }

    def shares(changes: dict[str, Any], extra_file: str | None = None) -> bool:
        work = tmp_path / f"case-{len(list(tmp_path.iterdir()))}"
        work.mkdir()
        (work / "cdk.tf.json").write_text(json.dumps({**config, **changes}))
        if extra_file:
            (work / extra_file).write_text("")
        return shares_the_provider(work, version)

    assert shares({}) is True
    # An alias: Terraform would send both configurations to the one server.
    aliased = [{"region": "us-east-1"}, {"region": "us-west-2", "alias": "west"}]
    assert shares({"provider": {"aws": aliased}}) is False
    assert shares({"module": {"m": {"source": "./m"}}}) is False
    assert shares({"provider": {}}) is False
    other = {"aws": {"source": "hashicorp/aws", "version": "5.99.0"}}
    assert shares({"terraform": {"required_providers": other}}) is False
    # HCL the harness does not read may hold more provider blocks.
    assert shares({}, extra_file="more.tf") is False


@pytest.mark.terraform
def test_commands_in_a_work_directory_attach_to_one_provider_server(
    terraform_binary, tmp_path, monkeypatch
):
    """Every command after `init` attaches to one server, which reads the work directory's
    files as a provider Terraform starts does; one that died is started again; a command in
    another work directory stops it."""
    monkeypatch.setenv(SHARED_PROVIDER_VARIABLE, "1")
    moto = Moto()
    try:
        work = tmp_path / "work"
        write_config(work, {"local": {"path": "terraform.tfstate"}})
        config = json.loads((work / "cdk.tf.json").read_text())
        config["provider"] = {
            "aws": [{"region": "us-east-1", **moto_provider_settings(moto.endpoint)}]
        }
        config["resource"] = {
            "aws_s3_bucket": {"b": {"bucket": "shared-provider"}},
            "aws_s3_object": {
                "o": {"bucket": "${aws_s3_bucket.b.bucket}", "key": "k", "source": "payload.txt"}
            },
        }
        (work / "cdk.tf.json").write_text(json.dumps(config))
        (work / "payload.txt").write_text("read from the work directory\n")
        tf = Terraform(terraform_binary, work, DEFAULT_PLUGIN_DIR)
        tf.init()
        assert tf.attached_to is None
        tf.run("apply", "-auto-approve", "-input=false", "-no-color")
        server = tf.attached_to
        assert server is not None and server.process is not None
        first_pid = server.process.pid
        s3 = moto.client("s3", "us-east-1")
        body = s3.get_object(Bucket="shared-provider", Key="k")["Body"].read()
        assert body == b"read from the work directory\n"
        tf.run("plan", "-input=false", "-no-color", "-detailed-exitcode")
        assert tf.attached_to is server and server.starts == 1
        assert server.process.pid == first_pid

        # As a provider panic would: the next command starts it again (and reads the state's
        # schema from it).
        server.process.kill()
        server.process.wait()
        shown = json.loads(tf.run("show", "-json", "-no-color").stdout)
        assert {r["address"] for r in shown["values"]["root_module"]["resources"]} == {
            "aws_s3_bucket.b",
            "aws_s3_object.o",
        }
        assert server.starts == 2 and server.process.pid != first_pid
        second = server.process

        other = tmp_path / "other"
        other.mkdir()
        (other / "cdk.tf.json").write_text(
            json.dumps({**config, "resource": {"terraform_data": {"a": {"input": 1}}}})
        )
        elsewhere = Terraform(terraform_binary, other, DEFAULT_PLUGIN_DIR)
        elsewhere.init()
        elsewhere.run("show", "-json", "-no-color")
        assert elsewhere.attached_to is not None and elsewhere.attached_to is not server
        assert second.poll() is not None and server.process is None
    finally:
        moto.stop()


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
