"""The two functions' handlers, run locally."""

from __future__ import annotations

import json

import pytest
from handlers import checkip, load


@pytest.fixture(scope="module")
def webhook():
    return load("webhook")


@pytest.fixture(scope="module")
def probe():
    return load("egress_probe")


def test_webhook_answers_the_alb_health_check(webhook):
    response = webhook.handler({"path": "/health", "httpMethod": "GET", "headers": {}}, None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "healthy"}


def test_webhook_acknowledges_with_the_callers_ip(webhook):
    # A caller that sends no X-Forwarded-For: the ALB writes the one address it saw.
    event = {
        "path": "/hooks/vendor",
        "httpMethod": "POST",
        "headers": {"X-Forwarded-For": "203.0.113.9"},
        "body": "{}",
    }
    response = webhook.handler(event, None)
    assert response["statusCode"] == 202
    assert response["headers"]["Content-Type"] == "application/json"
    body = json.loads(response["body"])
    assert body == {
        "received": True,
        "method": "POST",
        "path": "/hooks/vendor",
        "caller_ip": "203.0.113.9",
    }


def test_webhook_without_forwarded_header(webhook):
    response = webhook.handler({"path": "/x", "httpMethod": "GET"}, None)
    assert json.loads(response["body"])["caller_ip"] is None


def test_webhook_reports_the_address_the_alb_saw_not_a_spoofed_one(webhook):
    # The caller sent `X-Forwarded-For: 6.6.6.6`; the ALB appended the address it really saw.
    event = {
        "path": "/hooks/vendor",
        "httpMethod": "POST",
        "headers": {"x-forwarded-for": "6.6.6.6, 203.0.113.7"},
    }
    response = webhook.handler(event, None)
    assert json.loads(response["body"])["caller_ip"] == "203.0.113.7"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("  203.0.113.7  ", "203.0.113.7"),
        ("6.6.6.6,203.0.113.7", "203.0.113.7"),
        ("10.0.0.1, 6.6.6.6 ,  203.0.113.7 ", "203.0.113.7"),
        ("2001:db8::1, 2001:db8::7", "2001:db8::7"),
        # No address where the ALB's should be: nothing trustworthy, so no guess from the left.
        ("203.0.113.7, ", None),
        ("", None),
        (" ", None),
        (",", None),
    ],
)
def test_caller_ip_takes_the_rightmost_entry_trimmed(webhook, header, expected):
    assert webhook.caller_ip({"X-Forwarded-For": header}) == expected
    assert webhook.caller_ip({"X-FORWARDED-FOR": header}) == expected


def test_caller_ip_without_the_header(webhook):
    assert webhook.caller_ip({}) is None
    assert webhook.caller_ip({"X-Real-IP": "203.0.113.7"}) is None


@pytest.fixture
def checkip_server():
    with checkip("198.51.100.7") as url:
        yield url


def test_probe_reports_the_ip_the_internet_sees(probe, checkip_server, monkeypatch):
    monkeypatch.setenv("CHECKIP_URL", checkip_server)
    result = probe.handler({}, None)
    assert result["ok"] is True and result["ip"] == "198.51.100.7"


def test_probe_reports_no_route_as_an_error_not_a_timeout(probe, monkeypatch):
    # A closed port on loopback stands in for an ENI with no public IP: no answer.
    monkeypatch.setenv("CHECKIP_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("CHECKIP_TIMEOUT_SECONDS", "1")
    result = probe.handler({}, None)
    assert result["ok"] is False and "Error" in result["error"]
