"""Names the stacks give what they deploy and the tooling finds it by: tag keys and values,
resource names, Terraform output names, the webhook's health check path.

A stack and `doctor`, `verify`, `ips` or a Lambda that spell one of these differently do not
fail; they stop finding each other's resources. So each is spelt here once, and both sides
import it. Changing a value renames deployed resources (a security group or function name means
a replacement): it is a migration, not a refactoring.

Standard library only, no imports: the ENI guard and webhook Lambdas package this module (see
`stacks/function.py`, `PACKAGED_MODULES`).
"""

from __future__ import annotations

# --- tags ---------------------------------------------------------------------------------------

ENVIRONMENT_TAG = "environment"
PROJECT_TAG = "project"
ALLOW_LISTED_TAG = "staticip:allow-listed"
"""`true` on every EIP an environment allow-lists, created or reused."""
AZ_TAG = "staticip:az"
"""The AZ whose function ENIs (or NAT Gateway) an allow-listed EIP serves."""
DIRECTION_TAG = "staticip:direction"
"""`ingress` on the EIPs an ingress mode puts in front of the webhook (nlb-eip). Egress EIPs
carry no such tag (those deployed before it existed neither), so absent means egress."""
NAT_INSTANCE_TAG = "staticip:nat-instance"
"""On a NAT instance's static ENI, launch template and Auto Scaling group (and so its
instance): the AZ whose private subnets route through it."""
TIER_TAG = "tier"
"""On subnets: `public` (route to the internet gateway) or `private` (route to a NAT)."""
PUBLIC_TIER, PRIVATE_TIER = "public", "private"

EGRESS, INGRESS = "egress", "ingress"
"""The two directions: values of `DIRECTION_TAG`, suffixes of the prefix lists' names."""


def environment_tags(project: str, environment: str) -> dict[str, str]:
    """The default tags every resource of the environment carries (the providers'
    `default_tags`): what `doctor`, `verify`, `ips` and the guard find its resources by."""
    return {ENVIRONMENT_TAG: environment, PROJECT_TAG: project}


# --- resource names -----------------------------------------------------------------------------


def resource_prefix(project: str, environment: str) -> str:
    """`<project>-<environment>`: the start of every name an environment's stack gives."""
    return f"{project}-{environment}"


def function_security_group_name(project: str, environment: str) -> str:
    """The security group of the egress function (Lambda ENIs are per subnet + group set)."""
    return f"{resource_prefix(project, environment)}-function"


def egress_probe_function_name(project: str, environment: str) -> str:
    """The default name of an environment's function when it has an egress mode."""
    return f"{resource_prefix(project, environment)}-egress-probe"


def webhook_function_name(project: str, environment: str) -> str:
    """The webhook's name: the default function name of an ingress-only environment, and the
    webhook's own name beside the egress probe in an environment with both modes."""
    return f"{resource_prefix(project, environment)}-webhook"


def prefix_list_name(project: str, environment: str, direction: str) -> str:
    """The managed prefix list of one direction's static IPs (`EGRESS` or `INGRESS`)."""
    return f"{resource_prefix(project, environment)}-{direction}"


def nat_instance_group_name(project: str, environment: str, az: str) -> str:
    """The Auto Scaling group, launch template and instance role of one AZ's NAT instance."""
    return f"{resource_prefix(project, environment)}-nat-{az}"


def guard_function_name(project: str, environment: str) -> str:
    return f"{resource_prefix(project, environment)}-eni-guard"


def guard_lock_table_name(project: str, environment: str) -> str:
    return f"{resource_prefix(project, environment)}-eni-guard-lock"


def alarm_name(project: str, environment: str) -> str:
    """ENIs stayed without an EIP (or the function's update failed) for two periods in a row."""
    return f"{resource_prefix(project, environment)}-enis-without-eip"


def silence_alarm_name(project: str, environment: str) -> str:
    """The guard published nothing for two schedule periods: it stopped running."""
    return f"{resource_prefix(project, environment)}-eni-guard-silent"


def errors_alarm_name(project: str, environment: str) -> str:
    """The guard's Lambda invocations failed (AWS errors, denied associations, bad settings)."""
    return f"{resource_prefix(project, environment)}-eni-guard-errors"


def alarm_names(project: str, environment: str) -> tuple[str, str, str]:
    return (
        alarm_name(project, environment),
        silence_alarm_name(project, environment),
        errors_alarm_name(project, environment),
    )


# --- the webhook --------------------------------------------------------------------------------

HEALTH_PATH = "/health"
"""The path the ALB's health check requests and the webhook answers with 200."""

# --- Terraform ----------------------------------------------------------------------------------

INGRESS_DNS_NAME_OUTPUT = "ingress_dns_name"


def ips_output(direction: str) -> str:
    """The output holding a direction's IPs as a list (`egress_ips`, `ingress_ips`)."""
    return f"{direction}_ips"


INGRESS_IPS_OUTPUT = ips_output(INGRESS)


def ips_by_az_output(direction: str) -> str:
    """The output holding a direction's EIPs by AZ name (`egress_ips_by_az`)."""
    return f"{direction}_ips_by_az"


def prefix_list_id_output(direction: str) -> str:
    """The output holding the ID of a direction's managed prefix list."""
    return f"{direction}_prefix_list_id"


VPC_ID_OUTPUT = "vpc_id"
FUNCTION_SUBNET_IDS_OUTPUT = "function_subnet_ids"
FUNCTION_SECURITY_GROUP_OUTPUT = "function_security_group_id"

# --- SSM parameters for functions deployed with other tools -------------------------------------

VPC_ID_PARAMETER = "vpc-id"
FUNCTION_SUBNET_IDS_PARAMETER = "function-subnet-ids"
FUNCTION_SECURITY_GROUP_PARAMETER = "function-security-group-id"
EGRESS_IPS_PARAMETER = "egress-ips"


def parameter_path(project: str, environment: str) -> str:
    """The SSM path under which an environment exports its network (`/<project>/<env>/`)."""
    return f"/{project}/{environment}/"


def local_state_file(environment: str) -> str:
    """The state file of an environment without an S3 backend, next to `staticip.toml`."""
    return f"terraform.{environment}.tfstate"


# --- the egress canary --------------------------------------------------------------------------


def canary_function_name(project: str, environment: str, az: str) -> str:
    """The egress canary of one AZ (`stacks/egress_canary.py`)."""
    return f"{resource_prefix(project, environment)}-canary-{az}"


def canary_alarm_name(project: str, environment: str, az: str) -> str:
    """The AZ's traffic left from a foreign address, or not at all, or went unchecked."""
    return f"{resource_prefix(project, environment)}-egress-{az}"
