"""Webhook receiver behind the ALB (and Global Accelerator) of the ingress environment.

Answers the ALB health check, and acknowledges any other request with a JSON body that names
the caller's IP as the ALB saw it. Global Accelerator preserves the client IP, so
`X-Forwarded-For` carries the vendor's address, the one to compare with their documentation.
"""

from __future__ import annotations

import json
import os
from typing import Any

HEALTH_PATH = os.environ.get("HEALTH_PATH", "/health")


def caller_ip(headers: dict[str, str]) -> str | None:
    """The client address: the first hop in X-Forwarded-For (the ALB appends the rest)."""
    forwarded = {k.lower(): v for k, v in headers.items()}.get("x-forwarded-for")
    if not forwarded:
        return None
    return forwarded.split(",")[0].strip() or None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = event.get("path", "/")
    if path == HEALTH_PATH:
        return _response(200, {"status": "healthy"})
    body = {
        "received": True,
        "method": event.get("httpMethod"),
        "path": path,
        "caller_ip": caller_ip(event.get("headers") or {}),
    }
    return _response(202, body)


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    # The ALB needs statusDescription and string headers for Lambda targets.
    return {
        "statusCode": status,
        "statusDescription": f"{status} {'OK' if status == 200 else 'Accepted'}",
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
