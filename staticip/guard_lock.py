"""The ENI guard's run lock: one run at a time whether or not the guard reserves concurrency.

A reserved concurrency of 1 serializes runs by throttling, but Lambda keeps 100 of an account's
concurrency unreserved, so in a new or small account the reservation itself fails to deploy.
This lock gives the same guarantee without it: a conditional PutItem on one item per
environment in a DynamoDB table, with a lease that outlives the run holding it (so a run that
crashed or timed out cannot block the next one for longer than its own invocation could have
lasted). Standard library and a boto3 client only: the guard Lambda packages this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from staticip.guard import LOCK_KEY

_CONDITION_FAILED = "ConditionalCheckFailedException"


@dataclass
class RunLock:
    """The lock of one environment, taken by one run (``owner``, e.g. its request ID)."""

    dynamodb: BaseClient
    table: str
    environment: str
    owner: str
    clock: Callable[[], float] = time.time
    held: bool = field(default=False, init=False)

    def acquire(self, lease_seconds: float) -> bool:
        """Take the lock unless another run holds an unexpired lease; True when taken. One
        PutItem (a refused one is a ConditionalCheckFailed, not an error)."""
        now = self.clock()
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={
                    LOCK_KEY: {"S": self.environment},
                    "owner": {"S": self.owner},
                    "expires_at": {"N": f"{now + lease_seconds:.3f}"},
                },
                ConditionExpression="attribute_not_exists(#key) OR expires_at < :now",
                ExpressionAttributeNames={"#key": LOCK_KEY},
                ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                return False
            raise
        self.held = True
        return True

    def release(self) -> None:
        """Give the lock back, if this run still holds it: a lease that expired and was taken
        by the next run is that run's now, and stays. One DeleteItem."""
        if not self.held:
            return
        self.held = False
        try:
            self.dynamodb.delete_item(
                TableName=self.table,
                Key={LOCK_KEY: {"S": self.environment}},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": self.owner}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise


def wait_for_lock(
    lock: RunLock,
    *,
    remaining_seconds: Callable[[], float],
    keep_seconds: float,
    poll_seconds: float,
    lease_margin_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Take ``lock``, polling every ``poll_seconds`` while another run holds it, until the
    invocation has only ``keep_seconds`` left (the time a run itself needs). The lease runs to
    the end of this invocation plus ``lease_margin_seconds`` (clock skew between Lambda hosts).
    True when taken; False means another run kept it the whole time."""
    while True:
        if lock.acquire(remaining_seconds() + lease_margin_seconds):
            return True
        if remaining_seconds() - poll_seconds <= keep_seconds:
            return False
        sleep(poll_seconds)
