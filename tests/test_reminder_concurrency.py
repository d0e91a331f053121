"""Two send_reminders runs at once on PostgreSQL (two beat nodes) queue each reminder once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connection

from messaging.models import Message
from outreach.appointments import send_reminders
from outreach.credits import top_up
from tests.factories import AppointmentFactory, ClientFactory, SalonFactory
from tests.markers import RACE

pytestmark = RACE
ROME = ZoneInfo("Europe/Rome")


def test_two_concurrent_runs_queue_each_reminder_once():
    salon = SalonFactory(time_zone="Europe/Rome")
    top_up(salon=salon, amount=1000)
    appointments = [AppointmentFactory(client=ClientFactory(salon=salon),
                                       starts_at=datetime(2030, 3, 5, 15, 0, tzinfo=ROME)) for _ in range(60)]
    now = datetime(2030, 3, 4, 15, 5, tzinfo=ROME)
    start = threading.Barrier(2)

    def run(_):
        try:
            start.wait()
            return send_reminders(now=now)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(run, range(2)))

    reminders = Message.objects.filter(kind="appointment_reminder")
    assert reminders.count() == len(appointments)
    assert set(reminders.values_list("appointment", flat=True)) == {a.pk for a in appointments}
    assert sum(r.queued for r in runs) == len(appointments)  # each queued by exactly one of the runs
