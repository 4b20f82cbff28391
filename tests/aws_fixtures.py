"""Deployed environments rebuilt in moto, resource by resource, the way the stacks leave them
in AWS: every resource tagged `environment` + `project` (the provider's default tags), EIPs
also `staticip:allow-listed=true` + `staticip:az`, subnets `tier`, the function's security group
named `<project>-<env>-function`.

Imported by test_verify.py and test_doctor.py (not a conftest.py). Uses the shipped
staticip.toml, read without synthesizing, so its dev/prod/ingress names and AZs apply.

Real AWS creates the Hyperplane ENIs itself when the function is created (one per subnet +
security-group set, InterfaceType `lambda`, attached by `amazon-aws`); moto 5.2.5 creates none,
so :func:`deploy_eni_eip` builds them with eni_fixtures.create_lambda_eni and associates the EIPs
the way the stack's `aws_eip_association` does after its `data.external` lookup.
"""

from __future__ import annotations

import io
import types
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from eni_fixtures import REGION, create_lambda_eni, create_role, moto_eni

from staticip import canary
from staticip.config import Config, EnvironmentConfig, load_config
from staticip.guard import (
    METRIC_DIMENSION,
    METRIC_NAME,
    alarm_name,
    alarm_names,
    metric_namespace,
)
from staticip.names import NAT_INSTANCE_TAG, canary_function_name, nat_instance_group_name

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = REPO / "staticip.toml"


def shipped_config() -> Config:
    return load_config(SHIPPED_CONFIG)


def tags(project: str, env: str, **extra: str) -> list[dict[str, str]]:
    base = {"environment": env, "project": project} | extra
    return [{"Key": k, "Value": v} for k, v in base.items()]


def tag_spec(resource_type: str, project: str, env: str, **extra: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": tags(project, env, **extra)}]


@dataclass
class Deployment:
    """What a deployed egress environment consists of, by AZ."""

    env: EnvironmentConfig
    vpc_id: str
    igw_id: str
    public_subnets: dict[str, str]
    private_subnets: dict[str, str] = field(default_factory=dict)
    security_group_id: str = ""
    function_arn: str = ""
    eips: dict[str, tuple[str, str]] = field(default_factory=dict)
    """AZ -> (allocation id, public IP)."""
    enis: dict[str, str] = field(default_factory=dict)
    """AZ -> Hyperplane ENI id (eni-eip)."""
    nats: dict[str, str] = field(default_factory=dict)
    """AZ -> NAT Gateway id (nat-gateway)."""
    route_tables: dict[str, str] = field(default_factory=dict)
    """AZ -> private route table id (nat-gateway, nat-instance)."""
    instances: dict[str, str] = field(default_factory=dict)
    """AZ -> the NAT instance its Auto Scaling group launched (nat-instance; `enis` holds the
    static ENIs)."""

    def ip(self, az: str) -> str:
        return self.eips[az][1]

    def allocation(self, az: str) -> str:
        return self.eips[az][0]


def _network(ec2: Any, project: str, env: EnvironmentConfig, private: bool) -> Deployment:
    vpc_id = ec2.create_vpc(
        CidrBlock=env.vpc_cidr, TagSpecifications=tag_spec("vpc", project, env.name)
    )["Vpc"]["VpcId"]
    igw_id = ec2.create_internet_gateway(
        TagSpecifications=tag_spec("internet-gateway", project, env.name)
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    dep = Deployment(env, vpc_id, igw_id, {})
    tiers = ("public", "private") if private else ("public",)
    for az in env.azs:
        for tier in tiers:
            subnet_id = ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=env.subnet_cidr(az, tier == "private"),
                AvailabilityZone=az,
                TagSpecifications=tag_spec("subnet", project, env.name, tier=tier),
            )["Subnet"]["SubnetId"]
            (dep.public_subnets if tier == "public" else dep.private_subnets)[az] = subnet_id
    # As stacks/network.py: the public subnets share one route table to the internet gateway.
    public_rtb = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=tag_spec("route-table", project, env.name)
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    for subnet_id in dep.public_subnets.values():
        ec2.associate_route_table(RouteTableId=public_rtb, SubnetId=subnet_id)
    dep.security_group_id = ec2.create_security_group(
        GroupName=f"{project}-{env.name}-function",
        Description="Lambda egress only",
        VpcId=vpc_id,
        TagSpecifications=tag_spec("security-group", project, env.name),
    )["GroupId"]
    for az in env.static_ip_azs:
        address = ec2.allocate_address(
            Domain="vpc",
            TagSpecifications=tag_spec(
                "elastic-ip",
                project,
                env.name,
                **{"staticip:allow-listed": "true", "staticip:az": az},
            ),
        )
        dep.eips[az] = (address["AllocationId"], address["PublicIp"])
    return dep


def zip_code(source: str = "def handler(event, context):\n    return event\n") -> bytes:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", source)
    return code.getvalue()


def create_function(
    lambda_client: Any, iam: Any, name: str, subnets: list[str], groups: list[str]
) -> str:
    try:
        role = iam.get_role(RoleName="staticip-test")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = create_role(iam)
    extra: dict[str, Any] = {}
    if subnets:
        extra["VpcConfig"] = {"SubnetIds": subnets, "SecurityGroupIds": groups}
    return lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": zip_code()},
        Timeout=30,
        **extra,
    )["FunctionArn"]


