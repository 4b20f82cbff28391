"""The egress canary's handler, run locally against a stand-in address service: an
allow-listed answer, a foreign one, no answer in time and no way out, each reported as the
embedded-metric-format line CloudWatch turns into the AZ's two metrics."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from handlers import checkip, load

from staticip import canary

ALLOWED = "198.51.100.7"
FOREIGN = "203.0.113.50"
NAMESPACE = "acme/egress-canary"


@pytest.fixture(scope="module")
def handler_module() -> Any:
    return load("egress_canary")


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv(canary.ENVIRONMENT_VARIABLE, "prod")
    monkeypatch.setenv(canary.AZ_VARIABLE, "us-east-1b")
    monkeypatch.setenv(canary.EXPECTED_IP_VARIABLE, ALLOWED)
    monkeypatch.setenv(canary.METRIC_NAMESPACE_VARIABLE, NAMESPACE)
    return monkeypatch


def run(handler_module: Any, capsys: pytest.CaptureFixture[str]) -> tuple[dict, dict]:
    """The handler's return value and the one EMF record it logged."""
    result = handler_module.handler({}, None)
    (line,) = capsys.readouterr().out.splitlines()
    return result, json.loads(line)


def metrics_of(record: dict[str, Any]) -> dict[str, int]:
    """The metric values of an EMF record, read the way CloudWatch does: the names its
    directive declares, under the namespace and dimensions it names."""
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == NAMESPACE
    assert directive["Dimensions"] == [[canary.ENVIRONMENT_DIMENSION, canary.AZ_DIMENSION]]
    assert (record[canary.ENVIRONMENT_DIMENSION], record[canary.AZ_DIMENSION]) == (
        "prod",
        "us-east-1b",
    )
    assert isinstance(record["_aws"]["Timestamp"], int)
    return {m["Name"]: record[m["Name"]] for m in directive["Metrics"]}


@pytest.mark.parametrize(
    ("answer", "not_allow_listed"),
    [(ALLOWED, 0), (FOREIGN, 1)],
    ids=["allow-listed", "foreign"],
)
def test_the_address_seen_is_compared_with_the_azs_allow_listed_one(
    handler_module: Any,
    settings: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    not_allow_listed: int,
) -> None:
    with checkip(answer) as url:
        settings.setenv(canary.CHECKIP_URL_VARIABLE, url)
        result, record = run(handler_module, capsys)
    assert result["ok"] is (not not_allow_listed) and result["ip"] == answer
    assert result["az"] == "us-east-1b"
    assert metrics_of(record) == {
        canary.NO_EGRESS_METRIC: 0,
        canary.NOT_ALLOW_LISTED_METRIC: not_allow_listed,
    }
    # The log line says which address left, for whoever reads it after an alarm.
    assert (record["seen_ip"], record["expected_ip"]) == (answer, ALLOWED)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers: a request that times out, as one
    through an ENI without an EIP does (its packets go nowhere)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        listener.close()


def test_a_check_that_times_out_counts_as_no_egress_not_silence(
    handler_module: Any,
    settings: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    silent_server: str,
) -> None:
    settings.setenv(canary.CHECKIP_URL_VARIABLE, silent_server)
    settings.setattr(handler_module, "CHECK_TIMEOUT_SECONDS", 0.5)
    result, record = run(handler_module, capsys)
    assert result["ok"] is False and result["no_egress"] is True and result["ip"] is None
    assert "timed out" in result["error"]
    assert metrics_of(record) == {canary.NO_EGRESS_METRIC: 1, canary.NOT_ALLOW_LISTED_METRIC: 0}


def test_a_refused_connection_counts_as_no_egress(
    handler_module: Any, settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A closed port on loopback: refused at once.
    settings.setenv(canary.CHECKIP_URL_VARIABLE, "http://127.0.0.1:9/")
    result, record = run(handler_module, capsys)
    assert result["no_egress"] is True and "Error" in result["error"]
    assert metrics_of(record)[canary.NO_EGRESS_METRIC] == 1


def test_the_check_waits_less_than_the_function_runs() -> None:
    # A check that outlived the function would end as a timed-out run: no record, silence.
    assert canary.CHECK_TIMEOUT_SECONDS < canary.FUNCTION_TIMEOUT_SECONDS
