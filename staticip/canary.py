"""Names the egress canary shares with its stack, `staticip doctor` and `staticip cost`: the
metrics it publishes and the environment variables it reads. Its function and alarm names are
in `staticip.names` with the other resource names. Standard library only: the canary Lambda
packages this module (`stacks/function.py`, `PACKAGED_MODULES`)."""

from __future__ import annotations

NO_EGRESS_METRIC = "NoEgress"
"""1 when the AZ's check could not reach the internet (timeout, refused, DNS), else 0."""
NOT_ALLOW_LISTED_METRIC = "AddressNotAllowListed"
"""1 when the AZ's traffic left from another address than its allow-listed one, else 0."""
METRICS = (NO_EGRESS_METRIC, NOT_ALLOW_LISTED_METRIC)
ENVIRONMENT_DIMENSION = "Environment"
AZ_DIMENSION = "AZ"

# The canary's environment variables, which its stack sets.
ENVIRONMENT_VARIABLE = "ENVIRONMENT"
AZ_VARIABLE = "CANARY_AZ"
"""The AZ the function sits in: each AZ has a canary of its own, in that AZ's function subnet
only (Lambda runs a function in whichever of its subnets it likes)."""
EXPECTED_IP_VARIABLE = "EXPECTED_IP"
"""The allow-listed address the AZ's traffic must leave from."""
METRIC_NAMESPACE_VARIABLE = "METRIC_NAMESPACE"
CHECKIP_URL_VARIABLE = "CHECKIP_URL"

DEFAULT_CHECKIP_URL = "https://checkip.amazonaws.com"
CHECK_TIMEOUT_SECONDS = 5
"""How long one check waits for the address service: an AZ without egress is reported as such
well within the function's timeout (`FUNCTION_TIMEOUT_SECONDS`), not as a timed-out run."""
FUNCTION_TIMEOUT_SECONDS = 15
FUNCTION_MEMORY_MB = 128


def metric_namespace(project: str) -> str:
    return f"{project}/egress-canary"
