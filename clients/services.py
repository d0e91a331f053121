"""The functions that create and change clients. Views, admin and commands call these."""

from django.db import transaction

from core.contacts import normalise_email, parse_phone
from core.vocabulary import Channel, add_months
from salons.models import Salon

from .models import Client


def _apply_contact(client: Client, *, phone, email) -> None:
    if phone is not None:
        client.phone = (parse_phone(phone, client.salon.phone_region) if isinstance(phone, str) else phone) or ""
    if email is not None:
        client.email = normalise_email(email)


@transaction.atomic
def create_client(
    *,
    salon: Salon,
    first_name: str,
    last_name: str = "",
    phone: str = "",
    email: str = "",
    language: str = "",
    notes: str = "",
    last_visit=None,
) -> Client:
    """Add a client to a salon's address book; the phone is read with the salon's region.

    Raises ValidationError (per field) when the phone, email or names are not acceptable.
    """
    client = Client(
        salon=salon,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        language=language or salon.language,
        notes=notes,
        last_visit=last_visit,
        lifecycle=Client.Lifecycle.CLIENT if last_visit else Client.Lifecycle.PROSPECT,
    )
    _apply_contact(client, phone=phone, email=email)
    client.full_clean(exclude=["salon"])  # the salon is the caller's instance: no lookup of its key
    client.save()
    return client


def mark_dormant(*, today=None) -> dict[int, tuple[int, int]]:
    """Set lifecycles from last visits, set-based per salon: per salon (to dormant, back to client).

    Dormant: no visit for the salon's `dormant_months`; a dormant client who visits again is a client.
    """
    from django.utils import timezone

    from salons.models import Salon

    today = today or timezone.localdate()
    changed = {}
    for salon_id, months in Salon.objects.values_list("pk", "dormant_months"):
        cutoff = add_months(today, -months)
        clients = Client.objects.filter(salon_id=salon_id, erased_at__isnull=True)
        to_dormant = clients.filter(last_visit__lt=cutoff).exclude(lifecycle=Client.Lifecycle.DORMANT).update(
            lifecycle=Client.Lifecycle.DORMANT
        )
        back = clients.filter(last_visit__gte=cutoff).exclude(lifecycle=Client.Lifecycle.CLIENT).update(
            lifecycle=Client.Lifecycle.CLIENT
        )
        changed[salon_id] = (to_dormant, back)
    return changed


# The field that holds each channel's suppression on a client.
SUPPRESSION_FIELDS = {Channel.SMS: "sms_suppression", Channel.EMAIL: "email_suppression"}


def suppress(*, clients: list[Client], channel: str, reason: str) -> int:
    """Stop every message on `channel` to these clients, whatever their consents say (STOP, bounce, complaint).

    Set here and lifted by `lift_suppression`, nowhere else; updates the given instances too.
    """
    name = SUPPRESSION_FIELDS[channel]
    changed = Client.objects.filter(pk__in=[client.pk for client in clients]).update(**{name: reason})
    for client in clients:
        setattr(client, name, reason)
    return changed


def lift_suppression(*, clients: list[Client], channel: str, reason: str = "") -> int:
    """Let `channel` be used again for these clients; with `reason`, only a suppression of that kind (START lifts
    a STOP, not a bounce). Consents withdrawn stay withdrawn until the client grants again."""
    name = SUPPRESSION_FIELDS[channel]
    rows = Client.objects.filter(pk__in=[client.pk for client in clients])
    if reason:
        rows = rows.filter(**{name: reason})
    changed = rows.update(**{name: ""})
    for client in clients:
        if not reason or getattr(client, name) == reason:
            setattr(client, name, "")
    return changed
