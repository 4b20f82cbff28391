"""The ENI guard's run lock (staticip/guard_lock.py) against moto's DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from eni_fixtures import REGION, FakeClock, create_lock_table, use_fake_aws
from moto import mock_aws

from staticip.guard_lock import RunLock, wait_for_lock

TABLE = "staticip-dev-eni-guard-lock"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    use_fake_aws(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_lock_table(client, TABLE)
        yield client


def lock(dynamodb: Any, owner: str, clock: FakeClock, environment: str = "dev") -> RunLock:
    return RunLock(dynamodb, TABLE, environment, owner, clock=clock.clock)


def test_one_holder_at_a_time_until_the_lease_ends(dynamodb: Any) -> None:
    clock = FakeClock()
    first, second = lock(dynamodb, "run-1", clock), lock(dynamodb, "run-2", clock)
    assert first.acquire(lease_seconds=30)
    assert not second.acquire(lease_seconds=30)
    clock.now += 29
    assert not second.acquire(lease_seconds=30)
    clock.now += 2  # run 1's lease is over (it timed out holding the lock)
    assert second.acquire(lease_seconds=30)
    # Run 1 comes back late: giving back a lock that is run 2's now leaves it to run 2.
    first.release()
    assert not lock(dynamodb, "run-3", clock).acquire(lease_seconds=30)
    second.release()
    assert lock(dynamodb, "run-3", clock).acquire(lease_seconds=30)


def test_environments_lock_apart(dynamodb: Any) -> None:
    clock = FakeClock()
    assert lock(dynamodb, "run-1", clock, "dev").acquire(lease_seconds=30)
    assert lock(dynamodb, "run-2", clock, "staging").acquire(lease_seconds=30)


def test_waiting_gives_up_keeping_the_time_a_run_needs(dynamodb: Any) -> None:
    clock = FakeClock()
    assert lock(dynamodb, "run-1", clock).acquire(lease_seconds=300)
    start = clock.now

    taken = wait_for_lock(
        lock(dynamodb, "run-2", clock),
        remaining_seconds=lambda: 100 - (clock.now - start),
        keep_seconds=60,
        poll_seconds=5,
        lease_margin_seconds=10,
        sleep=clock.sleep,
    )

    assert not taken
    # Seven naps leave 65 s; one more would leave only the 60 a run needs.
    assert clock.sleeps == [5.0] * 7
