"""Free slots of a salon day: opening hours, closed days, notice, horizon, busy staff and DST days."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from booking.slots import BusyTimes, free_slots

ROME = ZoneInfo("Europe/Rome")
HELSINKI = ZoneInfo("Europe/Helsinki")
MONDAY = date(2026, 6, 1)
ANNA, BRUNO = 1, 2


def slots(**overrides):
    """free_slots on an ordinary Monday in Rome, 09:00–18:00, 60-minute service every 30 minutes."""
    args = {
        "day": MONDAY, "tz": ROME, "hours": [(time(9), time(18))], "closed": False,
        "duration": timedelta(minutes=60), "step": timedelta(minutes=30), "busy": {}, "staff_ids": [ANNA],
        "now": datetime(2026, 5, 1, tzinfo=UTC), "min_notice": timedelta(hours=2),
        "horizon_end": datetime(2026, 7, 31, tzinfo=UTC),
    }
    return free_slots(**{**args, **overrides})


def local(day, hour, minute=0, tz=ROME):
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def starts(result, tz=ROME):
    return [s.start.astimezone(tz).strftime("%H:%M") for s in result]


def test_an_open_day_offers_every_step_that_ends_by_closing_time():
    result = slots()
    assert starts(result)[0] == "09:00"
    assert starts(result)[-1] == "17:00"
    assert len(result) == 17
    assert all(s.end - s.start == timedelta(minutes=60) for s in result)
    assert all(s.start.tzinfo is UTC for s in result)


def test_a_lunch_break_splits_the_day_and_no_service_runs_into_it():
    result = slots(hours=[(time(14), time(18)), (time(9), time(13))])
    assert starts(result) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00",
                              "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00"]


def test_a_closed_day_offers_nothing():
    assert slots(closed=True) == []


def test_no_hours_or_no_staff_offers_nothing():
    assert slots(hours=[]) == []
    assert slots(staff_ids=[]) == []


def test_nothing_sooner_than_the_minimum_notice():
    now = local(MONDAY, 10, 10).astimezone(UTC)
    assert starts(slots(now=now))[0] == "12:30"  # 10:10 + 2 h = 12:10 → the next step
    assert starts(slots(now=now, min_notice=timedelta(minutes=20)))[0] == "10:30"


def test_a_start_exactly_at_the_minimum_notice_is_offered():
    now = local(MONDAY, 10).astimezone(UTC)
    assert starts(slots(now=now))[0] == "12:00"


def test_nothing_at_or_beyond_the_horizon():
    horizon_end = local(MONDAY, 12).astimezone(UTC)
    assert starts(slots(horizon_end=horizon_end)) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert slots(horizon_end=local(MONDAY, 9).astimezone(UTC)) == []


def test_a_service_longer_than_the_remaining_day_is_not_offered():
    result = slots(duration=timedelta(hours=3), hours=[(time(9), time(13)), (time(14), time(16))])
    assert starts(result) == ["09:00", "09:30", "10:00"]  # nothing fits in the 2-hour afternoon
    assert slots(duration=timedelta(hours=10)) == []


def test_a_slot_is_offered_with_the_free_staff_member_only():
    busy = {ANNA: [(local(MONDAY, 10), local(MONDAY, 11))]}
    result = {starts([s])[0]: s.staff_ids_free for s in slots(busy=busy, staff_ids=[ANNA, BRUNO])}
    assert result["10:00"] == (BRUNO,)
    assert result["09:30"] == (BRUNO,)  # 09:30–10:30 overlaps Anna's 10:00–11:00
    assert result["11:00"] == (ANNA, BRUNO)


def test_no_slot_when_everyone_is_busy():
    both = [(local(MONDAY, 10), local(MONDAY, 11))]
    result = starts(slots(busy={ANNA: both, BRUNO: both}, staff_ids=[ANNA, BRUNO]))
    assert "09:30" not in result
    assert "10:00" not in result
    assert "10:30" not in result
    assert "09:00" in result
    assert "11:00" in result


def test_busy_intervals_are_half_open():
    busy = {ANNA: [(local(MONDAY, 9), local(MONDAY, 10)), (local(MONDAY, 11), local(MONDAY, 12))]}
    result = starts(slots(busy=busy))
    assert "10:00" in result  # 10:00–11:00 touches both appointments without overlapping
    assert "09:30" not in result
    assert "10:30" not in result
    assert "11:00" not in result


def test_a_busy_interval_one_minute_into_the_slot_blocks_it():
    busy = {ANNA: [(local(MONDAY, 10, 59), local(MONDAY, 11, 30))]}
    assert "10:00" not in starts(slots(busy=busy))


# DST in the EU: the last Sunday of March at 01:00 UTC clocks go forward, of October back.
# Rome: 02:00 → 03:00 (CET +1 / CEST +2); Helsinki: 03:00 → 04:00 (EET +2 / EEST +3).
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)
WIDE = {"now": datetime(2026, 1, 1, tzinfo=UTC), "horizon_end": datetime(2027, 1, 1, tzinfo=UTC)}


@pytest.mark.parametrize(("tz", "day", "utc_hour"), [
    (ROME, SPRING, 7), (ROME, AUTUMN, 8), (ROME, date(2026, 3, 28), 8), (ROME, date(2026, 10, 24), 7),
    (HELSINKI, SPRING, 6), (HELSINKI, AUTUMN, 7), (HELSINKI, date(2026, 3, 28), 7), (HELSINKI, date(2026, 10, 24), 6),
])
def test_opening_hours_are_wall_clock_times_on_dst_change_days(tz, day, utc_hour):
    result = slots(day=day, tz=tz, **WIDE)
    assert result[0].start == datetime.combine(day, time(utc_hour), tzinfo=UTC)
    assert starts(result, tz)[0] == "09:00"
    assert starts(result, tz)[-1] == "17:00"


@pytest.mark.parametrize("tz", [ROME, HELSINKI])
@pytest.mark.parametrize("day", [SPRING, AUTUMN])
def test_a_night_time_change_neither_creates_nor_loses_daytime_slots(tz, day):
    ordinary = slots(day=MONDAY, tz=tz, **WIDE)
    change_day = slots(day=day, tz=tz, **WIDE)
    assert starts(change_day, tz) == starts(ordinary, tz)
    assert all(s.end - s.start == timedelta(minutes=60) for s in change_day)


def test_night_hours_across_the_spring_change_skip_the_missing_hour():
    result = slots(day=SPRING, hours=[(time(0), time(6))], step=timedelta(hours=1), min_notice=timedelta(0), **WIDE)
    assert starts(result) == ["00:00", "01:00", "03:00", "04:00", "05:00"]  # 02:00 never happens in Rome


def test_night_hours_across_the_autumn_change_count_the_repeated_hour_twice():
    result = slots(day=AUTUMN, tz=HELSINKI, hours=[(time(0), time(6))], step=timedelta(hours=1), **WIDE)
    assert starts(result, HELSINKI) == ["00:00", "01:00", "02:00", "03:00", "03:00", "04:00", "05:00"]
    assert len({s.start for s in result}) == 7  # two different instants both shown as 03:00


def test_a_busy_interval_in_utc_blocks_the_right_local_slot_on_a_dst_day():
    # 07:00–08:00 UTC is 09:00–10:00 in Rome on the spring change day (it would be 08:00 the day before).
    busy = {ANNA: [(datetime(2026, 3, 29, 7, tzinfo=UTC), datetime(2026, 3, 29, 8, tzinfo=UTC))]}
    result = starts(slots(day=SPRING, busy=busy, **WIDE))
    assert "09:00" not in result
    assert "09:30" not in result
    assert "10:00" in result


# --- the merged busy times against the plain definition of overlap ------------------------------------------

MINUTE = timedelta(minutes=1)
BASE = datetime(2026, 6, 1, 7, tzinfo=UTC)
# Busy intervals on a 10-hour day, in minutes: overlapping, touching, nested, out of order.
intervals_in_minutes = st.lists(st.tuples(st.integers(0, 600), st.integers(1, 120)), max_size=12)


def as_intervals(pairs):
    return [(BASE + start * MINUTE, BASE + (start + length) * MINUTE) for start, length in pairs]


@settings(max_examples=300, deadline=None)
@given(busy=intervals_in_minutes, start=st.integers(-30, 630), length=st.integers(1, 180))
@example(busy=[(60, 60)], start=120, length=30)  # touching at the end: free
@example(busy=[(60, 60)], start=30, length=30)  # touching at the start: free
@example(busy=[(60, 60), (120, 60)], start=110, length=30)  # across two touching ones: busy
@example(busy=[(0, 300), (60, 10)], start=200, length=10)  # inside a long one that a short one follows
def test_busy_times_overlap_exactly_when_some_interval_does(busy, start, length):
    intervals = as_intervals(busy)
    begin, end = BASE + start * MINUTE, BASE + (start + length) * MINUTE
    plainly = any(busy_start < end and begin < busy_end for busy_start, busy_end in intervals)
    assert BusyTimes(intervals).overlaps(begin, end) == plainly


@settings(max_examples=100, deadline=None)
@given(anna=intervals_in_minutes, bruno=intervals_in_minutes)
def test_slots_from_merged_busy_times_are_those_from_the_plain_intervals(anna, bruno):
    busy = {ANNA: as_intervals(anna), BRUNO: as_intervals(bruno)}
    merged = {staff_id: BusyTimes(intervals) for staff_id, intervals in busy.items()}
    from_lists = slots(busy=busy, staff_ids=[ANNA, BRUNO], min_notice=timedelta(0))
    assert slots(busy=merged, staff_ids=[ANNA, BRUNO], min_notice=timedelta(0)) == from_lists
    for slot in from_lists:  # and each slot's free people are free by the plain definition
        for staff_id in (ANNA, BRUNO):
            plainly_busy = any(s < slot.end and slot.start < e for s, e in busy[staff_id])
            assert (staff_id in slot.staff_ids_free) == (not plainly_busy)


def test_an_empty_busy_interval_blocks_nothing():
    # As the database's exclusion constraint sees it: an empty time range overlaps no other.
    at = BASE + 60 * MINUTE
    assert not BusyTimes([(at, at)]).overlaps(at - 30 * MINUTE, at + 30 * MINUTE)
