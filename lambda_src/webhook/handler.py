"""Webhook receiver behind the ALB (and Global Accelerator) of the ingress environment.

Answers the ALB health check, and acknowledges any other request with a JSON body that names
the caller's IP as the ALB saw it. Global Accelerator preserves the client IP, so the address the
ALB appends to `X-Forwarded-For` is the vendor's, the one to compare with their documentation.

Deployment package: this file as `handler.py` next to `staticip/{__init__,names}.py`
(`stacks/function.py`, `PACKAGED_MODULES`): the health check path is the one the stack gives
the ALB's target group.
"""

from __future__ import annotations

import json
import os
from typing import Any

from staticip import names

HEALTH_PATH = os.environ.get("HEALTH_PATH", names.HEALTH_PATH)


def caller_ip(headers: dict[str, str]) -> str | None:
    """The address the ALB received the connection from: the rightmost X-Forwarded-For entry.

    The ALB appends that address to whatever X-Forwarded-For the caller sent (ELB docs, "HTTP
    headers and your Application Load Balancer"), so every entry to its left is whatever the
    caller chose to write and proves nothing. None when the header is missing or holds no
    address (empty, or only commas and spaces).
    """
    forwarded = {k.lower(): v for k, v in headers.items()}.get("x-forwarded-for")
    if not forwarded:
        return None
    return forwarded.split(",")[-1].strip() or None


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
