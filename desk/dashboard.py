"""Selectors for the admin dashboard and the credits banner.

Each takes the salon and `now` explicitly and computes its figure with one aggregate query,
whatever the number of clients or messages; the template tag in `salons.templatetags.dashboard`
turns them into charts.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from clients.models import Client
from consents.models import Action, ConsentEvent, ConsentState
from core.vocabulary import LAPSING_PURPOSES, SENDABLE_CHANNELS, Purpose, add_months
from credits.models import CreditAccount, CreditEntry
from messaging.models import Message
from salons.models import Salon

# Consent is shown for the channels messages go out on; phone-call consent is rare and never used to send.
DASHBOARD_CHANNELS = tuple(channel.value for channel in SENDABLE_CHANNELS)
OPT_IN_PURPOSES = (Purpose.SERVICE.value, Purpose.MARKETING.value)
# Grants of these purposes lapse after the salon's validity period (consents.policy.EXPIRING_PURPOSES).

# Where a message ended up, in the order the dashboard shows them; pending/sending are still travelling.
OUTCOMES = tuple(
    status.value
    for status in (
        Message.Status.SENT,
        Message.Status.DELIVERED,
        Message.Status.BLOCKED,
        Message.Status.HELD_NO_CREDIT,
        Message.Status.FAILED,
        Message.Status.UNDELIVERED,
        Message.Status.EXPIRED,
        Message.Status.UNKNOWN,
    )
)
IN_PROGRESS = (Message.Status.PENDING.value, Message.Status.SENDING.value)


@dataclass(frozen=True)
class Share:
    """`count` out of `total`, with the percentage rounded half up (None when there is no total)."""

    count: int
    total: int

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return (200 * self.count + self.total) // (2 * self.total)


@dataclass(frozen=True)
class CreditBalance:
    """A salon's credit balance as the header shows it."""

    salon_id: int
    salon_name: str
    balance: int
    low_balance_threshold: int

    @property
    def is_low(self) -> bool:
        return self.balance < self.low_balance_threshold


@dataclass(frozen=True)
class ConsentCoverage:
    """Of the salon's clients (erased ones left out): who gave data processing, who opted in where."""

    clients: int
    data_processing: Share
    opt_ins: dict[tuple[str, str], Share]  # (purpose, channel) -> share granted and not lapsed


@dataclass(frozen=True)
class OptInPoint:
    """The share of today's clients who had opted in on each channel at a moment."""

    at: datetime
    shares: dict[str, Share]  # channel -> share


def credit_balances_for(user) -> list[CreditBalance]:
    """The balance of every salon the user is a member of, in one query; superusers see only their own salons.

    A salon with no credit account yet shows 0 against the default threshold (it cannot send paid messages).
    """
    default_threshold = CreditAccount._meta.get_field("low_balance_threshold").default
    rows = (
        Salon.objects.filter(memberships__user=user)
        .order_by("name", "pk")
        .values_list("pk", "name", "credit_account__balance", "credit_account__low_balance_threshold")
    )
    return [
        CreditBalance(
            salon_id=pk, salon_name=name, balance=balance or 0,
            low_balance_threshold=default_threshold if threshold is None else threshold,
        )
        for pk, name, balance, threshold in rows
    ]


def lapse_cutoff(salon: Salon, moment: datetime) -> datetime | None:
    """Marketing grants given at or before this moment had lapsed by `moment`; None when they never lapse.

    Mirrors the policy's "given + validity <= now" to within the days by which months differ in length.
    """
    if not salon.consent_validity_months:
        return None
    return add_months(moment, -salon.consent_validity_months)


def consent_coverage(salon: Salon, *, now: datetime) -> ConsentCoverage:
    """Share of the salon's clients with data processing granted, and with service/marketing per channel.

    Two aggregate queries: the clients, and the current consent states counted per purpose and channel.
    A lapsed marketing grant does not count: the policy would not send on it.
    """
    clients = Client.objects.filter(salon=salon, erased_at__isnull=True).count()
    cutoff = lapse_cutoff(salon, now)
    not_lapsed = Q() if cutoff is None else Q(occurred_at__gt=cutoff)
    counts = {
        "data_processing": Count("pk", filter=Q(purpose=Purpose.DATA_PROCESSING, channel="")),
    }
    for purpose in OPT_IN_PURPOSES:
        for channel in DASHBOARD_CHANNELS:
            fresh = not_lapsed if purpose in LAPSING_PURPOSES else Q()
            counts[f"{purpose}:{channel}"] = Count("pk", filter=Q(purpose=purpose, channel=channel) & fresh)
    granted = ConsentState.objects.filter(
        salon=salon, client__erased_at__isnull=True, action=Action.GRANTED
    ).aggregate(**counts)
    return ConsentCoverage(
        clients=clients,
        data_processing=Share(granted["data_processing"], clients),
        opt_ins={
            (purpose, channel): Share(granted[f"{purpose}:{channel}"], clients)
            for purpose in OPT_IN_PURPOSES
            for channel in DASHBOARD_CHANNELS
        },
    )


