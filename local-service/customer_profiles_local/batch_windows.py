"""The time windows an integration workflow ingests, one step each."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from customer_profiles_local.errors import BadRequest

WINDOW_MONTHS = 2
DEFAULT_HISTORY_MONTHS = 12

Window = tuple[dt.datetime, dt.datetime]


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` shifted by whole calendar months, the day clamped to the target month's length."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def workflow_windows(appflow: dict[str, Any], now: dt.datetime, path: str) -> list[Window]:
    """
    One window per ``Batches`` entry; without batches, two-month windows (the documented default).

    The default range ends now and starts at the Scheduled trigger's ``FirstExecutionFrom`` when given,
    else twelve months back (six steps).
    """
    batches = appflow.get("Batches")
    if batches:
        for number, batch in enumerate(batches, start=1):
            if batch["StartTime"] >= batch["EndTime"]:
                raise BadRequest(f"{path}.Batches.{number}.StartTime must be before its EndTime")
        return [(batch["StartTime"], batch["EndTime"]) for batch in batches]
    end = now.replace(microsecond=0)
    trigger = appflow["FlowDefinition"]["TriggerConfig"]
    first = ((trigger.get("TriggerProperties") or {}).get("Scheduled") or {}).get("FirstExecutionFrom")
    if first and first >= end:
        raise BadRequest(
            f"{path}.FlowDefinition.TriggerConfig.TriggerProperties.Scheduled.FirstExecutionFrom must be in the past"
        )
    start = first or add_months(end, -DEFAULT_HISTORY_MONTHS)
    windows: list[Window] = []
    while (lower := add_months(start, WINDOW_MONTHS * len(windows))) < end:
        windows.append((lower, min(add_months(start, WINDOW_MONTHS * (len(windows) + 1)), end)))
    return windows
