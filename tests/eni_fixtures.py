"""Shared helpers for the ENI tests: fake AWS credentials, a moto VPC, Lambda-like ENIs.

Imported by the test modules (not a conftest.py): each module wraps these in its own fixtures.

moto 5.2.5 does not create Lambda Hyperplane ENIs: ``lambda.create_function`` with a VpcConfig
makes none, and ``ec2.create_network_interface`` ignores ``InterfaceType`` (every ENI is
``interface``). :func:`create_lambda_eni` therefore creates a plain ENI through the EC2 API and then
edits moto's in-memory model so that DescribeNetworkInterfaces (whose ``interface-type`` filter moto
evaluates against that model) returns it the way real AWS returns a Hyperplane ENI.
"""

from __future__ import annotations

import datetime
import io
import json
import types
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from staticip.guard import LOCK_KEY

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Variables through which a developer's real AWS setup could leak into a test.
AWS_SETUP_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_EC2",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    *FAKE_CREDENTIALS,
)


def isolated_aws_env(*, credentials: bool = True) -> dict[str, str]:
    """Environment variables that keep boto3 away from real AWS and real config files.

    Without ``credentials`` boto3 finds none at all: no keys, no config files, and the instance
    metadata service switched off so it does not wait on a network timeout.
    """
    env = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/nonexistent/staticip-test/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/staticip-test/credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    if credentials:
        env.update(FAKE_CREDENTIALS)
    return env


def use_fake_aws(monkeypatch: pytest.MonkeyPatch, *, credentials: bool = True) -> None:
    """Point this test's boto3 at fake credentials (or none) and away from any real profile."""
    for name in AWS_SETUP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in isolated_aws_env(credentials=credentials).items():
        monkeypatch.setenv(name, value)


@dataclass(frozen=True)
class Network:
    """A VPC with one subnet per AZ and some security groups, created in moto."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    availability_zones: tuple[str, ...]
    security_group_ids: tuple[str, ...]

    def az_of(self, subnet_id: str) -> str:
        return self.availability_zones[self.subnet_ids.index(subnet_id)]


def make_network(ec2: Any, *, subnets: int = 2, security_groups: int = 3) -> Network:
    """Create a VPC, ``subnets`` subnets in distinct AZs and ``security_groups`` groups."""
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [zone["ZoneName"] for zone in ec2.describe_availability_zones()["AvailabilityZones"]][
        :subnets
    ]
    subnet_ids = tuple(
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)[
            "Subnet"
        ]["SubnetId"]
        for i, zone in enumerate(zones)
    )
    group_ids = tuple(
        ec2.create_security_group(
            GroupName=f"staticip-test-{i}-{uuid.uuid4().hex[:8]}",
            Description="staticip test",
            VpcId=vpc_id,
        )["GroupId"]
        for i in range(security_groups)
    )
    return Network(vpc_id, subnet_ids, tuple(zones), group_ids)


def moto_eni(eni_id: str, region: str = REGION) -> Any:
    """moto's in-memory model of an ENI, in whichever account moto filed it under."""
    from moto.ec2.models import ec2_backends

    for account_id in list(ec2_backends.keys()):
        eni = ec2_backends[account_id][region].enis.get(eni_id)
        if eni is not None:
            return eni
    raise LookupError(f"moto has no ENI {eni_id} in {region}")


def create_lambda_eni(
    ec2: Any,
    subnet_id: str,
    security_group_ids: tuple[str, ...] | list[str],
    function_name: str = "staticip-test-fn",
    *,
    attach_time: datetime.datetime | None = None,
    status: str = "in-use",
    region: str = REGION,
) -> str:
    """Create an ENI shaped like the Hyperplane ENI Lambda itself creates; return its id.

    Real AWS: Lambda creates it when the function is created or its VPC config changes, in the
    function's subnet with exactly the function's security groups. DescribeNetworkInterfaces then
    shows InterfaceType ``lambda``, RequesterManaged true, Description
    ``AWS Lambda VPC ENI-<function>-<uuid>``, Status ``in-use`` and an Attachment with an
    ``ela-attach-...`` id, InstanceOwnerId ``amazon-aws`` and no InstanceId.

    moto 5.2.5 ignores InterfaceType on create, so those fields are set on moto's model afterwards
    (``status="available"`` leaves it detached, like an orphan Lambda is deleting).
    """
    eni_id = ec2.create_network_interface(
        SubnetId=subnet_id,
        Groups=list(security_group_ids),
        Description=f"AWS Lambda VPC ENI-{function_name}-{uuid.uuid4()}",
    )["NetworkInterface"]["NetworkInterfaceId"]
    shape_as_lambda_eni(moto_eni(eni_id, region), status=status, attach_time=attach_time)
    return eni_id