def message_outcomes(salon: Salon, *, now: datetime, days: int = 30) -> dict[str, int]:
    """How many of the salon's messages created in the last `days` days are in each status (one query)."""
    counts = dict.fromkeys(Message.Status.values, 0)
    rows = (
        Message.objects.filter(salon=salon, created_at__gt=now - timedelta(days=days), created_at__lte=now)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("status", "n")
    )
    counts.update(rows)
    return counts


def credits_used_per_day(salon: Salon, *, now: datetime, days: int = 30) -> list[tuple[date, int]]:
    """Credits used on each of the last `days` days in the salon's time zone, today last: charges minus refunds.

    One query grouped by local day. A refund of an older charge can make a day negative.
    """
    tz = ZoneInfo(salon.time_zone)
    first = now.astimezone(tz).date() - timedelta(days=days - 1)
    rows = (
        CreditEntry.objects.filter(
            salon=salon,
            kind__in=[CreditEntry.Kind.CHARGE, CreditEntry.Kind.REFUND],
            created_at__gte=datetime.combine(first, time.min, tzinfo=tz),
            created_at__lte=now,
        )
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("day", "total")
    )
    used = {day: -total for day, total in rows}  # charges are negative amounts in the ledger
    return [(first + timedelta(days=n), used.get(first + timedelta(days=n), 0)) for n in range(days)]


def marketing_opt_in_by_week(
    salon: Salon, *, now: datetime, weeks: int = 8, clients: int | None = None
) -> list[OptInPoint]:
    """Share of today's clients (erased left out) with marketing granted per channel, at the end of each week.

    The points are `now` and each week before it. The state at a moment is rebuilt from the register: ONE
    query reads the salon's marketing entries up to now in register order and they are folded in Python.
    That costs a row per marketing entry (a few per client), which is fine for a salon's address book;
    a salon with hundreds of thousands of entries would want weekly snapshots instead.
    The denominator is today's address book because imports backdate consents before the client rows exist.
    """
    if clients is None:
        clients = Client.objects.filter(salon=salon, erased_at__isnull=True).count()
    points = [now - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    events = (
        ConsentEvent.objects.filter(
            salon=salon, purpose=Purpose.MARKETING, channel__in=DASHBOARD_CHANNELS,
            client__erased_at__isnull=True, occurred_at__lte=now,
        )
        .order_by("occurred_at", "seq")  # the order ConsentState follows: latest occurred_at, then seq
        .values_list("client_id", "channel", "action", "occurred_at")
    )
    state: dict[tuple[int, str], tuple[bool, datetime]] = {}
    result = []
    pending = iter(events.iterator(chunk_size=2000))
    upcoming = next(pending, None)
    for point in points:
        while upcoming is not None and upcoming[3] <= point:
            client_id, channel, action, occurred_at = upcoming
            state[(client_id, channel)] = (action == Action.GRANTED, occurred_at)
            upcoming = next(pending, None)
        cutoff = lapse_cutoff(salon, point)
        granted = dict.fromkeys(DASHBOARD_CHANNELS, 0)
        for (_client_id, channel), (is_granted, at) in state.items():
            if is_granted and (cutoff is None or at > cutoff):
                granted[channel] += 1
        result.append(OptInPoint(at=point, shares={ch: Share(n, clients) for ch, n in granted.items()}))
    return result


@dataclass(frozen=True)
class Dashboard:
    """Every figure of a salon's dashboard at `now`."""

    salon: Salon
    now: datetime
    coverage: ConsentCoverage
    outcomes: dict[str, int]
    credits_per_day: list[tuple[date, int]]
    marketing_by_week: list[OptInPoint]


def dashboard_for(salon: Salon, *, now: datetime, days: int = 30, weeks: int = 8) -> Dashboard:
    """All the dashboard's figures for one salon, in five queries."""
    coverage = consent_coverage(salon, now=now)
    return Dashboard(
        salon=salon,
        now=now,
        coverage=coverage,
        outcomes=message_outcomes(salon, now=now, days=days),
        credits_per_day=credits_used_per_day(salon, now=now, days=days),
        marketing_by_week=marketing_opt_in_by_week(salon, now=now, weeks=weeks, clients=coverage.clients),
    )


def dashboards_for(user, *, now: datetime) -> list[Dashboard]:
    """The dashboard of each salon the staff user belongs to, by name (none for a superuser without a salon)."""
    salons = Salon.objects.filter(memberships__user=user).order_by("name", "pk")
    return [dashboard_for(salon, now=now) for salon in salons]
