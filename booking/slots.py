"""Free slots of one salon day: a pure function of hours, durations and busy times (no database).

Opening hours are wall-clock times in the salon's zone. Each opening interval is turned into two
aware instants and candidates are stepped in absolute time between them, so a DST change day
(23 or 25 hours) neither invents nor loses slots, and a service always lasts its real duration.
"""

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]


class BusyTimes:
    """One person's busy intervals, merged and sorted once, so that each overlap check is a bisection.

    Half-open intervals: [09:00, 10:00) and [10:00, 10:30) touch without overlapping; merged, they are
    [09:00, 10:30), which blocks exactly what the two blocked.
    """

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Iterable[Interval] = ()):
        starts: list[datetime] = []
        ends: list[datetime] = []
        for start, end in sorted(intervals):
            if end <= start:
                continue  # empty: blocks nothing
            if starts and start <= ends[-1]:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        self.starts, self.ends = starts, ends

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) meets any busy time. Merged intervals are disjoint and sorted, so their ends
        are sorted too: only the last one starting before `end` can reach past `start`."""
        before_end = bisect_left(self.starts, end)
        return before_end > 0 and self.ends[before_end - 1] > start


@dataclass(frozen=True)
class Slot:
    """A bookable start: `start`/`end` are aware UTC datetimes; `staff_ids_free` who can take it."""

    start: datetime
    end: datetime
    staff_ids_free: tuple[int, ...]

    def local_start(self, tz: ZoneInfo) -> datetime:
        return self.start.astimezone(tz)


def free_slots(
    *,
    day: date,
    tz: ZoneInfo,
    hours: list[tuple[time, time]],
    closed: bool,
    duration: timedelta,
    step: timedelta,
    busy: Mapping[int, BusyTimes | Iterable[Interval]],
    staff_ids: list[int],
    now: datetime,
    min_notice: timedelta,
    horizon_end: datetime,
) -> list[Slot]:
    """Every start on `day` (salon-local) where the service fits in an opening interval and someone is free.

    `busy` holds each person's busy intervals, as BusyTimes (built once for many days) or plain intervals.
    """
    if closed or not staff_ids or duration <= timedelta(0) or step <= timedelta(0):
        return []
    busy_times = {sid: times if isinstance(times, BusyTimes) else BusyTimes(times)
                  for sid in staff_ids for times in [busy.get(sid, ())]}
    earliest = now + min_notice
    found: dict[datetime, Slot] = {}
    for opens, closes in sorted(hours):
        # Compare in UTC: local arithmetic across a DST change would be off by an hour.
        start = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
        close = datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
        while start + duration <= close:
            end = start + duration
            if start >= earliest and start < horizon_end and start not in found:
                free = tuple(sid for sid in staff_ids if not busy_times[sid].overlaps(start, end))
                if free:
                    found[start] = Slot(start=start, end=end, staff_ids_free=free)
            start += step
    return [found[start] for start in sorted(found)]
