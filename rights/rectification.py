"""Rectification (GDPR art. 16): staff correct a client's contact data, and the change is logged.

A changed phone or email is logged with who, when and the old value masked. A suppression (STOP,
hard bounce, complaint) belonged to the old number or address, so it is lifted on change rather
than silently carried over to the new one, and the log says which suppression was lifted. Consent
is untouched: the register records what the client agreed to, not which number they had.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from clients.models import Client, ContactChange
from clients.services import lift_suppression
from core.contacts import normalise_email, parse_phone
from core.vocabulary import Channel
from salons.selectors import salons_for

MASK = "••••"


def mask_phone(phone) -> str:
    """A phone number with its middle hidden: "+39 333 •••• 567" (country code, first and last digits)."""
    if not phone:
        return ""
    national = str(phone.national_number)
    head, tail = (national[:3], national[-3:]) if len(national) > 7 else (national[:1], national[-2:])
    return f"+{phone.country_code} {head} {MASK} {tail}"


def mask_email(email: str) -> str:
    """An email address with its local part hidden but its first letter: "g•••@example.com"."""
    if not email:
        return ""
    local, at, domain = email.rpartition("@")
    if not at:
        return email[:1] + MASK
    return f"{local[:1]}•••@{domain}"


def change_contact(
    *,
    client: Client,
    by,
    phone: str | PhoneNumber | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> list[ContactChange]:
    """Correct a client's names, phone or email (None leaves a field as it is; "" clears it).

    The phone (typed text, or a PhoneNumber a form already parsed) is read with the salon's region
    and the email normalised. Returns the logged phone and email changes (names are not logged).
    Raises ValidationError, per field, before saving anything when a value is not acceptable or
    `by` is not staff of the client's salon. Updates `client` in place, suppressions included.
    """
    if by is None or not salons_for(by).filter(pk=client.salon_id).exists():
        raise ValidationError(_("Only the salon's staff can change this client's contact data."))
    with transaction.atomic():
        current = Client.objects.select_for_update().select_related("salon").get(pk=client.pk)
        if current.is_erased:
            raise ValidationError(_("An erased client's data cannot be changed."))
        errors = {}
        new_phone = current.phone
        if phone is not None:
            try:
                raw = phone if isinstance(phone, str) else phone.as_e164
                new_phone = parse_phone(raw, current.salon.phone_region) or ""
            except ValidationError as error:
                errors["phone"] = error.messages
        new_email = normalise_email(email) if email is not None else current.email
        if errors:
            raise ValidationError(errors)

        changes, lifted = [], []  # a STOP or a bounce was for the old contact: its channel is lifted
        old_phone = current.phone.as_e164 if current.phone else ""
        if (new_phone.as_e164 if new_phone else "") != old_phone:
            changes.append(ContactChange(
                field=ContactChange.Field.PHONE, old_value_masked=mask_phone(current.phone),
                cleared_suppression=current.sms_suppression,
            ))
            current.phone = new_phone
            lifted.append(Channel.SMS)
        if new_email != current.email:
            changes.append(ContactChange(
                field=ContactChange.Field.EMAIL, old_value_masked=mask_email(current.email),
                cleared_suppression=current.email_suppression,
            ))
            current.email = new_email
            lifted.append(Channel.EMAIL)
        if first_name is not None:
            current.first_name = first_name.strip()
        if last_name is not None:
            current.last_name = last_name.strip()
        current.full_clean()  # raises per field, e.g. a malformed email, before saving
        current.save()
        for channel in lifted:
            lift_suppression(clients=[current], channel=channel)
        for change in changes:
            change.salon_id, change.client, change.changed_by = current.salon_id, current, by
        ContactChange.objects.bulk_create(changes)

    for name in ("first_name", "last_name", "phone", "email", "sms_suppression", "email_suppression", "updated_at"):
        setattr(client, name, getattr(current, name))
    return changes