def lambda_eni(ec2: Any, subnet_id: str, group_id: str, function_name: str) -> str:
    """A Hyperplane ENI as Lambda creates it (see eni_fixtures.create_lambda_eni)."""
    eni_id = create_lambda_eni(ec2, subnet_id, [group_id], function_name, region=REGION)
    # moto's DisassociateAddress reads the state of the instance an ENI is attached to; the
    # stand-in for Lambda's attachment has none, and a Lambda ENI never gets an automatic IP.
    moto_eni(eni_id).instance._state = types.SimpleNamespace(name="lambda")
    return eni_id


def recycle_eni(ec2: Any, dep: Deployment, az: str, replace: bool = True) -> str | None:
    """What Lambda does when it recycles an ENI: the old one goes (and the EIP comes off it);
    with `replace`, a new one without EIP takes its place. Returns the new ENI id."""
    address = ec2.describe_addresses(AllocationIds=[dep.allocation(az)])["Addresses"][0]
    if address.get("AssociationId"):
        ec2.disassociate_address(AssociationId=address["AssociationId"])
    moto_eni(dep.enis[az]).instance = None
    ec2.delete_network_interface(NetworkInterfaceId=dep.enis[az])
    new = None
    if replace:
        new = lambda_eni(ec2, dep.public_subnets[az], dep.security_group_id, dep.env.function.name)
        dep.enis[az] = new
    return new


def deploy_eni_eip(ec2: Any, lambda_client: Any, iam: Any, project: str, env_name: str) -> Any:
    """The dev stack after `cdktf deploy`: the probe and the declared functions in the public
    subnets, one Hyperplane ENI per subnet (shared by all of them), each holding its AZ's EIP."""
    env = shipped_config().environment(env_name)
    dep = _network(ec2, project, env, private=False)
    subnets = [dep.public_subnets[az] for az in env.azs]
    dep.function_arn = create_function(
        lambda_client, iam, env.function.name, subnets, [dep.security_group_id]
    )
    for fn in env.functions:
        create_function(lambda_client, iam, fn.name, subnets, [dep.security_group_id])
    deploy_canary(lambda_client, iam, project, env, dep.public_subnets, dep.security_group_id)
    # One ENI per subnet, shared by every function with the subnet + security group.
    for az in env.azs:
        eni = lambda_eni(ec2, dep.public_subnets[az], dep.security_group_id, env.function.name)
        dep.enis[az] = eni
        ec2.associate_address(AllocationId=dep.allocation(az), NetworkInterfaceId=eni)
    guard_alarm(project, env_name, "OK")
    logging_trail(env.region)
    return dep


