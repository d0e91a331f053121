"""Erasure (GDPR art. 17) and the suppression list. Irreversible.

`erase_client` replaces every field `rights.inventory` classifies as `erase`, in one transaction:
names, contacts and notes on the client, texts and recipients of its messages, its consent form
scans (file deleted after commit; the row keeps the scan's SHA-256, which the register's evidence
note cites). It keeps:

- the `Client` row itself, as the pseudonymous id the append-only consent register points at, so
  the register's hash chain still verifies (`consents.integrity.verify_register`);
- appointments' dates, service and status, for the salon's accounting;
- the register's evidence fields (`keep_as_proof` in the inventory).

The phone (E.164) and email (lower case) go into `SuppressedContact` as HMAC-SHA256 digests keyed
with `settings.SUPPRESSION_HMAC_KEY` and the salon id: without the key a digest cannot be matched to
a number by trying them all, and the same number in two salons gives two unrelated digests. A later
import or booking with the same contact is flagged by `is_suppressed` and starts with no consent.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client, ErasureRequest, SuppressedContact, SuppressionReason
from clients.services import suppress
from clients.suppression import contact_digests
from core.vocabulary import SENDABLE_CHANNELS, add_months
from rights.inventory import ERASED_FIRST_NAME, INVENTORY, erased_values, model_of, rows_of
from salons.selectors import is_owner


@dataclass
class ErasureResult:
    """What an erasure did: rows blanked per model, contacts suppressed, files, links and requests closed."""

    client: Client
    erased_at: datetime
    rows_blanked: dict[str, int] = field(default_factory=dict)
    contacts_suppressed: int = 0
    files_deleted: list[str] = field(default_factory=list)
    links_revoked: int = 0
    request: ErasureRequest | None = None


# Erasure -----------------------------------------------------------------------------------------


def erasure_plan(client: Client) -> list[str]:
    """What `erase_client` will do to this client, as lines to show before asking for confirmation."""
    counts = {label: rows_of(label, client).count() for label in INVENTORY if INVENTORY[label].client_path}
    return [
        _("Client #%(id)s of %(salon)s: names, phone, email and notes are removed.")
        % {"id": client.pk, "salon": client.salon},
        _("%(n)d message(s): recipient, subject, text and headers are removed; status and dates stay.")
        % {"n": counts["messaging.Message"]},
        _("%(n)d consent form scan(s): the files are deleted; their SHA-256 stays.")
        % {"n": counts["consents.ConsentScan"]},
        _("%(n)d appointment(s): date, service and status stay for accounting.")
        % {"n": counts["appointments.Appointment"]},
        _("%(n)d consent register entries stay, against the pseudonymous client id, as proof of consent.")
        % {"n": counts["consents.ConsentEvent"]},
        _("The phone and email go to the suppression list as keyed hashes: a later import with the same "
          "contact is flagged and starts without consent."),
        _("This cannot be undone."),
    ]


def _check_reason(client: Client, reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the data is erased (it is kept as proof).")})
    phone = client.phone.as_e164 if client.phone else ""
    national = str(client.phone.national_number) if client.phone else ""
    personal = [client.first_name, client.last_name, client.email, phone, national]
    # Whole words only: a short name must not make ordinary words ("Al" in "personal") unusable.
    if any(value and re.search(rf"(?<!\w){re.escape(value)}(?!\w)", reason, re.IGNORECASE) for value in personal):
        raise ValidationError({"reason": _("The reason is kept after erasure: leave the client's name and "
                                           "contacts out of it.")})
    return reason[:255]


def erase_client(*, client: Client, by, reason: str) -> ErasureResult:
    """Erase a client's personal data per the inventory, keeping the pseudonymous register. Irreversible.

    Only an owner of the client's salon (or a superuser) may: PermissionDenied otherwise, whoever calls.
    Raises ValidationError when the client is already erased or the reason is empty or personal.
    """
    if by is None or not is_owner(by, client.salon):
        raise PermissionDenied(_("Only an owner of the salon can erase a client's data."))
    now, given = timezone.now(), client
    with transaction.atomic():
        client = Client.objects.select_for_update().select_related("salon").get(pk=client.pk)
        if client.is_erased:
            raise ValidationError(_("This client's data was already erased."))
        reason = _check_reason(client, reason)
        result = ErasureResult(client=client, erased_at=now)

        suppressed = [
            SuppressedContact(salon_id=client.salon_id, kind=kind, digest=digest)
            for kind, digest in contact_digests(client.salon, phone=client.phone, email=client.email)
        ]
        SuppressedContact.objects.bulk_create(suppressed, ignore_conflicts=True)
        result.contacts_suppressed = len(suppressed)

        _scrub_admin_log(client)
        scans = rows_of("consents.ConsentScan", client).exclude(file="")
        result.files_deleted = list(scans.values_list("file", flat=True))
        for label, inventory in INVENTORY.items():
            values = erased_values(label)
            if inventory.client_path and values:
                result.rows_blanked[label] = rows_of(label, client).update(**values)

        from consents.models import ConsentLink

        result.links_revoked = ConsentLink.objects.filter(client=client, revoked_at__isnull=True).update(
            revoked_at=now
        )
        from booking.models import ManageLink

        result.links_revoked += ManageLink.objects.filter(
            appointment__client=client, revoked_at__isnull=True
        ).update(revoked_at=now)
        result.request = _close_requests(client, by=by, reason=reason, now=now)

        for name, value in erased_values("clients.Client").items():
            setattr(client, name, value)
        client.erased_at, client.is_restricted = now, True
        client.save()
        for channel in SENDABLE_CHANNELS:
            suppress(clients=[client], channel=channel, reason=SuppressionReason.ERASED)
        result.rows_blanked["clients.Client"] = 1

        storage = model_of("consents.ConsentScan")._meta.get_field("file").storage
        # A deleted file cannot come back if the transaction rolls back: delete only once it committed.
        transaction.on_commit(lambda: [storage.delete(name) for name in result.files_deleted])
    given.refresh_from_db()
    return result


def _close_requests(client: Client, *, by, reason: str, now) -> ErasureRequest:
    """Mark the pending request done, or record the staff-initiated erasure as a done request."""
    request = ErasureRequest.objects.filter(client=client, status=ErasureRequest.Status.PENDING).first()
    if request is None:
        request = ErasureRequest(salon_id=client.salon_id, client=client, source="staff", due_at=now)
    request.status, request.handled_by, request.handled_at, request.reason = (
        ErasureRequest.Status.DONE, by, now, reason
    )
    request.save()
    return request


def _scrub_admin_log(client: Client) -> None:
    """The admin's history names the objects it shows (a client's name, an appointment's client)."""
    placeholder = f"{ERASED_FIRST_NAME} #{client.pk}"
    for label in INVENTORY:
        content_type = ContentType.objects.get_for_model(model_of(label))
        ids = [str(pk) for pk in rows_of(label, client).values_list("pk", flat=True)]
        for start in range(0, len(ids), 500):
            LogEntry.objects.filter(content_type=content_type, object_id__in=ids[start:start + 500]).update(
                object_repr=placeholder
            )


def request_erasure(*, client: Client, source: str = "form_link"):
    """Record a client's erasure request for the staff to confirm; asking twice keeps the first."""
    existing = ErasureRequest.objects.filter(client=client, status=ErasureRequest.Status.PENDING).first()
    if existing is not None:
        return existing
    now = timezone.now()
    return ErasureRequest.objects.create(
        salon_id=client.salon_id, client=client, source=source, due_at=add_months(now, 1)
    )
