"""The two functions' handlers, run locally."""

from __future__ import annotations

import http.server
import importlib.util
import json
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "lambda_src"


def load(name: str):
    """Import a handler the way its Lambda package lays it out: staticip/ importable beside it."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    spec = importlib.util.spec_from_file_location(f"{name}_handler", SRC / name / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"198.51.100.7\n")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


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
