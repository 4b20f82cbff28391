"""Shared fixtures. Synthesis is expensive (the AWS provider bindings take 10-15 s to import),
so each config below is synthesized once per run, for every pytest-xdist worker (`built_once`),
and tests only read the JSON."""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tfharness import (
    PLUGIN_CACHE_VARIABLE,
    SHARED_PROVIDER_VARIABLE,
    longest_paired_with_shortest,
    once_under_lock,
)
from tfvalidate import Validation, validate_together

from staticip import aws as staticip_aws
from staticip.config import Config, load_config
from staticip.stackfile import load_stack

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = REPO / "staticip.toml"

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# moto otherwise loads its catalogue of AMIs each time an EC2 backend is (re)created, which is
# every test that starts a mock (~1 s each here); nothing in this project reads an AMI.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_models() -> Iterator[None]:
    """One botocore data loader for every session of the test run.

    moto hands each mock a new boto3 session, and a new session parses the service models
    (EC2's is 2 MB of JSON) again: 0.2-0.4 s per client, several clients per test. The loader
    holds only those read-only model files, keyed by search path, never credentials, regions
    or endpoints, so sharing it keeps tests as isolated as before."""
    import botocore.session

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            botocore.session, "create_loader", functools.cache(botocore.session.create_loader)
        )
        yield


@pytest.fixture(scope="session", autouse=True)
def shared_client_classes() -> Iterator[None]:
    """One botocore client class per service and API version for the test run.

    botocore builds a new class for every client it creates: a method and a docstring object
    for each of the service's operations (EC2 has over 700). The suite creates ~1,300 clients;
    building one class per service instead took `make test` from 72 s to 63 s of CPU
    (`/usr/bin/time`, two workers).
    A class holds only those methods, made from the read-only service model, plus what
    `creating-client-class` handlers add (boto3's, the same in every session); credentials,
    regions, endpoints, event handlers and moto's interception live on each client instance,
    which is still built for every client."""
    import botocore.client

    build = botocore.client.ClientCreator._create_client_class
    classes: dict[tuple[str, str], type] = {}

    def cached(creator: Any, service_name: str, service_model: Any) -> type:
        key = (service_name, service_model.api_version)
        if key not in classes:
            classes[key] = build(creator, service_name, service_model)
        return classes[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.client.ClientCreator, "_create_client_class", cached)
        yield


@pytest.fixture(scope="session", autouse=True)
def shared_service_models() -> Iterator[None]:
    """One botocore `ServiceModel` per service model file for the test run.

    Each new client wraps its service's JSON in a new `ServiceModel`, and asks it whether the
    service has an endpoint-discovery operation: that builds an `OperationModel` for every
    operation (EC2's ~750), cached on that one model only. The suite made ~375,000 of them.
    A `ServiceModel` is a read-only view of the JSON the shared loader already holds."""
    import botocore.client

    build = botocore.client.ClientCreator._load_service_model
    models: dict[int, tuple[object, Any]] = {}

    def cached(creator: Any, service_name: str, api_version: str | None = None) -> Any:
        document = creator._loader.load_service_model(service_name, "service-2", api_version)
        # Keyed by the loaded document, which the entry keeps alive, so an id is never reused.
        if id(document) not in models:
            models[id(document)] = (document, build(creator, service_name, api_version))
        return models[id(document)][1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.client.ClientCreator, "_load_service_model", cached)
        yield


@pytest.fixture(scope="session", autouse=True)
def shared_event_aliases() -> Iterator[None]:
    """One cache of botocore's event-name aliasing for the test run.

    Every event a client registers or emits has its name run through botocore's aliases
    (~124,000 times in a run), cached per `EventAliaser`; and every client and session gets a
    new aliaser, with an empty cache. A name's alias depends only on the alias table, so the
    aliasers with botocore's own table (all of them here) share one cache."""
    import botocore.hooks

    build = botocore.hooks.EventAliaser.__init__
    shared: dict[str, str] = {}

    def init(aliaser: Any, event_emitter: Any, event_aliases: Any = None) -> None:
        build(aliaser, event_emitter, event_aliases)
        if aliaser._event_aliases == botocore.hooks.EVENT_ALIASES:
            aliaser._alias_name_cache = shared

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.hooks.EventAliaser, "__init__", init)
        yield


