"""Phone parsing with the salon's region: national formats are read as that country's."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber


def parse_phone(raw: str, region: str) -> PhoneNumber | None:
    """Parse a typed phone number with the salon's region; None when blank.

    Raises ValidationError with a sentence a receptionist understands.
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        number = PhoneNumber.from_string(raw, region=region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not number.is_valid():
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        hint = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL) if example else ""
        raise ValidationError(
            _("“%(raw)s” is not a valid phone number for %(region)s. Type it with its international "
              "prefix, e.g. %(example)s.") % {"raw": raw, "region": region, "example": hint},
            code="invalid_phone",
        )
    return number
