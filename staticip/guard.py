"""Names the ENI guard shares with its stack and with `staticip doctor`: the metrics it publishes
and the environment variables it reads. Its function and alarm names are in `staticip.names`
with the other resource names, and re-exported here. Standard library only: the guard Lambda
packages this module (with `staticip/names.py`)."""

from __future__ import annotations

from staticip.names import alarm_name as alarm_name
from staticip.names import alarm_names as alarm_names
from staticip.names import errors_alarm_name as errors_alarm_name
from staticip.names import guard_function_name as guard_function_name
from staticip.names import guard_lock_table_name as guard_lock_table_name
from staticip.names import silence_alarm_name as silence_alarm_name

METRIC_NAME = "EnisWithoutElasticIp"
"""In-use Hyperplane ENIs of the function left without an allow-listed EIP by one run."""
HELD_ELSEWHERE_METRIC = "ElasticIpsHeldElsewhere"
"""Allow-listed EIPs found on something that is not one of the function's Lambda ENIs."""
UPDATE_FAILED_METRIC = "EgressFunctionUpdateFailed"
"""1 while the egress function's `LastUpdateStatus` is `Failed`, else 0."""
METRIC_DIMENSION = "Environment"
# The guard's environment variables, which its stack sets (and `staticip review` recognises the
# guard's function by FUNCTION_NAMES).
ENVIRONMENT_VARIABLE = "ENVIRONMENT"
PROJECT_VARIABLE = "PROJECT"
FUNCTION_NAMES_VARIABLE = "FUNCTION_NAMES"
"""The egress functions (comma-separated, the anchor first) whose shared ENIs the guard
watches."""
METRIC_NAMESPACE_VARIABLE = "METRIC_NAMESPACE"
ALLOCATION_IDS_VARIABLE = "ALLOCATION_IDS"
"""The EIPs the stack associates (comma-separated allocation IDs)."""
LOCK_TABLE_VARIABLE = "LOCK_TABLE"
"""The DynamoDB table of the guard's run lock (`staticip.guard_lock`)."""
LOCK_KEY = "environment"
"""The lock table's partition key: one item per environment, the environment's name."""


def metric_namespace(project: str) -> str:
    return f"{project}/eni-guard"