@pytest.fixture(scope="session", autouse=True)
def moto_handler_names_once() -> Iterator[None]:
    """moto lists a response class's methods, through `inspect.getmembers`, at every request
    it answers, to find the handler of the action (~2,600 requests in a run). A class's
    methods are fixed once moto is imported (the harness's patches replace methods, never add
    one), so the list is made once per class."""
    import moto.core.responses

    names = functools.cache(moto.core.responses.method_names_from_class)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moto.core.responses, "method_names_from_class", names)
        yield


def run_root(factory: pytest.TempPathFactory) -> Path:
    """The temporary directory of the whole run: every pytest-xdist worker's own base
    directory lies in it."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """`<run root>/<name>`, filled by `build` once for the whole run: the first worker to ask
    builds it under a lock, the others wait and read it. A synthesis is seconds of CPU, and
    before this every worker made the same ones on the same two cores. Readers must not
    write into it. A `build` that fails leaves no marker, so the next caller builds again
    (and fails with its own error)."""
    root = run_root(factory) / name

    def fresh() -> str:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        build(root)
        return ""

    once_under_lock(root.parent / f"{name}.built", root.parent / f"{name}.lock", fresh)
    return root


@pytest.fixture(scope="session", autouse=True)
def terraform_plugin_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Terraform plugin cache for every test of the run, every pytest-xdist worker and
    the scripts they start included: the workers' base temporary directories share a parent.
    Nothing is written here: the first `init` fills it (tests/tfharness.py, under a lock). A
    STATICIP_TF_PLUGIN_CACHE_DIR already set is kept (a cache that outlives the run)."""
    if os.environ.get(PLUGIN_CACHE_VARIABLE):
        yield
        return
    base = run_root(tmp_path_factory)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PLUGIN_CACHE_VARIABLE, str(base / "tf-plugin-cache"))
        yield


@pytest.fixture(scope="session", autouse=True)
def shared_aws_provider() -> Iterator[None]:
    """The Terraform commands of each pytest process attach to one AWS provider server of that
    process where they may (tests/tfharness.py, ProviderServer, which stops them when the
    process exits). A STATICIP_TF_SHARED_PROVIDER already set is kept: set empty, every command
    starts its own."""
    if SHARED_PROVIDER_VARIABLE in os.environ:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SHARED_PROVIDER_VARIABLE, "1")
        yield


#: Seconds the longest real-Terraform tests took (`make e2e` on 2 cores, four tests at a time,
#: beside `make test` as .ci/run runs them, 2026-12-05): `make e2e` places them on its workers
#: (tfharness.longest_paired_with_shortest) and the short ones fill in around them.
LONGEST_FIRST = {
    "test_dev_lifecycle": 200,
    "test_an_az_removed_keeps_its_eip_and_adopting_it_plans_no_new_one": 167,
    "test_declared_functions_share_the_ips_and_change_alone": 149,
    "test_nat_instance_apply_replan_replacement_protected_destroy": 125,
    "test_prod_apply_replan_protected_destroy": 77,
    "test_a_regenerated_fixture_is_classified_like_the_committed_one": 56,
    "test_lazy_and_eager_bindings_synthesize_the_same_bytes": 21,
    "test_commands_in_a_work_directory_attach_to_one_provider_server": 14,
}


def pytest_configure(config: pytest.Config) -> None:
    # Each process of a run keeps millions of objects to its end (botocore's service models,
    # moto's backends, the syntheses), and each full collection walks them all: a `make test`
    # worker spent 3.1-3.6 s of CPU collecting, in 17-18 full collections, with Python's
    # first threshold of 700, and 0.6-0.9 s in 1-2 at 10,000 (`gc.callbacks`, two runs each).
    gc.set_threshold(10_000, 10, 10)
    # The interpreter's teardown collects once more, walking them again while the controller
    # waits for its workers; frozen, they are left out of that walk (the process ends anyway).
    # From the last worker's end to the run's: 1.8 s unfrozen, 0.9 s frozen (two runs each).
    # Freezing only stops collections: every other exit handler (jsii's kernel, the Terraform
    # provider servers) runs as before.
    atexit.register(gc.freeze)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    order = longest_paired_with_shortest(
        sorted(LONGEST_FIRST, key=lambda name: -LONGEST_FIRST[name]), workers
    )
    # A stable sort: everything else keeps its order, after these.
    rank = {name: index for index, name in enumerate(order)}
    items.sort(key=lambda item: rank.get(getattr(item, "originalname", item.name), len(rank)))


