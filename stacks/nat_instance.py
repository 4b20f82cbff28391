"""Egress through NAT instances: per NAT AZ a static ENI holding the allow-listed EIP and an
Auto Scaling group of one instance that attaches it at boot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import Fn, TerraformLocal, TerraformResource
from cdktf_cdktf_provider_aws.autoscaling_group import (
    AutoscalingGroup,
    AutoscalingGroupLaunchTemplate,
    AutoscalingGroupTag,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.eip_association import EipAssociation
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateCreditSpecification,
    LaunchTemplateIamInstanceProfile,
    LaunchTemplateMetadataOptions,
    LaunchTemplateNetworkInterfaces,
    LaunchTemplateTagSpecifications,
)
from cdktf_cdktf_provider_aws.network_interface import NetworkInterface
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from stacks.eni_guard import _allow
from stacks.iam import assume_role_policy
from stacks.nat_instance_boot import (
    DEFAULT_ATTACH_TIMEOUT_SECONDS,
    BootSettings,
    render_boot_script,
)
from staticip.names import NAT_INSTANCE_TAG

#: AWS's managed policy for the SSM agent (Session Manager), attached with `ssm`.
SSM_POLICY = "arn:{partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
#: The AL2023 AMI's root device.
ROOT_DEVICE = "/dev/xvda"
DEFAULT_HEALTH_CHECK_GRACE_SECONDS = 120
#: The size of the standard AL2023 AMI's root snapshot.
DEFAULT_ROOT_VOLUME_GIB = 8


@dataclass(frozen=True)
class NatInstanceProps:
    """Where the NAT instances go, what they run, and which route tables use them."""

    name: str
    """Prefix for Name tags and the security group's name."""
    group_names: Mapping[str, str]
    """AZ name -> the name of its Auto Scaling group, launch template and role
    (`staticip.names.nat_instance_group_name`: doctor finds the groups by it)."""
    region: str
    vpc_id: str
    vpc_cidr: str
    """The only source the instances accept traffic from, and forward."""
    public_subnets: Mapping[str, Subnet]
    private_route_tables: Mapping[str, RouteTable]
    """AZ name -> private route table; each sends 0.0.0.0/0 to its own AZ's ENI, or to the
    single one."""
    allocation_ids: Mapping[str, str]
    """AZ name -> EIP allocation ID. Its keys are the AZs that get a NAT instance: every AZ
    (per-az, default: an AZ outage or a replaced instance stops only that AZ's egress) or one
    (single: ~$11/month less per AZ, but its replacement or outage stops all egress)."""
    internet_gateway: InternetGateway
    """An EIP association, and the instance's boot-time AWS calls, need it attached first."""
    image_id: str
    """`resolve:ssm:<public AL2023 parameter>`: EC2 resolves it at each launch, so a
    replacement boots the newest AMI with no Terraform run or plan change."""
    instance_type: str = "t4g.nano"
    """Default t4g.nano: ~$3/month; 32 Mbps sustained, bursts to 5 Gbps (fck-nat's figures)."""
    standard_cpu_credits: bool = True
    """For burstable types: `standard` credits, so a busy instance is throttled to its
    baseline rather than billed for surplus credits (T instances launch `unlimited`)."""
    ssm: bool = False
    """Attach AmazonSSMManagedInstanceCore for Session Manager. Default off: no way in."""
    root_volume_gib: int = DEFAULT_ROOT_VOLUME_GIB
    """Default 8: the AL2023 AMI's own size, so every launch succeeds (a size below the
    AMI's snapshot fails the launch) and `cost` prices what the template states."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """The provider's default tags, which reach neither Auto Scaling groups nor what they
    launch: set on the group (propagated to its instance) and the launch template's volume and
    interface."""
    health_check_grace_seconds: int = DEFAULT_HEALTH_CHECK_GRACE_SECONDS
    """How long a new instance may boot before EC2 status checks count. Default 120 s."""
    attach_timeout_seconds: int = DEFAULT_ATTACH_TIMEOUT_SECONDS
    """How long the boot script tries to attach the ENI before it reports itself unhealthy."""


class NatInstanceEgress(Construct):
    """Per key of `allocation_ids`, keyed by AZ name: a static ENI with source/destination
    check off holding that AZ's EIP, an instance role allowed to attach only that ENI, a
    launch template whose boot script attaches it, and an Auto Scaling group of exactly one
    instance with EC2 health checks. Each private route table routes to its AZ's ENI."""

    def __init__(self, scope: Construct, id_: str, props: NatInstanceProps) -> None:
        super().__init__(scope, id_)
        partition = DataAwsPartition(self, "partition").partition
        account = DataAwsCallerIdentity(self, "account").account_id
        self.security_group = self._security_group(props)
        self.enis: dict[str, NetworkInterface] = {}
        self.groups: dict[str, AutoscalingGroup] = {}
        for az, allocation in sorted(props.allocation_ids.items()):
            tags = {NAT_INSTANCE_TAG: az}
            eni = NetworkInterface(
                self,
                f"eni-{az}",
                subnet_id=props.public_subnets[az].id,
                security_groups=[self.security_group.id],
                # It forwards other hosts' packets, which EC2 drops on an interface that checks.
                source_dest_check=False,
                description=f"{props.name} NAT instance in {az}: holds the allow-listed EIP",
                tags={"Name": f"{props.name}-nat-{az}", **tags},
            )
            association = EipAssociation(
                self,
                f"eip-{az}",
                allocation_id=allocation,
                network_interface_id=eni.id,
                depends_on=[props.internet_gateway],
            )
            profile, grants = self._role(props, az, eni, partition, account)
            template = self._launch_template(props, az, eni, profile)
            self.enis[az] = eni
            self.groups[az] = AutoscalingGroup(
                self,
                f"group-{az}",
                name=props.group_names[az],
                min_size=1,
                max_size=1,
                desired_capacity=1,
                vpc_zone_identifier=[props.public_subnets[az].id],
                launch_template=AutoscalingGroupLaunchTemplate(
                    id=template.id, version=Fn.tostring(template.latest_version)
                ),
                # An instance failing its EC2 status checks is terminated and replaced; the boot
                # script reports itself unhealthy when it cannot attach the ENI.
                health_check_type="EC2",
                health_check_grace_period=props.health_check_grace_seconds,
                tag=[
                    AutoscalingGroupTag(key=key, value=value, propagate_at_launch=True)
                    for key, value in sorted(
                        {
                            **props.tags,
                            "Name": f"{props.name}-nat-{az}",
                            **tags,
                        }.items()
                    )
                ],
                # The ENI must hold its EIP before the instance masquerades out of it, and the
                # role its permissions before the boot script asks for the ENI.
                depends_on=[association, *grants],
            )
        fallback = min(self.enis)
        for az, table in sorted(props.private_route_tables.items()):
            Route(
                self,
                f"default-{az}",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                network_interface_id=self.enis.get(az, self.enis[fallback]).id,
            )

    def _security_group(self, props: NatInstanceProps) -> SecurityGroup:
        group = SecurityGroup(
            self,
            "sg",
            name=f"{props.name}-nat-instance",
            vpc_id=props.vpc_id,
            description=f"{props.name}: NAT instances, inbound from the VPC only",
            tags={"Name": f"{props.name}-nat-instance"},
        )
        VpcSecurityGroupIngressRule(
            self,
            "from-vpc",
            security_group_id=group.id,
            ip_protocol="-1",
            cidr_ipv4=props.vpc_cidr,
            description="Traffic to forward, from the VPC's private subnets",
        )
        VpcSecurityGroupEgressRule(
            self,
            "egress-all",
            security_group_id=group.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            description="Forwarded traffic to vendors' APIs, from the allow-listed EIP",
        )
        return group

    def _role(
        self,
        props: NatInstanceProps,
        az: str,
        eni: NetworkInterface,
        partition: str,
        account: str,
    ) -> tuple[IamInstanceProfile, list[TerraformResource]]:
        """The instance profile of one AZ's instances and the grants the group waits for."""
        group = props.group_names[az]
        role = IamRole(
            self,
            f"role-{az}",
            name=group,
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            description=f"NAT instance in {az}: attaches its static ENI, nothing else",
        )
        # AttachNetworkInterface authorizes the interface and the instance separately: only
        # this AZ's ENI, onto only an instance of this AZ's group (a tag AWS sets and nobody
        # else can: `aws:` keys are reserved).
        document = DataAwsIamPolicyDocument(
            self,
            f"policy-{az}",
            statement=[
                _allow("AttachOnlyThisAzsStaticEni", ["ec2:AttachNetworkInterface"], [eni.arn]),
                _allow(
                    "OntoOnlyThisGroupsInstances",
                    ["ec2:AttachNetworkInterface"],
                    [f"arn:{partition}:ec2:{props.region}:{account}:instance/*"],
                    {"aws:ResourceTag/aws:autoscaling:groupName": [group]},
                ),
                _allow(
                    "ReportItselfUnhealthy",
                    ["autoscaling:SetInstanceHealth"],
                    [
                        f"arn:{partition}:autoscaling:{props.region}:{account}:autoScalingGroup:"
                        f"*:autoScalingGroupName/{group}"
                    ],
                ),
            ],
        )
        grants: list[TerraformResource] = [
            IamRolePolicy(
                self, f"permissions-{az}", name="nat-instance", role=role.id, policy=document.json
            )
        ]
        if props.ssm:
            grants.append(
                IamRolePolicyAttachment(
                    self,
                    f"ssm-{az}",
                    role=role.name,
                    policy_arn=SSM_POLICY.format(partition=partition),
                )
            )
        profile = IamInstanceProfile(self, f"profile-{az}", name=group, role=role.name)
        return profile, grants

    def _launch_template(
        self, props: NatInstanceProps, az: str, eni: NetworkInterface, profile: IamInstanceProfile
    ) -> LaunchTemplate:
        script = render_boot_script(
            BootSettings(
                eni_id=eni.id,
                vpc_cidr=props.vpc_cidr,
                region=props.region,
                group_name=props.group_names[az],
                attach_timeout_seconds=props.attach_timeout_seconds,
            ),
            for_terraform=True,
        )
        # A local holds the script as a plain JSON string (a Terraform template, which
        # `for_terraform` escaped) with the ENI's reference in it; a string literal inside a
        # function call would be parsed as HCL, backslashes and all.
        boot = TerraformLocal(self, f"boot-{az}", script)
        tags = {"Name": f"{props.name}-nat-{az}", NAT_INSTANCE_TAG: az}
        return LaunchTemplate(
            self,
            f"template-{az}",
            name=props.group_names[az],
            description=f"{props.name} NAT instance in {az}",
            image_id=props.image_id,
            instance_type=props.instance_type,
            iam_instance_profile=LaunchTemplateIamInstanceProfile(arn=profile.arn),
            user_data=Fn.base64encode(boot.as_string),
            # IMDSv2 only, one hop: no container or forwarded packet reaches the credentials.
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name=ROOT_DEVICE,
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        encrypted="true",
                        volume_type="gp3",
                        volume_size=props.root_volume_gib,
                        delete_on_termination="true",
                    ),
                )
            ],
            # The primary interface boots with an address of its own: the boot script's AWS
            # calls and package install go out through it, before the static ENI is attached.
            # No key pair: nobody logs in (Session Manager with `ssm`).
            network_interfaces=[
                LaunchTemplateNetworkInterfaces(
                    device_index=0,
                    associate_public_ip_address="true",
                    delete_on_termination="true",
                    security_groups=[self.security_group.id],
                )
            ],
            credit_specification=LaunchTemplateCreditSpecification(cpu_credits="standard")
            if props.standard_cpu_credits
            else None,
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags={**props.tags, **tags})
                for kind in ("volume", "network-interface")
            ],
            tags=tags,
        )
