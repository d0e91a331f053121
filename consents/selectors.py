"""Reads of the consent register: a client's state for the policy, the wording to show."""

from django.db.models import Max, Q
from django.utils import timezone

from appointments.models import Appointment
from clients.models import Client
from salons.models import Salon

from .models import Action, ConsentState, ConsentWording
from .policy import ClientState, Grant, SalonRules


def rules_for(salon: Salon) -> SalonRules:
    """The salon settings the policy honours."""
    return SalonRules(
        default_transactional_channels=frozenset(salon.default_transactional_channels),
        consent_request_cooldown_days=salon.consent_request_cooldown_days,
        consent_validity_months=salon.consent_validity_months,
        email_soft_opt_in=salon.email_soft_opt_in,
    )


def client_state(client: Client, *, now=None) -> ClientState:
    """Everything the send policy needs about a client, read in two queries."""
    consents = {
        (purpose, channel): Grant(granted=action == Action.GRANTED, at=occurred_at)
        for purpose, channel, action, occurred_at in ConsentState.objects.filter(client=client).values_list(
            "purpose", "channel", "action", "occurred_at"
        )
    }
    last_appointment_at = (
        Appointment.objects.filter(client=client)
        .exclude(status=Appointment.Status.CANCELLED)
        .aggregate(last=Max("starts_at"))["last"]
    )
    return ClientState(
        now=now or timezone.now(),
        rules=rules_for(client.salon),
        has_phone=bool(client.phone),
        has_email=bool(client.email),
        is_erased=client.is_erased,
        is_restricted=client.is_restricted,
        is_existing_client=client.last_visit is not None,
        suppressed=frozenset(c for c in ("sms", "email") if client.suppression_for(c)),
        consents=consents,
        consent_requested_at=client.consent_requested_at,
        last_appointment_at=last_appointment_at,
    )


def current_wording(*, salon: Salon, purpose: str, language: str) -> ConsentWording | None:
    """The wording to show now: the salon's newest version in that language, else the shipped one.

    Falls back to the salon's language, then English, when the language has no wording.
    """
    preference = list(dict.fromkeys([language, salon.language, "en"]))
    candidates = ConsentWording.objects.filter(
        Q(salon=salon) | Q(salon__isnull=True), purpose=purpose, language__in=preference
    )
    best = None
    for wording in candidates:
        rank = (
            preference.index(wording.language),
            0 if wording.salon_id else 1,
            -wording.version,
        )
        if best is None or rank < best[0]:
            best = (rank, wording)
    return best[1] if best else None