def guard_alarm(project: str, env_name: str, state: str | None, name: str | None = None) -> None:
    """The ENI guard's alarms as the stack creates them (the ENI alarm, the silence alarm and
    the errors alarm), all OK except `name` (default: the ENI alarm) in `state`; `state` None
    deletes them all: the guard was never deployed. The alarms are created on the metric
    only (their exact math is tested in the synthesized JSON): doctor reads names and states.
    Real CloudWatch moves the state itself from the metric; moto needs it set."""
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    names = alarm_names(project, env_name)
    if state is None:
        cloudwatch.delete_alarms(AlarmNames=list(names))
        return
    target = name or alarm_name(project, env_name)
    for each in names:
        cloudwatch.put_metric_alarm(
            AlarmName=each,
            Namespace=metric_namespace(project),
            MetricName=METRIC_NAME,
            Dimensions=[{"Name": METRIC_DIMENSION, "Value": env_name}],
            Statistic="Minimum",
            Period=300,
            EvaluationPeriods=2,
            DatapointsToAlarm=2,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        )
        value = state if each == target else "OK"
        cloudwatch.set_alarm_state(AlarmName=each, StateValue=value, StateReason=f"test: {value}")


def logging_trail(region: str = REGION, *, multi_region: bool = True, logging: bool = True) -> str:
    """A CloudTrail trail (and its bucket) as an account that records management events has
    one; return its name. The ENI guard's CreateNetworkInterface rule depends on it."""
    name = f"management-{region}-{'multi' if multi_region else 'single'}"
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=f"{name}-logs")
    cloudtrail = boto3.client("cloudtrail", region_name=region)
    cloudtrail.create_trail(Name=name, S3BucketName=f"{name}-logs", IsMultiRegionTrail=multi_region)
    if logging:
        cloudtrail.start_logging(Name=name)
    return name


