"""EventBridge schedules (`rate(...)`, `cron(...)`) as the scheduled checks use them: the ENI
guard's and the egress canary's. What a schedule means for their alarms' period is derived here
once (and `staticip cost` counts the canary's runs from that period)."""

from __future__ import annotations

import re

DEFAULT_SCHEDULE = "rate(5 minutes)"
#: CloudWatch wants an alarm's evaluation window (period x periods) within one day; the alarms
#: use two periods, so a period is at most half a day.
MAX_ALARM_PERIOD_SECONDS = 43_200
#: What a `cron(...)` schedule counts as: its interval is not derived here.
CRON_INTERVAL_SECONDS = 3600
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"rate\(([1-9]\d*) (minute|hour|day)(s?)\)")
_CRON = re.compile(r"cron\([^()]+\)")


def is_schedule(text: str) -> bool:
    """An expression EventBridge accepts: `cron(...)`, or `rate(N unit)` with the singular unit
    for 1 and the plural otherwise (EventBridge refuses `rate(1 minutes)`)."""
    if _CRON.fullmatch(text):
        return True
    rate = _RATE.fullmatch(text)
    return bool(rate) and (rate.group(1) == "1") == (rate.group(3) == "")


def interval_seconds(schedule: str) -> int:
    """Seconds between two runs: exact for `rate(...)`, `CRON_INTERVAL_SECONDS` for `cron`."""
    rate = _RATE.fullmatch(schedule.strip())
    return int(rate.group(1)) * _UNIT_SECONDS[rate.group(2)] if rate else CRON_INTERVAL_SECONDS


def alarm_period_seconds(schedule: str) -> int:
    """The alarms' period: the schedule's interval, capped at `MAX_ALARM_PERIOD_SECONDS`."""
    return min(interval_seconds(schedule), MAX_ALARM_PERIOD_SECONDS)
