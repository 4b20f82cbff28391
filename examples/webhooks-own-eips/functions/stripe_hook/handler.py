"""Acknowledge a vendor's webhook: the ALB invokes this with the HTTP request as the event."""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 202,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"received": True, "path": event.get("path")}),
    }
