"""Personal data breach support (GDPR arts. 33-34): who may be affected, the 72-hour clock, the notices.

Who counts as affected by a breach window [since, until]: the salon's clients, not erased, whose
data was written or used in the window, i.e. any of
- the client was created or updated in the window;
- one of their appointments was created, changed or took place in the window;
- a message to them was queued or sent in the window;
- a register entry about them was recorded in the window.
A breach that exposed the whole database (a stolen backup, say) affects everyone it held: give
`since` as a date before the salon's first client and every client is listed.

The notices go through the outbox, one per client and channel, with a dedupe key built from the
salon, the window start, the client and the channel: running the notification twice sends and
charges once. The policy allows a breach notice on any channel with contact that is not
suppressed, restricted clients included, consent or not (see consents.policy).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.utils import timezone

from appointments.models import Appointment
from clients.models import Client
from consents.models import ConsentEvent
from consents.policy import decide
from consents.selectors import client_states
from core.vocabulary import SENDABLE_CHANNELS, MessageKind
from messaging.models import Message
from messaging.services import enqueue_message
from salons.models import Salon

# GDPR art. 33(1): notify the supervisory authority within 72 hours of becoming aware of the breach.
NOTIFICATION_DEADLINE = timedelta(hours=72)


@dataclass(frozen=True)
class BreachReport:
    """The clients a breach window may have exposed, and the clock that started when it was detected."""

    salon: Salon
    since: datetime
    until: datetime
    detected_at: datetime
    clients: list[Client]

    @property
    def deadline(self) -> datetime:
        """When the supervisory authority must have been told (72 hours after detection)."""
        return self.detected_at + NOTIFICATION_DEADLINE

    @property
    def count(self) -> int:
        return len(self.clients)


@dataclass(frozen=True)
class NotifyResult:
    """What `notify_affected` did: messages queued now, found already queued, and clients unreachable."""

    queued: list[Message]
    already_queued: list[Message]
    unreachable: list[Client]


def affected_clients(*, salon: Salon, since: datetime, until: datetime) -> QuerySet[Client]:
    """The salon's non-erased clients whose data the window [since, until] may have exposed (module doc)."""

    def within(*fields: str) -> Q:
        return reduce(or_, (Q(**{f"{name}__range": (since, until)}) for name in fields))

    # One subquery per source rather than joins: a client with many appointments and messages is one row.
    touched = (
        within("created_at", "updated_at")
        | Q(pk__in=Appointment.objects.filter(within("created_at", "updated_at", "starts_at"), salon=salon)
            .values("client_id"))
        | Q(pk__in=Message.objects.filter(within("created_at", "sent_at"), salon=salon).values("client_id"))
        | Q(pk__in=ConsentEvent.objects.filter(within("recorded_at"), salon=salon).values("client_id"))
    )
    return Client.objects.filter(touched, salon=salon, erased_at__isnull=True).order_by("pk")


def breach_report(
    *, salon: Salon, since: datetime, until: datetime | None = None, detected_at: datetime | None = None
) -> BreachReport:
    """List the clients a breach window may have exposed; the window ends now unless `until` is given."""
    detected_at = detected_at or timezone.now()
    until = until or detected_at
    clients = list(affected_clients(salon=salon, since=since, until=until).select_related("salon"))
    return BreachReport(salon=salon, since=since, until=until, detected_at=detected_at, clients=clients)


def dedupe_key(*, salon: Salon, since: datetime, client: Client, channel: str) -> str:
    """One notice per salon, breach (its window start, in UTC) client and channel."""
    return f"breach:{salon.pk}:{since.astimezone(UTC).isoformat()}:{client.pk}:{channel}"


def notify_affected(*, report: BreachReport, what_happened: str, contact: str) -> NotifyResult:
    """Queue a breach notice to every listed client on each channel the policy allows (GDPR art. 34).

    `what_happened` is the salon's own account of the breach and `contact` how to reach the salon;
    both go into the notice as written. Safe to run again: a notice already queued is not repeated.
    """
    queued, already, unreachable = [], [], []
    states = client_states(report.clients)
    for client in report.clients:
        channels = [
            channel for channel in sorted(SENDABLE_CHANNELS)
            if decide(states[client.pk], MessageKind.BREACH_NOTICE, channel).allowed
        ]
        if not channels:
            unreachable.append(client)
        for channel in channels:
            message = enqueue_message(
                client=client, kind=MessageKind.BREACH_NOTICE, channel=channel,
                dedupe_key=dedupe_key(salon=report.salon, since=report.since, client=client, channel=channel),
                context={"what_happened": what_happened.strip(), "contact": contact.strip()},
            )
            (queued if message.created_now else already).append(message)
    return NotifyResult(queued=queued, already_queued=already, unreachable=unreachable)
