"""Retention (SPEC §7): drop dead consent links, blank old message texts, propose dormant clients for erasure."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from appointments.models import Appointment
from clients.models import Client
from consents.models import ConsentLink
from core.vocabulary import add_months
from messaging.models import Message
from salons.models import Salon

# An expired or revoked link opens nothing; after this grace it is only a token hash to leak.
DEAD_LINK_DAYS = 30

# Messages still on their way keep their text whatever their age: the worker would send it.
IN_FLIGHT = (Message.Status.PENDING, Message.Status.HELD_NO_CREDIT, Message.Status.SENDING)


@dataclass
class SalonPurge:
    """What retention did (or, in a dry run, would do) in one salon."""

    salon: Salon
    links_deleted: int = 0
    messages_blanked: int = 0
    erasure_proposals: list[int] = field(default_factory=list)  # client ids


@dataclass
class PurgeReport:
    now: datetime
    dry_run: bool
    salons: list[SalonPurge] = field(default_factory=list)


def dead_links(*, salon: Salon, now: datetime):
    """Consent links expired or revoked more than DEAD_LINK_DAYS before `now`."""
    cutoff = now - timedelta(days=DEAD_LINK_DAYS)
    return ConsentLink.objects.filter(salon=salon).filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff))


def messages_past_retention(*, salon: Salon, now: datetime):
    """The salon's messages older than its `message_retention_months` that still hold a text."""
    cutoff = add_months(now, -salon.message_retention_months)
    return (
        Message.objects.filter(salon=salon, created_at__lt=cutoff)
        .exclude(status__in=IN_FLIGHT)
        .filter(~Q(body="") | ~Q(subject=""))
    )


def erasure_candidates(*, salon: Salon, now: datetime):
    """Clients not erased with no visit for the salon's `erasure_proposal_months`, nor any booking since.

    Never visited counts from when the client was added.
    """
    months = salon.erasure_proposal_months
    cutoff = add_months(now, -months)
    cutoff_day = add_months(now.astimezone(ZoneInfo(salon.time_zone)).date(), -months)
    recent_booking = Appointment.objects.filter(client=OuterRef("pk"), starts_at__gte=cutoff)
    return (
        Client.objects.filter(salon=salon, erased_at__isnull=True)
        .filter(Q(last_visit__lt=cutoff_day) | Q(last_visit__isnull=True, created_at__lt=cutoff))
        .exclude(Exists(recent_booking))
    )


def purge(*, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Apply retention in every salon, set-based per salon; with dry_run, only count what would change.

    Proposes erasures but erases nothing: erasure is a decision for the salon.
    """
    now = now or timezone.now()
    report = PurgeReport(now=now, dry_run=dry_run)
    for salon in Salon.objects.order_by("pk"):
        links = dead_links(salon=salon, now=now)
        messages = messages_past_retention(salon=salon, now=now)
        proposals = list(erasure_candidates(salon=salon, now=now).order_by("pk").values_list("pk", flat=True))
        if dry_run:
            done = SalonPurge(salon, links.count(), messages.count(), proposals)
        else:
            with transaction.atomic():
                # Nothing references a consent link, so this is one DELETE; the register is untouched.
                deleted = links.delete()[1].get(ConsentLink._meta.label, 0)
                # One UPDATE; updated_at stays, so the row still says when its outcome last changed.
                blanked = messages.update(body="", subject="")
            done = SalonPurge(salon, deleted, blanked, proposals)
        report.salons.append(done)
    return report
