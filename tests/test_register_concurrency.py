"""Parallel appends to one salon's register on PostgreSQL never fork or break the chain."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from consents.integrity import verify_register
from consents.models import ConsentEvent, ConsentState, Source
from consents.selectors import current_wording
from consents.services import ConsentChange, record_consent
from tests.factories import ClientFactory, SalonFactory
from tests.markers import RACE

pytestmark = RACE

WORKERS = 8
APPENDS_PER_WORKER = 25


def test_parallel_writers_keep_one_gapless_chain_per_salon():
    salon = SalonFactory()
    clients = [ClientFactory(salon=salon) for _ in range(WORKERS)]
    wording = current_wording(salon=salon, purpose="marketing", language="en")
    start = threading.Barrier(WORKERS)

    def writer(client):
        try:
            start.wait()
            for i in range(APPENDS_PER_WORKER):
                record_consent(client=client, source=Source.FORM_LINK,
                               changes=[ConsentChange("marketing", i % 2 == 0, "sms", wording)])
        finally:
            connection.close()  # each thread had its own PostgreSQL session

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(writer, clients))

    seqs = list(ConsentEvent.objects.filter(salon=salon).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WORKERS * APPENDS_PER_WORKER + 1))
    check = verify_register(salon)
    assert check.ok, check.problem
    # Each client's last append (i = 24) was a grant; the state agrees.
    assert ConsentState.objects.filter(salon=salon, action="granted").count() == WORKERS