def shape_as_lambda_eni(
    eni: Any, *, status: str = "in-use", attach_time: datetime.datetime | None = None
) -> None:
    """Edit moto's model of an ENI so the API shows it as Lambda shows a Hyperplane ENI."""
    eni.interface_type = "lambda"
    eni.requester_managed = True
    eni.status = status
    if status == "in-use":
        eni.attachment_id = f"ela-attach-{uuid.uuid4().hex[:17]}"
        eni.attach_time = attach_time or datetime.datetime.now(datetime.UTC)
        # moto renders an Attachment only for an ENI attached to an instance; this stand-in
        # carries the fields AWS shows for Lambda's own attachment. `_state` is what moto's
        # DisassociateAddress reads of an "instance" (not running: no auto-assigned public IP
        # to restore), so Terraform can destroy an association on such an ENI.
        eni.instance = types.SimpleNamespace(
            id=None,
            owner_id="amazon-aws",
            security_groups=[],
            _state=types.SimpleNamespace(name="lambda-managed"),
        )


def create_instance_eni(ec2: Any, subnet_id: str, security_group_ids: tuple[str, ...]) -> str:
    """Create an ordinary (``interface``) ENI, as an EC2 instance would have, with these groups."""
    return ec2.create_network_interface(
        SubnetId=subnet_id, Groups=list(security_group_ids), Description="instance ENI"
    )["NetworkInterface"]["NetworkInterfaceId"]


def attach_eip(ec2: Any, eni_id: str) -> tuple[str, str]:
    """Allocate an Elastic IP, associate it with ``eni_id``; return (allocation id, public IP)."""
    address = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=address["AllocationId"], NetworkInterfaceId=eni_id)
    return address["AllocationId"], address["PublicIp"]


def create_role(iam: Any) -> str:
    """An IAM role Lambda functions can be created with; return its ARN."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return iam.create_role(RoleName="staticip-test", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]


def create_function(
    lambda_client: Any,
    role_arn: str,
    name: str,
    subnet_ids: tuple[str, ...] | list[str] | None = None,
    security_group_ids: tuple[str, ...] | list[str] | None = None,
) -> None:
    """Create a Python Lambda function, in a VPC when subnets are given."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    extra: dict[str, Any] = {}
    if subnet_ids:
        extra["VpcConfig"] = {
            "SubnetIds": list(subnet_ids),
            "SecurityGroupIds": list(security_group_ids or ()),
        }
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
        **extra,
    )


@dataclass
class FakeClock:
    """A monotonic clock and a ``sleep`` that advances it instead of waiting.

    ``on_sleep`` runs after each sleep with the number of sleeps so far, which lets a test make
    Lambda's ENIs appear between two polls.
    """

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)
    on_sleep: Callable[[int], None] | None = None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


def record_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """Record the parameters of every ``operation`` call the client makes (pages included)."""
    calls: list[dict[str, Any]] = []

    def remember(params: dict[str, Any], **_: Any) -> None:
        calls.append(json.loads(json.dumps(params, default=str)))

    client.meta.events.register(f"provide-client-params.{_service(client)}.{operation}", remember)
    return calls


def drop_filter(client: Any, operation: str, filter_name: str) -> None:
    """Make the client send ``operation`` without one filter, as if AWS ignored it."""

    def strip(params: dict[str, Any], **_: Any) -> None:
        params["Filters"] = [f for f in params.get("Filters", []) if f["Name"] != filter_name]

    client.meta.events.register(f"provide-client-params.{_service(client)}.{operation}", strip)


def _service(client: Any) -> str:
    return client.meta.service_model.service_name


def endpoint_client(service: str, endpoint: str) -> Any:
    """A boto3 client for moto's server at `endpoint`, with the fake credentials."""
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def create_lock_table(dynamodb: Any, name: str) -> str:
    """The ENI guard's lock table as its stack declares it (stacks/eni_guard.py)."""
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": LOCK_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": LOCK_KEY, "AttributeType": "S"}],
    )
    return name