@dataclass(frozen=True)
class Synthesized:
    config: Config
    outdir: Path
    printed: str = ""

    def stack(self, name: str) -> dict[str, Any]:
        return load_stack(self.outdir, name)


def synthesized_once(
    factory: pytest.TempPathFactory,
    name: str,
    text: str,
    prepare: Callable[[Path], None] = lambda _: None,
) -> Synthesized:
    """`text` as `<root>/staticip.toml` (next to what `prepare` writes there), synthesized
    into `<root>/cdktf.out` once for the run (`built_once`)."""
    from staticip.synth import synthesize

    def build(root: Path) -> None:
        prepare(root)
        (root / "staticip.toml").write_text(text)
        synthesize(root / "staticip.toml", root / "cdktf.out")

    root = built_once(factory, name, build)
    return Synthesized(load_config(root / "staticip.toml"), root / "cdktf.out")


def validated_once(
    factory: pytest.TempPathFactory, name: str, stacks: Callable[[], dict[str, dict[str, Any]]]
) -> Validation:
    """The `stacks()` validated in one `terraform validate` (tests/tfvalidate.py) once for the
    run (`built_once`): pytest-xdist hands the tests that read it to any worker."""

    def build(root: Path) -> None:
        (root / "work").mkdir()
        validation = validate_together(stacks(), root / "work")
        (root / "validation.json").write_text(json.dumps(validation.to_json()))

    root = built_once(factory, name, build)
    return Validation.from_json(json.loads((root / "validation.json").read_text()))


@pytest.fixture(scope="session")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The repository's own staticip.toml, synthesized."""
    from staticip.synth import synthesize

    outdir = built_once(
        tmp_path_factory, "shipped", lambda root: synthesize(SHIPPED_CONFIG, root / "cdktf.out")
    )
    return Synthesized(load_config(SHIPPED_CONFIG), outdir / "cdktf.out")


CERTIFICATE_ARN = (
    "arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
)

#: Environments a user adds without touching Python: a second region with one NAT, a reused
#: EIP and S3 state; ingress with a certificate and access logs; dev's AZs reordered and
#: extended; a protection switch lifted; the optional security features turned on.
USER_CONFIG = """
project = "acme"

[environments.staging]
egress = "nat-gateway"
nat = "single"
region = "eu-west-1"
vpc_cidr = "10.40.0.0/16"
azs = ["eu-west-1c", "eu-west-1a", "eu-west-1b"]
reuse_eip_allocation_ids = { "eu-west-1a" = "eipalloc-0123456789abcdef0" }
[environments.staging.backend]
bucket = "acme-terraform-state"
[environments.staging.tags]
team = "payments"

[environments.webhooks]
ingress = "global-accelerator"
region = "eu-central-1"
vpc_cidr = "10.50.0.0/16"
certificate_arn = "@CERT@"
alb_access_logs_bucket = "acme-alb-logs"

[environments.dev]
egress = "eni-eip"
region = "us-east-1"
vpc_cidr = "10.60.0.0/16"
azs = ["us-east-1b", "us-east-1a"]

[environments.dev3]
egress = "eni-eip"
region = "us-east-1"
vpc_cidr = "10.70.0.0/16"
az_count = 3
protect_ips = false
flow_logs_retention_days = 14
[environments.dev3.function]
name = "acme-dev3-probe"
tracing = "Active"
reserved_concurrency = 5
kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
[environments.dev3.eni_guard]
reserved_concurrency = true

[environments.partners]
ingress = "nlb-eip"
region = "ap-southeast-2"
vpc_cidr = "10.90.0.0/16"
az_count = 3
certificate_arn = "@CERT@"
ingress_reuse_eip_allocation_ids = { "ap-southeast-2b" = "eipalloc-0fedcba987654321f" }

[environments.hooks]
egress = "nat-gateway"
nat = "single"
ingress = "nlb-eip"
region = "us-west-2"
vpc_cidr = "10.100.0.0/16"
azs = ["us-west-2c", "us-west-2a"]
alb_deletion_protection = false
""".replace("@CERT@", CERTIFICATE_ARN)


