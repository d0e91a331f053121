"""Reads of the consent register: a client's state for the policy, the wording to show."""

from collections import defaultdict

from django.db.models import Max, Q
from django.utils import timezone

from appointments.models import Appointment
from clients.models import Client
from core.vocabulary import SENDABLE_CHANNELS
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


def client_states(clients: list[Client], *, now=None) -> dict[int, ClientState]:
    """Everything the send policy needs about each client, read in two queries for the whole list."""
    now = now or timezone.now()
    ids = [client.pk for client in clients]
    consents: dict[int, dict] = defaultdict(dict)
    for client_id, purpose, channel, action, occurred_at in ConsentState.objects.filter(client_id__in=ids).values_list(
        "client_id", "purpose", "channel", "action", "occurred_at"
    ):
        consents[client_id][(purpose, channel)] = Grant(granted=action == Action.GRANTED, at=occurred_at)
    last_appointments = dict(
        Appointment.objects.filter(client_id__in=ids)
        .exclude(status=Appointment.Status.CANCELLED)
        .values("client_id")
        .annotate(last=Max("starts_at"))
        .values_list("client_id", "last")
    )
    rules = {}
    states = {}
    for client in clients:
        if client.salon_id not in rules:
            rules[client.salon_id] = rules_for(client.salon)
        states[client.pk] = ClientState(
            now=now,
            rules=rules[client.salon_id],
            has_phone=bool(client.phone),
            has_email=bool(client.email),
            is_erased=client.is_erased,
            is_restricted=client.is_restricted,
            is_existing_client=client.last_visit is not None,
            suppressed=frozenset(c for c in SENDABLE_CHANNELS if client.suppression_for(c)),
            consents=consents[client.pk],
            consent_requested_at=client.consent_requested_at,
            last_appointment_at=last_appointments.get(client.pk),
        )
    return states


def client_state(client: Client, *, now=None) -> ClientState:
    """Everything the send policy needs about one client."""
    return client_states([client], now=now)[client.pk]


def current_wordings(*, salon: Salon, language: str) -> dict[str, ConsentWording]:
    """The wording to show now for every purpose, in one query (see current_wording)."""
    preference = list(dict.fromkeys([language, salon.language, "en"]))
    best: dict[str, tuple] = {}
    for wording in ConsentWording.objects.filter(Q(salon=salon) | Q(salon__isnull=True), language__in=preference):
        rank = (preference.index(wording.language), 0 if wording.salon_id else 1, -wording.version)
        if wording.purpose not in best or rank < best[wording.purpose][0]:
            best[wording.purpose] = (rank, wording)
    return {purpose: wording for purpose, (_rank, wording) in best.items()}


def current_wording(*, salon: Salon, purpose: str, language: str) -> ConsentWording | None:
    """The wording to show now: the salon's newest version in that language, else the shipped one.

    Falls back to the salon's language, then English, when the language has no wording.
    """
    return current_wordings(salon=salon, language=language).get(purpose)
