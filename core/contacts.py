"""Contacts read one way everywhere: one normaliser for phones, one for email addresses.

A phone is parsed with the salon's region (national formats are read as that country's) and kept
in E.164; an email address is trimmed with its domain lower-cased (the local part is kept as typed and
compared without case). Storing, matching a client, rate-limiting and the erasure suppression list
all go through these functions.
"""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber


def parse_phone(raw, region: str) -> PhoneNumber | None:
    """A typed phone number (or a PhoneNumber) read with the salon's region; None when blank.

    Raises ValidationError with a sentence a receptionist understands.
    """
    if isinstance(raw, PhoneNumber):
        return raw if raw.is_valid() else _invalid(str(raw), region)
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        number = PhoneNumber.from_string(raw, region=region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not number.is_valid():
        _invalid(raw, region)
    return number


def _invalid(raw: str, region: str):
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    hint = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL) if example else ""
    raise ValidationError(
        _("“%(raw)s” is not a valid phone number for %(region)s. Type it with its international "
          "prefix, e.g. %(example)s.") % {"raw": raw, "region": region, "example": hint},
        code="invalid_phone",
    )


def phone_key(phone, region: str) -> str:
    """A phone (typed or parsed) as E.164 for comparing; '' when blank or not a valid number."""
    try:
        number = parse_phone(phone, region)
    except ValidationError:
        return ""
    return number.as_e164 if number else ""


def normalise_email(email: str) -> str:
    """An email address as stored: trimmed, the domain lower-cased (the local part is case-sensitive in theory)."""
    email = (email or "").strip()
    if "@" not in email:
        return email
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def email_key(email: str) -> str:
    """An email address for comparing (matching a client, the suppression list): normalised, case folded."""
    return normalise_email(email).lower()