def _private_egress(
    ec2: Any,
    lambda_client: Any,
    iam: Any,
    dep: Deployment,
    project: str,
    env: EnvironmentConfig,
    route_key: str,
    targets: Mapping[str, str],
) -> None:
    """A private route table per AZ sending 0.0.0.0/0 to its AZ's target (`route_key` names
    CreateRoute's argument; an AZ without one of its own uses the alphabetically first, as
    `nat = "single"` does), and the probe and declared functions in the private subnets."""
    for az in env.azs:
        rtb = ec2.create_route_table(
            VpcId=dep.vpc_id, TagSpecifications=tag_spec("route-table", project, env.name)
        )["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=dep.private_subnets[az])
        target = targets.get(az, targets[min(targets)])
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", **{route_key: target})
        dep.route_tables[az] = rtb
    subnets = [dep.private_subnets[az] for az in env.azs]
    dep.function_arn = create_function(
        lambda_client, iam, env.function.name, subnets, [dep.security_group_id]
    )
    for fn in env.functions:
        create_function(lambda_client, iam, fn.name, subnets, [dep.security_group_id])
    deploy_canary(lambda_client, iam, project, env, dep.private_subnets, dep.security_group_id)


def deploy_canary(
    lambda_client: Any,
    iam: Any,
    project: str,
    env: EnvironmentConfig,
    subnets: Mapping[str, str],
    group: str,
) -> None:
    """The egress canary's functions, each in its AZ's function subnet alone, and a passing
    check of every AZ in the period before last (`canary_results`): a test's own results
    of a minute ago are then the last ones."""
    for az in env.azs:
        name = canary_function_name(project, env.name, az)
        create_function(lambda_client, iam, name, [subnets[az]], [group])
    canary_results(project, env.name, {az: (0, 0) for az in env.azs}, minutes_ago=7)


def canary_results(
    project: str, env_name: str, results: Mapping[str, tuple[int, int]], minutes_ago: int = 1
) -> None:
    """AZ -> (NoEgress, AddressNotAllowListed) as the canary's checks reported them
    `minutes_ago` (at least 1: moto leaves out data in the very second it is asked). In AWS,
    CloudWatch extracts these from the embedded-metric-format line each run logs (moto does
    not read logs), so they are put here as the metrics that line yields."""
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    data = [
        {
            "MetricName": metric,
            "Dimensions": [
                {"Name": canary.ENVIRONMENT_DIMENSION, "Value": env_name},
                {"Name": canary.AZ_DIMENSION, "Value": az},
            ],
            "Timestamp": at,
            "Value": value,
            "Unit": "Count",
        }
        for az, values in results.items()
        for metric, value in zip(canary.METRICS, values, strict=True)
    ]
    cloudwatch.put_metric_data(Namespace=canary.metric_namespace(project), MetricData=data)


def deploy_nat(ec2: Any, lambda_client: Any, iam: Any, project: str, env_name: str) -> Any:
    """The prod stack after `cdktf deploy`: NAT per AZ in the public subnets with the EIPs,
    private route tables sending 0.0.0.0/0 to their AZ's NAT, function in the private subnets."""
    env = shipped_config().environment(env_name)
    dep = _network(ec2, project, env, private=True)
    for az in env.static_ip_azs:
        dep.nats[az] = ec2.create_nat_gateway(
            SubnetId=dep.public_subnets[az],
            AllocationId=dep.allocation(az),
            TagSpecifications=tag_spec("natgateway", project, env.name),
        )["NatGateway"]["NatGatewayId"]
    _private_egress(ec2, lambda_client, iam, dep, project, env, "NatGatewayId", dep.nats)
    return dep


#: Any AMI ID does for moto, which the tests run without its AMI catalogue.
NAT_IMAGE = "ami-0123456789abcdef0"


def deploy_nat_instance(
    ec2: Any, autoscaling: Any, lambda_client: Any, iam: Any, project: str, env_name: str
) -> Any:
    """The budget stack after `cdktf deploy` and the first boot of each NAT instance: per NAT
    AZ a static ENI (source/destination check off) holding the EIP, a one-instance Auto
    Scaling group whose instance has attached the ENI as device 1 (what the boot script does),
    private route tables sending 0.0.0.0/0 to their AZ's ENI, function in the private subnets."""
    env = shipped_config().environment(env_name)
    dep = _network(ec2, project, env, private=True)
    for az in env.static_ip_azs:
        eni = ec2.create_network_interface(
            SubnetId=dep.public_subnets[az],
            TagSpecifications=tag_spec(
                "network-interface", project, env.name, **{NAT_INSTANCE_TAG: az}
            ),
        )["NetworkInterface"]["NetworkInterfaceId"]
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=eni, SourceDestCheck={"Value": False}
        )
        ec2.associate_address(AllocationId=dep.allocation(az), NetworkInterfaceId=eni)
        name = nat_instance_group_name(project, env.name, az)
        template = ec2.create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData={"ImageId": NAT_IMAGE, "InstanceType": "t4g.nano"},
        )["LaunchTemplate"]["LaunchTemplateId"]
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            MinSize=1,
            MaxSize=1,
            DesiredCapacity=1,
            LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
            VPCZoneIdentifier=dep.public_subnets[az],
        )
        (group,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
            "AutoScalingGroups"
        ]
        dep.instances[az] = group["Instances"][0]["InstanceId"]
        ec2.attach_network_interface(
            NetworkInterfaceId=eni, InstanceId=dep.instances[az], DeviceIndex=1
        )
        dep.enis[az] = eni
    _private_egress(ec2, lambda_client, iam, dep, project, env, "NetworkInterfaceId", dep.enis)
    return dep


def moto_function(name: str, region: str = REGION) -> Any:
    """moto's in-memory model of a Lambda function, to set states the API cannot."""
    from moto.awslambda.models import lambda_backends
    from moto.awslambda_simple.models import lambda_simple_backends

    for backends in (lambda_simple_backends, lambda_backends):
        for account_id in list(backends.keys()):
            try:
                return backends[account_id][region].get_function(name)
            except Exception:
                continue
    raise LookupError(f"moto has no function {name} in {region}")


def count_calls(clients: Iterable[Any]) -> Counter[str]:
    """Count the API operations the boto clients call from now on, as `service.Operation`."""
    calls: Counter[str] = Counter()
    for client in clients:
        service = client.meta.service_model.service_name

        def record(model: Any, service: str = service, **_: Any) -> None:
            calls[f"{service}.{model.name}"] += 1

        # First, so a botocore Stubber answering the call does not hide it.
        client.meta.events.register_first("before-call.*.*", record)
    return calls