@pytest.fixture(scope="session")
def user(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """A user's own config file with environments the shipped file does not have, run through
    the same entry point as `make synth` (main.py), with its printed summary."""
    from staticip.synth import main

    def build(root: Path) -> None:
        config = root / "environments.toml"
        config.write_text(USER_CONFIG)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = main(["--config", str(config), "--outdir", str(root / "cdktf.out")])
        assert code == 0, printed.getvalue()
        (root / "printed.txt").write_text(printed.getvalue())

    root = built_once(tmp_path_factory, "user", build)
    config = root / "environments.toml"
    printed = (root / "printed.txt").read_text()
    return Synthesized(load_config(config), root / "cdktf.out", printed)


#: `nat = "regional"` needs hashicorp/aws >= 6.24.0; the terraform mirror here has 5.100.0, so
#: this lives outside the shipped file (which `terraform validate` checks) and USER_CONFIG.
REGIONAL_CONFIG = """
project = "acme"

[environments.edge]
egress = "nat-gateway"
nat = "regional"
region = "eu-west-1"
vpc_cidr = "10.80.0.0/16"
azs = ["eu-west-1c", "eu-west-1a", "eu-west-1b"]
reuse_eip_allocation_ids = { "eu-west-1b" = "eipalloc-0123456789abcdef0" }
"""


@pytest.fixture(scope="session")
def regional(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """An environment with one regional NAT Gateway, synthesized once per session."""
    return synthesized_once(tmp_path_factory, "regional", REGIONAL_CONFIG)


#: NAT instances as users add them: 3 AZs listed out of order in another region with a reused
#: EIP and Session Manager; one instance for 2 AZs on x86; one AZ alone.
NAT_INSTANCE_CONFIG = """
project = "acme"

[environments.edge]
egress = "nat-instance"
region = "eu-west-1"
vpc_cidr = "10.110.0.0/16"
azs = ["eu-west-1c", "eu-west-1a", "eu-west-1b"]
reuse_eip_allocation_ids = { "eu-west-1b" = "eipalloc-0123456789abcdef0" }
nat_instance_ssm = true

[environments.pair]
egress = "nat-instance"
nat = "single"
region = "us-west-2"
vpc_cidr = "10.120.0.0/16"
azs = ["us-west-2b", "us-west-2a"]
nat_instance_type = "t3.micro"

[environments.solo]
egress = "nat-instance"
region = "ap-southeast-2"
vpc_cidr = "10.130.0.0/16"
az_count = 1
protect_ips = false
"""


@pytest.fixture(scope="session")
def nat_instances(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """NAT_INSTANCE_CONFIG synthesized once per session."""
    return synthesized_once(tmp_path_factory, "nat-instances", NAT_INSTANCE_CONFIG)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Any]]:
    """EC2, Lambda and IAM clients inside moto (functions made without Docker), as the
    deployment fixtures of aws_fixtures take them; modules needing other clients define their
    own `aws`. moto is imported here, once the environment above is set for it."""
    import boto3
    from eni_fixtures import REGION, use_fake_aws
    from moto import mock_aws

    use_fake_aws(monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield tuple(boto3.client(s, region_name=REGION) for s in ("ec2", "lambda", "iam"))


@pytest.fixture
def fresh_roles() -> Iterator[None]:
    """No sessions or assumed-role credentials from another test: they are kept per process
    (staticip/aws.py), and moto forgets its roles between tests."""
    staticip_aws.forget_sessions()
    yield
    staticip_aws.forget_sessions()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's server on 127.0.0.1, for code that runs as a subprocess (AWS_ENDPOINT_URL)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "staticip.toml"
        path.write_text(text)
        return path

    return write


#: Declared functions and routes in every mode: two functions beside the probe (eni-eip),
#: the probe off and no SSM parameters, a single NAT, routes behind an NLB with TLS and behind
#: Global Accelerator, each with allowed CIDRs, and a function in an ingress-only environment.
FUNCTIONS_CONFIG = """
project = "acme"

[environments.dev]
egress = "eni-eip"
vpc_cidr = "10.10.0.0/16"
[environments.dev.functions.billing]
source = "services/billing"
handler = "app.handler"
architecture = "arm64"
runtime = "python3.13"
memory_mb = 512
environment = { VENDOR_URL = "https://api.vendor.example" }
policy_arns = ["arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"]
tracing = "Active"
reserved_concurrency = 2
log_retention_days = 14
[environments.dev.functions.reports]
source = "services/reports"
runtime = "nodejs22.x"

[environments.solo]
egress = "eni-eip"
vpc_cidr = "10.11.0.0/16"
probe = false
ssm_parameters = false
[environments.solo.functions.only]
source = "services/billing"
handler = "app.handler"

[environments.prod]
egress = "nat-gateway"
nat = "single"
vpc_cidr = "10.20.0.0/16"
[environments.prod.functions.billing]
source = "services/billing"
handler = "app.handler"

[environments.hooks]
ingress = "nlb-eip"
region = "eu-west-1"
vpc_cidr = "10.30.0.0/16"
certificate_arn = "@CERT@"
ingress_allowed_cidrs = ["192.0.2.10/32", "198.51.100.0/28"]
[environments.hooks.functions.stripe]
source = "services/billing"
handler = "app.handler"
[environments.hooks.functions.github]
source = "services/billing"
handler = "app.handler"
[environments.hooks.routes]
"/stripe/*" = "stripe"
"/github/*" = "github"
"/stripe/refunds/*" = { function = "stripe", priority = 5 }

[environments.edge]
ingress = "global-accelerator"
region = "eu-west-1"
vpc_cidr = "10.40.0.0/16"
ingress_allowed_cidrs = ["203.0.113.0/24"]
[environments.edge.functions.stripe]
source = "services/billing"
handler = "app.handler"
[environments.edge.routes]
"/stripe/*" = "stripe"

[environments.plain]
ingress = "global-accelerator"
region = "eu-west-2"
vpc_cidr = "10.50.0.0/16"
[environments.plain.functions.worker]
source = "services/billing"
handler = "app.handler"
""".replace("@CERT@", CERTIFICATE_ARN)


def write_function_sources(root: Path) -> None:
    """`services/billing` (Python, `app.handler`) and `services/reports` (Node.js)."""
    (root / "services" / "billing").mkdir(parents=True)
    (root / "services" / "billing" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (root / "services" / "reports").mkdir(parents=True)
    (root / "services" / "reports" / "handler.js").write_text("exports.handler = async () => 1;\n")


@pytest.fixture(scope="session")
def functions(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """FUNCTIONS_CONFIG, synthesized once per session."""
    return synthesized_once(tmp_path_factory, "functions", FUNCTIONS_CONFIG, write_function_sources)


#: IPAM pools (issue #19): a per-AZ NAT with nlb-eip ingress in 2 AZs (both directions' EIPs
#: from one pool), and an eni-eip environment whose pool sits next to no adopted EIP.
IPAM_POOL = "ipam-pool-0533048da7d823723"
IPAM_CONFIG = f"""
project = "acme"

[environments.vendor]
egress = "nat-gateway"
ingress = "nlb-eip"
region = "eu-west-1"
vpc_cidr = "10.140.0.0/16"
azs = ["eu-west-1b", "eu-west-1a"]
ipam_pool_id = "{IPAM_POOL}"
alb_deletion_protection = false

[environments.lab]
egress = "eni-eip"
region = "us-east-1"
vpc_cidr = "10.150.0.0/16"
az_count = 1
ipam_pool_id = "{IPAM_POOL}"
"""


@pytest.fixture(scope="session")
def ipam(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """IPAM_CONFIG synthesized once per session."""
    return synthesized_once(tmp_path_factory, "ipam", IPAM_CONFIG)
