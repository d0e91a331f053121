"""A message's status changes only through messaging.transitions, and only along its table."""

import pytest
from django.db import transaction
from django.utils import timezone

from consents.policy import MessageKind
from messaging import transitions
from messaging.models import Message
from messaging.transitions import PROGRESS, TRANSITIONS, InvalidTransition
from messaging.webhooks import TWILIO_STATUS
from tests.factories import ClientFactory

Status = Message.Status
EDGES = sorted((source, to) for source, targets in TRANSITIONS.items() for to in targets)
NOT_EDGES = sorted((source, to) for source in Status for to in Status if (source, to) not in EDGES)


# The table.

def test_the_table_names_every_status_and_only_statuses():
    assert set(TRANSITIONS) == set(Status)
    assert set().union(*TRANSITIONS.values()) <= set(Status)


def test_no_step_goes_backwards_but_the_retry():
    backwards = [(source, to) for source, to in EDGES
                 if source in PROGRESS and to in PROGRESS and PROGRESS[to] < PROGRESS[source]]
    assert backwards == [(Status.SENDING, Status.PENDING)]


@pytest.mark.parametrize("current", list(Status))
def test_a_delivery_report_moves_a_message_only_forward(current):
    # The rule the webhooks applied with their own rank table before: forward, and never from a status not ranked.
    for reported in set(TWILIO_STATUS.values()):
        assert transitions.allowed(current, reported) == (PROGRESS.get(current, 99) < PROGRESS[reported])


@pytest.mark.parametrize(("source", "to"), EDGES)
def test_each_step_applies_in_memory(source, to):
    message = Message(status=source)
    transitions.move(message, to)
    assert message.status == to


@pytest.mark.parametrize(("source", "to"), NOT_EDGES)
def test_a_step_not_in_the_table_raises(source, to):
    message = Message(status=source)
    with pytest.raises(InvalidTransition):
        transitions.move(message, to)
    assert message.status == source


@pytest.mark.parametrize(("source", "to"), [("bogus", Status.PENDING), (Status.PENDING, "bogus")])
def test_an_unknown_status_raises(source, to):
    with pytest.raises(InvalidTransition):
        transitions.move(Message(status=source), to)


def test_a_new_message_starts_pending_or_blocked_only():
    for status in (Status.PENDING, Status.BLOCKED):
        message = Message()
        transitions.begin(message, status)
        assert message.status == status
    with pytest.raises(InvalidTransition):
        transitions.begin(Message(), Status.SENT)


# Rows in the database: one message in each status.

@pytest.fixture
def one_of_each(salon):
    client = ClientFactory(salon=salon)
    Message.objects.bulk_create(
        Message(salon=salon, client=client, kind=MessageKind.APPOINTMENT_CONFIRMATION, channel="sms", language="en",
                body="Hello", status=status, dedupe_key=f"transitions:{status}")
        for status in Status
    )
    return {m.status: m for m in Message.objects.all()}


def statuses():
    return dict(Message.objects.values_list("dedupe_key", "status"))


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "to"), EDGES)
def test_each_step_applies_to_a_locked_row(one_of_each, source, to):
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=one_of_each[source].pk)
        transitions.move(locked, to)
        transitions.save(locked, ["updated_at"])
    assert Message.objects.get(pk=locked.pk).status == to


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "to"), EDGES)
def test_each_step_applies_to_rows_in_one_update_that_counts_them(one_of_each, source, to,
                                                                  django_assert_num_queries):
    before = statuses()
    with django_assert_num_queries(1):
        moved = transitions.move_rows(Message.objects.all(), source, to, updated_at=timezone.now())
    assert moved == 1  # only the row in `source`; the others are left as they were
    assert statuses() == {**before, f"transitions:{source}": to}


@pytest.mark.django_db
def test_rows_that_left_the_source_first_are_not_moved(one_of_each):
    sending = one_of_each[Status.SENDING]
    assert transitions.move_rows(Message.objects.filter(pk=sending.pk), Status.SENDING, Status.SENT) == 1
    # A second worker, or a report that arrived first: the row is no longer `sending`, nothing happens.
    assert transitions.move_rows(Message.objects.filter(pk=sending.pk), Status.SENDING, Status.UNKNOWN) == 0
    assert Message.objects.get(pk=sending.pk).status == Status.SENT


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "to"), [(Status.SENT, Status.PENDING), (Status.DELIVERED, Status.FAILED)])
def test_rows_cannot_be_moved_along_a_step_not_in_the_table(one_of_each, source, to, django_assert_num_queries):
    before = statuses()
    with django_assert_num_queries(0), pytest.raises(InvalidTransition):
        transitions.move_rows(Message.objects.all(), source, to)
    assert statuses() == before


@pytest.mark.django_db
def test_a_saved_message_cannot_begin_again(one_of_each):
    with pytest.raises(InvalidTransition):
        transitions.begin(one_of_each[Status.PENDING], Status.PENDING)
