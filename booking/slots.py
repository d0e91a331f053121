"""Free slots of one salon day: a pure function of hours, durations and busy times (no database).

Opening hours are wall-clock times in the salon's zone. Each opening interval is turned into two
aware instants and candidates are stepped in absolute time between them, so a DST change day
(23 or 25 hours) neither invents nor loses slots, and a service always lasts its real duration.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Slot:
    """A bookable start: `start`/`end` are aware UTC datetimes; `staff_ids_free` who can take it."""

    start: datetime
    end: datetime
    staff_ids_free: tuple[int, ...]

    def local_start(self, tz: ZoneInfo) -> datetime:
        return self.start.astimezone(tz)


def _overlaps(start: datetime, end: datetime, busy: list[Interval]) -> bool:
    # Half-open intervals: [09:00, 10:00) and [10:00, 10:30) do not overlap.
    return any(busy_start < end and start < busy_end for busy_start, busy_end in busy)


def free_slots(
    *,
    day: date,
    tz: ZoneInfo,
    hours: list[tuple[time, time]],
    closed: bool,
    duration: timedelta,
    step: timedelta,
    busy: dict[int, list[Interval]],
    staff_ids: list[int],
    now: datetime,
    min_notice: timedelta,
    horizon_end: datetime,
) -> list[Slot]:
    """Every start on `day` (salon-local) where the service fits in an opening interval and someone is free."""
    if closed or not staff_ids or duration <= timedelta(0) or step <= timedelta(0):
        return []
    earliest = now + min_notice
    found: dict[datetime, Slot] = {}
    for opens, closes in sorted(hours):
        # Compare in UTC: local arithmetic across a DST change would be off by an hour.
        start = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
        close = datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
        while start + duration <= close:
            end = start + duration
            if start >= earliest and start < horizon_end and start not in found:
                free = tuple(sid for sid in staff_ids if not _overlaps(start, end, busy.get(sid, [])))
                if free:
                    found[start] = Slot(start=start, end=end, staff_ids_free=free)
            start += step
    return [found[start] for start in sorted(found)]
