"""Where a message's status may go next, and the only functions that change it.

A step the table has not is a bug where one row is moved (it raises), and a row that lost a race
where rows are moved together (the conditional UPDATE leaves it and the count says so).
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from .models import Message

Status = Message.Status

# from → to, and who takes each step.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset({
        Status.SENDING, Status.BLOCKED, Status.HELD_NO_CREDIT, Status.EXPIRED,  # claim
        # A report for a send put back for a retry: the provider took it after all.
        Status.SENT, Status.DELIVERED, Status.UNDELIVERED, Status.FAILED,
    }),
    Status.SENDING: frozenset({
        Status.SENT,  # record_sent, or a report that beats it
        Status.PENDING, Status.FAILED, Status.UNKNOWN,  # record_failure (retry, refusal, no answer); sweep_outbox
        Status.DELIVERED, Status.UNDELIVERED,  # a report that beats record_sent
    }),
    Status.UNKNOWN: frozenset({Status.SENT, Status.DELIVERED, Status.UNDELIVERED, Status.FAILED}),  # a report
    Status.SENT: frozenset({Status.DELIVERED, Status.UNDELIVERED, Status.FAILED}),  # a report
    Status.HELD_NO_CREDIT: frozenset({Status.PENDING, Status.EXPIRED}),  # release_held, expire_held
    Status.BLOCKED: frozenset(),
    Status.EXPIRED: frozenset(),
    Status.DELIVERED: frozenset(),
    Status.UNDELIVERED: frozenset(),
    Status.FAILED: frozenset(),
}
# What a new row starts as: enqueue_message's decision, allowed now or not.
INITIAL = frozenset({Status.PENDING, Status.BLOCKED})
# Where a message ends without having reached the client (or without knowing whether it did).
NOT_ARRIVED = frozenset({Status.FAILED, Status.UNDELIVERED, Status.EXPIRED, Status.UNKNOWN})
# How far along its way a message is: no step goes backwards but the retry (sending → pending), and a
# delivery report, arriving in any order, moves a message in this order only forward.
PROGRESS = {
    Status.PENDING: 0, Status.SENDING: 1, Status.UNKNOWN: 1, Status.SENT: 2,
    Status.DELIVERED: 3, Status.UNDELIVERED: 3, Status.FAILED: 3,
}


class InvalidTransition(Exception):
    """A status change the table does not allow: a programming error, never a normal outcome."""


def allowed(current: str, to: str) -> bool:
    """Whether the table has the step current → to."""
    return to in TRANSITIONS.get(current, ())


def begin(message: Message, status: str) -> None:
    """Give a row not yet saved its first status (pending, or blocked by the policy)."""
    if not message._state.adding or status not in INITIAL:
        raise InvalidTransition(f"a new message starts {' or '.join(sorted(INITIAL))}, not {status}")
    message.status = status


def move(message: Message, to: str) -> None:
    """One message takes a step in memory; the caller holds its row locked and saves it with save()/save_all()."""
    if not allowed(message.status, to):
        raise InvalidTransition(f"message #{message.pk}: {message.status} → {to} is not a step of the outbox")
    message.status = to


def save(message: Message, fields: Iterable[str]) -> None:
    """Write one moved message's status with the other fields that changed with it (auto_now included)."""
    message.save(update_fields=["status", *fields])


def save_all(messages: list[Message], fields: Iterable[str]) -> None:
    """Write moved messages' statuses and other fields in one query (bulk_update: no auto_now)."""
    Message.objects.bulk_update(messages, ["status", *fields])


def move_rows(rows: QuerySet, source: str, to: str, **fields) -> int:
    """Move those of these rows still in `source` to `to`, in one UPDATE; returns how many moved.

    The condition is the lock: a row another worker or a report moved first is left alone.
    """
    if not allowed(source, to):
        raise InvalidTransition(f"{source} → {to} is not a step of the outbox")
    return rows.filter(status=source).update(status=to, **fields)
